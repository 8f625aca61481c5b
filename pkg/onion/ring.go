// SPDX-License-Identifier: AGPL-3.0-or-later

package onion

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"
)

// Defaults of a key ring.
const (
	DefaultPeriod = 24 * time.Hour
	DefaultGrace  = 2 * time.Hour
	// DefaultCacheLimit is how many packets one onion key opens before the
	// ring retires it: 2^20 replay tags.
	DefaultCacheLimit = 1 << 20
)

// RingConfig sets a key ring's schedule. Zero fields take the defaults.
type RingConfig struct {
	Period     time.Duration // how long each key is current
	Grace      time.Duration // how long a previous key is still accepted
	CacheLimit int           // packets per key before it is retired
	Rand       io.Reader     // key randomness; crypto/rand if nil
}

// KeyInfo is the public side of one onion key, for the relay's descriptor.
type KeyInfo struct {
	Epoch      Epoch
	Key        PublicKey
	Start, End time.Time
}

// KeyRing holds a relay's onion keys: the current one, the next one
// (published ahead, accepted early) and the previous one during its grace
// period. Each key has its own replay cache. A KeyRing is safe for
// concurrent use.
type KeyRing struct {
	mu        sync.Mutex
	cfg       RingConfig
	store     Store
	keys      []*ringKey // ascending epochs
	nextEpoch Epoch
	closed    bool
	saveErr   error
	// dirty is set while the stored state is behind the ring's (a save
	// failed); every Tick saves again until one succeeds.
	dirty bool
}

type ringKey struct {
	epoch      Epoch
	priv       *PrivateKey
	pub        [KeySize]byte
	start, end time.Time
	seen       *replayCache
}

// ErrStore wraps a failure of the ring's Store.
var ErrStore = errors.New("onion: key ring store failed")

// OpenKeyRing loads the ring from store, or makes a new one. If the stored
// ring was not closed cleanly, its replay tags are lost: every stored key is
// erased and the ring starts over with new keys and higher epochs.
func OpenKeyRing(store Store, cfg RingConfig, now time.Time) (*KeyRing, error) {
	cfg = cfg.withDefaults()
	st, err := store.Load()
	if err != nil {
		return nil, fmt.Errorf("%w: load: %w", ErrStore, err)
	}
	r := &KeyRing{cfg: cfg, store: store, nextEpoch: 1}
	if st != nil {
		if err := checkState(st); err != nil {
			return nil, fmt.Errorf("%w: stored state: %w", ErrStore, err)
		}
		r.nextEpoch = max(st.NextEpoch, 1)
		if st.Clean {
			for _, k := range st.Keys {
				r.keys = append(r.keys, r.restore(k))
			}
		}
	}
	sort.Slice(r.keys, func(i, j int) bool { return r.keys[i].epoch < r.keys[j].epoch })
	if err := r.advance(now); err != nil {
		return nil, err
	}
	if err := r.save(); err != nil {
		return nil, err
	}
	return r, nil
}

// checkState refuses a stored state that the ring could not have written:
// a missing key, repeated epochs, or an epoch not below NextEpoch (which
// would let the ring hand out an epoch twice).
func checkState(st *RingState) error {
	seen := map[Epoch]bool{}
	for _, k := range st.Keys {
		switch {
		case k.Key == nil:
			return fmt.Errorf("key of epoch %d is missing", k.Epoch)
		case seen[k.Epoch]:
			return fmt.Errorf("epoch %d appears twice", k.Epoch)
		case k.Epoch >= st.NextEpoch:
			return fmt.Errorf("epoch %d is not below the next epoch %d", k.Epoch, st.NextEpoch)
		case !k.End.After(k.Start):
			return fmt.Errorf("epoch %d ends before it starts", k.Epoch)
		}
		seen[k.Epoch] = true
	}
	return nil
}

func (c RingConfig) withDefaults() RingConfig {
	if c.Period <= 0 {
		c.Period = DefaultPeriod
	}
	if c.Grace < 0 {
		c.Grace = 0
	} else if c.Grace == 0 {
		c.Grace = DefaultGrace
	}
	if c.CacheLimit <= 0 {
		c.CacheLimit = DefaultCacheLimit
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	return c
}

func (r *KeyRing) restore(k KeyState) *ringKey {
	return &ringKey{epoch: k.Epoch, priv: k.Key, pub: k.Key.Public().k, start: k.Start, end: k.End,
		seen: newReplayCache(r.cfg.CacheLimit, k.Seen)}
}

// Tick runs the schedule at now: the next key becomes current when the
// current one's turn ends, a new next key is made, and a previous key is
// erased when its grace period is over. The relay calls it every minute or
// so, and republishes its descriptor when Keys changes. It returns an
// error if saving failed (now or since the last Tick).
func (r *KeyRing) Tick(now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrRingClosed
	}
	before := len(r.keys)
	first := r.keys[0].epoch
	if err := r.advance(now); err != nil {
		return err
	}
	if r.dirty || len(r.keys) != before || r.keys[0].epoch != first {
		if err := r.save(); err != nil {
			return err
		}
	}
	err := r.saveErr
	r.saveErr = nil
	return err
}

// advance brings the keys up to now; it does not save.
func (r *KeyRing) advance(now time.Time) error {
	kept := r.keys[:0]
	for _, k := range r.keys {
		// An erased key is dropped, not zeroed: crypto/ecdh keys cannot be
		// zeroed, and a packet being opened may still hold it.
		if now.Before(k.end.Add(r.cfg.Grace)) {
			kept = append(kept, k)
		}
	}
	clear(r.keys[len(kept):])
	r.keys = kept
	// Keys whose turn is over are previous keys; make sure a current
	// (start ≤ now < end) and a next key exist after them.
	for len(r.keys) < 2 || !now.Before(r.keys[len(r.keys)-2].end) {
		start := now
		if n := len(r.keys); n > 0 && r.keys[n-1].end.After(now) {
			start = r.keys[n-1].end
		}
		if err := r.addKey(start); err != nil {
			return err
		}
	}
	return nil
}

func (r *KeyRing) addKey(start time.Time) error {
	priv, err := GenerateKey(r.cfg.Rand)
	if err != nil {
		return err
	}
	r.keys = append(r.keys, &ringKey{epoch: r.nextEpoch, priv: priv, pub: priv.Public().k,
		start: start, end: start.Add(r.cfg.Period), seen: newReplayCache(r.cfg.CacheLimit, nil)})
	r.nextEpoch++
	return nil
}

// Keys returns the keys to publish: every key the ring accepts, by epoch.
func (r *KeyRing) Keys() []KeyInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]KeyInfo, 0, len(r.keys))
	for _, k := range r.keys {
		out = append(out, KeyInfo{Epoch: k.epoch, Key: PublicKey{k: k.pub}, Start: k.start, End: k.end})
	}
	return out
}

// key returns the key for epoch.
func (r *KeyRing) key(epoch Epoch) (*ringKey, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrRingClosed
	}
	for _, k := range r.keys {
		if k.epoch == epoch {
			return k, nil
		}
	}
	if epoch < r.nextEpoch {
		return nil, fmt.Errorf("%w (epoch %d)", ErrExpiredEpoch, epoch)
	}
	return nil, fmt.Errorf("%w (epoch %d)", ErrUnknownEpoch, epoch)
}

// remember records a packet's replay tag under k. When k's cache fills, k
// is retired at once: a new key takes its place in the schedule.
func (r *KeyRing) remember(k *ringKey, t ReplayTag) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrRingClosed
	}
	i := r.index(k)
	if i < 0 {
		return fmt.Errorf("%w (epoch %d)", ErrExpiredEpoch, k.epoch)
	}
	if !k.seen.add(t) {
		return ErrReplay
	}
	if k.seen.full() {
		r.retire(i)
	}
	return nil
}

func (r *KeyRing) index(k *ringKey) int {
	for i, x := range r.keys {
		if x == k {
			return i
		}
	}
	return -1
}

// retire erases key i at once. A previous key (its turn over, in grace)
// is simply dropped. For the current or next key, the keys after it move
// up one turn each and a new key takes the last turn. Errors are kept for
// Tick, which saves again until it succeeds.
func (r *KeyRing) retire(i int) {
	if i < len(r.keys)-2 {
		// A previous key: the current and next keys keep their turns.
		// Shifting here would hand the current key the previous key's
		// finished turn and erase it hours early.
		r.keys = append(r.keys[:i], r.keys[i+1:]...)
		if err := r.save(); err != nil {
			r.saveErr = err
		}
		return
	}
	type window struct{ start, end time.Time }
	var turns []window
	for _, k := range r.keys[i:] {
		turns = append(turns, window{k.start, k.end})
	}
	r.keys = append(r.keys[:i], r.keys[i+1:]...)
	for j, k := range r.keys[i:] {
		k.start, k.end = turns[j].start, turns[j].end
	}
	if err := r.addKey(turns[len(turns)-1].start); err != nil {
		r.saveErr = err
		return
	}
	if err := r.save(); err != nil {
		r.saveErr = err
	}
}

// save writes the running state (no replay tags, Clean false).
func (r *KeyRing) save() error {
	st := &RingState{NextEpoch: r.nextEpoch}
	for _, k := range r.keys {
		st.Keys = append(st.Keys, KeyState{Epoch: k.epoch, Key: k.priv, Start: k.start, End: k.end})
	}
	if err := r.store.Save(st); err != nil {
		r.dirty = true
		return fmt.Errorf("%w: save: %w", ErrStore, err)
	}
	r.dirty = false
	return nil
}

// Close saves the ring with every replay tag and marks it clean, so the
// next OpenKeyRing keeps the keys. After Close, Open drops every packet.
func (r *KeyRing) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	st := &RingState{Clean: true, NextEpoch: r.nextEpoch}
	for _, k := range r.keys {
		st.Keys = append(st.Keys, KeyState{Epoch: k.epoch, Key: k.priv, Start: k.start, End: k.end, Seen: k.seen.tags()})
	}
	r.keys = nil
	if err := r.store.Save(st); err != nil {
		return fmt.Errorf("%w: save: %w", ErrStore, err)
	}
	return nil
}
