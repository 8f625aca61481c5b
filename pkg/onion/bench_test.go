// SPDX-License-Identifier: AGPL-3.0-or-later

package onion

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"testing"
)

// BenchmarkHopOpen is one relay opening one packet as a middle hop:
// X25519, key derivation, GCM over the payload, the replay cache, the
// routing block. Packets come from a pool; each op removes its tag from
// the cache again so the pool can be reused (one map delete).
func BenchmarkHopOpen(b *testing.B) {
	rs := newRelays(b, 3)
	pool := make([][]byte, 64)
	for i := range pool {
		pool[i], _, _ = Wrap(pathOf(rs), []byte("bench"))
	}
	ring := rs[0].ring
	k, _ := ring.key(rs[0].hop().Epoch)
	b.SetBytes(PacketSize)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		o, err := ring.Open(pool[i%len(pool)])
		if err != nil || o.IsExit() {
			b.Fatal(err)
		}
		ring.mu.Lock()
		delete(k.seen.seen, o.tag)
		ring.mu.Unlock()
		i++
	}
}

// BenchmarkHopCeiling is the least any design must do per hop: one X25519
// with a long-lived key, one HKDF, and this format's payload cipher
// (AES-256-GCM open) over the payload.
func BenchmarkHopCeiling(b *testing.B) {
	priv, _ := ecdh.X25519().NewPrivateKey(bytes.Repeat([]byte{1}, 32))
	eph, _ := ecdh.X25519().NewPrivateKey(bytes.Repeat([]byte{2}, 32))
	pub := eph.PublicKey()
	shared, _ := priv.ECDH(pub)
	key, _ := hkdf.Key(sha256.New, shared, nil, LabelPayload, 32)
	blk, _ := aes.NewCipher(key)
	g, _ := cipher.NewGCM(blk)
	sealed := g.Seal(nil, zeroNonce[:], make([]byte, PayloadSize), nil)
	out := make([]byte, PayloadSize)
	b.SetBytes(PacketSize)
	b.ReportAllocs()
	for b.Loop() {
		shared, err := priv.ECDH(pub)
		if err != nil {
			b.Fatal(err)
		}
		key, _ := hkdf.Key(sha256.New, shared, nil, LabelPayload, 32)
		blk, _ := aes.NewCipher(key)
		g, _ := cipher.NewGCM(blk)
		if _, err := g.Open(out[:0], zeroNonce[:], sealed, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrap3 is the client wrapping a full request for three hops.
func BenchmarkWrap3(b *testing.B) {
	rs := newRelays(b, 3)
	path := pathOf(rs)
	req := make([]byte, RequestCapacity)
	b.SetBytes(PacketSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Wrap(path, req); err != nil {
			b.Fatal(err)
		}
	}
}
