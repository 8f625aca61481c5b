// SPDX-License-Identifier: AGPL-3.0-or-later

package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/services/relay/internal/store"
)

// testRing is a ring with fixed keys: seeds 1 and 2 repeated.
func testRing(t testing.TB, clean bool) *onion.RingState {
	t.Helper()
	st := &onion.RingState{Clean: clean, NextEpoch: 8}
	for i, seed := range []byte{1, 2} {
		k, err := onion.NewPrivateKey([32]byte(bytes.Repeat([]byte{seed}, 32)))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Date(2026, 3, 1+i, 0, 0, 0, 500, time.UTC)
		ks := onion.KeyState{Epoch: onion.Epoch(6 + i), Key: k, Start: start, End: start.Add(24 * time.Hour)}
		if clean && i == 1 {
			ks.Seen = []onion.ReplayTag{{0xaa}, {0xbb, 1}}
		}
		st.Keys = append(st.Keys, ks)
	}
	return st
}

func ringsEqual(a, b *onion.RingState) error {
	if a.Clean != b.Clean || a.NextEpoch != b.NextEpoch || len(a.Keys) != len(b.Keys) {
		return fmt.Errorf("header %v/%d/%d keys vs %v/%d/%d keys", a.Clean, a.NextEpoch, len(a.Keys), b.Clean, b.NextEpoch, len(b.Keys))
	}
	for i := range a.Keys {
		x, y := a.Keys[i], b.Keys[i]
		if x.Epoch != y.Epoch || !x.Key.Equal(y.Key) || !x.Start.Equal(y.Start) || !x.End.Equal(y.End) ||
			fmt.Sprint(x.Seen) != fmt.Sprint(y.Seen) {
			return fmt.Errorf("key %d differs", i)
		}
	}
	return nil
}

func TestOnionStoreRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	s := openAt(t, path, store.Limits{})
	rs := s.OnionStore()
	if st, err := rs.Load(); st != nil || err != nil {
		t.Fatalf("Load of a new store = %v, %v; want nil, nil", st, err)
	}
	for _, clean := range []bool{false, true} {
		want := testRing(t, clean)
		if err := rs.Save(want); err != nil {
			t.Fatal(err)
		}
		got, err := rs.Load()
		if err != nil {
			t.Fatal(err)
		}
		if err := ringsEqual(got, want); err != nil {
			t.Fatalf("clean=%v: %v", clean, err)
		}
	}
	s.Close()
	got, err := openAt(t, path, store.Limits{}).OnionStore().Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := ringsEqual(got, testRing(t, true)); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
}

// TestRingEncoding spells the layout out field by field.
func TestRingEncoding(t *testing.T) {
	got, err := encodeRing(testRing(t, true))
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	want = append(want, 1, 1, 0, 0, 0, 8, 0, 2) // version, clean, next epoch 8, 2 keys
	for i, seed := range []byte{1, 2} {
		want = append(want, 0, 0, 0, byte(6+i))
		want = append(want, bytes.Repeat([]byte{seed}, 32)...)
		start := time.Date(2026, 3, 1+i, 0, 0, 0, 0, time.UTC).Unix()
		for _, sec := range []int64{start, start + 86400} {
			want = binary.BigEndian.AppendUint64(want, uint64(sec))
			want = append(want, 0, 0, 1, 0xf4) // 500 ns
		}
		if i == 0 {
			want = append(want, 0, 0, 0, 0)
			continue
		}
		want = append(want, 0, 0, 0, 2, 0xaa)
		want = append(want, make([]byte, 15)...)
		want = append(want, 0xbb, 1)
		want = append(want, make([]byte, 14)...)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("encoding\n got %x\nwant %x", got, want)
	}
}

func TestDecodeRingRefusals(t *testing.T) {
	good, _ := encodeRing(testRing(t, true))
	cases := map[string][]byte{
		"empty":       nil,
		"version":     append([]byte{2}, good[1:]...),
		"clean flag":  append([]byte{1, 2}, good[2:]...),
		"truncated":   good[:len(good)-1],
		"trailing":    append(bytes.Clone(good), 0),
		"many keys":   append([]byte{1, 1, 0, 0, 0, 8, 0, 17}, good[8:]...),
		"tag count":   func() []byte { b := bytes.Clone(good); b[len(b)-33] = 3; return b }(),
		"nanoseconds": func() []byte { b := bytes.Clone(good); copy(b[8+4+32+8:], []byte{0x3b, 0x9a, 0xca, 0}); return b }(),
	}
	for name, b := range cases {
		if _, err := decodeRing(b); !errors.Is(err, ErrCorruptRing) {
			t.Errorf("%s: err = %v, want ErrCorruptRing", name, err)
		}
	}
}

func FuzzDecodeRing(f *testing.F) {
	for _, clean := range []bool{false, true} {
		good, _ := encodeRing(testRing(f, clean))
		f.Add(good)
		for i := range len(good) * 8 {
			b := bytes.Clone(good)
			b[i/8] ^= 1 << (i % 8)
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeRing(b)
		if err != nil {
			if !errors.Is(err, ErrCorruptRing) {
				t.Fatalf("error not ErrCorruptRing: %v", err)
			}
			return
		}
		again, err := encodeRing(st)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("decoded ring re-encodes differently (%v)", err)
		}
	})
}

// TestKeyRingOverStore runs pkg/onion's key ring on this store: a clean
// close keeps its keys across a reopen of the file, an unclean one does
// not.
func TestKeyRingOverStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	s := openAt(t, path, store.Limits{})
	ring, err := onion.OpenKeyRing(s.OnionStore(), onion.RingConfig{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	keys := ring.Keys()
	if err := ring.Close(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openAt(t, path, store.Limits{})
	ring, err = onion.OpenKeyRing(s.OnionStore(), onion.RingConfig{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if got := ring.Keys(); fmt.Sprint(got) != fmt.Sprint(keys) {
		t.Fatalf("keys after a clean close %v, want %v", got, keys)
	}
	s.Close() // the ring was not closed: an unclean state is on disk
	s = openAt(t, path, store.Limits{})
	ring, err = onion.OpenKeyRing(s.OnionStore(), onion.RingConfig{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range ring.Keys() {
		for _, old := range keys {
			if k.Epoch == old.Epoch {
				t.Fatalf("epoch %d reused after an unclean shutdown", k.Epoch)
			}
		}
	}
	ring.Close()
}
