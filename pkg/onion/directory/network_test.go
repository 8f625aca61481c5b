// SPDX-License-Identifier: AGPL-3.0-or-later

package directory

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/onion"
)

const exampleNetwork = `# two relays
version = 1

[[relay]]
name = "alpha \"one\""
identity = "%s"
address = "alpha.example.org:7443"
web = "https://alpha.example.org/"

[[relay]]
identity = "%s"
address = "[2001:db8::2]:443"
`

func example(t *testing.T) (string, onion.RelayID, onion.RelayID) {
	a, b := NewSigningKey(seed(1)).Relay(), NewSigningKey(seed(2)).Relay()
	return strings.Replace(strings.Replace(exampleNetwork, "%s", a.String(), 1), "%s", b.String(), 1), a, b
}

func TestNetworkFileParse(t *testing.T) {
	text, a, b := example(t)
	n, err := ParseNetworkFile([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	want := NetworkFile{Relays: []NetworkRelay{
		{ID: a, Address: "alpha.example.org:7443", WebAddress: "https://alpha.example.org/", Name: `alpha "one"`},
		{ID: b, Address: "[2001:db8::2]:443"},
	}}
	if !reflect.DeepEqual(n, want) {
		t.Fatalf("got %+v\nwant %+v", n, want)
	}
	if r, ok := n.Lookup(b); !ok || r.Address != "[2001:db8::2]:443" {
		t.Fatal("Lookup")
	}
	if _, ok := n.Lookup(NewSigningKey(seed(3)).Relay()); ok {
		t.Fatal("Lookup found a relay not in the file")
	}
	out, err := n.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseNetworkFile(out)
	if err != nil || !reflect.DeepEqual(again, n) {
		t.Fatalf("Marshal round trip: %v\n%s", err, out)
	}
}

func TestNetworkFileErrors(t *testing.T) {
	text, a, _ := example(t)
	cases := []struct {
		name, text string
		want       error
	}{
		{"no version", strings.Replace(text, "version = 1\n", "", 1), ErrNetworkFile},
		{"version 2", strings.Replace(text, "version = 1", "version = 2", 1), ErrVersion},
		{"version 0", strings.Replace(text, "version = 1", "version = 0", 1), ErrVersion},
		{"version string", strings.Replace(text, "version = 1", `version = "1"`, 1), ErrNetworkFile},
		{"unknown top key", text + "\nextra = 1\n", ErrUnknownField},
		{"unknown relay key", strings.Replace(text, "name = ", "nick = ", 1), ErrUnknownField},
		{"duplicate", strings.Replace(text, "[2001:db8::2]:443\"", "[2001:db8::2]:443\"\n\n[[relay]]\nidentity = \""+a.String()+"\"\naddress = \"x.org:1\"", 1), ErrDuplicate},
		{"bad identity", strings.Replace(text, a.String(), "hushrelay:short", 1), onion.ErrRelayID},
		{"hushid identity", strings.Replace(text, a.String(), "hushid:"+a.String()[10:], 1), onion.ErrRelayID},
		{"no identity", strings.Replace(text, "identity = \""+a.String()+"\"", "", 1), onion.ErrRelayID},
		{"bad address", strings.Replace(text, "alpha.example.org:7443", "alpha.example.org", 1), ErrAddress},
		{"no address", strings.Replace(text, "address = \"alpha.example.org:7443\"", "", 1), ErrAddress},
		{"bad web", strings.Replace(text, "https://alpha", "ftp://alpha", 1), ErrAddress},
		{"control in name", strings.Replace(text, `alpha \"one\"`, `alpha\u0007`, 1), ErrNetworkFile},
		{"not toml", "version = = 1", ErrNetworkFile},
		{"too large", strings.Repeat("#", MaxNetworkFileSize+1), ErrTooLarge},
	}
	for _, c := range cases {
		_, err := ParseNetworkFile([]byte(c.text))
		if !errors.Is(err, c.want) || !errors.Is(err, ErrNetworkFile) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	_, err := ParseNetworkFile([]byte(strings.Replace(text, "version = 1", "version = 2", 1)))
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("version 2 says %q", err)
	}
	_, err = ParseNetworkFile([]byte(text + "\nextra = 1\n"))
	if !strings.Contains(err.Error(), `"relay.extra"`) {
		t.Errorf("unknown key error does not name it: %q", err)
	}
}

func TestFromDescriptors(t *testing.T) {
	rs, signed, n := network(t, 3)
	if len(n.Relays) != 3 || n.Relays[1].ID != rs[1].key.Relay() || n.Relays[1].Address != fmt.Sprintf("relay%d.example.org:7443", rs[1].key.Relay().Bytes()[0]) {
		t.Fatalf("%+v", n)
	}
	out, err := n.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseNetworkFile(out)
	if err != nil || !reflect.DeepEqual(back, n) {
		t.Fatalf("round trip: %v", err)
	}
	// Marshal refuses what Parse would.
	n.Relays = append(n.Relays, n.Relays[0])
	if _, err := n.Marshal(); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate: %v", err)
	}
	// Verify: in the file, and not.
	if _, err := back.Verify(signed[0], t0); err != nil {
		t.Fatal(err)
	}
	stranger := newRelay(t, 9)
	if _, err := back.Verify(stranger.sign(t, stranger.descriptor()), t0); !errors.Is(err, ErrUnknownRelay) {
		t.Fatalf("unknown relay: %v", err)
	}
	if _, err := back.Verify(signed[0], t0.Add(48*time.Hour)); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired: %v", err)
	}
}
