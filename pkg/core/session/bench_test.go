// SPDX-License-Identifier: AGPL-3.0-or-later

package session_test

import (
	"context"
	"fmt"
	"testing"

	"go.mau.fi/libsignal/serialize"
	"go.mau.fi/libsignal/state/record"
)

// BenchmarkRatchetOneWay encrypts a 100-byte message on one side and
// decrypts it on the other, through the Manager and its Store, in one
// direction (a symmetric-chain step each side, no DH ratchet).
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

// BenchmarkLibraryDebugFormatting measures the one debug call the library
// makes on every decrypt, logger.Debug("Decrypting ciphertext with
// record: ", sessionRecord): the discarding logger drops the string, but
// fmt.Sprint has already walked the whole session record to build it.
// Compare with BenchmarkRatchetOneWay to see its share of a ratchet step.
func BenchmarkLibraryDebugFormatting(b *testing.B) {
	ctx := context.Background()
	alice, _ := pair(b)
	raw, err := alice.st.LoadSession(ctx, "bob")
	if err != nil {
		b.Fatal(err)
	}
	ser := serialize.NewProtoBufSerializer()
	rec, err := record.NewSessionFromBytes(raw, ser.Session, ser.State)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = fmt.Sprint("Decrypting ciphertext with record: ", rec)
	}
}
