// SPDX-License-Identifier: AGPL-3.0-or-later

package session_test

import (
	"context"
	"testing"
)

// BenchmarkRatchetOneWay encrypts a 100-byte message on one side and
// decrypts it on the other, through the Manager and its Store, in one
// direction (a symmetric-chain step each side, no DH ratchet).
//
// The library's discarded debug logging is part of this figure: it still
// formats its arguments and looks up its caller. To see that share, run
// with -cpuprofile and read the cumulative time of
// go.mau.fi/libsignal/logger in `go tool pprof -top -cum`.
func BenchmarkRatchetOneWay(b *testing.B) {
	ctx := context.Background()
	alice, bob := pair(b)
	msg := make([]byte, 100)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		c, err := alice.m.Encrypt(ctx, "bob", msg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := bob.m.Decrypt(ctx, "alice", c); err != nil {
			b.Fatal(err)
		}
	}
}
