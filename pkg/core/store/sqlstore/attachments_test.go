// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

package sqlstore

import (
	"context"
	"errors"
	"fmt"
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

// addIncoming adds a received text message with an attachment in state st.
func addIncoming(t *testing.T, s *Store, cid store.ContactID, id byte, at time.Time, st store.TransferState) {
	t.Helper()
	ctx := context.Background()
	m := store.Message{ID: content.ID{id}, Contact: cid, Direction: store.Incoming, SentAt: at, ReceivedAt: at,
		Kind: store.KindText, Body: []byte{'m', id}, State: store.Arrived}
	if err := s.AddMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	a := store.Attachment{Contact: cid, Message: m.ID, Direction: store.Incoming, State: st, File: fmt.Sprintf("in%d", id)}
	if err := s.AddAttachment(ctx, a); err != nil {
		t.Fatal(err)
	}
}

// TestUnsaved: the downloaded attachments never saved, oldest message
// first; saving one takes it off the list.
func TestUnsaved(t *testing.T) {
	s, _, _ := tempStore(t)
	ctx := context.Background()
	alice, bob := addContact(t, s, "Alice"), addContact(t, s, "Bob")
	addIncoming(t, s, alice, 1, epoch.Add(2*time.Second), store.Downloaded)
	addIncoming(t, s, bob, 2, epoch.Add(time.Second), store.Downloaded)
	addIncoming(t, s, alice, 3, epoch, store.Downloading)
	addText(t, s, alice, 4, epoch)
	addAttachment(t, s, alice, 4, "out4", store.Uploaded, epoch)
	files := func() []string {
		t.Helper()
		list, err := s.Unsaved(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range list {
			out = append(out, a.File)
		}
		return out
	}
	if got := files(); !slices.Equal(got, []string{"in2", "in1"}) {
		t.Fatalf("unsaved = %q, want in2 (older) then in1", got)
	}
	if err := s.MarkSaved(ctx, bob, content.ID{2}); err != nil {
		t.Fatal(err)
	}
	if got := files(); !slices.Equal(got, []string{"in1"}) {
		t.Fatalf("unsaved after saving in2 = %q, want in1", got)
	}
	if a, err := s.Attachment(ctx, bob, content.ID{2}); err != nil || !a.Saved {
		t.Fatalf("saved attachment read back as %+v, %v", a, err)
	}
	if err := s.MarkSaved(ctx, bob, content.ID{9}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("MarkSaved of no attachment: %v, want ErrNotFound", err)
	}
	if _, err := s.Unsaved(ctx, 0); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("Unsaved(0): %v, want ErrInvalid", err)
	}
}

// TestMigrationSavedBefore: schema 4 counts the attachments downloaded
// under schema 3 as saved, and only those.
func TestMigrationSavedBefore(t *testing.T) {
	s, p, k := tempStore(t)
	ctx := context.Background()
	alice := addContact(t, s, "Alice")
	addIncoming(t, s, alice, 1, epoch, store.Downloaded)
	addIncoming(t, s, alice, 2, epoch, store.Downloading)
	// Back to schema 3, but for a column out of the way (this SQLite
	// cannot drop one).
	for _, q := range []string{
		"DROP INDEX attachments_unsaved",
		"ALTER TABLE attachments RENAME COLUMN saved TO saved_before",
		"DELETE FROM schema_version WHERE version = 4",
	} {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s.Close()
	s = openAt(t, p, k)
	defer s.Close()
	a1, err1 := s.Attachment(ctx, alice, content.ID{1})
	a2, err2 := s.Attachment(ctx, alice, content.ID{2})
	if err1 != nil || err2 != nil || !a1.Saved || a2.Saved {
		t.Fatalf("after the migration: downloaded %+v (%v), downloading %+v (%v); want only the first saved", a1, err1, a2, err2)
	}
}
