// SPDX-License-Identifier: AGPL-3.0-or-later

package session_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/libsignal/keys/prekey"
	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/serialize"
	lsession "go.mau.fi/libsignal/session"
	ltests "go.mau.fi/libsignal/tests"
	"go.mau.fi/libsignal/util/keyhelper"
	"go.mau.fi/libsignal/util/optional"

	"github.com/hushchat/hush/pkg/core/session"
)

// TestInvitationStartsOneSession shows an invitation's bundle starts one
// session only: once the one-time prekey is used, neither a replay of the
// first message at another address nor a session built on the signed
// prekey alone (made with the library directly, as an attacker holding
// the link would) gets through.
func TestInvitationStartsOneSession(t *testing.T) {
	ctx := context.Background()
	alice, bob := newPeer(t), newPeer(t)
	b := mustBundle(t, alice)
	if err := bob.m.Initiate(ctx, "alice", b); err != nil {
		t.Fatal(err)
	}
	first, _ := bob.m.Encrypt(ctx, "alice", []byte("hello"))
	if _, err := alice.m.Decrypt(ctx, "bob", first); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.m.Decrypt(ctx, "bob-again", first); !errors.Is(err, session.ErrDecrypt) {
		t.Errorf("first message replayed at a new address: err = %v, want ErrDecrypt", err)
	}
	forged := withoutOneTimePreKey(t, b)
	if _, err := alice.m.Decrypt(ctx, "mallory", forged); !errors.Is(err, session.ErrMalformed) {
		t.Fatalf("session without a one-time prekey: err = %v, want ErrMalformed", err)
	}
	if _, err := alice.st.LoadSession(ctx, "mallory"); !errors.Is(err, session.ErrNotFound) {
		t.Fatal("a session was stored for the forged message")
	}
}

// withoutOneTimePreKey runs X3DH against b's identity and signed prekey
// only, with libsignal's own test stores, and returns the first message.
func withoutOneTimePreKey(t *testing.T, b session.Bundle) session.Ciphertext {
	t.Helper()
	ctx := context.Background()
	ser := serialize.NewProtoBufSerializer()
	idPair, err := keyhelper.GenerateIdentityKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	addr := protocol.NewSignalAddress("alice", 1)
	sessions := ltests.NewInMemorySession(ser)
	builder := lsession.NewBuilder(sessions, ltests.NewInMemoryPreKey(), ltests.NewInMemorySignedPreKey(),
		ltests.NewInMemoryIdentityKey(idPair, 77), addr, ser)
	spk := ecc.NewDjbECPublicKey([32]byte(b.SignedPreKey.Public.Bytes()))
	bundle := prekey.NewBundle(b.RegistrationID, 1, optional.NewEmptyUint32(), b.SignedPreKey.ID,
		nil, spk, b.SignedPreKey.Signature, b.Identity.Signal())
	if err := builder.ProcessBundle(ctx, bundle); err != nil {
		t.Fatal(err)
	}
	msg, err := lsession.NewCipher(builder, addr).Encrypt(ctx, []byte("me too"))
	if err != nil {
		t.Fatal(err)
	}
	if msg.Type() != protocol.PREKEY_TYPE {
		t.Fatalf("library made a %d message", msg.Type())
	}
	return session.Ciphertext{Type: session.TypePreKey, Body: msg.Serialize()}
}

// TestLaterPreKeyMessageFlips flips one bit in every byte of a second
// prekey message (sent before the first answer). Once the session exists
// the library ignores the outer prekey IDs, so those fields and the
// registration ID are the only ones whose flips may still decrypt; the
// sealed envelope authenticates them.
func TestLaterPreKeyMessageFlips(t *testing.T) {
	ctx := context.Background()
	alice, bob := newPeer(t), newPeer(t)
	b := mustBundle(t, alice)
	if err := bob.m.Initiate(ctx, "alice", b); err != nil {
		t.Fatal(err)
	}
	first, _ := bob.m.Encrypt(ctx, "alice", []byte("one"))
	second, _ := bob.m.Encrypt(ctx, "alice", []byte("two"))
	if second.Type != session.TypePreKey {
		t.Fatalf("second message is %v", second.Type)
	}
	if _, err := alice.m.Decrypt(ctx, "bob", first); err != nil {
		t.Fatal(err)
	}
	var unauthenticated [][2]int
	for _, field := range []int{1, 5, 6} { // preKeyId, registrationId, signedPreKeyId
		start, end := fieldRange(t, second.Body[1:], protowireNumber(field))
		unauthenticated = append(unauthenticated, [2]int{1 + start, 1 + end})
	}
	inField := func(i int) bool {
		for _, r := range unauthenticated {
			if i >= r[0] && i < r[1] {
				return true
			}
		}
		return false
	}
	for i := range len(second.Body) {
		bad := session.Ciphertext{Type: second.Type, Body: bytes.Clone(second.Body)}
		bad.Body[i] ^= 1 << (i % 8)
		if inField(i) {
			continue // may decrypt, and would use up the message key
		}
		if pt, err := alice.m.Decrypt(ctx, "bob", bad); err == nil {
			t.Fatalf("byte %d flipped: decrypted %q", i, pt)
		}
	}
	if pt, err := alice.m.Decrypt(ctx, "bob", second); err != nil || string(pt) != "two" {
		t.Fatalf("genuine second message: %q, %v", pt, err)
	}
}
