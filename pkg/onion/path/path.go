// SPDX-License-Identifier: AGPL-3.0-or-later

// Package path chooses onion paths over a verified directory
// (ARCHITECTURE.md, "Path selection"): Selector.Select returns distinct
// relays [entry, middle…, exit], the entry from a small persistent set of
// guards per client (GuardStore), the middles uniformly among the rest,
// and relays known to be down skipped.
package path

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/directory"
)

// Defaults of a Selector.
const (
	DefaultGuards = 2
	// DefaultGuardDownLimit is how long a guard must have been down
	// before it is replaced.
	DefaultGuardDownLimit = 24 * time.Hour
)

// Errors returned by Select.
var (
	ErrNoPath      = errors.New("path: no path: too few usable relays")
	ErrUnknownExit = errors.New("path: the exit relay is not in the directory (or its descriptor has no usable key)")
	ErrExitDown    = errors.New("path: the exit relay is known to be down")
	ErrHops        = errors.New("path: bad number of hops")
	ErrGuardStore  = errors.New("path: guard store failed")
)

// Config sets a Selector's policy. Zero fields take the defaults.
type Config struct {
	Guards         int           // guards per client
	GuardDownLimit time.Duration // replace a guard down this long
	Rand           io.Reader     // randomness; crypto/rand if nil
}

// Request is what one path is for.
type Request struct {
	Network   directory.NetworkFile // the relays the client trusts
	Directory *directory.Directory  // verified against Network, current
	Health    Health                // nil: no relay known down
	Exit      onion.RelayID         // the relay hosting the queue or chunk
	Hops      int                   // 0: onion.DefaultHops
	Now       time.Time
}

// Selector chooses paths for one client. It is safe for concurrent use.
type Selector struct {
	mu    sync.Mutex
	cfg   Config
	store GuardStore
}

// NewSelector returns a Selector keeping its guards in store.
func NewSelector(store GuardStore, cfg Config) *Selector {
	if cfg.Guards <= 0 {
		cfg.Guards = DefaultGuards
	}
	if cfg.GuardDownLimit <= 0 {
		cfg.GuardDownLimit = DefaultGuardDownLimit
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	return &Selector{cfg: cfg, store: store}
}

// Select returns a path [entry, middle…, exit] of distinct relays, each
// with the onion key its descriptor gives for req.Now. It may replace
// guards (and save them) first.
func (s *Selector) Select(ctx context.Context, req Request) ([]onion.Hop, error) {
	hops := req.Hops
	if hops == 0 {
		hops = onion.DefaultHops
	}
	if hops < 2 || hops > onion.MaxHops {
		return nil, fmt.Errorf("%w: %d (2 to %d: an entry guard and the exit at least)", ErrHops, hops, onion.MaxHops)
	}
	v := newView(req)
	exit, ok := v.hops[req.Exit]
	if !ok {
		return nil, fmt.Errorf("%w (%s)", ErrUnknownExit, req.Exit)
	}
	if v.down(req.Exit) {
		return nil, fmt.Errorf("%w (%s)", ErrExitDown, req.Exit)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	guards, err := s.guards(ctx, v, req.Now, req.Exit)
	if err != nil {
		return nil, err
	}
	entry, ok := v.entry(guards, req.Exit)
	if !ok {
		return nil, fmt.Errorf("%w: no guard is up and not the exit (guards: %d)", ErrNoPath, len(guards))
	}
	path := []onion.Hop{v.hops[entry]}
	used := map[onion.RelayID]bool{entry: true, req.Exit: true}
	for range hops - 2 {
		m, err := s.pick(v.usable(used))
		if err != nil {
			return nil, err
		}
		used[m] = true
		path = append(path, v.hops[m])
	}
	return append(path, exit), nil
}

// guards loads the guards, drops those that left the network file or
// have been down for longer than the limit, tops the set up and saves it
// if it changed. A guard missing from the directory (its descriptor
// expired or was left out) is kept and counts as down: the directory
// comes from the entry relay, and a directory that leaves out honest
// guards must not make the client choose new ones.
func (s *Selector) guards(ctx context.Context, v *view, now time.Time, exit onion.RelayID) ([]onion.RelayID, error) {
	stored, err := s.store.LoadGuards(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: load: %w", ErrGuardStore, err)
	}
	var kept []Guard
	for _, g := range stored {
		since, down := v.health.DownSince(g.ID)
		dup := slices.ContainsFunc(kept, func(k Guard) bool { return k.ID == g.ID })
		if v.members[g.ID] && !dup && !(down && now.Sub(since) >= s.cfg.GuardDownLimit) && len(kept) < s.cfg.Guards {
			kept = append(kept, g)
		}
	}
	changed := len(kept) != len(stored)
	for len(kept) < s.cfg.Guards {
		exclude := map[onion.RelayID]bool{exit: true}
		for _, g := range kept {
			exclude[g.ID] = true
		}
		c := v.usable(exclude)
		if len(c) == 0 {
			break
		}
		id, err := s.pick(c)
		if err != nil {
			return nil, err
		}
		kept, changed = append(kept, Guard{ID: id, Added: now}), true
	}
	if changed {
		if err := s.store.SaveGuards(ctx, kept); err != nil {
			return nil, fmt.Errorf("%w: save: %w", ErrGuardStore, err)
		}
	}
	ids := make([]onion.RelayID, len(kept))
	for i, g := range kept {
		ids[i] = g.ID
	}
	return ids, nil
}

// pick returns one of c uniformly at random.
func (s *Selector) pick(c []onion.RelayID) (onion.RelayID, error) {
	if len(c) == 0 {
		return onion.RelayID{}, fmt.Errorf("%w: no relay left for a middle hop", ErrNoPath)
	}
	i, err := uniform(s.cfg.Rand, len(c))
	if err != nil {
		return onion.RelayID{}, err
	}
	return c[i], nil
}

// uniform returns a uniform integer in [0, n), by rejection sampling.
func uniform(r io.Reader, n int) (int, error) {
	limit := ^uint64(0) - ^uint64(0)%uint64(n) // a multiple of n
	var b [8]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, fmt.Errorf("path: read randomness: %w", err)
		}
		if x := binary.LittleEndian.Uint64(b[:]); x < limit {
			return int(x % uint64(n)), nil
		}
	}
}
