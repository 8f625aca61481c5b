// SPDX-License-Identifier: AGPL-3.0-or-later

package attach

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestKeyNeverPrints(t *testing.T) {
	k := newTestKey(t)
	h := hex.EncodeToString(k.Bytes())
	holder := struct{ K Key }{k}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
		for _, v := range []any{k, &k, holder, &holder} {
			out := strings.ToLower(fmt.Sprintf(verb, v))
			if strings.Contains(out, h) || !strings.Contains(out, "redacted") {
				t.Errorf("%s of %T prints %q", verb, v, out)
			}
		}
	}
}

func TestKeyBytes(t *testing.T) {
	k := newTestKey(t)
	b := k.Bytes()
	if len(b) != KeySize || bytes.Equal(b, make([]byte, KeySize)) {
		t.Fatalf("Bytes = %x", b)
	}
	b[0] ^= 0xff
	if bytes.Equal(k.Bytes(), b) {
		t.Error("Bytes returns the key's own storage")
	}
	b[0] ^= 0xff
	back, err := KeyFromBytes(b)
	if err != nil || !back.Equal(k) {
		t.Fatalf("round trip: %v", err)
	}
	if newTestKey(t).Equal(k) {
		t.Error("two random keys are equal")
	}
	for _, n := range []int{0, 31, 33} {
		if _, err := KeyFromBytes(make([]byte, n)); !errors.Is(err, ErrKeyLength) {
			t.Errorf("key of %d bytes: err = %v", n, err)
		}
	}
	if _, err := KeyFromBytes(make([]byte, KeySize)); !errors.Is(err, ErrZeroKey) {
		t.Errorf("zero key: err = %v", err)
	}
}

func TestDigestFromBytes(t *testing.T) {
	raw := patterned(DigestSize)
	d, err := DigestFromBytes(raw)
	if err != nil || !bytes.Equal(d.Bytes(), raw) {
		t.Fatalf("DigestFromBytes: %x, %v", d, err)
	}
	for _, n := range []int{0, 31, 33} {
		if _, err := DigestFromBytes(make([]byte, n)); !errors.Is(err, ErrDigestLength) {
			t.Errorf("digest of %d bytes: err = %v", n, err)
		}
	}
}
