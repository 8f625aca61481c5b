// SPDX-License-Identifier: AGPL-3.0-or-later

package path

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/hushchat/hush/pkg/onion"
)

// Guard is one of a client's entry guards.
type Guard struct {
	ID    onion.RelayID
	Added time.Time // when it was chosen
}

// GuardStore keeps a client's guards across restarts (in the client's
// store). Implementations must be safe for concurrent use.
type GuardStore interface {
	// LoadGuards returns the guards, first choice first; none if never
	// saved.
	LoadGuards(ctx context.Context) ([]Guard, error)
	// SaveGuards replaces the guards.
	SaveGuards(ctx context.Context, guards []Guard) error
}

// MemGuards is a GuardStore in memory, for tests and clients without a
// store.
type MemGuards struct {
	mu     sync.Mutex
	guards []Guard
}

var _ GuardStore = (*MemGuards)(nil)

// LoadGuards returns a copy of the guards.
func (m *MemGuards) LoadGuards(ctx context.Context) ([]Guard, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.guards), ctx.Err()
}

// SaveGuards stores a copy of guards.
func (m *MemGuards) SaveGuards(ctx context.Context, guards []Guard) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.guards = slices.Clone(guards)
	return nil
}

// Health says which relays the client knows to be down.
type Health interface {
	// DownSince returns when relay id was first seen down in the current
	// outage, and false if it is not known to be down.
	DownSince(id onion.RelayID) (time.Time, bool)
}

// DownMap is a Health from a map of relay to the start of its outage.
type DownMap map[onion.RelayID]time.Time

// DownSince looks id up in the map.
func (m DownMap) DownSince(id onion.RelayID) (time.Time, bool) {
	t, ok := m[id]
	return t, ok
}

// allUp is the Health of a request that gave none.
type allUp struct{}

func (allUp) DownSince(onion.RelayID) (time.Time, bool) { return time.Time{}, false }
