// SPDX-License-Identifier: AGPL-3.0-or-later

package mailbox

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hushchat/hush/pkg/onion"
)

func TestRelayID(t *testing.T) {
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := RelayIDFromKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.Bytes(), pub) {
		t.Fatal("relay ID bytes differ from the key")
	}
	if !strings.HasPrefix(r.String(), "hushrelay:") || len(r.String()) != len("hushrelay:")+43 {
		t.Fatalf("text form %q", r)
	}
	for _, n := range []int{0, 31, 33} {
		if _, err := NewRelayID(make([]byte, n)); !errors.Is(err, onion.ErrKeyLength) {
			t.Errorf("%d bytes: err = %v", n, err)
		}
	}
	if _, err := NewRelayID(make([]byte, 32)); err == nil {
		t.Error("all-zero relay identity accepted")
	}
}

func TestSenderIDNeverPrints(t *testing.T) {
	s, err := NewSenderID(nil)
	if err != nil {
		t.Fatal(err)
	}
	hex := fmt.Sprintf("%x", s.Bytes())
	q := QueueAddress{Sender: s}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		for _, v := range []any{s, q, &q} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, hex) {
				t.Errorf("%s of %T prints the capability: %s", verb, v, out)
			}
		}
	}
	back, err := ParseSenderID(s.Bytes())
	if err != nil || !back.Equal(s) {
		t.Fatalf("round trip: %v", err)
	}
	other, _ := NewSenderID(nil)
	if other.Equal(s) {
		t.Fatal("two random sender IDs are equal")
	}
	if _, err := ParseSenderID(make([]byte, 5)); !errors.Is(err, ErrIDLength) {
		t.Errorf("short sender ID: err = %v", err)
	}
}
