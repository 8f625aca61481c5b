// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

package sqlstore

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/store"
)

func addAttachment(t *testing.T, s *Store, cid store.ContactID, id byte, file string, st store.TransferState, next time.Time) store.Attachment {
	t.Helper()
	a := store.Attachment{Contact: cid, Message: content.ID{id}, Direction: store.Outgoing, State: st, File: file, NextAttempt: next}
	if err := s.AddAttachment(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAttachmentRoundTrip(t *testing.T) {
	s, _, _ := tempStore(t)
	ctx := context.Background()
	alice := addContact(t, s, "Alice")
	// An attachment needs its message.
	err := s.AddAttachment(ctx, store.Attachment{Contact: alice, Message: content.ID{1}, Direction: store.Outgoing, State: store.Uploading, File: "f1"})
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("attachment without a message: err = %v, want ErrExists (no such message)", err)
	}
	for i := byte(1); i <= 4; i++ {
		addText(t, s, alice, i, epoch)
	}
	addAttachment(t, s, alice, 1, "f1", store.Uploading, epoch.Add(3*time.Second))
	addAttachment(t, s, alice, 2, "f2", store.Downloading, epoch.Add(time.Second))
	addAttachment(t, s, alice, 3, "f3", store.Downloaded, epoch)
	if err := s.AddAttachment(ctx, store.Attachment{Contact: alice, Message: content.ID{4}, Direction: store.Incoming, State: store.Downloading, File: "f1"}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("a second attachment on one file: err = %v, want ErrExists", err)
	}
	if err := s.AddAttachment(ctx, store.Attachment{Contact: alice, Message: content.ID{4}, Direction: store.Incoming, State: 9, File: "f4"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("state 9: err = %v, want ErrInvalid", err)
	}

	a, err := s.Attachment(ctx, alice, content.ID{1})
	if err != nil || a.File != "f1" || a.State != store.Uploading || a.Direction != store.Outgoing || !a.NextAttempt.Equal(epoch.Add(3*time.Second)) {
		t.Fatalf("attachment read back as %+v, %v", a, err)
	}
	a.State, a.Done, a.Attempts, a.Err, a.NextAttempt = store.Uploading, 77, 2, "relay down", epoch.Add(time.Minute).UTC()
	if err := s.UpdateAttachment(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Attachment(ctx, alice, content.ID{1}); err != nil || got != a {
		t.Fatalf("updated attachment read back as %+v, %v; want %+v", got, err, a)
	}
	if _, err := s.Attachment(ctx, alice, content.ID{4}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing attachment: err = %v", err)
	}

	// Transfers lists uploads and downloads in progress, due first.
	ts, err := s.Transfers(ctx, 10)
	if err != nil || len(ts) != 2 || ts[0].File != "f2" || ts[1].File != "f1" {
		t.Fatalf("transfers = %+v, %v; want f2 then f1", ts, err)
	}
	files, err := s.AttachmentFiles(ctx)
	slices.Sort(files)
	if err != nil || !slices.Equal(files, []string{"f1", "f2", "f3"}) {
		t.Fatalf("files = %q, %v", files, err)
	}
	// Deleting the contact deletes its messages and their attachments.
	if err := s.DeleteContact(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if files, err := s.AttachmentFiles(ctx); err != nil || len(files) != 0 {
		t.Fatalf("files after the contact's removal = %q, %v", files, err)
	}
}

func TestExpire(t *testing.T) {
	s, _, _ := tempStore(t)
	ctx := context.Background()
	alice, bob := addContact(t, s, "Alice"), addContact(t, s, "Bob")
	add := func(cid store.ContactID, id byte, at, expires time.Time, pinned bool) {
		t.Helper()
		m := store.Message{ID: content.ID{id}, Contact: cid, Direction: store.Incoming, SentAt: at, ReceivedAt: at,
			Kind: store.KindFile, Body: []byte{'m', id}, State: store.Arrived, Pinned: pinned, Expires: expires}
		if err := s.AddMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	never := time.Time{}
	// Alice: a disappearing timer on two messages (one pinned), none on a third.
	add(alice, 1, epoch, epoch.Add(time.Hour), false)
	add(alice, 2, epoch, epoch.Add(time.Hour), true)
	add(alice, 3, epoch, never, false)
	add(alice, 4, epoch, epoch.Add(2*time.Hour), false)
	addAttachment(t, s, alice, 1, "a1", store.Downloaded, epoch)
	addAttachment(t, s, alice, 2, "a2", store.Downloaded, epoch)
	addAttachment(t, s, alice, 3, "a3", store.Downloaded, epoch)
	// Bob: local retention of a day; an old pinned and an old unpinned
	// message, and a recent one.
	add(bob, 1, epoch.Add(-48*time.Hour), never, true)
	add(bob, 2, epoch.Add(-48*time.Hour), never, false)
	add(bob, 3, epoch, never, false)
	addAttachment(t, s, bob, 2, "b2", store.Downloaded, epoch)
	c, err := s.Contact(ctx, bob)
	if err != nil {
		t.Fatal(err)
	}
	c.Retention = 24 * time.Hour
	if err := s.UpdateContact(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Contact(ctx, bob); err != nil || got.Retention != 24*time.Hour || got.Disappear != 0 || !got.DisappearChanged.IsZero() {
		t.Fatalf("contact timers read back as %+v, %v", got, err)
	}
	ca, err := s.Contact(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	ca.Disappear, ca.DisappearChanged = 90*time.Second, epoch.Add(-time.Minute)
	if err := s.UpdateContact(ctx, ca); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Contact(ctx, alice); err != nil || got.Disappear != 90*time.Second || !got.DisappearChanged.Equal(epoch.Add(-time.Minute)) {
		t.Fatalf("alice's timer read back as %+v, %v", got, err)
	}

	next, ok, err := s.NextExpiry(ctx)
	if err != nil || !ok || !next.Equal(epoch.Add(time.Hour)) {
		t.Fatalf("NextExpiry = %v, %v, %v; want %v", next, ok, err, epoch.Add(time.Hour))
	}
	got, err := s.Expire(ctx, epoch.Add(time.Hour))
	slices.Sort(got.Files)
	if err != nil || got.Messages != 3 || !slices.Equal(got.Files, []string{"a1", "a2", "b2"}) {
		t.Fatalf("Expire = %+v, %v; want 3 messages, files a1 a2 b2", got, err)
	}
	left := func(cid store.ContactID) (ids []byte) {
		ms, err := s.History(ctx, cid, nil, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			ids = append(ids, m.ID[0])
		}
		slices.Sort(ids)
		return ids
	}
	// The disappearing timer removes pinned messages too; retention keeps them.
	if a, b := left(alice), left(bob); !slices.Equal(a, []byte{3, 4}) || !slices.Equal(b, []byte{1, 3}) {
		t.Fatalf("left: Alice %v, Bob %v; want [3 4], [1 3]", a, b)
	}
	if files, _ := s.AttachmentFiles(ctx); !slices.Equal(files, []string{"a3"}) {
		t.Fatalf("files left = %q, want a3", files)
	}
	next, ok, err = s.NextExpiry(ctx)
	if err != nil || !ok || !next.Equal(epoch.Add(2*time.Hour)) {
		t.Fatalf("NextExpiry after = %v, %v, %v", next, ok, err)
	}
	if got, err := s.Expire(ctx, epoch.Add(time.Hour)); err != nil || got.Messages != 0 || len(got.Files) != 0 {
		t.Fatalf("second Expire = %+v, %v; want nothing", got, err)
	}
}
