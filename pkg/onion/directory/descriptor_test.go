// SPDX-License-Identifier: AGPL-3.0-or-later

package directory

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/hushchat/hush/pkg/onion"
	directoryv1 "github.com/hushchat/hush/proto/directory/v1"
)

func TestDescriptorRoundTrip(t *testing.T) {
	r := newRelay(t, 1)
	d := r.descriptor()
	d.Published = t0.Add(1500 * time.Millisecond) // truncated to whole seconds
	signed := r.sign(t, d)
	got, err := ParseDescriptor(signed, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := d.normalized()
	want.raw = signed
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
	if got.Published.Unix() != t0.Unix()+1 || !got.Has(CapWeb) || got.Has("bridge") {
		t.Fatalf("published %v, capabilities %v", got.Published, got.Capabilities)
	}
	if !bytes.Equal(got.Signed(), signed) {
		t.Fatal("Signed() is not the parsed bytes")
	}
	if len(got.Keys) != 2 || got.Keys[0].Epoch != 1 || got.Keys[1].Epoch != 2 {
		t.Fatalf("keys %+v", got.Keys)
	}
}

func TestSignNormalizes(t *testing.T) {
	r := newRelay(t, 1)
	d := r.descriptor()
	d.Capabilities = []Capability{CapWeb, CapMailbox, CapChunks}
	a := r.sign(t, d)
	d.Capabilities = []Capability{CapChunks, CapMailbox, CapWeb}
	if b := r.sign(t, d); !bytes.Equal(a, b) {
		t.Fatal("capability order changed the signed bytes")
	}
	if d.Capabilities[0] != CapChunks {
		t.Fatal("Sign changed the caller's descriptor")
	}
	other := NewSigningKey(seed(9))
	if _, err := Sign(other, d); err == nil {
		t.Fatal("signed with a key that is not the descriptor's relay")
	}
}

// TestDescriptorFromRing wraps a packet for the hop a descriptor gives and
// has the relay's ring open it, at each point of the key schedule.
func TestDescriptorFromRing(t *testing.T) {
	r := newRelay(t, 3)
	d, err := ParseDescriptor(r.sign(t, r.descriptor()), t0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at    time.Duration
		epoch onion.Epoch
	}{{0, 1}, {23 * time.Hour, 1}, {24 * time.Hour, 2}, {47 * time.Hour, 2}, {-time.Hour, 1}} {
		hop, err := d.HopAt(t0.Add(tc.at))
		if err != nil {
			t.Fatal(err)
		}
		if hop.Epoch != tc.epoch || hop.ID != r.key.Relay() {
			t.Fatalf("at %v: epoch %d, want %d", tc.at, hop.Epoch, tc.epoch)
		}
		pkt, _, err := onion.Wrap([]onion.Hop{hop}, []byte("hello"))
		if err != nil {
			t.Fatal(err)
		}
		o, err := r.ring.Open(pkt)
		if err != nil {
			t.Fatalf("at %v: ring refused the descriptor's key: %v", tc.at, err)
		}
		if !o.IsExit() || string(o.Request) != "hello" {
			t.Fatalf("opened %+v", o)
		}
	}
	if _, err := d.HopAt(t0.Add(48 * time.Hour)); !errors.Is(err, ErrNoKey) {
		t.Fatalf("after every window: %v", err)
	}
}

func TestHopAtPrefersCurrent(t *testing.T) {
	k1, k2 := onionKey(t, 1), onionKey(t, 2)
	d := &Descriptor{Relay: NewSigningKey(seed(1)).Relay(), Keys: []onion.KeyInfo{
		{Epoch: 4, Key: k1, Start: t0, End: t0.Add(time.Hour)},
		{Epoch: 5, Key: k2, Start: t0.Add(2 * time.Hour), End: t0.Add(3 * time.Hour)},
	}}
	for at, want := range map[time.Duration]onion.Epoch{
		-time.Minute: 4, 0: 4, 59 * time.Minute: 4, 90 * time.Minute: 5, 2 * time.Hour: 5,
	} {
		hop, err := d.HopAt(t0.Add(at))
		if err != nil || hop.Epoch != want {
			t.Errorf("at %v: epoch %d (%v), want %d", at, hop.Epoch, err, want)
		}
	}
}

func TestDescriptorTimes(t *testing.T) {
	r := newRelay(t, 1)
	signed := r.sign(t, r.descriptor())
	_, err := ParseDescriptor(signed, t0.Add(24*time.Hour))
	if !errors.Is(err, ErrExpired) || !strings.Contains(err.Error(), "2026-03-02T12:00:00Z") {
		t.Fatalf("expired: %v", err)
	}
	if _, err := ParseDescriptor(signed, t0.Add(-ClockSkew-time.Second)); !errors.Is(err, ErrNotYetValid) {
		t.Fatalf("future: %v", err)
	}
	if _, err := ParseDescriptor(signed, t0.Add(-ClockSkew)); err != nil {
		t.Fatalf("within the clock skew: %v", err)
	}
}

// resign re-encodes a descriptor body changed by edit and signs it with k,
// so the field rules (not the signature) are what refuse it.
func resign(t *testing.T, k *SigningKey, d *Descriptor, edit func(*directoryv1.Descriptor)) []byte {
	t.Helper()
	p := toProto(d.normalized())
	edit(p)
	body, err := deterministic.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := encodeSigned(ed25519.Sign(k.k, signedBytes(body)), body)
	return out
}

func TestDescriptorMalformed(t *testing.T) {
	r := newRelay(t, 1)
	d := r.descriptor()
	weak := make([]byte, 32) // all zeros: small order
	nonCanonical := bytes.Repeat([]byte{0xff}, 32)
	nonCanonical[31] = 0x7f
	cases := map[string]func(*directoryv1.Descriptor){
		"identity length":   func(p *directoryv1.Descriptor) { p.Identity = p.Identity[:31] },
		"no keys":           func(p *directoryv1.Descriptor) { p.OnionKeys = nil },
		"weak onion key":    func(p *directoryv1.Descriptor) { p.OnionKeys[0].PublicKey = weak },
		"non-canonical key": func(p *directoryv1.Descriptor) { p.OnionKeys[0].PublicKey = nonCanonical },
		"short onion key":   func(p *directoryv1.Descriptor) { p.OnionKeys[0].PublicKey = p.OnionKeys[0].PublicKey[:5] },
		"epoch 0":           func(p *directoryv1.Descriptor) { p.OnionKeys[0].Epoch = 0 },
		"same epochs":       func(p *directoryv1.Descriptor) { p.OnionKeys[1].Epoch = p.OnionKeys[0].Epoch },
		"overlap": func(p *directoryv1.Descriptor) {
			p.OnionKeys[1].StartUnix = p.OnionKeys[0].EndUnix - 1
		},
		"ends before start": func(p *directoryv1.Descriptor) {
			p.OnionKeys[1].EndUnix = p.OnionKeys[1].StartUnix
		},
		"repeated key": func(p *directoryv1.Descriptor) { p.OnionKeys[1].PublicKey = p.OnionKeys[0].PublicKey },
		"no current key": func(p *directoryv1.Descriptor) {
			p.OnionKeys = p.OnionKeys[1:]
		},
		"too many keys": func(p *directoryv1.Descriptor) {
			for i := range MaxKeys - 1 {
				k := proto.Clone(p.OnionKeys[1]).(*directoryv1.OnionKey)
				k.Epoch += uint32(i + 1)
				k.StartUnix, k.EndUnix = k.StartUnix+int64(i+1)*86400, k.EndUnix+int64(i+1)*86400
				k.PublicKey = onionKey(t, byte(10+i)).Bytes()
				p.OnionKeys = append(p.OnionKeys, k)
			}
		},
		"no address":         func(p *directoryv1.Descriptor) { p.GrpcAddress = "" },
		"address no port":    func(p *directoryv1.Descriptor) { p.GrpcAddress = "relay.example.org" },
		"address port 0":     func(p *directoryv1.Descriptor) { p.GrpcAddress = "relay.example.org:0" },
		"address port 65536": func(p *directoryv1.Descriptor) { p.GrpcAddress = "relay.example.org:65536" },
		"address port +1":    func(p *directoryv1.Descriptor) { p.GrpcAddress = "relay.example.org:+443" },
		"address host space": func(p *directoryv1.Descriptor) { p.GrpcAddress = "relay example:443" },
		"address bare ipv6":  func(p *directoryv1.Descriptor) { p.GrpcAddress = "::1:443" },
		"web scheme":         func(p *directoryv1.Descriptor) { p.WebAddress = "ftp://relay.example.org/" },
		"web query":          func(p *directoryv1.Descriptor) { p.WebAddress = "https://relay.example.org/?a=b" },
		"web user":           func(p *directoryv1.Descriptor) { p.WebAddress = "https://u@relay.example.org/" },
		"web space":          func(p *directoryv1.Descriptor) { p.WebAddress = "https://relay.example.org/a b" },
		"web without cap":    func(p *directoryv1.Descriptor) { p.Capabilities = []string{"chunks", "mailbox"} },
		"cap without web":    func(p *directoryv1.Descriptor) { p.WebAddress = "" },
		"capability case":    func(p *directoryv1.Descriptor) { p.Capabilities[0] = "Chunks" },
		"capability empty":   func(p *directoryv1.Descriptor) { p.Capabilities[0] = "" },
		"capability twice":   func(p *directoryv1.Descriptor) { p.Capabilities[1] = "chunks" },
		"capabilities unsorted": func(p *directoryv1.Descriptor) {
			p.Capabilities[0], p.Capabilities[1] = p.Capabilities[1], p.Capabilities[0]
		},
		"too many capabilities": func(p *directoryv1.Descriptor) {
			for i := range MaxCapabilities {
				p.Capabilities = append(p.Capabilities, fmt.Sprintf("x%d", i))
			}
		},
		"no publication":  func(p *directoryv1.Descriptor) { p.PublishedUnix = 0 },
		"expires at once": func(p *directoryv1.Descriptor) { p.ExpiresUnix = p.PublishedUnix },
		"lives too long":  func(p *directoryv1.Descriptor) { p.ExpiresUnix = p.PublishedUnix + int64(MaxLifetime/time.Second) + 1 },
		"unknown field": func(p *directoryv1.Descriptor) {
			p.ProtoReflect().SetUnknown(protowire.AppendVarint([]byte{0xf8, 0x01}, 1))
		},
		"unknown key field": func(p *directoryv1.Descriptor) {
			p.OnionKeys[0].ProtoReflect().SetUnknown([]byte{0x28, 0x01})
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseDescriptor(resign(t, r.key, d, edit), t0)
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v, want ErrMalformed", err)
			}
		})
	}
	// The key checks name onion's reasons too.
	_, err := ParseDescriptor(resign(t, r.key, d, cases["weak onion key"]), t0)
	if !errors.Is(err, onion.ErrWeakKey) {
		t.Errorf("weak key: %v", err)
	}
	_, err = ParseDescriptor(resign(t, r.key, d, cases["address no port"]), t0)
	if !errors.Is(err, ErrAddress) {
		t.Errorf("bad address: %v", err)
	}
	// The unedited descriptor passes, so each case is refused for its edit.
	if _, err := ParseDescriptor(resign(t, r.key, d, func(*directoryv1.Descriptor) {}), t0); err != nil {
		t.Fatal(err)
	}
}

func TestDescriptorValidForms(t *testing.T) {
	r := newRelay(t, 1)
	for _, edit := range []func(*Descriptor){
		func(d *Descriptor) { d.Address = "[2001:db8::1]:443" },
		func(d *Descriptor) { d.Address = "192.0.2.1:1" },
		func(d *Descriptor) { d.WebAddress, d.Capabilities = "", []Capability{CapMailbox} },
		func(d *Descriptor) { d.WebAddress = "http://127.0.0.1:8080" },
		func(d *Descriptor) { d.Capabilities = append(d.Capabilities, "future-thing") },
		func(d *Descriptor) { d.Keys = d.Keys[:1] },
	} {
		d := r.descriptor()
		edit(d)
		if _, err := ParseDescriptor(r.sign(t, d), t0); err != nil {
			t.Errorf("%+v: %v", d, err)
		}
	}
}

func TestDescriptorSignature(t *testing.T) {
	r := newRelay(t, 1)
	signed := r.sign(t, r.descriptor())
	var env directoryv1.SignedDescriptor
	if err := proto.Unmarshal(signed, &env); err != nil {
		t.Fatal(err)
	}
	// Any bit of the body changed: the signature no longer verifies (or
	// the body no longer decodes, which is malformed).
	for i := range len(env.Body) * 8 {
		body := bytes.Clone(env.Body)
		body[i/8] ^= 1 << (i % 8)
		b, _ := encodeSigned(env.Signature, body)
		_, err := ParseDescriptor(b, t0)
		if err == nil {
			t.Fatalf("bit %d of the body flipped: accepted", i)
		}
		if !errors.Is(err, ErrSignature) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrVersion) {
			t.Fatalf("bit %d: %v", i, err)
		}
	}
	// Signed by another relay's key: bad signature.
	other := NewSigningKey(seed(2))
	b, _ := encodeSigned(other.sign(signedBytes(env.Body)), env.Body)
	if _, err := ParseDescriptor(b, t0); !errors.Is(err, ErrSignature) {
		t.Fatalf("another key's signature: %v", err)
	}
	// Signed without the label: bad signature.
	b, _ = encodeSigned(r.key.sign(env.Body), env.Body)
	if _, err := ParseDescriptor(b, t0); !errors.Is(err, ErrSignature) {
		t.Fatalf("signature without the label: %v", err)
	}
	b, _ = encodeSigned(env.Signature[:63], env.Body)
	if _, err := ParseDescriptor(b, t0); !errors.Is(err, ErrSignature) {
		t.Fatalf("short signature: %v", err)
	}
}

func TestDescriptorEnvelope(t *testing.T) {
	r := newRelay(t, 1)
	signed := r.sign(t, r.descriptor())
	var env directoryv1.SignedDescriptor
	_ = proto.Unmarshal(signed, &env)
	mk := func(e *directoryv1.SignedDescriptor) []byte { b, _ := proto.Marshal(e); return b }

	var ve *VersionError
	_, err := ParseDescriptor(mk(&directoryv1.SignedDescriptor{Version: 2, Signature: env.Signature, Body: env.Body}), t0)
	if !errors.As(err, &ve) || !errors.Is(err, ErrVersion) || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("version 2: %v", err)
	}
	_, err = ParseDescriptor(mk(&directoryv1.SignedDescriptor{Signature: env.Signature, Body: env.Body}), t0)
	if !errors.As(err, &ve) || ve.Got != 0 || !strings.Contains(err.Error(), "older") {
		t.Fatalf("version 0: %v", err)
	}
	// The body's own version, signed: a newer relay.
	body := resign(t, r.key, r.descriptor(), func(p *directoryv1.Descriptor) { p.Version = 2 })
	if _, err := ParseDescriptor(body, t0); !errors.Is(err, ErrVersion) {
		t.Fatalf("body version 2: %v", err)
	}
	for name, b := range map[string][]byte{
		"truncated":       signed[:len(signed)-1],
		"trailing field":  append(bytes.Clone(signed), 0x20, 0x01),
		"repeated field":  append(bytes.Clone(signed), 0x08, 0x01),
		"body first":      append(protowire.AppendBytes([]byte{0x1a}, env.Body), signed[:len(signed)-len(env.Body)-3]...),
		"no body":         mk(&directoryv1.SignedDescriptor{Version: 1, Signature: env.Signature}),
		"body not proto":  mk(&directoryv1.SignedDescriptor{Version: 1, Signature: env.Signature, Body: []byte{0xff}}),
		"empty":           nil,
		"not an envelope": []byte("hello, world"),
	} {
		if _, err := ParseDescriptor(b, t0); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
		}
	}
	if _, err := ParseDescriptor(make([]byte, MaxDescriptorSize+1), t0); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized: %v", err)
	}
}

func TestSigningKey(t *testing.T) {
	k := NewSigningKey(seed(5))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q", "%d"} {
		if s := fmt.Sprintf(verb, k); !strings.Contains(s, "redacted") {
			t.Errorf("%s prints %q", verb, s)
		}
	}
	if s := fmt.Sprintf("%v %+v", *k, struct{ K SigningKey }{*k}); strings.Count(s, "redacted") != 2 {
		t.Errorf("a dereferenced key prints %q", s)
	}
	if !k.Equal(NewSigningKey(seed(5))) || k.Equal(NewSigningKey(seed(6))) {
		t.Fatal("Equal")
	}
	if !bytes.Equal(k.Seed(), bytes.Repeat([]byte{5}, 32)) {
		t.Fatal("Seed")
	}
	msg := []byte("tls")
	sig, err := k.Signer().Sign(nil, msg, cryptoHashNone{})
	if err != nil || !ed25519.Verify(k.Signer().Public().(ed25519.PublicKey), msg, sig) {
		t.Fatalf("Signer: %v", err)
	}
	g, err := GenerateSigningKey(seededRand(1))
	if err != nil || g.Relay().IsZero() || g.Equal(k) {
		t.Fatalf("GenerateSigningKey: %v", err)
	}
	k.Destroy()
	if !bytes.Equal(k.k, make([]byte, len(k.k))) {
		t.Fatal("Destroy left key bytes")
	}
}

type cryptoHashNone struct{}

func (cryptoHashNone) HashFunc() crypto.Hash { return 0 }
