// SPDX-License-Identifier: AGPL-3.0-or-later

package path

import (
	"context"
	"slices"
	"sync"
)

// CachedGuards keeps a GuardStore's guards in memory after the first
// load and writes changes through to it, so choosing a path does not read
// the client's database each time. Only one CachedGuards may front a
// store.
type CachedGuards struct {
	Store GuardStore

	mu     sync.Mutex
	loaded bool
	guards []Guard
}

var _ GuardStore = (*CachedGuards)(nil)

// LoadGuards returns the guards, loading them from the store once.
func (c *CachedGuards) LoadGuards(ctx context.Context) ([]Guard, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.loaded {
		g, err := c.Store.LoadGuards(ctx)
		if err != nil {
			return nil, err
		}
		c.guards, c.loaded = g, true
	}
	return slices.Clone(c.guards), nil
}

// SaveGuards saves the guards in the store, then in memory.
func (c *CachedGuards) SaveGuards(ctx context.Context, guards []Guard) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.Store.SaveGuards(ctx, guards); err != nil {
		return err
	}
	c.guards, c.loaded = slices.Clone(guards), true
	return nil
}
