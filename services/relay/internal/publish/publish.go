// SPDX-License-Identifier: AGPL-3.0-or-later

// Package publish keeps a relay's view of the network (ARCHITECTURE.md,
// "The relay"): its own signed descriptor, rebuilt when its onion keys
// change, and the current descriptors of the other relays of its network
// file, fetched from each of them on a schedule, which together make the
// directory document it serves. Publisher.Run drives both; Address tells
// the forwarder where a next relay is.
package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/directory"
	"github.com/hushchat/hush/services/relay/internal/metrics"
)

// Defaults of a Publisher's schedule.
const (
	// DefaultLifetime is how long a descriptor is valid. The relay signs
	// a new one after half of it, or at once when its keys change.
	DefaultLifetime = 24 * time.Hour
	// DefaultRefresh is how often the other relays' descriptors are
	// fetched.
	DefaultRefresh = 10 * time.Minute
	// TickInterval is how often the key ring's schedule runs.
	TickInterval = time.Minute
	// retryInterval is how soon a failed fetch is tried again.
	retryInterval = 15 * time.Second
	// fetchTimeout bounds one Descriptor call.
	fetchTimeout = 10 * time.Second
	// fetchParallel is how many relays are asked at once.
	fetchParallel = 8
)

// ErrWrongRelay is returned when a relay serves another relay's descriptor.
var ErrWrongRelay = errors.New("publish: relay served a descriptor of another relay")

// Ring is the key ring's schedule and public keys: a *onion.KeyRing.
type Ring interface {
	Keys() []onion.KeyInfo
	Tick(now time.Time) error
}

// Fetcher asks a relay for its signed descriptor: a *peer.Pool.
type Fetcher interface {
	Descriptor(ctx context.Context, id onion.RelayID, addr string) ([]byte, error)
}

// Config is what a Publisher is made of. Key, Ring, Address, Fetch and
// Metrics are required.
type Config struct {
	Key          *directory.SigningKey
	Ring         Ring
	Address      string // host:port of the gRPC listener, as clients reach it
	WebAddress   string // gRPC-Web URL, or "" (adds the web capability when set)
	Capabilities []directory.Capability
	Lifetime     time.Duration // 0: DefaultLifetime
	Refresh      time.Duration // 0: DefaultRefresh
	Fetch        Fetcher
	Metrics      *metrics.Relay
	Log          *slog.Logger // nil: silent
}

// Publisher holds the relay's descriptor and directory. It is safe for
// concurrent use.
type Publisher struct {
	cfg Config
	log *slog.Logger

	mu        sync.RWMutex
	own       []byte
	keys      []onion.KeyInfo
	published time.Time
	network   directory.NetworkFile
	others    map[onion.RelayID]*directory.Descriptor
	doc       []byte
}

// New signs the relay's first descriptor at now.
func New(cfg Config, now time.Time) (*Publisher, error) {
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = DefaultLifetime
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultRefresh
	}
	if cfg.Lifetime > directory.MaxLifetime {
		return nil, fmt.Errorf("publish: descriptor lifetime %v is over the %v a descriptor may have", cfg.Lifetime, directory.MaxLifetime)
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &Publisher{cfg: cfg, log: log, others: make(map[onion.RelayID]*directory.Descriptor)}
	if err := p.sign(now); err != nil {
		return nil, err
	}
	return p, nil
}

// Descriptor returns the relay's current signed descriptor.
func (p *Publisher) Descriptor() []byte {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.own
}

// Directory returns the directory document: this relay's descriptor, then
// every other relay's current one in network file order.
func (p *Publisher) Directory() []byte {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.doc
}

// SetNetwork replaces the network file; relays no longer in it are
// forgotten at once.
func (p *Publisher) SetNetwork(n directory.NetworkFile) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.network = n
	for id := range p.others {
		if _, ok := n.Lookup(id); !ok {
			delete(p.others, id)
		}
	}
	p.rebuildLocked(time.Now())
}

// Address returns where relay id's gRPC listener is: its descriptor's
// address if one is known, else the network file's.
func (p *Publisher) Address(id onion.RelayID) (string, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if id == p.cfg.Key.Relay() {
		return p.cfg.Address, true
	}
	if d, ok := p.others[id]; ok {
		return d.Address, true
	}
	if r, ok := p.network.Lookup(id); ok {
		return r.Address, true
	}
	return "", false
}

// Tick runs the key ring's schedule at now and signs a new descriptor if
// the keys changed or half the current one's lifetime has passed.
func (p *Publisher) Tick(now time.Time) error {
	tickErr := p.cfg.Ring.Tick(now)
	p.mu.RLock()
	changed := !slices.EqualFunc(p.keys, p.cfg.Ring.Keys(), sameKey)
	stale := now.Sub(p.published) >= p.cfg.Lifetime/2
	p.mu.RUnlock()
	if changed {
		p.cfg.Metrics.KeysChanged()
		p.log.Info("onion keys changed; publishing a new descriptor")
	}
	var signErr error
	if changed || stale {
		signErr = p.sign(now)
	} else {
		p.mu.Lock()
		p.rebuildLocked(now)
		p.mu.Unlock()
	}
	return errors.Join(tickErr, signErr)
}

func sameKey(a, b onion.KeyInfo) bool {
	return a.Epoch == b.Epoch && a.Start.Equal(b.Start) && a.End.Equal(b.End) &&
		string(a.Key.Bytes()) == string(b.Key.Bytes())
}

func (p *Publisher) sign(now time.Time) error {
	keys := p.cfg.Ring.Keys()
	caps := slices.Clone(p.cfg.Capabilities)
	if p.cfg.WebAddress != "" && !slices.Contains(caps, directory.CapWeb) {
		caps = append(caps, directory.CapWeb)
	}
	d := &directory.Descriptor{
		Relay:        p.cfg.Key.Relay(),
		Keys:         keys,
		Address:      p.cfg.Address,
		WebAddress:   p.cfg.WebAddress,
		Capabilities: caps,
		Published:    now,
		Expires:      now.Add(p.cfg.Lifetime),
	}
	signed, err := directory.Sign(p.cfg.Key, d)
	if err != nil {
		return fmt.Errorf("publish: sign descriptor: %w", err)
	}
	p.cfg.Metrics.Published()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.own, p.keys, p.published = signed, keys, now
	p.rebuildLocked(now)
	return nil
}

// rebuildLocked makes the directory document again, leaving out expired
// descriptors.
func (p *Publisher) rebuildLocked(now time.Time) {
	signed := [][]byte{p.own}
	for _, r := range p.network.Relays {
		d, ok := p.others[r.ID]
		if !ok {
			continue
		}
		if d.Expired(now) {
			delete(p.others, r.ID)
			continue
		}
		signed = append(signed, d.Signed())
	}
	doc, err := directory.EncodeDirectory(signed)
	if err != nil {
		p.log.Error("cannot encode the directory", "err", err)
		return
	}
	p.doc = doc
}
