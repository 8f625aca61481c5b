// SPDX-License-Identifier: AGPL-3.0-or-later

package directory

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hushchat/hush/pkg/onion"

	directoryv1 "github.com/hushchat/hush/proto/directory/v1"
)

func TestDirectoryRoundTrip(t *testing.T) {
	rs, signed, n := network(t, 4)
	doc, err := EncodeDirectory(signed)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := ParseDirectory(doc, n, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(dir.Relays) != 4 || len(dir.Skipped) != 0 {
		t.Fatalf("%d relays, skipped %v", len(dir.Relays), dir.Skipped)
	}
	for i, r := range rs {
		d, ok := dir.Lookup(r.key.Relay())
		if !ok || d != dir.Relays[i] || !bytes.Equal(d.Signed(), signed[i]) {
			t.Fatalf("relay %d missing or changed", i)
		}
	}
	again, err := dir.Encode()
	if err != nil || !bytes.Equal(again, doc) {
		t.Fatalf("Encode does not give the document back: %v", err)
	}
}

func TestDirectorySkips(t *testing.T) {
	rs, signed, n := network(t, 3)
	stranger := newRelay(t, 9)
	old := rs[1].descriptor()
	old.Published, old.Expires = t0.Add(-48*time.Hour), t0.Add(-time.Hour)
	old.Keys = []onion.KeyInfo{{Epoch: 1, Key: onionKey(t, 1), Start: t0.Add(-49 * time.Hour), End: t0}}
	future := rs[2].descriptor()
	future.Published, future.Expires = t0.Add(2*time.Hour), t0.Add(26*time.Hour)
	future.Keys = []onion.KeyInfo{{Epoch: 1, Key: onionKey(t, 2), Start: t0, End: t0.Add(3 * time.Hour)}}
	var env directoryv1.SignedDescriptor
	_ = proto.Unmarshal(signed[0], &env)
	newer, _ := proto.Marshal(&directoryv1.SignedDescriptor{Version: 2, Signature: env.Signature, Body: env.Body})
	doc, err := EncodeDirectory([][]byte{
		signed[0], stranger.sign(t, stranger.descriptor()), rs[1].sign(t, old), rs[2].sign(t, future), newer,
	})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := ParseDirectory(doc, n, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(dir.Relays) != 1 || dir.Relays[0].Relay != rs[0].key.Relay() {
		t.Fatalf("relays %v", dir.Relays)
	}
	wants := []struct {
		index int
		err   error
	}{{1, ErrUnknownRelay}, {2, ErrExpired}, {3, ErrNotYetValid}, {4, ErrVersion}}
	if len(dir.Skipped) != len(wants) {
		t.Fatalf("skipped %v", dir.Skipped)
	}
	for i, w := range wants {
		var de *DescriptorError
		if !errors.As(dir.Skipped[i], &de) || de.Index != w.index || !errors.Is(de, w.err) {
			t.Errorf("skipped %d: %v, want descriptor %d: %v", i, dir.Skipped[i], w.index, w.err)
		}
	}
}

func TestDirectoryRefusals(t *testing.T) {
	rs, signed, n := network(t, 3)
	var env directoryv1.SignedDescriptor
	_ = proto.Unmarshal(signed[1], &env)
	env.Signature[0] ^= 1
	badSig, _ := proto.Marshal(&env)
	second := rs[0].descriptor()
	second.Address = "elsewhere.example.org:1"
	mk := func(ds ...[]byte) []byte {
		b, err := EncodeDirectory(ds)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good := mk(signed...)
	cases := []struct {
		name string
		doc  []byte
		want error
	}{
		{"bad signature", mk(signed[0], badSig, signed[2]), ErrSignature},
		{"duplicate relay", mk(signed[0], signed[1], rs[0].sign(t, second)), ErrDuplicate},
		{"same bytes twice", mk(signed[0], signed[0]), ErrDuplicate},
		{"malformed descriptor", mk(signed[0], []byte("junk")), ErrMalformed},
		{"empty", nil, ErrDocument},
		{"not proto", []byte{0xff, 0xff}, ErrDocument},
		{"truncated", good[:len(good)-1], ErrDocument},
		{"unknown field", append(bytes.Clone(good), 0x18, 0x01), ErrDocument},
		{"version 2", append([]byte{0x08, 0x02}, good[2:]...), ErrVersion},
		{"too large", make([]byte, MaxDirectorySize+1), ErrTooLarge},
	}
	for _, c := range cases {
		if _, err := ParseDirectory(c.doc, n, t0); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	var de *DescriptorError
	if _, err := ParseDirectory(mk(signed[0], badSig), n, t0); !errors.As(err, &de) || de.Index != 1 {
		t.Errorf("bad signature does not say which descriptor: %v", err)
	}
	if _, err := EncodeDirectory(make([][]byte, MaxRelays+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too many descriptors: %v", err)
	}
}
