// SPDX-License-Identifier: AGPL-3.0-or-later

package sealed

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/session"
	"github.com/hushchat/hush/pkg/internal/secret"
)

// Open opens an envelope addressed to recipient. Any alteration, and any
// envelope for another key, gives ErrOpen; nothing about the sender is
// learned before the sender layer authenticates.
func Open(recipient *identity.PrivateKey, env []byte) (Opened, error) {
	if len(env) != EnvelopeSize {
		return Opened{}, fmt.Errorf("%w (got %d)", ErrSize, len(env))
	}
	if env[0] != Version {
		return Opened{}, &VersionError{Got: env[0]}
	}
	rp := recipient.Public()
	senderKey, chainKey, err := recipientEphemeralKeys(recipient, env[offEphemeral:offSender])
	if err != nil {
		return Opened{}, err
	}
	defer secret.Zero(senderKey)
	defer secret.Zero(chainKey)
	rawSender, err := open(senderKey, env[offSender:offBody], senderAD(env[offEphemeral:offSender], rp))
	if err != nil {
		return Opened{}, ErrOpen
	}
	sender, err := identity.NewPublicKey(rawSender)
	if err != nil {
		return Opened{}, fmt.Errorf("%w: sender key: %v", ErrMalformed, err)
	}
	shared, err := recipient.ECDH(sender)
	if err != nil {
		return Opened{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	bodyKey, err := deriveStatic(shared[:], chainKey, env[offSender:offBody])
	secret.Zero32(&shared)
	if err != nil {
		return Opened{}, err
	}
	defer secret.Zero(bodyKey)
	body, err := open(bodyKey, env[offBody:], bodyAD(env[:offBody], rp, sender))
	if err != nil {
		return Opened{}, ErrOpen
	}
	msg, err := parseBody(body)
	if err != nil {
		return Opened{}, err
	}
	return Opened{Sender: sender, Message: msg}, nil
}

// recipientEphemeralKeys is ephemeralKeys seen from the recipient's side:
// X25519(R, e_pub) instead of X25519(e, R).
func recipientEphemeralKeys(recipient *identity.PrivateKey, ephPub []byte) (senderKey, chainKey []byte, err error) {
	// The ephemeral key is a Curve25519 public key like an identity key;
	// the same validation (small order, canonical form) applies. A key
	// that fails it cannot have come from Seal.
	e, err := identity.NewPublicKey(ephPub)
	if err != nil {
		return nil, nil, ErrOpen
	}
	shared, err := recipient.ECDH(e)
	if err != nil {
		return nil, nil, ErrOpen
	}
	defer secret.Zero32(&shared)
	return deriveEphemeral(shared[:], ephPub, recipient.Public())
}

func parseBody(body []byte) (session.Ciphertext, error) {
	typ := session.MessageType(body[0])
	if typ != session.TypeMessage && typ != session.TypePreKey {
		return session.Ciphertext{}, fmt.Errorf("%w: %v", ErrMalformed, typ)
	}
	n := int(binary.BigEndian.Uint16(body[1:bodyHeader]))
	if n > MaxCiphertext {
		return session.Ciphertext{}, fmt.Errorf("%w: length %d over %d", ErrMalformed, n, MaxCiphertext)
	}
	if !secret.IsZero(body[bodyHeader+n:]) {
		return session.Ciphertext{}, fmt.Errorf("%w: padding is not zero", ErrMalformed)
	}
	return session.Ciphertext{Type: typ, Body: append([]byte(nil), body[bodyHeader:bodyHeader+n]...)}, nil
}

func open(key, ciphertext, ad []byte) ([]byte, error) {
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		panic("sealed: internal error: " + err.Error())
	}
	return aead.Open(nil, zeroNonce[:], ciphertext, ad)
}
