// SPDX-License-Identifier: AGPL-3.0-or-later

package secret

import "testing"

func TestZero(t *testing.T) {
	b := []byte{1, 2, 3, 4}
	Zero(b)
	for i, x := range b {
		if x != 0 {
			t.Fatalf("byte %d = %d after Zero", i, x)
		}
	}
	var k [32]byte
	k[0], k[31] = 7, 9
	Zero32(&k)
	if k != [32]byte{} {
		t.Fatalf("Zero32 left %x", k)
	}
}

func TestEqual(t *testing.T) {
	cases := []struct {
		a, b []byte
		want bool
	}{
		{[]byte("abc"), []byte("abc"), true},
		{[]byte("abc"), []byte("abd"), false},
		{[]byte("abc"), []byte("ab"), false},
		{nil, []byte{}, true},
	}
	for _, c := range cases {
		if got := Equal(c.a, c.b); got != c.want {
			t.Errorf("Equal(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestIsZero(t *testing.T) {
	if !IsZero(make([]byte, 32)) {
		t.Error("IsZero(32 zero bytes) = false")
	}
	b := make([]byte, 32)
	b[17] = 1
	if IsZero(b) {
		t.Error("IsZero with a set byte = true")
	}
	if !IsZero(nil) {
		t.Error("IsZero(nil) = false")
	}
}
