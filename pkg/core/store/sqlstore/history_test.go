// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/store"
	"github.com/hushchat/hush/pkg/mailbox"
)

var epoch = time.UnixMilli(1_800_000_000_000)

func addText(t *testing.T, s *Store, cid store.ContactID, id byte, at time.Time) {
	t.Helper()
	m := store.Message{ID: content.ID{id}, Contact: cid, Direction: store.Outgoing, SentAt: at,
		Kind: store.KindText, Body: []byte{'m', id}, State: store.Sent}
	if err := s.AddMessage(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

// TestHistoryPaging pages through 25 messages, some sharing a timestamp,
// ten at a time: newest first, each once, and none of another contact's.
func TestHistoryPaging(t *testing.T) {
	s, _, _ := tempStore(t)
	ctx := context.Background()
	alice, bob := addContact(t, s, "Alice"), addContact(t, s, "Bob")
	for i := range 25 {
		addText(t, s, alice, byte(i+1), epoch.Add(time.Duration(i/2)*time.Second)) // pairs share a time
	}
	addText(t, s, bob, 200, epoch.Add(time.Hour))
	var seen []content.ID
	var cur *store.Cursor
	for page := 0; ; page++ {
		ms, err := s.History(ctx, alice, cur, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) == 0 {
			break
		}
		if page > 3 || len(ms) > 10 {
			t.Fatalf("page %d has %d messages", page, len(ms))
		}
		for _, m := range ms {
			if m.Contact != alice {
				t.Fatal("another contact's message in the history")
			}
			if n := len(seen); n > 0 {
				prev := seen[n-1]
				if prevAt := epoch.Add(time.Duration((int(prev[0])-1)/2) * time.Second); m.At().After(prevAt) {
					t.Fatalf("message %d is newer than the one before it", m.ID[0])
				}
			}
			seen = append(seen, m.ID)
		}
		cur = ms[len(ms)-1].Cursor()
	}
	if len(seen) != 25 {
		t.Fatalf("paged through %d messages, want 25", len(seen))
	}
	once := map[content.ID]bool{}
	for _, id := range seen {
		if once[id] {
			t.Fatalf("message %d listed twice", id[0])
		}
		once[id] = true
	}
	if seen[0][0] != 25 && seen[0][0] != 24 {
		t.Fatalf("newest first: got message %d first", seen[0][0])
	}
}

// TestOutboxOrder: due entries first, a postponed one moves back and
// counts its attempt, a dequeued one is gone, a send ID is taken once.
func TestOutboxOrder(t *testing.T) {
	s, _, _ := tempStore(t)
	ctx := context.Background()
	cid := addContact(t, s, "Alice")
	to := mailbox.QueueAddress{Relay: relayID(t, 4)}
	to.Sender, _ = mailbox.NewSenderID(nil)
	env := bytes.Repeat([]byte{7}, mailbox.EnvelopeSize)
	ids := map[byte]store.OutboxID{}
	for _, d := range []byte{3, 1, 2} {
		id, err := s.Enqueue(ctx, store.OutboxEntry{SendID: mailbox.MessageID{d}, To: to, Contact: cid, Envelope: env,
			NextAttempt: epoch.Add(time.Duration(d) * time.Minute), Created: epoch})
		if err != nil {
			t.Fatal(err)
		}
		ids[d] = id
	}
	order := func() []byte {
		t.Helper()
		es, err := s.Pending(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []byte
		for _, e := range es {
			out = append(out, e.SendID[0])
			if !bytes.Equal(e.Envelope, env) || e.To.Relay != to.Relay || !e.To.Sender.Equal(to.Sender) {
				t.Fatal("an outbox entry changed in the store")
			}
		}
		return out
	}
	if got := order(); string(got) != "\x01\x02\x03" {
		t.Fatalf("pending order %v, want due first", got)
	}
	if err := s.Postpone(ctx, ids[1], epoch.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := order(); string(got) != "\x02\x03\x01" {
		t.Fatalf("after postponing 1: %v", got)
	}
	es, _ := s.Pending(ctx, 10)
	if es[2].Attempts != 1 || !es[2].NextAttempt.Equal(epoch.Add(time.Hour)) {
		t.Fatalf("postponed entry: %d attempts, next %v", es[2].Attempts, es[2].NextAttempt)
	}
	if err := s.Dequeue(ctx, ids[2]); err != nil {
		t.Fatal(err)
	}
	if got := order(); string(got) != "\x03\x01" {
		t.Fatalf("after dequeuing 2: %v", got)
	}
	_, err := s.Enqueue(ctx, store.OutboxEntry{SendID: mailbox.MessageID{3}, To: to, Envelope: env, NextAttempt: epoch, Created: epoch})
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("a send ID enqueued twice: %v, want ErrExists", err)
	}
	if es, _ := s.Pending(ctx, 1); len(es) != 1 || es[0].SendID[0] != 3 {
		t.Fatal("Pending ignores its limit")
	}
}

// TestDeleteContactCascades removes a contact's target, history and outbox
// entries and leaves its queue (to be deleted at its relay) and every other
// contact alone.
func TestDeleteContactCascades(t *testing.T) {
	s, _, _ := tempStore(t)
	ctx := context.Background()
	alice, bob := addContact(t, s, "Alice"), addContact(t, s, "Bob")
	to := mailbox.QueueAddress{Relay: relayID(t, 5)}
	to.Sender, _ = mailbox.NewSenderID(nil)
	env := bytes.Repeat([]byte{1}, mailbox.EnvelopeSize)
	for i, cid := range []store.ContactID{alice, bob} {
		if err := s.SetTarget(ctx, cid, to); err != nil {
			t.Fatal(err)
		}
		addText(t, s, cid, byte(10+i), epoch)
		if _, err := s.Enqueue(ctx, store.OutboxEntry{SendID: mailbox.MessageID{byte(i + 1)}, To: to, Contact: cid,
			Envelope: env, NextAttempt: epoch, Created: epoch}); err != nil {
			t.Fatal(err)
		}
	}
	qid, other, second := addQueue(t, s), addQueue(t, s), addQueue(t, s)
	for _, q := range []store.QueueID{qid, second} {
		if err := s.SetQueueContact(ctx, q, alice); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetQueueContact(ctx, other, bob); err != nil {
		t.Fatal(err)
	}
	if ids, err := s.ContactQueues(ctx, alice); err != nil || len(ids) != 2 || ids[0] != qid || ids[1] != second {
		t.Fatalf("alice's queues: %v, %v; want [%d %d]", ids, err, qid, second)
	}
	if err := s.SetQueueContact(ctx, second, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteContact(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Contact(ctx, alice); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted contact: %v", err)
	}
	if _, err := s.Target(ctx, alice); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted contact's target: %v", err)
	}
	if ms, _ := s.History(ctx, alice, nil, 10); len(ms) != 0 {
		t.Errorf("deleted contact's history has %d messages", len(ms))
	}
	es, _ := s.Pending(ctx, 10)
	if len(es) != 1 || es[0].Contact != bob {
		t.Errorf("outbox after the delete: %d entries", len(es))
	}
	q, err := s.Queue(ctx, qid)
	if err != nil || q.Contact != 0 {
		t.Errorf("the contact's queue: %v, contact %d (want kept, with no contact)", err, q.Contact)
	}
	if ms, _ := s.History(ctx, bob, nil, 10); len(ms) != 1 {
		t.Error("another contact's history was touched")
	}
	if _, err := s.Target(ctx, bob); err != nil {
		t.Errorf("another contact's target: %v", err)
	}
}

func TestUpdateContact(t *testing.T) {
	s, _, _ := tempStore(t)
	ctx := context.Background()
	cid := addContact(t, s, "Alice")
	c, err := s.Contact(ctx, cid)
	if err != nil {
		t.Fatal(err)
	}
	c.Name, c.Verified, c.Blocked = "Alice W.", true, true
	if err := s.UpdateContact(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.Contact(ctx, cid)
	if err != nil || got.Name != "Alice W." || !got.Verified || !got.Blocked || !got.Identity.Equal(c.Identity) {
		t.Fatalf("updated contact read back as %+v, %v", got, err)
	}
}
