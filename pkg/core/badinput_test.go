// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

package core

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/core/invite"
	"github.com/hushchat/hush/pkg/core/store/sqlstore"
	"github.com/hushchat/hush/pkg/onion/relaynet"
)

// TestBadInput: each bad input gets its own clear error and changes
// nothing in the profile.
func TestBadInput(t *testing.T) {
	tn := startNet(t)
	alice := tn.newUser(t, "alice", nil)
	bob := tn.newUser(t, "bob", nil)
	ctx := context.Background()
	inv, err := alice.c.CreateInvitation(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	queuesBefore, _ := bob.c.st.ListQueues(ctx)

	for _, tc := range []struct {
		name, link string
		want       error
	}{
		{"not a link", "https://example.org", invite.ErrNotInvitation},
		{"truncated", inv.Link[:len(inv.Link)/2], invite.ErrTruncated},
		{"tampered", inv.Link[:100] + flip(inv.Link[100]) + inv.Link[101:], invite.ErrTampered},
	} {
		_, err := bob.c.AcceptInvitation(ctx, tc.link)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := alice.c.AcceptInvitation(ctx, inv.Link); !errors.Is(err, invite.ErrOwnInvitation) {
		t.Errorf("own invitation: %v", err)
	}
	if _, err := bob.c.FindContact(ctx, "nobody"); !errors.Is(err, ErrNoContact) {
		t.Errorf("unknown contact: %v", err)
	}
	if _, err := bob.c.SendText(ctx, 42, "hello?"); !errors.Is(err, ErrNoContact) {
		t.Errorf("send to an unknown contact: %v", err)
	}
	if list, _ := bob.c.Contacts(ctx); len(list) != 0 {
		t.Errorf("bob has contacts after refusals: %+v", list)
	}
	if q, _ := bob.c.st.ListQueues(ctx); len(q) != len(queuesBefore) {
		t.Errorf("bob has %d queues after refusals, had %d", len(q), len(queuesBefore))
	}

	// A clock far behind: the invitation was made "in the future".
	tn.now = func() time.Time { return time.Now().Add(-48 * time.Hour) }
	skewed := tn.newUser(t, "skewed", nil)
	tn.now = nil
	if _, err := skewed.c.AcceptInvitation(ctx, inv.Link); !errors.Is(err, invite.ErrNotYetValid) {
		t.Errorf("clock far off: %v", err)
	}
}

func flip(b byte) string {
	if b == 'A' {
		return "B"
	}
	return "A"
}

// TestNoReachableRelay: with a network file whose relays are all down,
// making an invitation fails with one line naming the problem, and the
// profile keeps no queue.
func TestNoReachableRelay(t *testing.T) {
	tn := startNet(t)
	u := tn.newUser(t, "alice", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := tn.net.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := u.c.CreateInvitation(ctx, time.Hour)
	if !errors.Is(err, relaynet.ErrUnreachable) {
		t.Fatalf("got %v, want ErrUnreachable", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("the error is not one line: %q", err)
	}
	if q, _ := u.c.st.ListQueues(ctx); len(q) != 0 {
		t.Errorf("%d queues kept", len(q))
	}
}

// TestWrongPassphrase: opening a passphrase profile with the wrong
// passphrase is refused and leaves the store file as it was.
func TestWrongPassphrase(t *testing.T) {
	tn := startNet(t)
	tn.passphrase = []byte("the right one")
	u := tn.newUser(t, "alice", nil)
	u.stop()
	path := filepath.Join(u.dir, StoreFile)
	before := fileHash(t, path)
	o := tn.opts(u.dir, nil)
	o.Passphrase = func() ([]byte, error) { return []byte("a wrong one"), nil }
	_, _, err := OpenProfile(context.Background(), o)
	if !errors.Is(err, sqlstore.ErrWrongKey) {
		t.Fatalf("got %v, want ErrWrongKey", err)
	}
	if !bytes.Equal(before, fileHash(t, path)) {
		t.Fatal("the store file changed")
	}
	if _, _, err := OpenProfile(context.Background(), ProfileOptions{Dir: t.TempDir()}); !errors.Is(err, ErrNoProfile) {
		t.Fatalf("empty directory: %v", err)
	}
}

func fileHash(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return h[:]
}
