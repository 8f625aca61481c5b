// SPDX-License-Identifier: AGPL-3.0-or-later

package invite

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"image"
	_ "image/png"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/session"
	"github.com/hushchat/hush/pkg/core/session/memstore"
	"github.com/hushchat/hush/pkg/core/verify"
	"github.com/hushchat/hush/pkg/mailbox"
	invitev1 "github.com/hushchat/hush/proto/invite/v1"
)

var t0 = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

type inviter struct {
	key *identity.PrivateKey
	inv *Invitation
}

func newInviter(t testing.TB, name string) inviter {
	t.Helper()
	st, err := memstore.Generate()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m, err := session.New(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	b, err := m.NewBundle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := New(b, randomQueue(t), name, t0, 0)
	if err != nil {
		t.Fatal(err)
	}
	key, _, _ := st.LocalIdentity(ctx)
	return inviter{key, inv}
}

func randomQueue(t testing.TB) mailbox.QueueAddress {
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	relay, err := mailbox.RelayIDFromKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	sender, err := mailbox.NewSenderID(nil)
	if err != nil {
		t.Fatal(err)
	}
	return mailbox.QueueAddress{Relay: relay, Sender: sender}
}

func (iv inviter) link(t testing.TB) string {
	t.Helper()
	l, err := Sign(iv.key, iv.inv)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func sameInvitation(t *testing.T, got, want *Invitation) {
	t.Helper()
	switch {
	case got.ID != want.ID:
		t.Error("ID differs")
	case !got.Bundle.Identity.Equal(want.Bundle.Identity):
		t.Error("identity differs")
	case got.Bundle.RegistrationID != want.Bundle.RegistrationID:
		t.Error("registration ID differs")
	case got.Bundle.SignedPreKey != want.Bundle.SignedPreKey:
		t.Error("signed prekey differs")
	case got.Bundle.OneTimePreKey != want.Bundle.OneTimePreKey:
		t.Error("one-time prekey differs")
	case got.Queue.Relay != want.Queue.Relay || !got.Queue.Sender.Equal(want.Queue.Sender):
		t.Error("queue differs")
	case got.DisplayName != want.DisplayName:
		t.Errorf("display name %q, want %q", got.DisplayName, want.DisplayName)
	case !got.Created.Equal(want.Created) || !got.Expires.Equal(want.Expires):
		t.Errorf("times %v–%v, want %v–%v", got.Created, got.Expires, want.Created, want.Expires)
	}
}

func TestRoundTrip(t *testing.T) {
	iv := newInviter(t, "Alice 🌻")
	link := iv.link(t)
	if !strings.HasPrefix(link, "hush:") || len(link) > MaxLinkLength {
		t.Fatalf("link %q", link)
	}
	t.Logf("link is %d characters", len(link))
	got, err := Parse(link, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	sameInvitation(t, got, iv.inv)
	if got.Expires.Sub(got.Created) != DefaultTTL {
		t.Errorf("validity %v, want %v", got.Expires.Sub(got.Created), DefaultTTL)
	}
	// Surrounding whitespace from a copy and paste is fine.
	if _, err := Parse("  "+link+"\n", t0); err != nil {
		t.Errorf("link with whitespace: %v", err)
	}
}

func TestLongestLinkFits(t *testing.T) {
	iv := newInviter(t, strings.Repeat("é", identity.MaxDisplayName/2))
	link := iv.link(t)
	if len(link) > MaxLinkLength/3 {
		t.Errorf("longest invitation is %d characters; MaxLinkLength %d leaves too little headroom or is too loose", len(link), MaxLinkLength)
	}
}

func TestCheckRefusesOwnAndAccepted(t *testing.T) {
	ctx := context.Background()
	iv := newInviter(t, "")
	link := iv.link(t)
	me, _ := identity.Generate(nil)
	var l MemLedger
	inv, err := Check(ctx, link, me.Public(), &l, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Check(ctx, link, iv.key.Public(), &l, t0); !errors.Is(err, ErrOwnInvitation) {
		t.Errorf("own invitation: err = %v", err)
	}
	if err := l.RecordAccepted(ctx, inv.ID, inv.Expires); err != nil {
		t.Fatal(err)
	}
	if _, err := Check(ctx, link, me.Public(), &l, t0); !errors.Is(err, ErrAlreadyAccepted) {
		t.Errorf("second use: err = %v, want ErrAlreadyAccepted", err)
	}
	if err := l.RecordAccepted(ctx, inv.ID, inv.Expires); !errors.Is(err, ErrAlreadyAccepted) {
		t.Errorf("second RecordAccepted: err = %v, want ErrAlreadyAccepted", err)
	}
	// Another invitation is not affected.
	other := newInviter(t, "")
	if _, err := Check(ctx, other.link(t), me.Public(), &l, t0); err != nil {
		t.Errorf("another invitation refused: %v", err)
	}
}

func TestExpiry(t *testing.T) {
	iv := newInviter(t, "")
	link := iv.link(t)
	if _, err := Parse(link, iv.inv.Expires.Add(-time.Second)); err != nil {
		t.Errorf("one second before expiry: %v", err)
	}
	for _, now := range []time.Time{iv.inv.Expires, iv.inv.Expires.Add(time.Hour)} {
		if _, err := Parse(link, now); !errors.Is(err, ErrExpired) {
			t.Errorf("at %v: err = %v, want ErrExpired", now, err)
		}
	}
	if _, err := Parse(link, t0.Add(-2*ClockSkew)); !errors.Is(err, ErrNotYetValid) {
		t.Errorf("clock far behind: err = %v, want ErrNotYetValid", err)
	}
	if _, err := Parse(link, t0.Add(-ClockSkew/2)); err != nil {
		t.Errorf("clock a little behind: %v", err)
	}
}

// rawOf decodes a link into its envelope bytes.
func rawOf(t *testing.T, link string) []byte {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(link, Scheme))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func linkOf(raw []byte) string { return Scheme + base64.RawURLEncoding.EncodeToString(raw) }

func TestTamperedRefused(t *testing.T) {
	iv := newInviter(t, "Alice")
	raw := rawOf(t, iv.link(t))
	_, sig, body, err := splitEnvelope(raw)
	if err != nil {
		t.Fatal(err)
	}
	sigAt := bytes.Index(raw, sig)
	bodyAt := bytes.Index(raw, body)
	for i := range len(raw) * 8 {
		bad := bytes.Clone(raw)
		bad[i/8] ^= 1 << (i % 8)
		_, err := Parse(linkOf(bad), t0)
		switch {
		case err == nil:
			t.Fatalf("bit %d flipped: accepted", i)
		case i/8 >= sigAt && i/8 < sigAt+len(sig):
			if !errors.Is(err, ErrTampered) {
				t.Errorf("signature bit %d flipped: err = %v, want ErrTampered", i, err)
			}
		case i/8 >= bodyAt:
			if !errors.Is(err, ErrTampered) && !errors.Is(err, ErrVersion) && !errors.Is(err, ErrMalformed) {
				t.Errorf("body bit %d flipped: err = %v", i, err)
			}
		}
	}
}

// resign builds a link from a modified body, properly signed, to reach the
// checks that come after the signature.
func resign(t *testing.T, iv inviter, edit func(*invitev1.Invitation)) string {
	t.Helper()
	p := toProto(iv.inv)
	edit(p)
	body, err := proto.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	sig := iv.key.Sign(signedBytes(body))
	return encodeLink(body, sig[:])
}

func TestFieldChangesAreTampering(t *testing.T) {
	iv := newInviter(t, "Alice")
	good := toProto(iv.inv)
	goodBody, _ := proto.Marshal(good)
	sig := iv.key.Sign(signedBytes(goodBody))
	edits := map[string]func(*invitev1.Invitation){
		"display name": func(p *invitev1.Invitation) { p.DisplayName = "Mallory" },
		"expiry":       func(p *invitev1.Invitation) { p.ExpiresUnix += 86400 * 365 },
		"queue":        func(p *invitev1.Invitation) { p.Queue.SenderId = bytes.Repeat([]byte{1}, 32) },
	}
	for name, edit := range edits {
		p := toProto(iv.inv)
		edit(p)
		body, _ := proto.Marshal(p)
		if _, err := Parse(encodeLink(body, sig[:]), t0); !errors.Is(err, ErrTampered) {
			t.Errorf("%s changed under the old signature: err = %v, want ErrTampered", name, err)
		}
	}
	// Another key signing the same content is not the inviter.
	mallory, _ := identity.Generate(nil)
	forged := mallory.Sign(signedBytes(goodBody))
	if _, err := Parse(encodeLink(goodBody, forged[:]), t0); !errors.Is(err, ErrTampered) {
		t.Errorf("signed by another key: err = %v, want ErrTampered", err)
	}
}

func TestTruncatedRefused(t *testing.T) {
	iv := newInviter(t, "Alice")
	link := iv.link(t)
	for n := len(Scheme); n < len(link); n++ {
		if _, err := Parse(link[:n], t0); !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut to %d of %d characters: err = %v, want ErrTruncated", n, len(link), err)
		}
	}
}

func TestUnsignedRefused(t *testing.T) {
	iv := newInviter(t, "")
	body, _ := proto.Marshal(toProto(iv.inv))
	if _, err := Parse(encodeLink(body, nil), t0); !errors.Is(err, ErrUnsigned) {
		t.Errorf("no signature: err = %v, want ErrUnsigned", err)
	}
	if _, err := Parse(encodeLink(body, []byte{}), t0); !errors.Is(err, ErrUnsigned) && !errors.Is(err, ErrTampered) {
		t.Errorf("empty signature: err = %v", err)
	}
}

func TestWrongVersionRefused(t *testing.T) {
	iv := newInviter(t, "")
	raw := rawOf(t, iv.link(t))
	// The envelope starts 0x08 <version>.
	for _, v := range []byte{0, 2, 99} {
		bad := bytes.Clone(raw)
		bad[1] = v
		_, err := Parse(linkOf(bad), t0)
		var ve *VersionError
		if !errors.As(err, &ve) || !errors.Is(err, ErrVersion) || ve.Got != uint32(v) {
			t.Errorf("envelope version %d: err = %v", v, err)
		}
	}
	_, err := Parse(linkOf(append([]byte{0x08, 2}, raw[2:]...)), t0)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("newer envelope: message %q does not say it is newer", err)
	}
	link := resign(t, iv, func(p *invitev1.Invitation) { p.Version = 2 })
	if _, err := Parse(link, t0); !errors.Is(err, ErrVersion) {
		t.Errorf("body version 2: err = %v, want ErrVersion", err)
	}
}

func TestMalformedRefused(t *testing.T) {
	iv := newInviter(t, "")
	edits := map[string]func(*invitev1.Invitation){
		"control in name":   func(p *invitev1.Invitation) { p.DisplayName = "Al\x1b[2Jice" },
		"bidi in name":      func(p *invitev1.Invitation) { p.DisplayName = "Al\u202eice" },
		"long name":         func(p *invitev1.Invitation) { p.DisplayName = strings.Repeat("a", identity.MaxDisplayName+1) },
		"short ID":          func(p *invitev1.Invitation) { p.InvitationId = p.InvitationId[:8] },
		"no queue":          func(p *invitev1.Invitation) { p.Queue = nil },
		"zero relay":        func(p *invitev1.Invitation) { p.Queue.RelayIdentity = make([]byte, 32) },
		"short sender":      func(p *invitev1.Invitation) { p.Queue.SenderId = p.Queue.SenderId[:31] },
		"weak prekey":       func(p *invitev1.Invitation) { p.OneTimePreKey.PublicKey = make([]byte, 32) },
		"no signed prekey":  func(p *invitev1.Invitation) { p.SignedPreKey = nil },
		"bad prekey sig":    func(p *invitev1.Invitation) { p.SignedPreKey.Signature[0] ^= 1 },
		"expires first":     func(p *invitev1.Invitation) { p.ExpiresUnix = p.CreatedUnix - 1 },
		"unknown body data": func(p *invitev1.Invitation) { p.ProtoReflect().SetUnknown([]byte{0xf8, 0x01, 0x01}) },
		"unknown in queue":  func(p *invitev1.Invitation) { p.Queue.ProtoReflect().SetUnknown([]byte{0x18, 0x01}) },
		"ten years":         func(p *invitev1.Invitation) { p.ExpiresUnix = p.CreatedUnix + 10*365*86400 },
		"zero prekey ID":    func(p *invitev1.Invitation) { p.OneTimePreKey.Id = 0 },
		"no-prekey marker":  func(p *invitev1.Invitation) { p.OneTimePreKey.Id = 0xFFFFFF },
		"huge prekey ID":    func(p *invitev1.Invitation) { p.SignedPreKey.Id = 0xFFFFFFFF },
		"zero sender":       func(p *invitev1.Invitation) { p.Queue.SenderId = make([]byte, 32) },
	}
	for name, edit := range edits {
		if _, err := Parse(resign(t, iv, edit), t0); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	raw := rawOf(t, iv.link(t))
	extra := append(bytes.Clone(raw), 0x20, 0x01) // field 4, varint 1
	if _, err := Parse(linkOf(extra), t0); !errors.Is(err, ErrMalformed) {
		t.Errorf("unknown envelope field: err = %v", err)
	}
	dup := append(bytes.Clone(raw), raw[:2]...) // a second version field
	if _, err := Parse(linkOf(dup), t0); !errors.Is(err, ErrMalformed) {
		t.Errorf("repeated envelope field: err = %v", err)
	}
}

// TestNonCanonicalBody signs a body that parses to a valid invitation but
// is not what Sign writes: a field repeated (protobuf keeps the last).
func TestNonCanonicalBody(t *testing.T) {
	iv := newInviter(t, "Alice")
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(toProto(iv.inv))
	if err != nil {
		t.Fatal(err)
	}
	body = protowire.AppendTag(body, 8, protowire.BytesType)
	body = protowire.AppendString(body, "Alice")
	sig := iv.key.Sign(signedBytes(body))
	if _, err := Parse(encodeLink(body, sig[:]), t0); !errors.Is(err, ErrMalformed) {
		t.Fatalf("repeated field: err = %v, want ErrMalformed", err)
	}
}

func TestNotALink(t *testing.T) {
	iv := newInviter(t, "")
	link := iv.link(t)
	cases := map[string]error{
		"":                                  ErrNotInvitation,
		"https://example.org/":              ErrNotInvitation,
		"HUSH:" + link[len(Scheme):]:        ErrNotInvitation,
		"hush:":                             ErrTruncated,
		"hush:" + strings.Repeat("A", 4000): ErrTooLong,
		link[:40] + "!" + link[41:]:         ErrEncoding,
		link[:40] + " " + link[40:]:         ErrEncoding,
	}
	for in, want := range cases {
		if _, err := Parse(in, t0); !errors.Is(err, want) {
			t.Errorf("Parse(%.30q…) = %v, want %v", in, err, want)
		}
	}
}

func TestSignRefusesBadInput(t *testing.T) {
	iv := newInviter(t, "")
	other, _ := identity.Generate(nil)
	if _, err := Sign(other, iv.inv); err == nil {
		t.Error("signed with a key that is not the bundle's")
	}
	bad := *iv.inv
	bad.DisplayName = "x\ny"
	if _, err := Sign(iv.key, &bad); !errors.Is(err, ErrMalformed) {
		t.Errorf("newline in name: err = %v", err)
	}
	bad = *iv.inv
	bad.DisplayName = "\xff"
	if _, err := Sign(iv.key, &bad); !errors.Is(err, ErrMalformed) {
		t.Errorf("invalid UTF-8 name: err = %v", err)
	}
	bad = *iv.inv
	bad.Expires = bad.Created.Add(MaxTTL + time.Second)
	if _, err := Sign(iv.key, &bad); err == nil {
		t.Error("validity over MaxTTL accepted")
	}
}

func TestQRCodeRoundTrip(t *testing.T) {
	iv := newInviter(t, "Alice")
	link := iv.link(t)
	png, err := QRCodePNG(link, 512)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatal(err)
	}
	scanned, err := verify.ScanQRCode(img)
	if err != nil {
		t.Fatal(err)
	}
	if string(scanned) != link {
		t.Fatalf("QR code decodes to %q, want the link", scanned)
	}
	if _, err := Parse(string(scanned), t0); err != nil {
		t.Fatal(err)
	}
	if _, err := QRCodePNG(link, 100); err == nil {
		t.Error("tiny QR image accepted")
	}
	term, err := QRCodeTerminal(link)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(term, "\n"), "\n")
	width := len([]rune(lines[0]))
	if len(lines) < 20 || !strings.ContainsRune(term, '█') {
		t.Fatalf("terminal QR code has %d lines", len(lines))
	}
	for i, l := range lines {
		if len([]rune(l)) != width {
			t.Fatalf("terminal QR line %d is %d wide, want %d", i, len([]rune(l)), width)
		}
	}
}
