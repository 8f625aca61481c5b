// SPDX-License-Identifier: AGPL-3.0-or-later

package invite

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/session"
	"github.com/hushchat/hush/pkg/mailbox"
	invitev1 "github.com/hushchat/hush/proto/invite/v1"
)

// b64 is strict: one link has one spelling.
var b64 = base64.RawURLEncoding.Strict()

// Sign signs inv with the inviter's identity key k and returns the link.
// k must be the identity in inv's bundle.
func Sign(k *identity.PrivateKey, inv *Invitation) (string, error) {
	if !k.Public().Equal(inv.Bundle.Identity) {
		return "", errors.New("invite: signing key is not the bundle's identity key")
	}
	if err := inv.validate(); err != nil {
		return "", err
	}
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(toProto(inv))
	if err != nil {
		return "", fmt.Errorf("invite: encode: %w", err)
	}
	sig := k.Sign(signedBytes(body))
	return encodeLink(body, sig[:]), nil
}

// encodeLink writes the outer envelope by hand, in field order: version,
// signature, body.
func encodeLink(body, sig []byte) string {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, Version)
	if sig != nil {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendBytes(b, sig)
	}
	b = protowire.AppendTag(b, 3, protowire.BytesType)
	b = protowire.AppendBytes(b, body)
	return Scheme + b64.EncodeToString(b)
}

func signedBytes(body []byte) []byte {
	return append([]byte(SignatureLabel), body...)
}

// Parse reads and verifies a link at time now. It does not know which
// invitations the profile has accepted; Check does.
func Parse(link string, now time.Time) (*Invitation, error) {
	raw, err := decodeLink(link)
	if err != nil {
		return nil, err
	}
	version, sig, body, err := splitEnvelope(raw)
	if err != nil {
		return nil, err
	}
	if version != Version {
		return nil, &VersionError{Got: version}
	}
	if sig == nil {
		return nil, ErrUnsigned
	}
	if len(sig) != identity.SignatureSize {
		return nil, fmt.Errorf("%w: signature is %d bytes", ErrTampered, len(sig))
	}
	var p invitev1.Invitation
	if err := proto.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("%w: body does not decode", ErrTampered)
	}
	if p.GetVersion() != Version {
		return nil, &VersionError{Got: p.GetVersion()}
	}
	inviter, err := identity.NewPublicKey(p.GetIdentityKey())
	if err != nil {
		return nil, fmt.Errorf("%w: inviter identity key: %v", ErrMalformed, err)
	}
	if !inviter.Verify(signedBytes(body), [identity.SignatureSize]byte(sig)) {
		return nil, ErrTampered
	}
	inv, err := fromProto(&p, inviter)
	if err != nil {
		return nil, err
	}
	if err := inv.validate(); err != nil {
		return nil, err
	}
	// The body must be exactly what Sign writes for these fields: no
	// unknown fields at any depth, no second spelling of the same content.
	again, err := proto.MarshalOptions{Deterministic: true}.Marshal(toProto(inv))
	if err != nil || !bytes.Equal(again, body) {
		return nil, malformed("body is not in canonical form (unknown or repeated fields)")
	}
	if inv.Expired(now) {
		return nil, fmt.Errorf("%w (it expired %s)", ErrExpired, inv.Expires.UTC().Format(time.RFC3339))
	}
	if inv.Created.After(now.Add(ClockSkew)) {
		return nil, fmt.Errorf("%w (made %s, now %s)", ErrNotYetValid,
			inv.Created.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return inv, nil
}

func decodeLink(link string) ([]byte, error) {
	link = strings.TrimSpace(link)
	body, ok := strings.CutPrefix(link, Scheme)
	if !ok {
		return nil, ErrNotInvitation
	}
	if len(link) > MaxLinkLength {
		return nil, fmt.Errorf("%w (%d characters, at most %d)", ErrTooLong, len(link), MaxLinkLength)
	}
	if body == "" {
		return nil, ErrTruncated
	}
	raw, err := b64.DecodeString(body)
	if err != nil {
		if strings.Trim(body, alphabet) == "" {
			// Only valid characters, so the length or the last character's
			// spare bits are off: the link was cut.
			return nil, ErrTruncated
		}
		return nil, ErrEncoding
	}
	return raw, nil
}

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// splitEnvelope reads the outer SignedInvitation field by field, so that
// a cut-off link is told apart from a malformed one. A missing signature
// is returned as nil; unknown or repeated fields are refused.
func splitEnvelope(b []byte) (version uint32, sig, body []byte, err error) {
	var seen [4]bool
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return 0, nil, nil, envelopeError(n)
		}
		b = b[n:]
		if num < 1 || num > 3 || seen[num] {
			return 0, nil, nil, malformed("unexpected field %d in envelope", num)
		}
		seen[num] = true
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return 0, nil, nil, envelopeError(n)
			}
			if v > 1<<32-1 {
				return 0, nil, nil, malformed("version out of range")
			}
			version, b = uint32(v), b[n:]
		case (num == 2 || num == 3) && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return 0, nil, nil, envelopeError(n)
			}
			if num == 2 {
				sig = v
			} else {
				body = v
			}
			b = b[n:]
		default:
			return 0, nil, nil, malformed("field %d has wire type %d", num, typ)
		}
	}
	if !seen[1] {
		return 0, nil, nil, malformed("no version")
	}
	if !seen[3] {
		if version != Version {
			return version, nil, nil, nil // reported as a version error
		}
		return 0, nil, nil, ErrTruncated
	}
	return version, sig, body, nil
}

func envelopeError(n int) error {
	if errors.Is(protowire.ParseError(n), io.ErrUnexpectedEOF) {
		return ErrTruncated
	}
	return malformed("envelope: %v", protowire.ParseError(n))
}

func toProto(inv *Invitation) *invitev1.Invitation {
	b := inv.Bundle
	return &invitev1.Invitation{
		Version:        Version,
		InvitationId:   inv.ID[:],
		IdentityKey:    b.Identity.Bytes(),
		RegistrationId: b.RegistrationID,
		SignedPreKey: &invitev1.SignedPreKey{
			Id:        b.SignedPreKey.ID,
			PublicKey: b.SignedPreKey.Public.Bytes(),
			Signature: b.SignedPreKey.Signature[:],
		},
		OneTimePreKey: &invitev1.OneTimePreKey{
			Id:        b.OneTimePreKey.ID,
			PublicKey: b.OneTimePreKey.Public.Bytes(),
		},
		Queue: &invitev1.QueueAddress{
			RelayIdentity: inv.Queue.Relay.Bytes(),
			SenderId:      inv.Queue.Sender.Bytes(),
		},
		DisplayName: inv.DisplayName,
		CreatedUnix: inv.Created.Unix(),
		ExpiresUnix: inv.Expires.Unix(),
	}
}

func fromProto(p *invitev1.Invitation, inviter identity.PublicKey) (*Invitation, error) {
	inv := &Invitation{DisplayName: p.GetDisplayName()}
	if len(p.GetInvitationId()) != IDSize {
		return nil, malformed("invitation ID is %d bytes, want %d", len(p.GetInvitationId()), IDSize)
	}
	copy(inv.ID[:], p.GetInvitationId())
	spk, opk, q := p.GetSignedPreKey(), p.GetOneTimePreKey(), p.GetQueue()
	if spk == nil || opk == nil || q == nil {
		return nil, malformed("missing prekey or queue")
	}
	var err error
	b := &inv.Bundle
	b.Identity, b.RegistrationID = inviter, p.GetRegistrationId()
	b.SignedPreKey.ID, b.OneTimePreKey.ID = spk.GetId(), opk.GetId()
	if b.SignedPreKey.Public, err = session.NewPreKeyPublic(spk.GetPublicKey()); err != nil {
		return nil, malformed("signed prekey: %v", err)
	}
	if len(spk.GetSignature()) != identity.SignatureSize {
		return nil, malformed("signed prekey signature is %d bytes", len(spk.GetSignature()))
	}
	b.SignedPreKey.Signature = [identity.SignatureSize]byte(spk.GetSignature())
	if b.OneTimePreKey.Public, err = session.NewPreKeyPublic(opk.GetPublicKey()); err != nil {
		return nil, malformed("one-time prekey: %v", err)
	}
	if inv.Queue.Relay, err = mailbox.NewRelayID(q.GetRelayIdentity()); err != nil {
		return nil, malformed("queue relay: %v", err)
	}
	if inv.Queue.Sender, err = mailbox.ParseSenderID(q.GetSenderId()); err != nil {
		return nil, malformed("queue sender ID: %v", err)
	}
	inv.Created = time.Unix(p.GetCreatedUnix(), 0)
	inv.Expires = time.Unix(p.GetExpiresUnix(), 0)
	return inv, nil
}
