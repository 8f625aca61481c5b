// SPDX-License-Identifier: AGPL-3.0-or-later

package onion

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"
)

func wrapFor(t *testing.T, r *testRelay, k KeyInfo) []byte {
	t.Helper()
	pkt, _, err := Wrap([]Hop{{ID: r.id, Key: k.Key, Epoch: k.Epoch}}, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	return pkt
}

func TestRingSchedule(t *testing.T) {
	r := newRelay(t, 1, RingConfig{Period: time.Hour, Grace: 10 * time.Minute})
	keys := r.ring.Keys()
	if len(keys) != 2 || keys[0].Epoch != 1 || keys[1].Epoch != 2 || !keys[0].End.Equal(keys[1].Start) {
		t.Fatalf("new ring: %+v", keys)
	}
	cur, next := keys[0], keys[1]
	early := wrapFor(t, r, next) // the next key is accepted early
	if _, err := r.ring.Open(early); err != nil {
		t.Fatalf("next key: %v", err)
	}
	old := wrapFor(t, r, cur)
	// After the turn, within grace: the old key still opens.
	if err := r.ring.Tick(t0.Add(time.Hour + 5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := r.ring.Keys(); len(got) != 3 || got[2].Epoch != 3 {
		t.Fatalf("after one turn: %+v", got)
	}
	if _, err := r.ring.Open(old); err != nil {
		t.Fatalf("previous key in grace: %v", err)
	}
	// P7: after the grace period the old key is erased.
	old2 := wrapFor(t, r, cur)
	if err := r.ring.Tick(t0.Add(time.Hour + 10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ring.Open(old2); !errors.Is(err, ErrExpiredEpoch) {
		t.Fatalf("after grace: %v, want ErrExpiredEpoch", err)
	}
	if got := r.ring.Keys(); len(got) != 2 || got[0].Epoch != 2 {
		t.Fatalf("after grace: %+v", got)
	}
}

// TestRingUncleanRestart (P5): after a crash the replay tags are gone, so
// the ring erases its keys and a replay of an earlier packet is refused.
func TestRingUncleanRestart(t *testing.T) {
	r := newRelay(t, 2, RingConfig{})
	k := r.ring.Keys()[0]
	pkt := wrapFor(t, r, k)
	if _, err := r.ring.Open(pkt); err != nil {
		t.Fatal(err)
	}
	// Crash: no Close. A new ring on the same store.
	ring2, err := OpenKeyRing(r.store, RingConfig{}, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ring2.Open(pkt); !errors.Is(err, ErrExpiredEpoch) {
		t.Fatalf("replay after unclean restart: %v, want ErrExpiredEpoch", err)
	}
	if got := ring2.Keys(); got[0].Epoch <= k.Epoch+1 {
		t.Fatalf("epochs after restart %+v, want above %d", got, k.Epoch+1)
	}
}

// TestRingCleanRestart: Close keeps keys and tags.
func TestRingCleanRestart(t *testing.T) {
	r := newRelay(t, 3, RingConfig{})
	k := r.ring.Keys()[0]
	pkt := wrapFor(t, r, k)
	if _, err := r.ring.Open(pkt); err != nil {
		t.Fatal(err)
	}
	if err := r.ring.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ring.Open(pkt); !errors.Is(err, ErrRingClosed) || Reason(err) != DropInternal {
		t.Fatalf("open after Close: %v", err)
	}
	ring2, err := OpenKeyRing(r.store, RingConfig{}, t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ring2.Open(pkt); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay after clean restart: %v, want ErrReplay", err)
	}
	if _, err := ring2.Open(wrapFor(t, r, k)); err != nil {
		t.Fatalf("new packet after clean restart: %v", err)
	}
	// The reopened ring is running: a crash now loses the keys again.
	ring3, _ := OpenKeyRing(r.store, RingConfig{}, t0.Add(2*time.Minute))
	if _, err := ring3.Open(wrapFor(t, r, k)); !errors.Is(err, ErrExpiredEpoch) {
		t.Fatalf("after a crash following a clean restart: %v", err)
	}
}

// TestRingCacheFull (P5): a key whose cache fills is retired at once and
// the next key moves up.
func TestRingCacheFull(t *testing.T) {
	r := newRelay(t, 4, RingConfig{CacheLimit: 3})
	k := r.ring.Keys()[0]
	for i := range 3 {
		if _, err := r.ring.Open(wrapFor(t, r, k)); err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
	}
	if _, err := r.ring.Open(wrapFor(t, r, k)); !errors.Is(err, ErrExpiredEpoch) {
		t.Fatalf("after the cache filled: %v, want ErrExpiredEpoch", err)
	}
	got := r.ring.Keys()
	if len(got) != 2 || got[0].Epoch != k.Epoch+1 || !got[0].Start.Equal(k.Start) || got[1].Epoch != k.Epoch+2 {
		t.Fatalf("keys after retirement: %+v (retired %d)", got, k.Epoch)
	}
	if _, err := r.ring.Open(wrapFor(t, r, got[0])); err != nil {
		t.Fatalf("the new current key: %v", err)
	}
	if err := r.ring.Tick(t0); err != nil {
		t.Fatal(err)
	}
}

type failStore struct{ MemStore }

func (f *failStore) Save(*RingState) error { return errors.New("disk full") }

func TestRingStoreFailure(t *testing.T) {
	if _, err := OpenKeyRing(&failStore{}, RingConfig{}, t0); !errors.Is(err, ErrStore) {
		t.Fatalf("OpenKeyRing with a failing store: %v", err)
	}
}

func TestPrivateKeyNeverPrints(t *testing.T) {
	k, err := GenerateKey(seededRand(5))
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		if s := fmt.Sprintf(verb, k); s != "onion.PrivateKey(redacted)" {
			t.Errorf("%s printed %q", verb, s)
		}
	}
	k2, _ := NewPrivateKey([32]byte(k.Bytes()))
	if !k.Equal(k2) || k2.Public() != k.Public() {
		t.Error("key rebuilt from its bytes differs")
	}
}

func TestRelayIDText(t *testing.T) {
	r := newRelay(t, 6, RingConfig{})
	back, err := ParseRelayID(r.id.String())
	if err != nil || back != r.id {
		t.Fatalf("round trip: %v, %v", back, err)
	}
	for _, bad := range []string{"", "hushrelay:", r.id.String()[1:], r.id.String() + "A", "hushrelay:" + string(make([]byte, 43))} {
		if _, err := ParseRelayID(bad); !errors.Is(err, ErrRelayID) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestPublicKeyValidation(t *testing.T) {
	for i, bad := range [][32]byte{{}, {1}} { // two of the small-order points
		if _, err := NewPublicKey(bad[:]); !errors.Is(err, ErrWeakKey) {
			t.Errorf("small-order point %d accepted", i)
		}
	}
	p := [32]byte{0xed}
	for i := 1; i < 31; i++ {
		p[i] = 0xff
	}
	p[31] = 0x7f // p itself, non-canonical 0
	if _, err := NewPublicKey(p[:]); !errors.Is(err, ErrWeakKey) {
		t.Error("u = p accepted")
	}
	k, _ := GenerateKey(nil)
	good := k.Public().Bytes()
	if _, err := NewPublicKey(good); err != nil {
		t.Fatal(err)
	}
	good[31] |= 0x80
	if _, err := NewPublicKey(good); !errors.Is(err, ErrWeakKey) {
		t.Error("top bit set accepted")
	}
}

// TestLongReplayCacheMemory measures the heap one epoch's cache takes for
// 2^20 packets (reported in ARCHITECTURE.md).
func TestLongReplayCacheMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("long test")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := newReplayCache(DefaultCacheLimit, nil)
	rnd := seededRand(7)
	for !c.full() {
		var tag ReplayTag
		rnd.Read(tag[:])
		c.add(tag)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / float64(DefaultCacheLimit)
	t.Logf("replay cache: %d tags, %.1f MiB, %.1f B per tag", DefaultCacheLimit, float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), per)
	if per < replayTagSize || per > 64 {
		t.Fatalf("%.1f B per tag", per)
	}
	runtime.KeepAlive(c)
}

// TestRingPreviousCacheFullKeepsCurrent fills the replay cache of the
// previous key (in its grace period): that key alone goes, and the current
// and next keys keep their turns.
func TestRingPreviousCacheFullKeepsCurrent(t *testing.T) {
	r := newRelay(t, 7, RingConfig{Period: time.Hour, Grace: 10 * time.Minute, CacheLimit: 3})
	if err := r.ring.Tick(t0.Add(time.Hour + time.Minute)); err != nil {
		t.Fatal(err)
	}
	keys := r.ring.Keys()
	if len(keys) != 3 {
		t.Fatalf("want previous, current and next keys, got %+v", keys)
	}
	prev, cur, next := keys[0], keys[1], keys[2]
	for range 3 {
		if _, err := r.ring.Open(wrapFor(t, r, prev)); err != nil {
			t.Fatal(err)
		}
	}
	got := r.ring.Keys()
	if len(got) != 2 || got[0] != cur || got[1] != next {
		t.Fatalf("keys after the previous key's cache filled: %+v, want %+v and %+v unchanged", got, cur, next)
	}
	if _, err := r.ring.Open(wrapFor(t, r, cur)); err != nil {
		t.Fatalf("the current key: %v", err)
	}
	if _, err := r.ring.Open(wrapFor(t, r, prev)); !errors.Is(err, ErrExpiredEpoch) {
		t.Fatalf("the retired previous key: %v, want ErrExpiredEpoch", err)
	}
}

// flakyStore fails its first n saves.
type flakyStore struct {
	MemStore
	fail int
}

func (f *flakyStore) Save(st *RingState) error {
	if f.fail > 0 {
		f.fail--
		return errors.New("disk full")
	}
	return f.MemStore.Save(st)
}

// TestRingRetriesFailedSave shows a state that failed to save is saved
// again on the next Tick, though nothing changed in between.
func TestRingRetriesFailedSave(t *testing.T) {
	st := &flakyStore{}
	ring, err := OpenKeyRing(st, RingConfig{Period: time.Hour, CacheLimit: 2, Rand: seededRand(9)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	r := &testRelay{ring: ring}
	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32)).Public().(ed25519.PublicKey)
	r.id, _ = NewRelayID(pub)
	k := ring.Keys()[0]
	st.fail = 1
	for range 2 { // fills the cache: the key is retired and the save fails
		if _, err := ring.Open(wrapFor(t, r, k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := ring.Tick(t0); err == nil {
		t.Fatal("Tick did not report the failed save")
	}
	saved, _ := st.Load()
	for _, s := range saved.Keys {
		if s.Epoch == k.Epoch {
			t.Fatal("the retired key is still in the store after Tick")
		}
	}
}

func TestRingRefusesBadState(t *testing.T) {
	k, _ := GenerateKey(seededRand(3))
	for name, st := range map[string]*RingState{
		"nil key":     {NextEpoch: 5, Keys: []KeyState{{Epoch: 1, Start: t0, End: t0.Add(time.Hour)}}},
		"twice":       {NextEpoch: 5, Keys: []KeyState{{Epoch: 1, Key: k, Start: t0, End: t0.Add(time.Hour)}, {Epoch: 1, Key: k, Start: t0, End: t0.Add(time.Hour)}}},
		"epoch ahead": {NextEpoch: 2, Keys: []KeyState{{Epoch: 2, Key: k, Start: t0, End: t0.Add(time.Hour)}}},
	} {
		ms := &MemStore{}
		if err := ms.Save(st); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenKeyRing(ms, RingConfig{}, t0); !errors.Is(err, ErrStore) {
			t.Errorf("%s: err = %v, want ErrStore", name, err)
		}
	}
}
