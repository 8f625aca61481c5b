// SPDX-License-Identifier: AGPL-3.0-or-later

package sealed

import (
	"testing"

	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/session"
)

var benchMsg = session.Ciphertext{Type: session.TypeMessage, Body: make([]byte, 1024)}

// BenchmarkSeal seals a 1 KiB ratchet message into a full envelope.
func BenchmarkSeal(b *testing.B) {
	alice, _ := identity.Generate(nil)
	bob, _ := identity.Generate(nil)
	b.SetBytes(EnvelopeSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Seal(alice, bob.Public(), benchMsg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen opens one envelope.
func BenchmarkOpen(b *testing.B) {
	alice, _ := identity.Generate(nil)
	bob, _ := identity.Generate(nil)
	env, err := Seal(alice, bob.Public(), benchMsg)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(EnvelopeSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(bob, env); err != nil {
			b.Fatal(err)
		}
	}
}
