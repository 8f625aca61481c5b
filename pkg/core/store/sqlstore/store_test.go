// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

package sqlstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/invite"
	"github.com/hushchat/hush/pkg/core/keychain"
	"github.com/hushchat/hush/pkg/core/store"
	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/path"
)

func newKey(t testing.TB) *keychain.Key {
	t.Helper()
	k, err := keychain.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func openAt(t testing.TB, p string, k *keychain.Key) *Store {
	t.Helper()
	s, err := Open(context.Background(), p, k)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// tempStore opens a new store and closes it at the end of the test.
func tempStore(t testing.TB) (*Store, string, *keychain.Key) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "hush.db")
	k := newKey(t)
	s := openAt(t, p, k)
	t.Cleanup(func() { s.Close() })
	return s, p, k
}

func relayID(t testing.TB, b byte) onion.RelayID {
	t.Helper()
	id, err := onion.NewRelayID(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func addContact(t testing.TB, s *Store, name string) store.ContactID {
	t.Helper()
	id, err := identity.Generate(nil)
	if err != nil {
		t.Fatal(err)
	}
	cid, err := s.AddContact(context.Background(), store.Contact{Name: name, Identity: id.Public(), Created: time.UnixMilli(1_700_000_000_000)})
	if err != nil {
		t.Fatal(err)
	}
	return cid
}

func TestNoPlaintextCanary(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "hush.db")
	k := newKey(t)
	s := openAt(t, p, k)
	const name, body = "canary-name-b41c9e", "canary-7f3a5d2e-message-body"
	cid := addContact(t, s, name)
	msg := store.Message{ID: content.ID{1}, Contact: cid, Direction: store.Outgoing, SentAt: time.Now(),
		Kind: store.KindText, Body: []byte(body), State: store.Pending}
	if err := s.AddMessage(ctx, msg); err != nil {
		t.Fatal(err)
	}
	// Read the files while the WAL still holds the writes, then again
	// after Close checkpointed them into the database.
	check := func(when string) {
		for _, f := range []string{p, p + "-wal"} {
			b, err := os.ReadFile(f)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []string{name, body, "CREATE TABLE", "SQLite format"} {
				if bytes.Contains(b, []byte(c)) {
					t.Errorf("%s: %s contains %q in plaintext", when, filepath.Base(f), c)
				}
			}
		}
	}
	check("open")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check("closed")
	s = openAt(t, p, k)
	defer s.Close()
	got, err := s.Message(ctx, cid, msg.ID)
	if err != nil || string(got.Body) != body {
		t.Fatalf("message after reopen = %q, %v; want the canary", got.Body, err)
	}
}

func fileHash(t *testing.T, p string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestWrongKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "hush.db")
	k := newKey(t)
	s := openAt(t, p, k)
	addContact(t, s, "someone")
	s.Close()
	before := fileHash(t, p)
	_, err := Open(context.Background(), p, newKey(t))
	if !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Open with a wrong key: err = %v, want ErrWrongKey", err)
	}
	if fileHash(t, p) != before {
		t.Error("a refused Open changed the file")
	}
	s = openAt(t, p, k) // the failed Open released the lock
	defer s.Close()
	if cs, err := s.ListContacts(context.Background()); err != nil || len(cs) != 1 {
		t.Fatalf("contacts after reopen = %d, %v; want 1", len(cs), err)
	}
}

func TestWrongKeyNewFileRemoved(t *testing.T) {
	// A file that is not a database is refused and left alone.
	p := filepath.Join(t.TempDir(), "hush.db")
	junk := bytes.Repeat([]byte("not a database "), 512)
	if err := os.WriteFile(p, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), p, newKey(t)); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Open of a non-database: err = %v, want ErrWrongKey", err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, junk) {
		t.Error("Open changed a file it refused")
	}
}

func TestMigrationsOnce(t *testing.T) {
	ctx := context.Background()
	_, p, k := tempStore(t)
	read := func(s *Store) (n int, applied int64) {
		t.Helper()
		if err := s.db.QueryRowContext(ctx, "SELECT count(*), max(applied) FROM schema_version").Scan(&n, &applied); err != nil {
			t.Fatal(err)
		}
		return n, applied
	}
	s2 := openAt(t, filepath.Join(filepath.Dir(p), "other.db"), k)
	n1, a1 := read(s2)
	s2.Close()
	if n1 != SchemaVersion() || n1 < 1 {
		t.Fatalf("schema_version has %d rows, want %d", n1, SchemaVersion())
	}
	time.Sleep(2 * time.Millisecond)
	s2 = openAt(t, filepath.Join(filepath.Dir(p), "other.db"), k)
	defer s2.Close()
	if n2, a2 := read(s2); n2 != n1 || a2 != a1 {
		t.Fatalf("after reopen: %d rows applied at %d, want %d at %d (reapplied)", n2, a2, n1, a1)
	}
	if _, err := s2.db.ExecContext(ctx, "INSERT INTO schema_version VALUES (?, 'future.sql', 0)", n1+1); err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if _, err := Open(ctx, filepath.Join(filepath.Dir(p), "other.db"), k); !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open of a newer schema: err = %v, want ErrNewerSchema", err)
	}
}

func TestLockSameProcess(t *testing.T) {
	_, p, k := tempStore(t)
	if _, err := Open(context.Background(), p, k); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: err = %v, want ErrLocked", err)
	}
}

// TestLockHelper is the child process of TestLockChildProcess.
func TestLockHelper(t *testing.T) {
	p := os.Getenv("HUSH_SQLSTORE_LOCK_PATH")
	if p == "" {
		t.Skip("helper process of TestLockChildProcess")
	}
	_, err := Open(context.Background(), p, newKey(t))
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("child Open: err = %v, want ErrLocked", err)
	}
}

func TestLockChildProcess(t *testing.T) {
	_, p, _ := tempStore(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "HUSH_SQLSTORE_LOCK_PATH="+p)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child process: %v\n%s", err, out)
	}
}

func TestNextCounterDurable(t *testing.T) {
	ctx := context.Background()
	s, p, k := tempStore(t)
	q, err := mailbox.NewQueue(relayID(t, 7), false)
	if err != nil {
		t.Fatal(err)
	}
	q.Counter = 41
	qid, err := s.AddQueue(ctx, store.OwnQueue{Queue: q})
	if err != nil {
		t.Fatal(err)
	}
	for want := uint64(42); want < 45; want++ {
		if got, err := s.NextCounter(ctx, qid, 1); err != nil || got != want {
			t.Fatalf("NextCounter = %d, %v; want %d", got, err, want)
		}
	}
	s.Close()
	s = openAt(t, p, k)
	defer s.Close()
	if got, err := s.NextCounter(ctx, qid, 1); err != nil || got != 45 {
		t.Fatalf("NextCounter after reopen = %d, %v; want 45", got, err)
	}
	back, err := s.Queue(ctx, qid)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Queue.Auth.Equal(q.Auth) || !back.Queue.Sender.Equal(q.Sender) || !back.Queue.Recipient.Equal(q.Recipient) || back.Queue.Counter != 45 {
		t.Error("queue read back differs from the one stored")
	}
	if _, err := s.NextCounter(ctx, qid+100, 1); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("NextCounter of a missing queue: err = %v, want ErrNotFound", err)
	}
}

func TestLedgerAtomic(t *testing.T) {
	ctx := context.Background()
	s, _, _ := tempStore(t)
	id := invite.ID{9, 9, 9}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = s.RecordAccepted(ctx, id, time.Now().Add(time.Hour)) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, invite.ErrAlreadyAccepted):
			t.Errorf("RecordAccepted: unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent RecordAccepted succeeded, want 1", ok, n)
	}
	if seen, err := s.Accepted(ctx, id); err != nil || !seen {
		t.Errorf("Accepted = %v, %v; want true", seen, err)
	}
	if seen, _ := s.Accepted(ctx, invite.ID{1}); seen {
		t.Error("Accepted of another ID = true")
	}
}

func TestGuardsRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _, _ := tempStore(t)
	if g, err := s.LoadGuards(ctx); err != nil || len(g) != 0 {
		t.Fatalf("LoadGuards of a new store = %v, %v", g, err)
	}
	want := []path.Guard{{ID: relayID(t, 2), Added: time.UnixMilli(1_700_000_000_123).UTC()}, {ID: relayID(t, 1), Added: time.UnixMilli(1_700_000_500_000).UTC()}}
	for range 2 { // saving replaces
		if err := s.SaveGuards(ctx, want); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.LoadGuards(ctx)
	if err != nil || len(got) != 2 || got[0].ID != want[0].ID || got[1].ID != want[1].ID || !got[0].Added.Equal(want[0].Added) {
		t.Fatalf("LoadGuards = %v, %v; want %v", got, err, want)
	}
}

func TestRekey(t *testing.T) {
	ctx := context.Background()
	p := filepath.Join(t.TempDir(), "hush.db")
	old, next := newKey(t), newKey(t)
	s := openAt(t, p, old)
	addContact(t, s, "kept")
	if err := s.Rekey(ctx, next); err != nil {
		t.Fatal(err)
	}
	addContact(t, s, "after rekey")
	s.Close()
	if _, err := Open(ctx, p, old); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Open with the old key: err = %v, want ErrWrongKey", err)
	}
	s = openAt(t, p, next)
	defer s.Close()
	if cs, err := s.ListContacts(ctx); err != nil || len(cs) != 2 {
		t.Fatalf("contacts after rekey = %d, %v; want 2", len(cs), err)
	}
}

func addQueue(t testing.TB, s *Store) store.QueueID {
	t.Helper()
	q, err := mailbox.NewQueue(relayID(t, 3), false)
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.AddQueue(context.Background(), store.OwnQueue{Queue: q})
	if err != nil {
		t.Fatal(err)
	}
	return id
}
