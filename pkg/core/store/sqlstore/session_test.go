// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/keychain"
	"github.com/hushchat/hush/pkg/core/session"
	"github.com/hushchat/hush/pkg/core/store"
)

// peer is one profile on a real store file.
type peer struct {
	path string
	key  *keychain.Key
	st   *Store
	m    *session.Manager
}

func newPeer(t *testing.T) *peer {
	t.Helper()
	p := &peer{path: filepath.Join(t.TempDir(), "hush.db"), key: newKey(t)}
	p.st = openAt(t, p.path, p.key)
	id, err := identity.Generate(nil)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := session.NewRegistrationID()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.st.SetLocalIdentity(context.Background(), id, reg); err != nil {
		t.Fatal(err)
	}
	if err := p.st.SetLocalIdentity(context.Background(), id, reg); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second SetLocalIdentity: err = %v, want ErrExists", err)
	}
	p.reopen(t)
	t.Cleanup(func() { p.st.Close() })
	return p
}

// reopen closes the store and opens it again with a new Manager.
func (p *peer) reopen(t *testing.T) {
	t.Helper()
	if err := p.st.Close(); err != nil {
		t.Fatal(err)
	}
	p.st = openAt(t, p.path, p.key)
	m, err := session.New(context.Background(), p.st)
	if err != nil {
		t.Fatal(err)
	}
	p.m = m
}

func send(t *testing.T, from, to *peer, fromName, toName session.Address, text string) {
	t.Helper()
	ctx := context.Background()
	c, err := from.m.Encrypt(ctx, toName, []byte(text))
	if err != nil {
		t.Fatalf("encrypt %q: %v", text, err)
	}
	pt, err := to.m.Decrypt(ctx, fromName, c)
	if err != nil {
		t.Fatalf("decrypt %q: %v", text, err)
	}
	if string(pt) != text {
		t.Fatalf("decrypted %q, want %q", pt, text)
	}
}

// TestSessionConformance runs a real session over two SQLCipher stores,
// as pkg/core/session's tests do over memstore, closing and reopening
// both stores half way.
func TestSessionConformance(t *testing.T) {
	ctx := context.Background()
	alice, bob := newPeer(t), newPeer(t)
	b, err := alice.m.NewBundle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := bob.m.Initiate(ctx, "alice", b); err != nil {
		t.Fatal(err)
	}
	send(t, bob, alice, "bob", "alice", "hello")
	if _, err := alice.st.LoadPreKey(ctx, b.OneTimePreKey.ID); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("one-time prekey after use: err = %v, want session.ErrNotFound", err)
	}
	for i := range 100 {
		if i == 50 {
			alice.reopen(t)
			bob.reopen(t)
		}
		send(t, alice, bob, "alice", "bob", fmt.Sprintf("a→b %d", i))
		send(t, bob, alice, "bob", "alice", fmt.Sprintf("b→a %d", i))
		if i%7 == 0 { // several in a row from one side
			send(t, alice, bob, "alice", "bob", fmt.Sprintf("a→b extra %d", i))
		}
	}
	got, err := alice.st.RemoteIdentity(ctx, "bob")
	if err != nil || !got.Equal(bob.m.Identity()) {
		t.Fatalf("alice's trusted key for bob = %v, %v", got, err)
	}
}

// TestTransactRollback: a Decrypt that fails inside an outer Transact
// leaves nothing the transaction wrote, and the redelivery ledger is
// part of the transaction.
func TestTransactRollback(t *testing.T) {
	ctx := context.Background()
	alice, bob := newPeer(t), newPeer(t)
	b, err := alice.m.NewBundle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := bob.m.Initiate(ctx, "alice", b); err != nil {
		t.Fatal(err)
	}
	send(t, bob, alice, "bob", "alice", "hello")
	send(t, alice, bob, "alice", "bob", "hi") // bob's next message is a plain ratchet message
	cid := addContact(t, alice.st, "bob")
	c, err := bob.m.Encrypt(ctx, "alice", []byte("second"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Type != session.TypeMessage {
		t.Fatalf("message type = %v, want %v", c.Type, session.TypeMessage)
	}
	bad := session.Ciphertext{Type: c.Type, Body: append([]byte(nil), c.Body...)}
	bad.Body[len(bad.Body)-1] ^= 1 // the MAC
	h := store.HashEnvelope(bad.Body)
	receive := func(ct session.Ciphertext) (dup bool, err error) {
		err = alice.st.Transact(ctx, func(ctx context.Context) error {
			if dup, err = alice.st.MarkProcessed(ctx, store.HashEnvelope(ct.Body), time.Now()); err != nil || dup {
				return err
			}
			pt, err := alice.m.Decrypt(ctx, "bob", ct)
			if err != nil {
				return err
			}
			return alice.st.AddMessage(ctx, store.Message{ID: content.ID{byte(len(pt))}, Contact: cid, Direction: store.Incoming,
				ReceivedAt: time.Now(), Kind: store.KindText, Body: pt, State: store.Arrived})
		})
		return dup, err
	}
	sessBefore, _ := alice.st.LoadSession(ctx, "bob")
	if _, err := receive(bad); !errors.Is(err, session.ErrDecrypt) {
		t.Fatalf("tampered message: err = %v, want session.ErrDecrypt", err)
	}
	sessAfter, _ := alice.st.LoadSession(ctx, "bob")
	if string(sessBefore) != string(sessAfter) {
		t.Error("a failed Decrypt changed the session")
	}
	if dup, err := alice.st.MarkProcessed(ctx, h, time.Now()); err != nil || dup {
		t.Fatalf("the rolled-back mark survived: dup = %v, %v", dup, err)
	}
	for i, wantDup := range []bool{false, true} { // then the same envelope again
		dup, err := receive(c)
		if err != nil || dup != wantDup {
			t.Fatalf("delivery %d: dup = %v, %v; want %v", i+1, dup, err, wantDup)
		}
	}
	hist, err := alice.st.History(ctx, cid, nil, 10)
	if err != nil || len(hist) != 1 || string(hist[0].Body) != "second" {
		t.Fatalf("history = %v, %v; want the one message", hist, err)
	}
}

func TestNestedTransact(t *testing.T) {
	ctx := context.Background()
	s, _, _ := tempStore(t)
	inner := errors.New("inner fails")
	err := s.Transact(ctx, func(ctx context.Context) error {
		if err := s.SetSetting(ctx, "outer", []byte("1")); err != nil {
			return err
		}
		if err := s.Transact(ctx, func(ctx context.Context) error {
			if err := s.SetSetting(ctx, "inner", []byte("2")); err != nil {
				return err
			}
			return inner
		}); !errors.Is(err, inner) {
			return fmt.Errorf("inner Transact: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.Setting(ctx, "outer"); err != nil || string(v) != "1" {
		t.Errorf("outer setting = %q, %v", v, err)
	}
	if _, err := s.Setting(ctx, "inner"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("inner setting after its Transact failed: err = %v, want ErrNotFound", err)
	}
}
