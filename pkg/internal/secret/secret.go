// SPDX-License-Identifier: AGPL-3.0-or-later

// Package secret holds the module's one copy of the helpers for handling
// secret bytes: zeroing and constant-time comparison.
//
// Zeroing in Go is best effort. The garbage collector may have copied a
// buffer before it is cleared, and values passed by value live on in old
// stack frames. Zero removes the copy we own; it does not promise that no
// other copy exists.
package secret

import (
	"crypto/subtle"
	"runtime"
)

// Zero overwrites b with zeros. It is marked noinline and keeps b alive so
// the compiler cannot drop the stores as dead.
//
//go:noinline
func Zero(b []byte) {
	clear(b)
	runtime.KeepAlive(b)
}

// Zero32 overwrites a 32-byte array with zeros.
//
//go:noinline
func Zero32(k *[32]byte) {
	clear(k[:])
	runtime.KeepAlive(k)
}

// Equal reports whether a and b hold the same bytes, in time that depends
// only on their lengths.
func Equal(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}

// IsZero reports whether b is all zeros, in time that depends only on its
// length.
func IsZero(b []byte) bool {
	var acc byte
	for _, x := range b {
		acc |= x
	}
	return subtle.ConstantTimeByteEq(acc, 0) == 1
}
