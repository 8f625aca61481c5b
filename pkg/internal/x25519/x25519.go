// SPDX-License-Identifier: AGPL-3.0-or-later

// Package x25519 holds the module's one check of X25519 public keys: that
// a key is canonical and not of small order. Identity keys, prekeys,
// sealed-sender ephemerals and onion keys all go through it.
package x25519

// KeySize is the size of an X25519 public key.
const KeySize = 32

// Valid reports whether k is a canonical u-coordinate (top bit clear,
// u < 2^255-19) that is not of small order.
//
// A Diffie-Hellman with a small-order key yields a value an attacker
// knows. A non-canonical key means the same point as a canonical one,
// since X25519 masks and reduces it; refusing it gives every key one
// encoding. Among canonical encodings exactly five u-coordinates have
// small order; they are compared against a table rather than found by a
// scalar multiplication, which would cost as much as the Diffie-Hellman
// itself (the table is checked against that multiplication in the tests).
// Public keys are not secret, so none of this need be constant time.
func Valid(k *[KeySize]byte) bool {
	if !canonical(k) {
		return false
	}
	for i := range smallOrder {
		if *k == smallOrder[i] {
			return false
		}
	}
	return true
}

// canonical reports whether k, little-endian, is below 2^255-19.
func canonical(k *[KeySize]byte) bool {
	if k[31]&0x80 != 0 {
		return false
	}
	if k[31] != 0x7f || k[0] < 0xed {
		return true
	}
	for _, b := range k[1:31] {
		if b != 0xff {
			return true
		}
	}
	return false
}

// smallOrder lists, little-endian, the canonical u-coordinates of the
// points of small order on Curve25519 and its twist: 0, 1, the two points
// of order 8, and p-1.
var smallOrder = [...][KeySize]byte{
	{},
	{1},
	{0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
		0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
	{0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b,
		0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57},
	{0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
}
