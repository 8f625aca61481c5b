// SPDX-License-Identifier: AGPL-3.0-or-later

package x25519

import (
	"crypto/ecdh"
	"crypto/rand"
	"testing"
)

// TestSmallOrderTable checks the table against the definition: a clamped
// scalar (a multiple of the cofactor) times a small-order point is zero,
// which crypto/ecdh reports as an error.
func TestSmallOrderTable(t *testing.T) {
	scalar := make([]byte, 32)
	rand.Read(scalar)
	priv, err := ecdh.X25519().NewPrivateKey(scalar)
	if err != nil {
		t.Fatal(err)
	}
	isSmallOrder := func(k [32]byte) bool {
		pub, err := ecdh.X25519().NewPublicKey(k[:])
		if err != nil {
			t.Fatal(err)
		}
		_, err = priv.ECDH(pub)
		return err != nil
	}
	for i, k := range smallOrder {
		if !isSmallOrder(k) {
			t.Errorf("table entry %d (%x) is not of small order", i, k)
		}
		if Valid(&k) {
			t.Errorf("table entry %d accepted", i)
		}
	}
	for range 1000 {
		var k [32]byte
		rand.Read(k[:])
		k[31] &= 0x7f
		if Valid(&k) && isSmallOrder(k) {
			t.Fatalf("small-order key %x accepted", k)
		}
	}
}

func TestNonCanonical(t *testing.T) {
	var u [32]byte
	u[0] = 9 // the base point: valid
	if !Valid(&u) {
		t.Fatal("the base point refused")
	}
	u[31] |= 0x80
	if Valid(&u) {
		t.Error("top bit set accepted")
	}
	// p, p+1, ..., 2^255-1 are non-canonical; p-1 is small order.
	for low := 0xec; low <= 0xff; low++ {
		var v [32]byte
		v[0] = byte(low)
		for i := 1; i < 31; i++ {
			v[i] = 0xff
		}
		v[31] = 0x7f
		if Valid(&v) {
			t.Errorf("u = 2^255-%d accepted", 256-low)
		}
	}
}
