// SPDX-License-Identifier: AGPL-3.0-or-later

package session

import (
	"bytes"
	"errors"
	"fmt"

	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/libsignal/util/medium"

	"github.com/hushchat/hush/pkg/core/identity"
)

// Address names one contact's session in a profile's stores. It is a local
// identifier chosen by the caller and never leaves the device.
type Address string

// PreKeyPublic is the public half of a signed or one-time prekey: a
// Curve25519 key.
type PreKeyPublic struct {
	k [identity.KeySize]byte
}

// NewPreKeyPublic checks raw (32 bytes, not zero or of small order) and
// returns it as a PreKeyPublic.
func NewPreKeyPublic(raw []byte) (PreKeyPublic, error) {
	if len(raw) != identity.KeySize {
		return PreKeyPublic{}, fmt.Errorf("session: prekey is %d bytes, want %d", len(raw), identity.KeySize)
	}
	var p PreKeyPublic
	copy(p.k[:], raw)
	if err := identity.ValidatePoint(p.k); err != nil {
		return PreKeyPublic{}, fmt.Errorf("session: prekey: %w", err)
	}
	return p, nil
}

// Bytes returns a copy of the 32 raw key bytes.
func (p PreKeyPublic) Bytes() []byte { return bytes.Clone(p.k[:]) }

func (p PreKeyPublic) signal() ecc.ECPublicKeyable { return ecc.NewDjbECPublicKey(p.k) }

// SignedPreKey is a prekey signed by its owner's identity key. The
// signature is XEdDSA over libsignal's serialization of the key (0x05
// followed by the 32 bytes).
type SignedPreKey struct {
	ID        uint32
	Public    PreKeyPublic
	Signature [identity.SignatureSize]byte
}

// OneTimePreKey is a prekey used for one X3DH only.
type OneTimePreKey struct {
	ID     uint32
	Public PreKeyPublic
}

// Bundle is what a contact needs to start a session with us
// asynchronously: the X3DH prekey bundle.
type Bundle struct {
	Identity       identity.PublicKey
	RegistrationID uint32
	SignedPreKey   SignedPreKey
	OneTimePreKey  OneTimePreKey
}

// ErrBadBundle is returned by Bundle.Verify and Initiate for a bundle
// whose signed prekey signature does not verify or that misses a key.
var ErrBadBundle = errors.New("session: prekey bundle is invalid")

// Verify checks that the bundle is complete and that its signed prekey is
// signed by its identity key.
func (b Bundle) Verify() error {
	if b.Identity.IsZero() {
		return fmt.Errorf("%w: no identity key", ErrBadBundle)
	}
	var zero PreKeyPublic
	if b.SignedPreKey.Public == zero || b.OneTimePreKey.Public == zero {
		return fmt.Errorf("%w: missing prekey", ErrBadBundle)
	}
	for _, id := range []uint32{b.SignedPreKey.ID, b.OneTimePreKey.ID} {
		if id == 0 || id >= medium.MaxValue {
			return fmt.Errorf("%w: prekey ID %d outside 1 to %d", ErrBadBundle, id, medium.MaxValue-1)
		}
	}
	if !b.Identity.Verify(b.SignedPreKey.Public.signal().Serialize(), b.SignedPreKey.Signature) {
		return fmt.Errorf("%w: signed prekey signature does not verify", ErrBadBundle)
	}
	return nil
}

// MessageType tells which of the library's two message forms a Ciphertext
// holds.
type MessageType uint8

// The message types, numbered as libsignal numbers them.
const (
	// TypeMessage is an ordinary ratchet message (a SignalMessage).
	TypeMessage MessageType = 2
	// TypePreKey is a message that also carries the X3DH setup
	// (a PreKeySignalMessage); a session's first messages have it.
	TypePreKey MessageType = 3
)

// String names the type.
func (t MessageType) String() string {
	switch t {
	case TypeMessage:
		return "message"
	case TypePreKey:
		return "prekey message"
	}
	return fmt.Sprintf("unknown message type %d", uint8(t))
}

// Ciphertext is one encrypted ratchet message.
type Ciphertext struct {
	Type MessageType
	Body []byte
}
