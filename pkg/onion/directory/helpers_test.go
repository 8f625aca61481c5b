// SPDX-License-Identifier: AGPL-3.0-or-later

package directory

import (
	"bytes"
	"fmt"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/onion"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func seed(b byte) [SeedSize]byte { return [SeedSize]byte(bytes.Repeat([]byte{b}, SeedSize)) }

func seededRand(b byte) *mrand.ChaCha8 { return mrand.NewChaCha8(seed(b)) }

// testRelay is a relay with a real key ring, as the relay daemon will
// have.
type testRelay struct {
	key  *SigningKey
	ring *onion.KeyRing
}

func newRelay(t testing.TB, b byte) *testRelay {
	t.Helper()
	ring, err := onion.OpenKeyRing(&onion.MemStore{}, onion.RingConfig{Rand: seededRand(b)}, t0)
	if err != nil {
		t.Fatal(err)
	}
	return &testRelay{key: NewSigningKey(seed(b)), ring: ring}
}

// descriptor is what the relay would publish at t0.
func (r *testRelay) descriptor() *Descriptor {
	n := r.key.Relay().Bytes()[0]
	return &Descriptor{
		Relay:        r.key.Relay(),
		Keys:         r.ring.Keys(),
		Address:      fmt.Sprintf("relay%d.example.org:7443", n),
		WebAddress:   fmt.Sprintf("https://relay%d.example.org/", n),
		Capabilities: []Capability{CapChunks, CapMailbox, CapWeb},
		Published:    t0,
		Expires:      t0.Add(24 * time.Hour),
	}
}

func (r *testRelay) sign(t testing.TB, d *Descriptor) []byte {
	t.Helper()
	b, err := Sign(r.key, d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// network makes n relays (seeds 1..n), their signed descriptors and the
// network file listing them.
func network(t testing.TB, n int) ([]*testRelay, [][]byte, NetworkFile) {
	t.Helper()
	var rs []*testRelay
	var signed [][]byte
	var ds []*Descriptor
	for i := range n {
		r := newRelay(t, byte(i+1))
		d := r.descriptor()
		rs, ds = append(rs, r), append(ds, d)
		signed = append(signed, r.sign(t, d))
	}
	return rs, signed, FromDescriptors(ds)
}

func onionKey(t testing.TB, b byte) onion.PublicKey {
	t.Helper()
	k, err := onion.NewPrivateKey([32]byte(bytes.Repeat([]byte{b}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	return k.Public()
}
