// SPDX-License-Identifier: AGPL-3.0-or-later

package sealed

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/session"
	"github.com/hushchat/hush/pkg/core/session/memstore"
	"github.com/hushchat/hush/pkg/mailbox"
)

func mustKey(t testing.TB) *identity.PrivateKey {
	t.Helper()
	k, err := identity.Generate(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustSeal(t testing.TB, from *identity.PrivateKey, to identity.PublicKey, msg session.Ciphertext) []byte {
	t.Helper()
	env, err := Seal(from, to, msg)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestRoundTrip(t *testing.T) {
	alice, bob := mustKey(t), mustKey(t)
	for _, n := range []int{0, 1, 100, MaxCiphertext} {
		msg := session.Ciphertext{Type: session.TypeMessage, Body: bytes.Repeat([]byte{0xab}, n)}
		env := mustSeal(t, alice, bob.Public(), msg)
		if len(env) != EnvelopeSize {
			t.Fatalf("%d-byte message: envelope of %d bytes", n, len(env))
		}
		got, err := Open(bob, env)
		if err != nil {
			t.Fatalf("%d-byte message: %v", n, err)
		}
		if !got.Sender.Equal(alice.Public()) || got.Message.Type != msg.Type || !bytes.Equal(got.Message.Body, msg.Body) {
			t.Fatalf("%d-byte message: opened %v %v", n, got.Sender, got.Message.Type)
		}
	}
}

// TestThroughSession seals real ratchet messages carrying each content
// type and opens them on the other side.
func TestThroughSession(t *testing.T) {
	ctx := context.Background()
	ast, _ := memstore.Generate()
	bst, _ := memstore.Generate()
	am, _ := session.New(ctx, ast)
	bm, _ := session.New(ctx, bst)
	ak, _, _ := ast.LocalIdentity(ctx)
	bk, _, _ := bst.LocalIdentity(ctx)
	bundle, _ := am.NewBundle(ctx)
	if err := bm.Initiate(ctx, "alice", bundle); err != nil {
		t.Fatal(err)
	}
	pointer := func(mime, name string) content.Attachment {
		k, err := attach.NewKey()
		if err != nil {
			t.Fatal(err)
		}
		return content.Attachment{Key: k, Digest: attach.Digest{1, 2, 3}, Size: 1 << 20, MIMEType: mime, FileName: name}
	}
	bodies := []content.Body{
		content.Text{Text: "first, in a prekey message"},
		content.Text{Text: strings.Repeat("long text ", content.MaxText/10)},
		content.Image{Attachment: pointer("image/jpeg", "IMG_1.jpg"), Width: 4000, Height: 3000,
			Thumbnail: bytes.Repeat([]byte{0xd8}, content.MaxThumbnail), Caption: strings.Repeat("c", content.MaxCaption)},
		content.File{Attachment: pointer("application/pdf", "report.pdf"), Caption: "read me"},
		content.VoiceClip{Attachment: pointer("audio/ogg; codecs=opus", ""), Duration: 42 * time.Second},
		content.ContactRequest{DisplayName: "Bob", ReplyQueue: queueAddress(t)},
		content.ProfileUpdate{DisplayName: "Bob"},
		content.Receipt{Kind: content.Read, MessageIDs: make([]content.ID, content.MaxReceiptIDs)},
		content.QueueRotation{NewQueue: queueAddress(t)},
		content.DisappearingTimer{After: time.Hour},
	}
	for i, body := range bodies {
		m, _ := content.New(body, time.Now())
		pt, err := content.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		c, err := bm.Encrypt(ctx, "alice", pt)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 && c.Type != session.TypePreKey {
			t.Fatalf("first message is %v", c.Type)
		}
		env := mustSeal(t, bk, ak.Public(), c)
		opened, err := Open(ak, env)
		if err != nil {
			t.Fatalf("%T: %v", body, err)
		}
		if !opened.Sender.Equal(bk.Public()) {
			t.Fatal("wrong sender")
		}
		got, err := am.Decrypt(ctx, "bob", opened.Message)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, pt) {
			t.Fatalf("%T: content changed", body)
		}
	}
}

// TestLargestContentFits checks the sizes agree: the longest text
// content, in a session's first (prekey) message, fits one envelope.
func TestLargestContentFits(t *testing.T) {
	ctx := context.Background()
	ast, _ := memstore.Generate()
	bst, _ := memstore.Generate()
	am, _ := session.New(ctx, ast)
	bm, _ := session.New(ctx, bst)
	bundle, _ := am.NewBundle(ctx)
	if err := bm.Initiate(ctx, "alice", bundle); err != nil {
		t.Fatal(err)
	}
	m, _ := content.New(content.Text{Text: strings.Repeat("é", content.MaxText/2)}, time.Now())
	text, err := content.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	// The largest content Marshal can produce, and the largest text.
	for _, pt := range [][]byte{make([]byte, content.MaxSize), text} {
		c, err := bm.Encrypt(ctx, "alice", pt)
		if err != nil {
			t.Fatal(err)
		}
		if c.Type != session.TypePreKey {
			t.Fatalf("message is %v, want the larger prekey form", c.Type)
		}
		if len(c.Body) > MaxCiphertext {
			t.Fatalf("%d bytes of content give a %d-byte prekey message; envelopes carry %d", len(pt), len(c.Body), MaxCiphertext)
		}
		t.Logf("%d bytes of content: %d of ciphertext, %d to spare", len(pt), len(c.Body), MaxCiphertext-len(c.Body))
	}
}

func TestTooLarge(t *testing.T) {
	alice, bob := mustKey(t), mustKey(t)
	_, err := Seal(alice, bob.Public(), session.Ciphertext{Type: session.TypeMessage, Body: make([]byte, MaxCiphertext+1)})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "as a file") {
		t.Fatalf("err = %v, want ErrTooLarge saying to send a file", err)
	}
	if _, err := Seal(alice, bob.Public(), session.Ciphertext{Type: 9}); err == nil {
		t.Fatal("unknown message type sealed")
	}
}

func queueAddress(t *testing.T) mailbox.QueueAddress {
	t.Helper()
	pub, _, _ := ed25519.GenerateKey(nil)
	r, err := mailbox.RelayIDFromKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := mailbox.NewSenderID(nil)
	return mailbox.QueueAddress{Relay: r, Sender: s}
}

func TestWrongRecipient(t *testing.T) {
	alice, bob, carol := mustKey(t), mustKey(t), mustKey(t)
	env := mustSeal(t, alice, bob.Public(), session.Ciphertext{Type: session.TypeMessage, Body: []byte("for bob")})
	if _, err := Open(carol, env); !errors.Is(err, ErrOpen) {
		t.Fatalf("carol opened bob's envelope: err = %v", err)
	}
	if _, err := Open(alice, env); !errors.Is(err, ErrOpen) {
		t.Fatalf("the sender opened her own envelope: err = %v", err)
	}
}

// TestSenderHidden checks that the sender's key appears nowhere in the
// envelope, and that two envelopes from the same sender share nothing
// beyond the version byte.
func TestSenderHidden(t *testing.T) {
	alice, bob := mustKey(t), mustKey(t)
	msg := session.Ciphertext{Type: session.TypeMessage, Body: []byte("same text")}
	e1 := mustSeal(t, alice, bob.Public(), msg)
	e2 := mustSeal(t, alice, bob.Public(), msg)
	for _, part := range [][]byte{alice.Public().Bytes(), alice.Public().Bytes()[:8], bob.Public().Bytes()[:8]} {
		if bytes.Contains(e1, part) {
			t.Fatal("an identity key appears in the envelope")
		}
	}
	same := 0
	for i := 1; i < EnvelopeSize; i++ {
		if e1[i] == e2[i] {
			same++
		}
	}
	// Random bytes agree at about 1 in 256 positions.
	if same > EnvelopeSize/100 {
		t.Fatalf("two envelopes agree at %d of %d positions", same, EnvelopeSize)
	}
}

func flipRefused(t *testing.T, bob *identity.PrivateKey, env []byte, bit int) {
	t.Helper()
	bad := bytes.Clone(env)
	bad[bit/8] ^= 1 << (bit % 8)
	if _, err := Open(bob, bad); err == nil {
		t.Fatalf("bit %d flipped: envelope opened", bit)
	} else if bit/8 == 0 && !errors.Is(err, ErrVersion) || bit/8 > 0 && !errors.Is(err, ErrOpen) {
		t.Fatalf("bit %d flipped: err = %v", bit, err)
	}
}

// TestBitFlips flips every bit of the header and a spread of bits through
// the body; TestLongEveryBitFlip flips them all.
func TestBitFlips(t *testing.T) {
	alice, bob := mustKey(t), mustKey(t)
	env := mustSeal(t, alice, bob.Public(), session.Ciphertext{Type: session.TypePreKey, Body: []byte("x")})
	for bit := range (offBody + 8) * 8 {
		flipRefused(t, bob, env, bit)
	}
	for i := offBody + 8; i < EnvelopeSize; i += 97 {
		flipRefused(t, bob, env, i*8+i%8)
	}
	flipRefused(t, bob, env, EnvelopeSize*8-1)
}

func TestLongEveryBitFlip(t *testing.T) {
	if testing.Short() {
		t.Skip("long test: flips all 122,880 bits")
	}
	alice, bob := mustKey(t), mustKey(t)
	env := mustSeal(t, alice, bob.Public(), session.Ciphertext{Type: session.TypeMessage, Body: []byte("x")})
	for bit := range EnvelopeSize * 8 {
		flipRefused(t, bob, env, bit)
	}
}

func TestBadSizeAndVersion(t *testing.T) {
	alice, bob := mustKey(t), mustKey(t)
	env := mustSeal(t, alice, bob.Public(), session.Ciphertext{Type: session.TypeMessage})
	for _, n := range []int{0, 1, offBody, EnvelopeSize - 1, EnvelopeSize + 1} {
		in := make([]byte, n)
		copy(in, env)
		if _, err := Open(bob, in); !errors.Is(err, ErrSize) {
			t.Errorf("%d bytes: err = %v, want ErrSize", n, err)
		}
	}
	for _, v := range []byte{0, 2, 255} {
		bad := bytes.Clone(env)
		bad[0] = v
		_, err := Open(bob, bad)
		var ve *VersionError
		if !errors.As(err, &ve) || ve.Got != v {
			t.Errorf("version %d: err = %v", v, err)
		}
	}
}

// sealRaw builds an envelope the way Seal does but with a body of the
// caller's choosing and, optionally, a claimed sender different from the
// key used for the static layer: to reach the checks after
// authentication, and to show forgery fails.
func sealRaw(t *testing.T, claimed identity.PublicKey, static *identity.PrivateKey, recipient identity.PublicKey, body []byte) []byte {
	t.Helper()
	eph, err := newEphemeral(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	env := make([]byte, EnvelopeSize)
	env[0] = Version
	copy(env[offEphemeral:], eph.PublicKey().Bytes())
	sk, ck, err := ephemeralKeys(eph, recipient, env[offEphemeral:offSender])
	if err != nil {
		t.Fatal(err)
	}
	aeadSeal(sk, env[offSender:offSender], claimed.Bytes(), senderAD(env[offEphemeral:offSender], recipient))
	bk, err := staticKey(static, recipient, ck, env[offSender:offBody])
	if err != nil {
		t.Fatal(err)
	}
	aeadSeal(bk, env[offBody:offBody], body, bodyAD(env[:offBody], recipient, claimed))
	return env
}

func TestForgedSender(t *testing.T) {
	alice, bob, mallory := mustKey(t), mustKey(t), mustKey(t)
	body := make([]byte, bodySize)
	body[0] = byte(session.TypeMessage)
	env := sealRaw(t, alice.Public(), mallory, bob.Public(), body)
	if _, err := Open(bob, env); !errors.Is(err, ErrOpen) {
		t.Fatalf("mallory claiming to be alice: err = %v, want ErrOpen", err)
	}
	// The same construction with the real key opens: the test is sound.
	if _, err := Open(bob, sealRaw(t, alice.Public(), alice, bob.Public(), body)); err != nil {
		t.Fatalf("control envelope: %v", err)
	}
}

func TestMalformedBody(t *testing.T) {
	alice, bob := mustKey(t), mustKey(t)
	good := func() []byte {
		b := make([]byte, bodySize)
		b[0] = byte(session.TypeMessage)
		binary.BigEndian.PutUint16(b[1:], 4)
		copy(b[bodyHeader:], "abcd")
		return b
	}
	cases := map[string]func([]byte){
		"unknown type":    func(b []byte) { b[0] = 7 },
		"length too long": func(b []byte) { binary.BigEndian.PutUint16(b[1:], MaxCiphertext+1) },
		"padding":         func(b []byte) { b[bodySize-1] = 1 },
	}
	for name, edit := range cases {
		b := good()
		edit(b)
		if _, err := Open(bob, sealRaw(t, alice.Public(), alice, bob.Public(), b)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	if got, err := Open(bob, sealRaw(t, alice.Public(), alice, bob.Public(), good())); err != nil || string(got.Message.Body) != "abcd" {
		t.Fatalf("control: %v", err)
	}
}
