// SPDX-License-Identifier: AGPL-3.0-or-later

package transfer

import (
	"crypto/sha256"
	"errors"
	"testing"

	"github.com/hushchat/hush/pkg/core/attach"
)

// FuzzLayout makes layouts from fuzzed keys, sizes and relay counts.
// NewLayout refuses exactly the sizes and relay counts out of range;
// otherwise the counts agree with attach and PaddedCount, Place is
// deterministic and round robin, and two indexes never share a chunk ID
// or a delete token.
func FuzzLayout(f *testing.F) {
	k := vectorKey(f, 0).Bytes()
	f.Add(k, int64(0), uint8(1), uint64(0), uint64(7))
	f.Add(k, int64(attach.PlainChunkSize+1), uint8(3), uint64(1), uint64(2))
	f.Add(k, int64(100*attach.PlainChunkSize), uint8(16), uint64(99), uint64(103))
	f.Add(k, int64(attach.MaxSize), uint8(5), uint64(1<<40), uint64(3))
	f.Add([]byte("short"), int64(-1), uint8(0), uint64(0), uint64(0))
	f.Add(make([]byte, 32), int64(1), uint8(17), uint64(0), uint64(1))
	relays := testRelays(f, MaxRelays+1)
	f.Fuzz(func(t *testing.T, keyIn []byte, size int64, nrelays uint8, i, j uint64) {
		if len(keyIn) != attach.KeySize {
			h := sha256.Sum256(keyIn)
			keyIn = h[:]
		}
		key, keyErr := attach.KeyFromBytes(keyIn)
		k := int(nrelays % (MaxRelays + 2)) // 0..17: both ends out of range
		l, err := NewLayout(key, size, relays[:k])
		switch {
		case keyErr != nil:
			if !errors.Is(err, attach.ErrZeroKey) && !errors.Is(err, attach.ErrSize) && !errors.Is(err, ErrRelays) {
				t.Fatalf("zero key: NewLayout = %v", err)
			}
			return
		case size < 0 || size > attach.MaxSize:
			if !errors.Is(err, attach.ErrSize) {
				t.Fatalf("size %d: NewLayout = %v, want ErrSize", size, err)
			}
			return
		case k < 1 || k > MaxRelays:
			if !errors.Is(err, ErrRelays) {
				t.Fatalf("%d relays: NewLayout = %v, want ErrRelays", k, err)
			}
			return
		case err != nil:
			t.Fatalf("size %d, %d relays: %v", size, k, err)
		}
		if l.Chunks() != attach.ChunkCount(size) || l.Total() != PaddedCount(l.Chunks()) || l.Total() < l.Chunks() {
			t.Fatalf("size %d: %d chunks, total %d", size, l.Chunks(), l.Total())
		}
		a, b := int64(i%uint64(l.Total())), int64(j%uint64(l.Total()))
		ra, ida, toka := l.Place(a)
		ra2, ida2, toka2 := l.Place(a)
		if ra != ra2 || ida != ida2 || !equalTokens(toka, toka2) {
			t.Fatalf("Place(%d) is not deterministic", a)
		}
		if ra != relays[a%int64(k)] {
			t.Fatalf("chunk %d on %s, want relay %d", a, ra, a%int64(k))
		}
		if string(ida[:]) == string(toka.Bytes()) {
			t.Fatalf("chunk %d: ID and token are equal", a)
		}
		if a == b {
			return
		}
		_, idb, tokb := l.Place(b)
		if ida == idb || equalTokens(toka, tokb) {
			t.Fatalf("chunks %d and %d share an ID or a token", a, b)
		}
	})
}
