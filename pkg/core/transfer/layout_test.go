// SPDX-License-Identifier: AGPL-3.0-or-later

package transfer

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion"
)

func TestPaddedCount(t *testing.T) {
	cases := []struct{ n, want int64 }{
		{0, 8}, {1, 8}, {2, 8}, {7, 8}, {8, 8}, // the floor
		{9, 10}, {15, 16}, // E=3, S=2: multiples of 2
		{16, 16}, {17, 18}, // E=4, S=3: multiples of 2
		{33, 36},                                 // E=5, S=3: multiples of 4
		{100, 104},                               // E=6, S=3: multiples of 8
		{129, 144},                               // E=7, S=3: multiples of 16, the worst overhead
		{256, 256},                               // E=8, S=4: multiples of 16
		{1000, 1024},                             // E=9, S=4: multiples of 32
		{2185, 2304},                             // 64 MiB: E=11, S=4, multiples of 128
		{35000, 36864},                           // about 1 GiB: E=15, S=4, multiples of 2048
		{65537, 67584},                           // E=16, S=5: multiples of 2048
		{1<<32 - 1, 1 << 32}, {1 << 32, 1 << 32}, // E=31, S=5; attach.MaxChunkCount
	}
	for _, c := range cases {
		if got := PaddedCount(c.n); got != c.want {
			t.Errorf("PaddedCount(%d) = %d, want %d", c.n, got, c.want)
		}
	}
	for _, bad := range []int64{-1, attach.MaxChunkCount + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("PaddedCount(%d) did not panic", bad)
				}
			}()
			PaddedCount(bad)
		}()
	}
}

// TestPaddedCountProperties checks Padmé's properties from the paper for
// every n up to 2²⁰ and random n beyond: N ≥ n, overhead under 12 %
// (11.63 % at 129 exactly), idempotent, monotone, and for each E at most
// 2^S + 1 distinct results, so N says at most S + 1 bits, S ≈ log₂ log₂ n.
func TestPaddedCountProperties(t *testing.T) {
	check := func(n, prev int64) int64 {
		N := PaddedCount(n)
		switch {
		case N < n || N < MinPaddedCount:
			t.Fatalf("PaddedCount(%d) = %d", n, N)
		case n > MinPaddedCount && float64(N-n) > 0.1163*float64(n):
			t.Fatalf("PaddedCount(%d) = %d: overhead %.2f %%", n, N, 100*float64(N-n)/float64(n))
		case PaddedCount(N) != N:
			t.Fatalf("PaddedCount(%d) = %d, but PaddedCount(%d) = %d", n, N, N, PaddedCount(N))
		case N < prev:
			t.Fatalf("PaddedCount(%d) = %d < PaddedCount(%d) = %d", n, N, n-1, prev)
		}
		return N
	}
	distinct := map[int]map[int64]bool{} // E → results
	worst := 0.0
	prev := int64(0)
	for n := int64(1); n <= 1<<20; n++ {
		prev = check(n, prev)
		e := bits.Len64(uint64(n)) - 1
		if distinct[e] == nil {
			distinct[e] = map[int64]bool{}
		}
		distinct[e][prev] = true
		if n > MinPaddedCount {
			worst = max(worst, float64(prev-n)/float64(n))
		}
	}
	if worst < 0.116 || worst > 0.1163 {
		t.Errorf("worst overhead %.4f, want 0.1163 (129 → 144)", worst)
	}
	for e, set := range distinct {
		if s := bits.Len(uint(e)); len(set) > 1<<s+1 {
			t.Errorf("E = %d: %d distinct padded counts, want at most 2^%d + 1", e, len(set), s)
		}
	}
	for range 10000 {
		n := rand.Int64N(attach.MaxChunkCount) + 1
		check(n, 0)
	}
}

func TestNewLayoutRefuses(t *testing.T) {
	k := newKey(t)
	relays := testRelays(t, 17)
	cases := []struct {
		name   string
		key    attach.Key
		size   int64
		relays []onion.RelayID
		want   error
	}{
		{"no relay", k, 1, nil, ErrRelays},
		{"17 relays", k, 1, relays, ErrRelays},
		{"repeated relay", k, 1, []onion.RelayID{relays[0], relays[1], relays[0]}, ErrRelays},
		{"zero relay", k, 1, []onion.RelayID{relays[0], {}}, ErrRelays},
		{"negative size", k, -1, relays[:1], attach.ErrSize},
		{"size too big", k, attach.MaxSize + 1, relays[:1], attach.ErrSize},
		{"zero key", attach.Key{}, 1, relays[:1], attach.ErrZeroKey},
	}
	for _, c := range cases {
		if l, err := NewLayout(c.key, c.size, c.relays); !errors.Is(err, c.want) {
			t.Errorf("%s: NewLayout = %v, %v; want %v", c.name, l, err, c.want)
		}
	}
	if _, err := NewLayout(k, attach.MaxSize, relays[:16]); err != nil {
		t.Errorf("16 relays, largest size: %v", err)
	}
}

func TestLayoutPlace(t *testing.T) {
	k := newKey(t)
	relays := testRelays(t, 3)
	size := int64(20*attach.PlainChunkSize + 1) // 21 chunks, padded to 22
	l, err := NewLayout(k, size, relays)
	if err != nil {
		t.Fatal(err)
	}
	if l.Chunks() != 21 || l.Total() != 22 || l.Size() != size {
		t.Fatalf("chunks %d, total %d, size %d; want 21, 22, %d", l.Chunks(), l.Total(), l.Size(), size)
	}
	seen := map[string]int64{}
	for i := range l.Total() {
		relay, id, token := l.Place(i)
		if relay != relays[i%3] {
			t.Errorf("chunk %d on %s, want relay %d", i, relay, i%3)
		}
		r2, id2, token2 := l.Place(i)
		if r2 != relay || id2 != id || !equalTokens(token, token2) {
			t.Errorf("chunk %d: Place is not deterministic", i)
		}
		for _, v := range []string{"id " + hex.EncodeToString(id[:]), "token " + hex.EncodeToString(token.Bytes())} {
			if j, ok := seen[v[6:]]; ok {
				t.Errorf("chunk %d: %s repeats chunk %d's", i, v, j)
			}
			seen[v[6:]] = i
		}
	}
	// The same key and relays give the same places whatever the size: a
	// longer attachment only adds chunks.
	l2, _ := NewLayout(k, 1, relays)
	_, id0, _ := l.Place(5)
	if _, id5, _ := l2.Place(5); id5 != id0 {
		t.Error("chunk 5's ID depends on the size")
	}
	for _, bad := range []int64{-1, l.Total()} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Place(%d) did not panic", bad)
				}
			}()
			l.Place(bad)
		}()
	}
}

func equalTokens(a, b mailbox.DeleteToken) bool { return string(a.Bytes()) == string(b.Bytes()) }

// TestLayoutNeverPrints checks that no fmt verb shows the key, a chunk
// ID or a delete token.
func TestLayoutNeverPrints(t *testing.T) {
	k := newKey(t)
	l, err := NewLayout(k, 5, testRelays(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	_, id, token := l.Place(0)
	out := fmt.Sprintf("%v %+v %#v %s %x %q", l, l, l, l, l, l) + fmt.Sprintf("%v %+v %#v %s %x", token, token, token, token, token)
	for _, secret := range [][]byte{k.Bytes(), id[:], token.Bytes()} {
		for _, form := range []string{hex.EncodeToString(secret), fmt.Sprint(secret)} {
			if strings.Contains(out, form) {
				t.Fatalf("printed form contains a secret: %s", out)
			}
		}
	}
	if want := "transfer.Layout(1 chunks padded to 8, 2 relays)"; !strings.Contains(out, want) {
		t.Errorf("printed %q, want it to contain %q", out, want)
	}
}
