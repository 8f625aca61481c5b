// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"io"
	"strings"
	"time"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/invite"
	"github.com/hushchat/hush/pkg/core/sealed"
	"github.com/hushchat/hush/pkg/core/session"
	"github.com/hushchat/hush/pkg/core/session/memstore"
	"github.com/hushchat/hush/pkg/core/verify"
	"github.com/hushchat/hush/pkg/mailbox"
)

// user is one side of the demo: what its core would hold.
type user struct {
	name    string
	key     *identity.PrivateKey
	mgr     *session.Manager
	ledger  invite.MemLedger
	contact session.Address    // the one contact this demo gives each user
	peer    identity.PublicKey // that contact's identity key, once known
	queue   mailbox.QueueAddress
}

type demo struct {
	out    io.Writer
	showQR bool
	step   int
	now    time.Time
}

func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.out, "    "+format+"\n", args...)
}

func (d *demo) begin(title string) {
	d.step++
	fmt.Fprintf(d.out, "\n[%d] %s\n", d.step, title)
}

// runLocal sets up two users and their session without a network (the
// envelopes handed over directly, nothing printed), then shows the
// attachment formats: a photo's GPS tags stripped, a file and a voice
// clip as encrypted chunks, checked on the receiving side. Sending
// attachments over the relays is the next step of the client.
func (d *demo) runLocal(ctx context.Context) error {
	d.now = time.Now()
	out := d.out
	d.out = io.Discard
	alice, bob, err := d.localSession(ctx)
	d.out = out
	if err != nil {
		return err
	}
	d.begin("Attachments (formats only, handed over in process): a photo with GPS tags, a file, a voice clip")
	return d.attachments(ctx, alice, bob)
}

// localSession runs the invitation and a first exchange between two
// in-memory users, envelopes handed over directly.
func (d *demo) localSession(ctx context.Context) (alice, bob *user, err error) {
	step := d.step
	defer func() { d.step = step }()
	if alice, err = d.newUser(ctx, "Alice"); err != nil {
		return nil, nil, err
	}
	if bob, err = d.newUser(ctx, "Bob"); err != nil {
		return nil, nil, err
	}
	link, inv, err := d.invite(ctx, alice)
	if err != nil {
		return nil, nil, err
	}
	envelope, err := d.accept(ctx, bob, link)
	if err != nil {
		return nil, nil, err
	}
	if err := d.refuseSecondUse(ctx, bob, link); err != nil {
		return nil, nil, err
	}
	if err := d.receiveRequest(ctx, alice, bob, inv, envelope); err != nil {
		return nil, nil, err
	}
	if err := d.converse(ctx, alice, bob); err != nil {
		return nil, nil, err
	}
	if err := d.replay(ctx, alice, bob); err != nil {
		return nil, nil, err
	}
	return alice, bob, d.safetyNumbers(ctx, alice, bob)
}

func (d *demo) newUser(ctx context.Context, name string) (*user, error) {
	st, err := memstore.Generate()
	if err != nil {
		return nil, err
	}
	mgr, err := session.New(ctx, st)
	if err != nil {
		return nil, err
	}
	key, _, _ := st.LocalIdentity(ctx)
	q, err := placeholderQueue()
	if err != nil {
		return nil, err
	}
	d.say("%-5s identity %s", name, key.Public())
	return &user{name: name, key: key, mgr: mgr, queue: q}, nil
}

// placeholderQueue stands in for a queue on a relay until the relay
// exists: a random relay identity and sender ID.
func placeholderQueue() (mailbox.QueueAddress, error) {
	var raw [32]byte
	copy(raw[:], randomBytes(32))
	relay, err := mailbox.NewRelayID(raw[:])
	if err != nil {
		return mailbox.QueueAddress{}, err
	}
	sender, err := mailbox.NewSenderID(nil)
	return mailbox.QueueAddress{Relay: relay, Sender: sender}, err
}

func (d *demo) invite(ctx context.Context, alice *user) (string, *invite.Invitation, error) {
	bundle, err := alice.mgr.NewBundle(ctx)
	if err != nil {
		return "", nil, err
	}
	inv, err := invite.New(bundle, alice.queue, alice.name, d.now, 0)
	if err != nil {
		return "", nil, err
	}
	link, err := invite.Sign(alice.key, inv)
	if err != nil {
		return "", nil, err
	}
	d.say("link (%d characters): %s…%s", len(link), link[:24], link[len(link)-8:])
	d.say("expires %s", inv.Expires.UTC().Format(time.RFC3339))
	if d.showQR {
		qr, err := invite.QRCodeTerminal(link)
		if err != nil {
			return "", nil, err
		}
		fmt.Fprint(d.out, qr)
	}
	return link, inv, nil
}

// envelope is what one side would put in the other's mailbox queue: a
// sealed envelope of exactly sealed.EnvelopeSize bytes.
type envelope = []byte

func (d *demo) accept(ctx context.Context, bob *user, link string) (envelope, error) {
	inv, err := invite.Check(ctx, link, bob.key.Public(), &bob.ledger, d.now)
	if err != nil {
		return nil, fmt.Errorf("bob: %w", err)
	}
	d.say("signature valid; from %q, %s", inv.DisplayName, inv.Inviter().ShortString())
	bob.contact, bob.peer = "alice", inv.Inviter()
	if err := bob.mgr.Initiate(ctx, bob.contact, inv.Bundle); err != nil {
		return nil, fmt.Errorf("bob: X3DH: %w", err)
	}
	d.say("X3DH done with Alice's signed and one-time prekeys")
	req := content.ContactRequest{InvitationID: inv.ID, DisplayName: bob.name, ReplyQueue: bob.queue}
	env, err := d.seal(ctx, bob, req)
	if err != nil {
		return nil, err
	}
	if err := bob.ledger.RecordAccepted(ctx, inv.ID, inv.Expires); err != nil {
		return nil, err
	}
	d.say("contact request sealed: a %d-byte envelope that does not say who sent it", len(env))
	return env, nil
}

func (d *demo) refuseSecondUse(ctx context.Context, bob *user, link string) error {
	_, err := invite.Check(ctx, link, bob.key.Public(), &bob.ledger, d.now)
	if !errors.Is(err, invite.ErrAlreadyAccepted) {
		return fmt.Errorf("second use of the invitation: got %v, want it refused", err)
	}
	d.say("using the link again is refused: %v", err)
	return nil
}

func (d *demo) receiveRequest(ctx context.Context, alice, bob *user, inv *invite.Invitation, env envelope) error {
	alice.contact = "bob"
	m, err := d.open(ctx, alice, env)
	if err != nil {
		return err
	}
	req, ok := m.Body.(content.ContactRequest)
	if !ok || req.InvitationID != inv.ID {
		return fmt.Errorf("alice: expected the contact request for invitation %s, got %T", inv.ID, m.Body)
	}
	got, err := alice.mgr.RemoteIdentity(ctx, alice.contact)
	if err != nil {
		return err
	}
	if !got.Equal(bob.key.Public()) {
		return errors.New("alice: the session is not with Bob's identity key")
	}
	d.say("from %q, %s; answers go to a queue on %s…", req.DisplayName, got.ShortString(), req.ReplyQueue.Relay.String()[:18])
	if err := alice.mgr.DiscardBundle(ctx, inv.Bundle); err != nil {
		return err
	}
	d.say("the invitation's prekeys are erased: it cannot start another session")
	return nil
}

func (d *demo) converse(ctx context.Context, alice, bob *user) error {
	lines := []struct {
		from, to *user
		text     string
	}{
		{alice, bob, "Hi Bob! Glad you made it."},
		{bob, alice, "Hi Alice. No phone number needed, nice."},
		{bob, alice, "Two in a row, to move the chain on."},
		{alice, bob, "Zoë says hello 🌻"},
	}
	for _, l := range lines {
		m, err := content.New(content.Text{Text: l.text}, time.Now())
		if err != nil {
			return err
		}
		env, err := d.sealMessage(ctx, l.from, m)
		if err != nil {
			return err
		}
		got, err := d.open(ctx, l.to, env)
		if err != nil {
			return err
		}
		text, ok := got.Body.(content.Text)
		if !ok || text.Text != l.text || got.ID != m.ID {
			return fmt.Errorf("%s read %+v, want %q", l.to.name, got.Body, l.text)
		}
		d.say("%-5s → %-5s %q (envelope of %d bytes)", l.from.name, l.to.name, text.Text, len(env))
		receipt, _ := content.New(content.Receipt{Kind: content.Read, MessageIDs: []content.ID{m.ID}}, time.Now())
		renv, err := d.sealMessage(ctx, l.to, receipt)
		if err != nil {
			return err
		}
		r, err := d.open(ctx, l.from, renv)
		if err != nil {
			return err
		}
		if rr, ok := r.Body.(content.Receipt); !ok || rr.Kind != content.Read || rr.MessageIDs[0] != m.ID {
			return fmt.Errorf("%s did not get the read receipt", l.from.name)
		}
	}
	d.say("each message answered by a read receipt")
	return nil
}

func (d *demo) replay(ctx context.Context, alice, bob *user) error {
	m, _ := content.New(content.Text{Text: "only once"}, time.Now())
	env, err := d.sealMessage(ctx, alice, m)
	if err != nil {
		return err
	}
	if _, err := d.open(ctx, bob, env); err != nil {
		return err
	}
	_, err = d.open(ctx, bob, env)
	if !errors.Is(err, session.ErrDuplicate) {
		return fmt.Errorf("replay: got %v, want it refused as a duplicate", err)
	}
	d.say("the same ciphertext again: %v", err)
	return nil
}

func (d *demo) safetyNumbers(ctx context.Context, alice, bob *user) error {
	aliceSees, err := d.safetyNumber(ctx, alice)
	if err != nil {
		return err
	}
	bobSees, err := d.safetyNumber(ctx, bob)
	if err != nil {
		return err
	}
	payload, err := d.showAndScan(aliceSees, bobSees)
	if err != nil {
		return err
	}
	if err := aliceSees.CompareScanned(payload); err != nil {
		return fmt.Errorf("alice scanning bob's code: %w", err)
	}
	d.say("Alice scanned Bob's QR code (%d-byte payload): keys verified", len(payload))
	if d.showQR {
		fmt.Fprint(d.out, bobSees.QRCodeTerminal())
	}
	return nil
}

// showAndScan prints both sides' safety numbers, checks they are equal,
// and returns the payload Alice reads by scanning the QR code on Bob's
// screen (rendered to PNG and decoded).
func (d *demo) showAndScan(aliceSees, bobSees verify.SafetyNumber) ([]byte, error) {
	d.say("Alice sees %s", strings.Join(aliceSees.Groups(), " "))
	d.say("Bob sees   %s", strings.Join(bobSees.Groups(), " "))
	if aliceSees.String() != bobSees.String() {
		return nil, errors.New("the two sides see different safety numbers")
	}
	pngBytes, err := bobSees.QRCodePNG(512)
	if err != nil {
		return nil, err
	}
	img, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil {
		return nil, err
	}
	return verify.ScanQRCode(img)
}

func (d *demo) safetyNumber(ctx context.Context, u *user) (verify.SafetyNumber, error) {
	remote, err := u.mgr.RemoteIdentity(ctx, u.contact)
	if err != nil {
		return verify.SafetyNumber{}, err
	}
	return verify.New(u.key.Public(), remote), nil
}

func (d *demo) seal(ctx context.Context, from *user, body content.Body) (envelope, error) {
	m, err := content.New(body, time.Now())
	if err != nil {
		return nil, err
	}
	return d.sealMessage(ctx, from, m)
}

// sealMessage encrypts m in from's session with its contact and seals the
// result for the contact's identity key.
func (d *demo) sealMessage(ctx context.Context, from *user, m content.Message) (envelope, error) {
	pt, err := content.Marshal(m)
	if err != nil {
		return nil, err
	}
	c, err := from.mgr.Encrypt(ctx, from.contact, pt)
	if err != nil {
		return nil, fmt.Errorf("%s: encrypt: %w", from.name, err)
	}
	env, err := sealed.Seal(from.key, from.peer, c)
	if err != nil {
		return nil, fmt.Errorf("%s: seal: %w", from.name, err)
	}
	return env, nil
}

// open opens an envelope for to, refuses one whose sealed sender is not
// to's contact, and decrypts it. On first contact the sealed sender must
// be the identity the session was built with.
func (d *demo) open(ctx context.Context, to *user, env envelope) (content.Message, error) {
	o, err := sealed.Open(to.key, env)
	if err != nil {
		return content.Message{}, fmt.Errorf("%s: %w", to.name, err)
	}
	if !to.peer.IsZero() && !o.Sender.Equal(to.peer) {
		return content.Message{}, fmt.Errorf("%s: envelope sealed by %s, not by the contact", to.name, o.Sender.ShortString())
	}
	pt, err := to.mgr.Decrypt(ctx, to.contact, o.Message)
	if err != nil {
		return content.Message{}, fmt.Errorf("%s: decrypt: %w", to.name, err)
	}
	if to.peer.IsZero() {
		remote, err := to.mgr.RemoteIdentity(ctx, to.contact)
		if err != nil || !remote.Equal(o.Sender) {
			return content.Message{}, fmt.Errorf("%s: sealed sender and session identity differ", to.name)
		}
		to.peer = o.Sender
	}
	m, err := content.Unmarshal(pt)
	if err != nil {
		return content.Message{}, fmt.Errorf("%s: %w", to.name, err)
	}
	return m, nil
}
