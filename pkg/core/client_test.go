// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

package core

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/sealed"
	"github.com/hushchat/hush/pkg/core/session"
	"github.com/hushchat/hush/pkg/core/store"
	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion"
)

// TestConversationOverRelays is the demo's flow over 5 real relays:
// an invitation accepted, contacts on both sides, text both ways through
// 3-hop paths, delivery and read receipts, history on both sides, the
// same safety number, and a second acceptance of the same invitation
// refused by the relay.
func TestConversationOverRelays(t *testing.T) {
	tn := startNet(t)
	alice := tn.newUser(t, "alice", nil)
	bob := tn.newUser(t, "bob", nil)
	ctx := context.Background()

	inv, err := alice.c.CreateInvitation(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	bobsAlice, err := bob.c.AcceptInvitation(ctx, inv.Link)
	if err != nil {
		t.Fatal(err)
	}
	if bobsAlice.Name != "alice" || !bobsAlice.Identity.Equal(alice.c.Identity()) || !bobsAlice.Pending {
		t.Fatalf("bob's contact: %+v", bobsAlice)
	}
	if _, err := bob.c.SendText(ctx, bobsAlice.ID, "too early"); !errors.Is(err, ErrContactPending) {
		t.Fatalf("send before the answer: %v, want ErrContactPending", err)
	}
	alicesBob := alice.await(t, "contact added", 20*time.Second, kind(EventContactAdded)).Contact
	if alicesBob.Name != "bob" || !alicesBob.Identity.Equal(bob.c.Identity()) {
		t.Fatalf("alice's contact: %+v", alicesBob)
	}
	bob.await(t, "contact added", 20*time.Second, kind(EventContactAdded))

	// A third profile using the same link is refused by the relay.
	carol := tn.newUser(t, "carol", nil)
	if _, err := carol.c.AcceptInvitation(ctx, inv.Link); !errors.Is(err, ErrInvitationUsed) {
		t.Fatalf("second acceptance: %v, want ErrInvitationUsed", err)
	}
	if list, _ := carol.c.Contacts(ctx); len(list) != 0 {
		t.Fatalf("carol kept a contact after the refusal: %+v", list)
	}

	hi, err := alice.c.SendText(ctx, alicesBob.ID, "Hi Bob")
	if err != nil {
		t.Fatal(err)
	}
	got := bob.await(t, "alice's text", 20*time.Second, receivedText("Hi Bob"))
	if got.Message.ID != hi || got.Contact.ID != bobsAlice.ID {
		t.Fatalf("bob got %+v", got)
	}
	alice.await(t, "delivery receipt", 20*time.Second, func(e Event) bool {
		return e.Kind == EventDelivered && slices.Contains(e.MessageIDs, hi)
	})
	if err := bob.c.MarkRead(ctx, bobsAlice.ID, hi); err != nil {
		t.Fatal(err)
	}
	alice.await(t, "read receipt", 20*time.Second, func(e Event) bool {
		return e.Kind == EventRead && slices.Contains(e.MessageIDs, hi)
	})
	if _, err := bob.c.SendText(ctx, bobsAlice.ID, "Hi Alice 🌻"); err != nil {
		t.Fatal(err)
	}
	alice.await(t, "bob's text", 20*time.Second, receivedText("Hi Alice 🌻"))

	ah, err := alice.c.History(ctx, alicesBob.ID, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ah) != 2 || ah[0].Body.(content.Text).Text != "Hi Alice 🌻" || ah[1].State != store.Read {
		t.Fatalf("alice's history: %+v", ah)
	}
	an, _ := alice.c.SafetyNumber(ctx, alicesBob.ID)
	bn, _ := bob.c.SafetyNumber(ctx, bobsAlice.ID)
	if an.String() != bn.String() {
		t.Fatalf("safety numbers differ: %s / %s", an, bn)
	}
	if err := alice.c.Verify(ctx, alicesBob.ID, bn.Scannable()); err != nil {
		t.Fatalf("verify with bob's code: %v", err)
	}
}

// TestRedeliveredEnvelopeShownOnce feeds the same envelope to the
// receiver twice, as a relay does when an ack was lost: one message in
// history, one event.
func TestRedeliveredEnvelopeShownOnce(t *testing.T) {
	tn := startNet(t)
	alice := tn.newUser(t, "alice", nil)
	bob := tn.newUser(t, "bob", nil)
	ab, ba := connect(t, alice, bob)
	ctx := context.Background()

	env, qid := sealTo(t, alice, ab, bob, content.Text{Text: "once"})
	for range 2 {
		if err := bob.c.receive(ctx, qid, env); err != nil {
			t.Fatal(err)
		}
	}
	bob.await(t, "the message", 5*time.Second, receivedText("once"))
	h, err := bob.c.History(ctx, ba.ID, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 1 {
		t.Fatalf("history holds %d messages, want 1", len(h))
	}
	select {
	case e := <-bob.events:
		if e.Kind == EventReceived {
			t.Fatalf("a second received event: %+v", e)
		}
	case <-time.After(300 * time.Millisecond):
	}
}

// sealTo makes, as from's client would, an envelope for its contact ct
// (who is to) without sending it, and returns it with the queue of to's
// that receives from `from`.
func sealTo(t *testing.T, from *user, ct Contact, to *user, body content.Body) ([]byte, store.QueueID) {
	t.Helper()
	ctx := context.Background()
	var env []byte
	err := from.c.transact(ctx, func(ctx context.Context) error {
		sc, err := from.c.st.Contact(ctx, ct.ID)
		if err != nil {
			return err
		}
		m, err := content.New(body, time.Now())
		if err != nil {
			return err
		}
		env, _, err = from.c.seal(ctx, sc, m)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return env, contactQueue(t, to)
}

// contactQueue returns the queue of u's that its (one) contact sends to.
func contactQueue(t *testing.T, u *user) store.QueueID {
	t.Helper()
	qs, err := u.c.st.ListQueues(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range qs {
		if q.Contact != 0 {
			return q.ID
		}
	}
	t.Fatal("no queue with a contact")
	return 0
}

// TestSealedSenderMustBeTheContact: an envelope on bob's queue for alice
// that a stranger sealed is refused (not shown); one that starts a new
// session from a new key is held with an identity-changed event, and
// rejecting it drops it.
func TestSealedSenderMustBeTheContact(t *testing.T) {
	tn := startNet(t)
	alice := tn.newUser(t, "alice", nil)
	bob := tn.newUser(t, "bob", nil)
	_, ba := connect(t, alice, bob)
	ctx := context.Background()
	qid := contactQueue(t, bob)

	mallory, err := identity.Generate(nil)
	if err != nil {
		t.Fatal(err)
	}
	forged := func(typ session.MessageType) []byte {
		env, err := sealed.Seal(mallory, bob.c.Identity(), session.Ciphertext{Type: typ, Body: bytes.Repeat([]byte{7}, 80)})
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	if err := bob.c.receive(ctx, qid, forged(session.TypeMessage)); err != nil {
		t.Fatal(err)
	}
	e := bob.await(t, "a refusal", 5*time.Second, kind(EventError))
	if e.Err == nil || !bytes.Contains([]byte(e.Err.Error()), []byte("sealed by another identity")) {
		t.Fatalf("refusal: %v", e.Err)
	}
	if err := bob.c.receive(ctx, qid, forged(session.TypePreKey)); err != nil {
		t.Fatal(err)
	}
	e = bob.await(t, "identity changed", 5*time.Second, kind(EventIdentityChanged))
	if !e.NewIdentity.Equal(mallory.Public()) || e.Contact.ID != ba.ID {
		t.Fatalf("identity changed event: %+v", e)
	}
	if k, ok, err := bob.c.PendingIdentityChange(ctx, ba.ID); err != nil || !ok || !k.Equal(mallory.Public()) {
		t.Fatalf("pending change: %v %v %v", k, ok, err)
	}
	if err := bob.c.RejectIdentityChange(ctx, ba.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := bob.c.PendingIdentityChange(ctx, ba.ID); ok {
		t.Fatal("the change is still pending after rejecting it")
	}
	ct, _ := bob.c.Contact(ctx, ba.ID)
	if !ct.Identity.Equal(alice.c.Identity()) {
		t.Fatal("the contact's key changed")
	}
	if h, _ := bob.c.History(ctx, ba.ID, nil, 10); len(h) != 0 {
		t.Fatalf("history shows %d messages", len(h))
	}
}

// TestOutageThenDelivery: messages sent while no relay can be reached
// stay in the outbox and are delivered once the network is back.
func TestOutageThenDelivery(t *testing.T) {
	tn := startNet(t)
	var fl *flaky
	alice := tn.newUser(t, "alice", func(n Network) Network { fl = &flaky{Network: n}; return fl })
	bob := tn.newUser(t, "bob", nil)
	ab, _ := connect(t, alice, bob)
	ctx := context.Background()

	fl.set(true)
	id, err := alice.c.SendText(ctx, ab.ID, "after the outage")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for fl.attempts() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	m, err := alice.c.st.Message(ctx, ab.ID, id)
	if err != nil || m.State != store.Pending {
		t.Fatalf("during the outage: state %v, %v; want pending", m.State, err)
	}
	fl.set(false)
	wake(alice.c.outboxCh)
	// The first retry comes within the backoff (about 2 s).
	bob.await(t, "the message", 20*time.Second, receivedText("after the outage"))
}

// TestBlockedContactCannotReachUs: after a block, the contact's queue is
// gone from its relay and its messages do not arrive.
func TestBlockedContactCannotReachUs(t *testing.T) {
	tn := startNet(t)
	alice := tn.newUser(t, "alice", nil)
	bob := tn.newUser(t, "bob", nil)
	ab, ba := connect(t, alice, bob)
	ctx := context.Background()
	if err := bob.c.Block(ctx, ba.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.c.SendText(ctx, ba.ID, "x"); !errors.Is(err, ErrBlocked) {
		t.Fatalf("send to a blocked contact: %v", err)
	}
	if _, err := alice.c.SendText(ctx, ab.ID, "can you hear me"); err != nil {
		t.Fatal(err)
	}
	e := alice.await(t, "the send failing", 30*time.Second, kind(EventFailed))
	if !errors.Is(e.Err, mailbox.StatusNoQueue) {
		t.Fatalf("failure: %v, want no such queue", e.Err)
	}
	if h, _ := bob.c.History(ctx, ba.ID, nil, 10); len(h) != 0 {
		t.Fatalf("bob's history shows %d messages", len(h))
	}
}

// TestStoreHoldsNoPlaintext: after a conversation the profile's files
// contain neither the message text nor the contact's name.
func TestStoreHoldsNoPlaintext(t *testing.T) {
	tn := startNet(t)
	alice := tn.newUser(t, "alice", nil)
	bob := tn.newUser(t, "bob-canary-name", nil)
	ab, _ := connect(t, alice, bob)
	const canary = "canary text 7f3a91 never in clear"
	if _, err := alice.c.SendText(context.Background(), ab.ID, canary); err != nil {
		t.Fatal(err)
	}
	bob.await(t, "the message", 20*time.Second, receivedText(canary))
	for _, u := range []*user{alice, bob} {
		u.stop()
		files, _ := filepath.Glob(filepath.Join(u.dir, "*"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			for _, s := range []string{canary, "bob-canary-name"} {
				if bytes.Contains(b, []byte(s)) {
					t.Errorf("%s holds %q in clear", f, s)
				}
			}
		}
	}
}

// TestRelayDownDeliversLater: the relay holding the recipient's queue is
// stopped; a message sent meanwhile waits in the outbox and arrives once
// the relay is back.
func TestRelayDownDeliversLater(t *testing.T) {
	tn := startNet(t)
	alice := tn.newUser(t, "alice", nil)
	bob := tn.newUser(t, "bob", nil)
	ab, _ := connect(t, alice, bob)
	ctx := context.Background()
	to, err := alice.c.st.Target(ctx, ab.ID)
	if err != nil {
		t.Fatal(err)
	}
	host := -1
	for i, r := range tn.net.Relays {
		if r.ID() == to.Relay {
			host = i
		}
	}
	// Bob's long-poll is in flight on that relay: a short shutdown cuts
	// it, as a crash would (Stop then says requests were cut).
	sctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := tn.net.Stop(sctx, host); err != nil {
		t.Logf("stop: %v", err)
	}
	id, err := alice.c.SendText(ctx, ab.ID, "while the relay was down")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		e, err := alice.c.st.Pending(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(e) == 1 && e[0].Attempts > 0 {
			break // one attempt failed and was postponed
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed attempt recorded: %+v", e)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if m, _ := alice.c.st.Message(ctx, ab.ID, id); m.State != store.Pending {
		t.Fatalf("state %v while the relay is down, want pending", m.State)
	}
	rctx, rcancel := context.WithTimeout(ctx, 20*time.Second)
	defer rcancel()
	if err := tn.net.Restart(rctx, host); err != nil {
		t.Fatal(err)
	}
	bob.await(t, "the message", 60*time.Second, receivedText("while the relay was down"))
}

// TestRotateQueue: alice moves bob to a fresh queue of hers; bob's next
// message arrives there and her old queue is dropped.
func TestRotateQueue(t *testing.T) {
	tn := startNet(t)
	alice := tn.newUser(t, "alice", nil)
	bob := tn.newUser(t, "bob", nil)
	ab, ba := connect(t, alice, bob)
	ctx := context.Background()
	old := contactQueue(t, alice)
	if err := alice.c.RotateQueue(ctx, ab.ID); err != nil {
		t.Fatal(err)
	}
	oldAddr, _ := alice.c.st.Queue(ctx, old)
	deadline := time.Now().Add(20 * time.Second)
	for {
		to, err := bob.c.st.Target(ctx, ba.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !to.Sender.Equal(oldAddr.Queue.Sender) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("bob still sends to the old queue")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := bob.c.SendText(ctx, ba.ID, "to the new queue"); err != nil {
		t.Fatal(err)
	}
	alice.await(t, "the message", 20*time.Second, receivedText("to the new queue"))
	drop, err := alice.c.dropList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	q, err := alice.c.st.Queue(ctx, old)
	if !slices.Contains(drop, old) && !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the old queue is still in use: %+v", q)
	}
}

// ackLog wraps a Network and records the sequence numbers fetches
// delivered and those later fetches acknowledged (the test's one
// conversation queue numbers them), and counts separate Ack requests.
type ackLog struct {
	Network
	mu        sync.Mutex
	delivered map[uint64]bool
	acked     map[uint64]bool
	ackOps    int
}

func (l *ackLog) Ask(ctx context.Context, exit onion.RelayID, req []byte) ([]byte, error) {
	r, _ := mailbox.ParseRequest(req)
	if r == nil || r.Owner == nil {
		return l.Network.Ask(ctx, exit, req)
	}
	// Acknowledgements count when sent: a long-poll returns much later.
	l.mu.Lock()
	if r.Owner.Ack != nil {
		l.ackOps++
	}
	if f := r.Owner.Fetch; f != nil {
		for _, s := range f.Ack {
			l.acked[s] = true
		}
	}
	l.mu.Unlock()
	resp, err := l.Network.Ask(ctx, exit, req)
	l.mu.Lock()
	defer l.mu.Unlock()
	if f := r.Owner.Fetch; f != nil {
		if p, perr := mailbox.ParseResponse(resp); err == nil && perr == nil {
			for _, e := range p.Envelopes {
				l.delivered[e.Seq] = true
			}
		}
	}
	return resp, err
}

// TestFetchAcknowledgesPrevious: what one poll delivered is acknowledged
// by the next poll, not by a separate Ack round trip.
func TestFetchAcknowledgesPrevious(t *testing.T) {
	tn := startNet(t)
	log := &ackLog{delivered: map[uint64]bool{}, acked: map[uint64]bool{}}
	alice := tn.newUser(t, "alice", nil)
	bob := tn.newUser(t, "bob", func(n Network) Network { log.Network = n; return log })
	ab, _ := connect(t, alice, bob)
	for _, text := range []string{"one", "two", "three"} {
		if _, err := alice.c.SendText(context.Background(), ab.ID, text); err != nil {
			t.Fatal(err)
		}
		bob.await(t, text, 30*time.Second, receivedText(text))
	}
	waitFor(t, "every delivered envelope acknowledged", 30*time.Second, func() bool {
		log.mu.Lock()
		defer log.mu.Unlock()
		for s := range log.delivered {
			if !log.acked[s] {
				return false
			}
		}
		return len(log.delivered) >= 3
	})
	log.mu.Lock()
	defer log.mu.Unlock()
	if log.ackOps != 0 {
		t.Fatalf("%d separate Ack requests, want every ack carried by a fetch", log.ackOps)
	}
}
