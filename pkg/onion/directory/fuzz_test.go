// SPDX-License-Identifier: AGPL-3.0-or-later

package directory

import (
	"bytes"
	"errors"
	"testing"
)

// flips returns b with one bit flipped at each of a few spread positions.
func flips(b []byte) [][]byte {
	var out [][]byte
	for _, i := range []int{0, 1, 3, len(b) / 3, len(b) / 2, len(b) - 1} {
		if i >= 0 && i < len(b) {
			c := bytes.Clone(b)
			c[i] ^= 1
			out = append(out, c)
		}
	}
	return out
}

func isOneOf(err error, sentinels ...error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func FuzzParseDescriptor(f *testing.F) {
	_, signed, _ := network(f, 1)
	f.Add(signed[0])
	for _, b := range flips(signed[0]) {
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{0x08, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDescriptor(b, t0)
		if err != nil {
			if !isOneOf(err, ErrMalformed, ErrSignature, ErrExpired, ErrNotYetValid, ErrVersion, ErrTooLarge) {
				t.Fatalf("error names no known problem: %v", err)
			}
			return
		}
		if err := d.validate(); err != nil || d.Expired(t0) {
			t.Fatalf("accepted an invalid descriptor: %v", err)
		}
		if !bytes.Equal(d.Signed(), b) {
			t.Fatal("Signed() is not the input")
		}
		if _, err := d.HopAt(t0); err != nil {
			t.Fatalf("accepted descriptor has no key now: %v", err)
		}
	})
}

func FuzzParseDirectory(f *testing.F) {
	_, signed, n := network(f, 3)
	doc, err := EncodeDirectory(signed)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(doc)
	for _, b := range flips(doc) {
		f.Add(b)
	}
	one, _ := EncodeDirectory(signed[:1])
	f.Add(one)
	f.Add([]byte{0x08, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		dir, err := ParseDirectory(b, n, t0)
		if err != nil {
			if !isOneOf(err, ErrDocument, ErrVersion, ErrTooLarge, ErrMalformed, ErrSignature, ErrDuplicate) {
				t.Fatalf("error names no known problem: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, d := range dir.Relays {
			if _, ok := n.Lookup(d.Relay); !ok || d.Expired(t0) || seen[d.Relay.String()] {
				t.Fatalf("accepted %v: unknown, expired or twice", d.Relay)
			}
			seen[d.Relay.String()] = true
		}
		for _, e := range dir.Skipped {
			if !isOneOf(e, ErrUnknownRelay, ErrExpired, ErrNotYetValid, ErrVersion) {
				t.Fatalf("skipped for an unexpected reason: %v", e)
			}
		}
		if again, err := dir.Encode(); err != nil || (len(dir.Skipped) == 0 && !bytes.Equal(again, b)) {
			t.Fatalf("re-encoding: %v", err)
		}
	})
}

func FuzzParseNetworkFile(f *testing.F) {
	_, _, n := network(f, 2)
	text, err := n.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(text)
	for _, b := range flips(text) {
		f.Add(b)
	}
	f.Add([]byte("version = 1\n"))
	f.Add([]byte("version = 1\n[[relay]]\nname = \"x\"\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		nf, err := ParseNetworkFile(b)
		if err != nil {
			if !errors.Is(err, ErrNetworkFile) {
				t.Fatalf("error does not wrap ErrNetworkFile: %v", err)
			}
			return
		}
		// What parses, writes and reads back the same.
		out, err := nf.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed file: %v", err)
		}
		again, err := ParseNetworkFile(out)
		if err != nil || len(again.Relays) != len(nf.Relays) {
			t.Fatalf("round trip: %v\n%s", err, out)
		}
		for i := range nf.Relays {
			if again.Relays[i] != nf.Relays[i] {
				t.Fatalf("relay %d changed: %+v -> %+v", i, nf.Relays[i], again.Relays[i])
			}
		}
	})
}
