// SPDX-License-Identifier: AGPL-3.0-or-later

package onion

import (
	"maps"
	"sync"
	"time"
)

// ReplayTag is what a relay remembers of each packet it processed, per
// epoch. It is derived from the packet's shared secret (LabelReplay), so
// it says nothing about the packet to anyone without the onion key.
type ReplayTag [replayTagSize]byte

// RingState is a key ring as a Store keeps it.
type RingState struct {
	// Clean is true only in the state Close writes, which includes every
	// key's replay tags. Any other state means the ring was running: if it
	// is loaded, the replay tags were lost, and every key in it is erased.
	Clean bool
	// NextEpoch is the epoch the next new key gets.
	NextEpoch Epoch
	Keys      []KeyState
}

// KeyState is one onion key of a stored ring.
type KeyState struct {
	Epoch Epoch
	Key   *PrivateKey
	// Start and End bound the key's turn as the current key; after End
	// it is accepted for the grace period, then erased.
	Start, End time.Time
	// Seen holds the replay tags, only in a clean state.
	Seen []ReplayTag
}

// Store persists a key ring. A relay implements it over its database
// (bbolt); MemStore keeps it in memory. Save must replace the whole state
// atomically and durably before it returns; Load returns nil and no error
// when nothing was ever saved.
type Store interface {
	Load() (*RingState, error)
	Save(*RingState) error
}

// MemStore is a Store in memory, for tests and tools.
type MemStore struct {
	mu    sync.Mutex
	state *RingState
}

// Load returns a copy of the saved state.
func (m *MemStore) Load() (*RingState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state.clone(), nil
}

// Save keeps a copy of st.
func (m *MemStore) Save(st *RingState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.state = st.clone()
	return nil
}

func (st *RingState) clone() *RingState {
	if st == nil {
		return nil
	}
	c := *st
	c.Keys = make([]KeyState, len(st.Keys))
	for i, k := range st.Keys {
		c.Keys[i] = k
		c.Keys[i].Seen = append([]ReplayTag(nil), k.Seen...)
	}
	return &c
}

// replayCache remembers the tags of one epoch and never evicts one: when it
// holds limit tags it refuses more, and the ring retires the key.
type replayCache struct {
	seen  map[ReplayTag]struct{}
	limit int
}

func newReplayCache(limit int, tags []ReplayTag) *replayCache {
	c := &replayCache{seen: make(map[ReplayTag]struct{}, len(tags)), limit: limit}
	for _, t := range tags {
		c.seen[t] = struct{}{}
	}
	return c
}

// add records t; it reports false if t was there already.
func (c *replayCache) add(t ReplayTag) bool {
	if _, ok := c.seen[t]; ok {
		return false
	}
	c.seen[t] = struct{}{}
	return true
}

func (c *replayCache) full() bool { return len(c.seen) >= c.limit }

func (c *replayCache) tags() []ReplayTag {
	return append([]ReplayTag(nil), slicesOf(c.seen)...)
}

func slicesOf(m map[ReplayTag]struct{}) []ReplayTag {
	out := make([]ReplayTag, 0, len(m))
	for t := range maps.Keys(m) {
		out = append(out, t)
	}
	return out
}
