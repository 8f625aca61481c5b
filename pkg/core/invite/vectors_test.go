// SPDX-License-Identifier: AGPL-3.0-or-later

package invite

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/session"
	"github.com/hushchat/hush/pkg/mailbox"
)

var writeVectors = flag.Bool("write-vectors", false, "rewrite testdata/invitation_v1.json from fixed keys")

const vectorFile = "testdata/invitation_v1.json"

// vector is one known-answer invitation. Keys come from fixed seeds; the
// XEdDSA signatures are randomized, so the file records them and the test
// checks they verify.
type vector struct {
	Comment         string `json:"comment"`
	Link            string `json:"link"`
	Now             string `json:"now"`
	InvitationID    string `json:"invitation_id"`
	IdentityKey     string `json:"identity_key"`
	RegistrationID  uint32 `json:"registration_id"`
	SignedPreKeyID  uint32 `json:"signed_pre_key_id"`
	SignedPreKey    string `json:"signed_pre_key"`
	SignedPreKeySig string `json:"signed_pre_key_signature"`
	OneTimePreKeyID uint32 `json:"one_time_pre_key_id"`
	OneTimePreKey   string `json:"one_time_pre_key"`
	QueueRelay      string `json:"queue_relay"`
	QueueSender     string `json:"queue_sender"`
	DisplayName     string `json:"display_name"`
	Created         int64  `json:"created_unix"`
	Expires         int64  `json:"expires_unix"`
	Body            string `json:"body"`
	Signature       string `json:"signature"`
}

func seeded(b byte) [32]byte { return [32]byte(bytes.Repeat([]byte{b}, 32)) }

// TestWriteVectors regenerates the vector file when run with
// -write-vectors; otherwise it does nothing.
func TestWriteVectors(t *testing.T) {
	if !*writeVectors {
		t.Skip("run with -write-vectors to regenerate " + vectorFile)
	}
	k, _ := identity.NewPrivateKey(seeded(1))
	spk, _ := identity.NewPrivateKey(seeded(2))
	opk, _ := identity.NewPrivateKey(seeded(3))
	relay := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{4}, 32)).Public().(ed25519.PublicKey)
	spkSig := k.Sign(append([]byte{0x05}, spk.Public().Bytes()...))
	created := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	v := vector{
		Comment:         "Invitation format v1. Keys: identity, signed and one-time prekeys from seeds 0x01, 0x02, 0x03 (32 bytes each, clamped); relay Ed25519 from seed 0x04; sender ID 0x05 x 32; invitation ID 0x06 x 16. Signatures are XEdDSA (randomized). Body is the deterministic protobuf encoding; link is hush: + base64url(0x08 0x01, 0x12 len signature, 0x1a len body).",
		Now:             created.Add(time.Hour).Format(time.RFC3339),
		InvitationID:    hex.EncodeToString(bytes.Repeat([]byte{6}, IDSize)),
		IdentityKey:     k.Public().String(),
		RegistrationID:  4242,
		SignedPreKeyID:  7,
		SignedPreKey:    hex.EncodeToString(spk.Public().Bytes()),
		SignedPreKeySig: hex.EncodeToString(spkSig[:]),
		OneTimePreKeyID: 8,
		OneTimePreKey:   hex.EncodeToString(opk.Public().Bytes()),
		QueueRelay:      hex.EncodeToString(relay),
		QueueSender:     hex.EncodeToString(bytes.Repeat([]byte{5}, 32)),
		DisplayName:     "Alice",
		Created:         created.Unix(),
		Expires:         created.Add(DefaultTTL).Unix(),
	}
	inv := invitationOf(t, v)
	link, err := Sign(k, inv)
	if err != nil {
		t.Fatal(err)
	}
	v.Link = link
	_, sig, body, err := splitEnvelope(rawOf(t, link))
	if err != nil {
		t.Fatal(err)
	}
	v.Body, v.Signature = hex.EncodeToString(body), hex.EncodeToString(sig)
	out, _ := json.MarshalIndent([]vector{v}, "", "  ")
	if err := os.WriteFile(vectorFile, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func invitationOf(t *testing.T, v vector) *Invitation {
	t.Helper()
	var err error
	inv := &Invitation{DisplayName: v.DisplayName, Created: time.Unix(v.Created, 0), Expires: time.Unix(v.Expires, 0)}
	copy(inv.ID[:], unhex(t, v.InvitationID))
	b := &inv.Bundle
	if b.Identity, err = identity.ParsePublicKey(v.IdentityKey); err != nil {
		t.Fatal(err)
	}
	b.RegistrationID = v.RegistrationID
	b.SignedPreKey.ID, b.OneTimePreKey.ID = v.SignedPreKeyID, v.OneTimePreKeyID
	if b.SignedPreKey.Public, err = session.NewPreKeyPublic(unhex(t, v.SignedPreKey)); err != nil {
		t.Fatal(err)
	}
	b.SignedPreKey.Signature = [64]byte(unhex(t, v.SignedPreKeySig))
	if b.OneTimePreKey.Public, err = session.NewPreKeyPublic(unhex(t, v.OneTimePreKey)); err != nil {
		t.Fatal(err)
	}
	if inv.Queue.Relay, err = mailbox.NewRelayID(unhex(t, v.QueueRelay)); err != nil {
		t.Fatal(err)
	}
	if inv.Queue.Sender, err = mailbox.ParseSenderID(unhex(t, v.QueueSender)); err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestVectors(t *testing.T) {
	data, err := os.ReadFile(vectorFile)
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range vs {
		want := invitationOf(t, v)
		body, err := proto.MarshalOptions{Deterministic: true}.Marshal(toProto(want))
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(body) != v.Body {
			t.Errorf("body encoding changed:\n got %x\nwant %s", body, v.Body)
		}
		if got := encodeLink(body, unhex(t, v.Signature)); got != v.Link {
			t.Errorf("link encoding changed:\n got %s\nwant %s", got, v.Link)
		}
		now, _ := time.Parse(time.RFC3339, v.Now)
		got, err := Parse(v.Link, now)
		if err != nil {
			t.Fatal(err)
		}
		sameInvitation(t, got, want)
		// The seeds really give these keys.
		k, _ := identity.NewPrivateKey(seeded(1))
		if !k.Public().Equal(got.Inviter()) {
			t.Error("identity key is not the one seed 0x01 gives")
		}
	}
}

func FuzzParse(f *testing.F) {
	iv := newInviter(f, "Alice")
	link := iv.link(f)
	f.Add(link)
	f.Add(link[:len(link)/2])
	f.Add("hush:")
	f.Add("hush:CAE")
	raw, _ := hex.DecodeString("0801")
	f.Add(linkOf(raw))
	for _, i := range []int{7, 60, 300, len(link) - 1} {
		b := []byte(link)
		b[i] ^= 1
		f.Add(string(b))
	}
	sentinels := []error{ErrNotInvitation, ErrTooLong, ErrEncoding, ErrTruncated, ErrUnsigned,
		ErrTampered, ErrMalformed, ErrExpired, ErrNotYetValid, ErrVersion}
	f.Fuzz(func(t *testing.T, s string) {
		inv, err := Parse(s, t0)
		if err != nil {
			for _, e := range sentinels {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("error names no known problem: %v", err)
		}
		if err := inv.validate(); err != nil {
			t.Fatalf("Parse accepted an invalid invitation: %v", err)
		}
		if inv.Expired(t0) {
			t.Fatal("Parse accepted an expired invitation")
		}
	})
}
