// SPDX-License-Identifier: AGPL-3.0-or-later

package sealed

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/session"
	"github.com/hushchat/hush/pkg/internal/secret"
)

// Offsets into an envelope.
const (
	offEphemeral = versionSize
	offSender    = offEphemeral + keySize
	offBody      = headerSize
)

// Each layer's key encrypts exactly one message (both are derived from a
// fresh ephemeral agreement), so a zero nonce is safe.
var zeroNonce [chacha20poly1305.NonceSize]byte

// Seal puts msg, from sender to recipient, in an envelope of exactly
// EnvelopeSize bytes, with a fresh ephemeral key from crypto/rand.
func Seal(sender *identity.PrivateKey, recipient identity.PublicKey, msg session.Ciphertext) ([]byte, error) {
	return seal(rand.Reader, sender, recipient, msg)
}

// seal is Seal with the ephemeral key read from r. Only the known-answer
// tests pass anything but crypto/rand: a reader that repeats would repeat
// the ephemeral key, and with it both layers' keys under their zero nonce.
func seal(r io.Reader, sender *identity.PrivateKey, recipient identity.PublicKey, msg session.Ciphertext) ([]byte, error) {
	if len(msg.Body) > MaxCiphertext {
		return nil, fmt.Errorf("%w (%d bytes, at most %d)", ErrTooLarge, len(msg.Body), MaxCiphertext)
	}
	if msg.Type != session.TypeMessage && msg.Type != session.TypePreKey {
		return nil, fmt.Errorf("sealed: cannot seal a %v", msg.Type)
	}
	eph, err := newEphemeral(r)
	if err != nil {
		return nil, err
	}
	env := make([]byte, EnvelopeSize)
	env[0] = Version
	copy(env[offEphemeral:], eph.PublicKey().Bytes())
	senderKey, chainKey, err := ephemeralKeys(eph, recipient, env[offEphemeral:offSender])
	if err != nil {
		return nil, err
	}
	defer secret.Zero(senderKey)
	defer secret.Zero(chainKey)
	sp := sender.Public()
	ad := senderAD(env[offEphemeral:offSender], recipient)
	aeadSeal(senderKey, env[offSender:offSender], sp.Bytes(), ad)
	bodyKey, err := staticKey(sender, recipient, chainKey, env[offSender:offBody])
	if err != nil {
		return nil, err
	}
	defer secret.Zero(bodyKey)
	body := make([]byte, bodySize)
	body[0] = byte(msg.Type)
	binary.BigEndian.PutUint16(body[1:bodyHeader], uint16(len(msg.Body)))
	copy(body[bodyHeader:], msg.Body)
	aeadSeal(bodyKey, env[offBody:offBody], body, bodyAD(env[:offBody], recipient, sp))
	return env, nil
}

// newEphemeral reads 32 bytes from r and makes them an X25519 key. The
// bytes are read here, not by ecdh.GenerateKey, which may ignore its
// reader, so that a fixed reader gives fixed envelopes.
func newEphemeral(r io.Reader) (*ecdh.PrivateKey, error) {
	var seed [keySize]byte
	defer secret.Zero32(&seed)
	if _, err := io.ReadFull(r, seed[:]); err != nil {
		return nil, fmt.Errorf("sealed: read randomness: %w", err)
	}
	k, err := ecdh.X25519().NewPrivateKey(seed[:])
	if err != nil {
		return nil, fmt.Errorf("sealed: ephemeral key: %w", err)
	}
	return k, nil
}

// ephemeralKeys derives the sender-layer key and the chain key:
// HKDF-SHA256(ikm = X25519(e, R), salt = e_pub ‖ R, info = labelEphemeral).
func ephemeralKeys(eph *ecdh.PrivateKey, recipient identity.PublicKey, ephPub []byte) (senderKey, chainKey []byte, err error) {
	rp, err := ecdh.X25519().NewPublicKey(recipient.Bytes())
	if err != nil {
		return nil, nil, fmt.Errorf("sealed: recipient key: %w", err)
	}
	shared, err := eph.ECDH(rp)
	if err != nil {
		return nil, nil, fmt.Errorf("sealed: recipient key: %w", err)
	}
	defer secret.Zero(shared)
	return deriveEphemeral(shared, ephPub, recipient)
}

func deriveEphemeral(shared, ephPub []byte, recipient identity.PublicKey) (senderKey, chainKey []byte, err error) {
	salt := append(append([]byte{}, ephPub...), recipient.Bytes()...)
	okm, err := hkdf.Key(sha256.New, shared, salt, labelEphemeral, 2*chacha20poly1305.KeySize)
	if err != nil {
		return nil, nil, fmt.Errorf("sealed: derive keys: %w", err)
	}
	return okm[:chacha20poly1305.KeySize], okm[chacha20poly1305.KeySize:], nil
}

// staticKey derives the body-layer key:
// HKDF-SHA256(ikm = X25519(S, R), salt = chain key ‖ sealed sender,
// info = labelStatic). The chain key makes it fresh per envelope.
func staticKey(sender *identity.PrivateKey, recipient identity.PublicKey, chainKey, sealedSender []byte) ([]byte, error) {
	shared, err := sender.ECDH(recipient)
	if err != nil {
		return nil, fmt.Errorf("sealed: %w", err)
	}
	defer secret.Zero32(&shared)
	return deriveStatic(shared[:], chainKey, sealedSender)
}

func deriveStatic(shared, chainKey, sealedSender []byte) ([]byte, error) {
	salt := append(append([]byte{}, chainKey...), sealedSender...)
	defer secret.Zero(salt) // it holds a copy of the chain key
	k, err := hkdf.Key(sha256.New, shared, salt, labelStatic, chacha20poly1305.KeySize)
	if err != nil {
		return nil, fmt.Errorf("sealed: derive keys: %w", err)
	}
	return k, nil
}

// senderAD is labelSenderAD ‖ version ‖ e_pub ‖ R.
func senderAD(ephPub []byte, recipient identity.PublicKey) []byte {
	ad := append([]byte(labelSenderAD), Version)
	ad = append(ad, ephPub...)
	return append(ad, recipient.Bytes()...)
}

// bodyAD is labelBodyAD ‖ version ‖ e_pub ‖ R ‖ S ‖ sealed sender; header
// is the envelope up to the body (version, e_pub, sealed sender).
func bodyAD(header []byte, recipient, sender identity.PublicKey) []byte {
	ad := append([]byte(labelBodyAD), header[0])
	ad = append(ad, header[offEphemeral:offSender]...)
	ad = append(ad, recipient.Bytes()...)
	ad = append(ad, sender.Bytes()...)
	return append(ad, header[offSender:offBody]...)
}

func aeadSeal(key, dst, plaintext, ad []byte) {
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		panic("sealed: internal error: " + err.Error())
	}
	aead.Seal(dst, zeroNonce[:], plaintext, ad)
}
