// SPDX-License-Identifier: AGPL-3.0-or-later

package directory

import "testing"

func BenchmarkParseDescriptor(b *testing.B) {
	_, signed, _ := network(b, 1)
	b.SetBytes(int64(len(signed[0])))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDescriptor(signed[0], t0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseDirectory100 verifies a directory of 100 relays.
func BenchmarkParseDirectory100(b *testing.B) {
	_, signed, n := network(b, 100)
	doc, err := EncodeDirectory(signed)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDirectory(doc, n, t0); err != nil {
			b.Fatal(err)
		}
	}
}
