// SPDX-License-Identifier: AGPL-3.0-or-later

// Package relaynet is a client's view of the relay network
// (ARCHITECTURE.md, "The client's view of the network"): the network file
// the user trusts, the directory fetched from its relays and verified
// against it, entry guards, and which relays were seen failing lately.
// Net.Ask carries one request to an exit through a fresh onion path and
// returns the exit's answer, retrying on other paths when a relay fails.
//
// It builds for every target, js/wasm included: the network itself is a
// Transport (a *peer.Pool natively, a gRPC-Web client in the browser).
//
// Nothing here logs packet contents, queue IDs or addresses above Debug.
package relaynet

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/directory"
	"github.com/hushchat/hush/pkg/onion/path"
)

// Transport carries packets to relays. peer.Pool implements it natively;
// the browser will have a gRPC-Web one. Both calls must return promptly
// when ctx is done.
type Transport interface {
	// Forward sends one onion packet to relay id at addr (its gRPC
	// host:port) and returns the response packet.
	Forward(ctx context.Context, id onion.RelayID, addr string, packet []byte) ([]byte, error)
	// Directory asks relay id at addr for the directory document.
	Directory(ctx context.Context, id onion.RelayID, addr string) ([]byte, error)
}

// Defaults and timings of a Net.
const (
	// DefaultAttempts is how many paths Ask tries before giving up.
	DefaultAttempts = 3
	// DownFor is how long a relay seen failing is left out of new paths.
	DownFor = 5 * time.Minute
	// MaxDirectoryAge is how long a directory is used before Ask fetches a
	// new one. Relays collect each other's descriptors every 10 minutes.
	MaxDirectoryAge = 30 * time.Minute
	// StaleMargin is how long before a descriptor expires, or its last
	// onion key ends, the directory counts as stale.
	StaleMargin = 10 * time.Minute
	// MinRefreshGap is the least time between two refreshes Ask makes
	// because the directory is stale (not for a missing directory or a
	// relay refusing the client's keys).
	MinRefreshGap = time.Minute
	// DirectoryTimeout bounds one relay's answer to a directory request
	// within Refresh, so one silent relay does not use up the caller's
	// time.
	DirectoryTimeout = 10 * time.Second
)

// Config is what a Net is made of.
type Config struct {
	Network   directory.NetworkFile // the relays the user trusts (from the network file)
	Transport Transport
	Guards    path.GuardStore // nil: in memory
	Hops      int             // 0: onion.DefaultHops (3)
	Attempts  int             // paths tried per Ask before giving up; 0: DefaultAttempts
	Now       func() time.Time
	Log       *slog.Logger // nil: discard; never logs packet contents, queue IDs or addresses above Debug
	// Classify maps an error of Transport.Forward to the onion code a relay
	// would have reported for it (peer.FailCode natively). With it, a
	// packet the entry drops (CodeRefused, e.g. for an onion key it no
	// longer has) makes Ask refresh the directory instead of leaving the
	// entry out. nil: every transport error is CodeUnreachable.
	Classify func(error) onion.Code
}

// Net is a client's view of the relay network. It is safe for concurrent
// use: every request of a client, long-polls included, goes through one.
type Net struct {
	cfg Config
	sel *path.Selector
	log *slog.Logger
	// refreshing serializes refreshes; it is a channel so that waiting
	// for it honours ctx.
	refreshing chan struct{}

	mu sync.Mutex
	nf directory.NetworkFile
	// dir is the last verified directory (nil until the first refresh);
	// version counts refreshes that replaced it.
	dir     *directory.Directory
	version uint64
	staleAt time.Time // when dir becomes stale
	tried   time.Time // when a refresh was last tried
	// netChanged is set by SetNetwork: the next Ask refreshes whatever
	// MinRefreshGap says.
	netChanged bool
	down       map[onion.RelayID]outage
}

// outage is a relay seen failing: since the first failure, until DownFor
// after the last.
type outage struct{ since, last time.Time }

// New checks cfg and returns a Net with no directory yet: the first Ask
// (or Refresh) fetches one.
func New(cfg Config) (*Net, error) {
	if len(cfg.Network.Relays) == 0 {
		return nil, ErrNoRelays
	}
	if err := cfg.Network.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if cfg.Transport == nil {
		return nil, fmt.Errorf("%w: no Transport", ErrConfig)
	}
	if cfg.Hops == 0 {
		cfg.Hops = onion.DefaultHops
	}
	if cfg.Hops < 2 || cfg.Hops > onion.MaxHops {
		return nil, fmt.Errorf("%w: %d hops (2 to %d)", ErrConfig, cfg.Hops, onion.MaxHops)
	}
	if cfg.Attempts == 0 {
		cfg.Attempts = DefaultAttempts
	}
	if cfg.Attempts < 0 {
		return nil, fmt.Errorf("%w: %d attempts", ErrConfig, cfg.Attempts)
	}
	if cfg.Guards == nil {
		cfg.Guards = &path.MemGuards{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Classify == nil {
		cfg.Classify = func(error) onion.Code { return onion.CodeUnreachable }
	}
	return &Net{
		cfg:        cfg,
		sel:        path.NewSelector(cfg.Guards, path.Config{}),
		log:        cfg.Log,
		refreshing: make(chan struct{}, 1),
		nf:         cloneNetwork(cfg.Network),
		down:       map[onion.RelayID]outage{},
	}, nil
}

func cloneNetwork(nf directory.NetworkFile) directory.NetworkFile {
	return directory.NetworkFile{Relays: slices.Clone(nf.Relays)}
}

// SetNetwork replaces the network file. The directory is kept, seen
// through the new file (relays no longer listed are not used), until the
// next Ask refreshes it, which it does whatever MinRefreshGap says. An
// empty file leaves no relay to use: Ask and Refresh return ErrNoRelays.
func (n *Net) SetNetwork(nf directory.NetworkFile) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.nf = cloneNetwork(nf)
	n.netChanged = true
}

// Network returns the network file in use.
func (n *Net) Network() directory.NetworkFile {
	n.mu.Lock()
	defer n.mu.Unlock()
	return cloneNetwork(n.nf)
}

// Relays returns the relays that can serve as exits now: listed in the
// network file, with a current descriptor in the directory that has an
// onion key for now and the mailbox capability. Their order is the
// directory's. Before the first refresh there are none.
func (n *Net) Relays() []onion.RelayID {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.exitsLocked(n.cfg.Now())
}

func (n *Net) exitsLocked(now time.Time) []onion.RelayID {
	if n.dir == nil {
		return nil
	}
	var out []onion.RelayID
	for _, d := range n.dir.Relays {
		if _, ok := n.nf.Lookup(d.Relay); !ok || d.Expired(now) || !d.Has(directory.CapMailbox) {
			continue
		}
		if _, err := d.HopAt(now); err == nil {
			out = append(out, d.Relay)
		}
	}
	return out
}

// RandomRelay returns one of Relays() but those in exclude, chosen
// uniformly: where a client creates its queues. It returns ErrNoRelay if
// none is left.
func (n *Net) RandomRelay(exclude ...onion.RelayID) (onion.RelayID, error) {
	c := slices.DeleteFunc(n.Relays(), func(id onion.RelayID) bool { return slices.Contains(exclude, id) })
	if len(c) == 0 {
		return onion.RelayID{}, fmt.Errorf("%w (%d excluded; refresh the directory first?)", ErrNoRelay, len(exclude))
	}
	return c[rand.IntN(len(c))], nil
}

// Down returns the relays currently left out of new paths, each with the
// start of its outage. Entries expire DownFor after the relay last failed,
// and end when a path through the relay succeeds.
func (n *Net) Down() path.DownMap {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.downLocked(n.cfg.Now(), onion.RelayID{})
}

// downLocked returns the current outages but exit's: the exit of a
// request is fixed, so a path to it is tried even if it failed lately.
func (n *Net) downLocked(now time.Time, exit onion.RelayID) path.DownMap {
	m := path.DownMap{}
	for id, o := range n.down {
		if now.Sub(o.last) >= DownFor {
			delete(n.down, id)
			continue
		}
		if id != exit {
			m[id] = o.since
		}
	}
	return m
}

func (n *Net) markDown(id onion.RelayID, now time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	o, ok := n.down[id]
	if !ok || now.Sub(o.last) >= DownFor {
		o.since = now
	}
	o.last = now
	n.down[id] = o
}

func (n *Net) markUp(hops []onion.Hop) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, h := range hops {
		delete(n.down, h.ID)
	}
}

// name is how errors name relay id: its name in the network file, if it
// has one, and its identity.
func (n *Net) name(id onion.RelayID) string {
	n.mu.Lock()
	r, ok := n.nf.Lookup(id)
	n.mu.Unlock()
	if ok && r.Name != "" {
		return fmt.Sprintf("%q (%s)", r.Name, id)
	}
	return id.String()
}
