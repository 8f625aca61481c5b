// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/core"
	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/keychain"
	"github.com/hushchat/hush/pkg/core/store"
	"github.com/hushchat/hush/pkg/core/store/sqlstore"
	"github.com/hushchat/hush/pkg/onion"
)

// noNetwork is a core.Network that reaches nothing: the tests here use
// only what the store answers.
type noNetwork struct{}

var errNoNetwork = errors.New("test: no network")

func (noNetwork) Ask(context.Context, onion.RelayID, []byte) ([]byte, error) {
	return nil, errNoNetwork
}
func (noNetwork) Refresh(context.Context) error { return errNoNetwork }
func (noNetwork) RandomRelay(...onion.RelayID) (onion.RelayID, error) {
	return onion.RelayID{}, errNoNetwork
}

// testClient opens a client on a fresh store with the given contacts.
func testClient(t *testing.T, contacts ...string) *core.Client {
	t.Helper()
	c, _ := testClientStore(t, contacts...)
	return c
}

// testClientStore is testClient that also returns the store, to put
// messages in it directly; the contacts are #1, #2 … in order.
func testClientStore(t *testing.T, contacts ...string) (*core.Client, store.Store) {
	t.Helper()
	ctx := t.Context()
	k, err := keychain.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "hush.db"), k)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := core.Init(ctx, st, "me"); err != nil {
		t.Fatal(err)
	}
	for _, name := range contacts {
		key, err := identity.Generate(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.AddContact(ctx, store.Contact{Name: name, Identity: key.Public(), Created: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	c, err := core.New(ctx, st, core.Options{Network: noNetwork{}, AttachmentDir: filepath.Join(t.TempDir(), "attachments")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, st
}

// runAction parses and runs a command on c as the CLI would.
func runAction(t *testing.T, c *core.Client, args ...string) (string, string, error) {
	t.Helper()
	cmd := lookup(args[0])
	act, err := cmd.parse(cmd, args[1:])
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	var stdout, stderr bytes.Buffer
	err = act(t.Context(), &env{client: c, stdout: &stdout, stderr: &stderr, now: time.Now, loc: time.UTC})
	return stdout.String(), stderr.String(), err
}

func TestContactNames(t *testing.T) {
	c := testClient(t, "alice", "alfred", "bob")
	for _, tc := range []struct {
		name    string
		wantErr error
		hint    string
	}{
		{"bob", nil, ""},
		{"b", nil, ""},
		{"#3", nil, ""},
		{"carol", core.ErrNoContact, `"hush contacts" lists them`},
		{"al", core.ErrAmbiguousName, "#N"},
	} {
		_, _, err := runAction(t, c, "history", tc.name)
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("%q: %v, want %v", tc.name, err, tc.wantErr)
			continue
		}
		if err == nil {
			continue
		}
		var buf bytes.Buffer
		if code := report(&buf, err); code != exitError || !strings.Contains(buf.String(), tc.hint) ||
			strings.Contains(buf.String(), "core:") {
			t.Errorf("%q: exit %d, report %q", tc.name, code, buf.String())
		}
	}
}

func TestContactsTable(t *testing.T) {
	c := testClient(t, "alice", "bob\x1b[31m")
	out, _, err := runAction(t, c, "contacts")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("table:\n%s", out)
	}
	if !strings.HasPrefix(lines[0], "#  NAME") || !strings.Contains(lines[0], "VERIFIED  BLOCKED  PENDING") {
		t.Errorf("header %q", lines[0])
	}
	if f := strings.Fields(lines[1]); len(f) != 6 || f[0] != "1" || f[1] != "alice" || !strings.HasPrefix(f[2], "hushid:") ||
		f[3] != "no" || f[4] != "no" || f[5] != "no" {
		t.Errorf("row %q", lines[1])
	}
	if strings.Contains(out, "\x1b") || !strings.Contains(lines[2], `bob\u001b[31m`) {
		t.Errorf("escape sequence not neutralised: %q", lines[2])
	}
}

func TestEmptyHistoryAndContacts(t *testing.T) {
	c := testClient(t, "alice")
	out, stderr, err := runAction(t, c, "history", "alice")
	if err != nil || out != "" || stderr != "hush: hint: no messages with alice yet\n" {
		t.Errorf("history: %v %q %q", err, out, stderr)
	}
	c = testClient(t)
	out, stderr, err = runAction(t, c, "contacts")
	if err != nil || out != "" || !strings.HasPrefix(stderr, "hush: hint: no contacts yet") {
		t.Errorf("contacts: %v %q %q", err, out, stderr)
	}
}

func TestVerifyOutput(t *testing.T) {
	c := testClient(t, "alice")
	out, stderr, err := runAction(t, c, "verify", "alice")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out, "\n")
	if len(lines) != 5 || lines[0] != "safety number with alice:" {
		t.Fatalf("verify:\n%s", out)
	}
	for _, l := range lines[1:4] {
		if f := strings.Fields(l); len(f) != 4 || len(f[0]) != 5 {
			t.Errorf("line %q", l)
		}
	}
	if !strings.Contains(stderr, `hush verify --confirm alice`) {
		t.Errorf("stderr %q", stderr)
	}
	if out, _, err := runAction(t, c, "verify", "--confirm", "alice"); err != nil || out != "alice is now verified\n" {
		t.Errorf("confirm: %v %q", err, out)
	}
	out, _, _ = runAction(t, c, "contacts")
	if f := strings.Fields(strings.Split(out, "\n")[1]); f[3] != "yes" {
		t.Errorf("not verified: %q", out)
	}
}

func TestSendToPendingOrUnknown(t *testing.T) {
	c := testClient(t, "alice")
	// alice has no queue to send to: the core refuses before queueing.
	_, _, err := runAction(t, c, "send", "--no-wait", "alice", "hi")
	if err == nil {
		t.Fatal("send without a queue succeeded")
	}
	if _, _, err := runAction(t, c, "send", "carol", "hi"); !errors.Is(err, core.ErrNoContact) {
		t.Errorf("send to carol: %v", err)
	}
}

func TestIdentityWithoutChange(t *testing.T) {
	c := testClient(t, "alice")
	_, _, err := runAction(t, c, "identity", "accept", "alice")
	if !errors.Is(err, core.ErrNoIdentityChange) {
		t.Errorf("identity accept: %v", err)
	}
}
