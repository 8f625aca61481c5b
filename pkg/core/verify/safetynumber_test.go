// SPDX-License-Identifier: AGPL-3.0-or-later

package verify

import (
	"math/rand/v2"
	"strings"
	"testing"

	"go.mau.fi/libsignal/fingerprint"

	"github.com/hushchat/hush/pkg/core/identity"
)

// testRand returns a deterministic reader so failures can be reproduced.
func testRand(seed byte) *rand.ChaCha8 {
	return rand.NewChaCha8([32]byte{seed})
}

func newKeys(t testing.TB, seed byte, n int) []identity.PublicKey {
	t.Helper()
	r := testRand(seed)
	keys := make([]identity.PublicKey, n)
	for i := range keys {
		k, err := identity.Generate(r)
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k.Public()
	}
	return keys
}

func TestSameNumberBothSides(t *testing.T) {
	keys := newKeys(t, 1, 2)
	ab, ba := New(keys[0], keys[1]), New(keys[1], keys[0])
	if ab.String() != ba.String() {
		t.Errorf("New(a, b) = %s, New(b, a) = %s", ab, ba)
	}
	if ab == ba {
		t.Error("both sides have the same local digest")
	}
	if ab.local != ba.remote || ab.remote != ba.local {
		t.Error("sides are not mirror images")
	}
}

func TestDigitsAndGroups(t *testing.T) {
	keys := newKeys(t, 2, 2)
	s := New(keys[0], keys[1])
	str := s.String()
	if len(str) != Digits || Digits != 60 {
		t.Fatalf("len(String()) = %d, want 60", len(str))
	}
	if strings.Trim(str, "0123456789") != "" {
		t.Errorf("String() = %q has non-digits", str)
	}
	g := s.Groups()
	if len(g) != GroupCount || GroupCount != 12 {
		t.Fatalf("len(Groups()) = %d, want 12", len(g))
	}
	for i, x := range g {
		if len(x) != 5 {
			t.Errorf("group %d = %q, want 5 digits", i, x)
		}
	}
	if strings.Join(g, "") != str {
		t.Errorf("Groups() %v does not spell String() %s", g, str)
	}
}

func TestDifferentKeysDifferentNumbers(t *testing.T) {
	keys := newKeys(t, 3, 3)
	a, b, m := keys[0], keys[1], keys[2]
	seen := map[string]string{}
	for name, s := range map[string]SafetyNumber{
		"a-b": New(a, b), "a-m": New(a, m), "b-m": New(b, m), "a-a": New(a, a),
	} {
		if other, ok := seen[s.String()]; ok {
			t.Errorf("%s and %s have the same number %s", name, other, s)
		}
		seen[s.String()] = name
	}
}

// TestMatchesLibsignalDisplay checks String against the display half that
// go.mau.fi/libsignal does have.
func TestMatchesLibsignalDisplay(t *testing.T) {
	keys := newKeys(t, 4, 20)
	for i := 0; i < len(keys); i += 2 {
		s := New(keys[i], keys[i+1])
		want := fingerprint.NewDisplay(s.local[:displaySize], s.remote[:displaySize]).DisplayText()
		if got := s.String(); got != want {
			t.Errorf("String() = %s, libsignal's Display = %s", got, want)
		}
	}
}

func TestNewPanicsOnZeroKey(t *testing.T) {
	k := newKeys(t, 5, 1)[0]
	for _, tc := range [][2]identity.PublicKey{{{}, k}, {k, {}}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("New with a zero key did not panic")
				}
			}()
			New(tc[0], tc[1])
		}()
	}
}

func BenchmarkNew(b *testing.B) {
	keys := newKeys(b, 6, 2)
	for b.Loop() {
		New(keys[0], keys[1])
	}
}
