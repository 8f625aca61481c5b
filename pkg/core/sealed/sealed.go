// SPDX-License-Identifier: AGPL-3.0-or-later

// Package sealed is Hush's sealed sender: it wraps one Signal ciphertext
// in an envelope of exactly EnvelopeSize bytes that hides who sent it.
//
// The structure is Signal's sealed sender v1 without server certificates.
// An ephemeral X25519 key agreed with the recipient's identity key
// encrypts the sender's identity key; a static-static agreement between
// the sender's and the recipient's identity keys, chained to the first,
// encrypts and authenticates the message. The associated data of both
// layers binds the ephemeral, sender and recipient keys. Only the holder
// of the recipient's identity key learns the sender, and only the holder
// of the sender's identity key can have made the envelope.
//
// Seal and Open are the entry points. The byte layout is in
// ARCHITECTURE.md ("Sealed envelope").
package sealed

import (
	"errors"
	"fmt"

	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/session"
)

// Version is the envelope format this package writes and reads.
const Version = 1

// Sizes. Every envelope is exactly EnvelopeSize bytes, whatever it
// carries.
const (
	EnvelopeSize = 15360
	versionSize  = 1
	keySize      = 32 // X25519 public key
	tagSize      = 16 // Poly1305
	// headerSize is everything before the body layer.
	headerSize = versionSize + keySize + keySize + tagSize // version, ephemeral, sealed sender
	// bodySize is the plaintext of the body layer: type, length, the
	// Signal ciphertext, zero padding.
	bodySize = EnvelopeSize - headerSize - tagSize
	// bodyHeader is the message type (1 byte) and the ciphertext length
	// (2 bytes, big-endian).
	bodyHeader = 1 + 2
	// MaxCiphertext is the longest Signal ciphertext an envelope carries.
	MaxCiphertext = bodySize - bodyHeader
)

// KDF labels, one per purpose.
const (
	// labelEphemeral derives the sender-layer key and the chain key from
	// the ephemeral agreement.
	labelEphemeral = "hush sealed v1 ephemeral"
	// labelStatic derives the body-layer key from the static agreement.
	labelStatic = "hush sealed v1 static"
	// labelSenderAD and labelBodyAD start each layer's associated data.
	labelSenderAD = "hush sealed v1 sender"
	labelBodyAD   = "hush sealed v1 body"
)

// Errors returned by Seal and Open.
var (
	// ErrSize is returned by Open for input that is not EnvelopeSize
	// bytes.
	ErrSize = errors.New("sealed: envelope is not 15360 bytes")
	// ErrOpen is returned by Open when either layer fails to decrypt: the
	// envelope was altered, or is not for this recipient. It says no more,
	// on purpose.
	ErrOpen = errors.New("sealed: envelope does not open (altered, or not for this key)")
	// ErrMalformed is returned by Open for an authentic envelope whose
	// content breaks the format: only a faulty sender makes one.
	ErrMalformed = errors.New("sealed: envelope content is malformed")
	// ErrTooLarge is returned by Seal for a ciphertext over MaxCiphertext.
	ErrTooLarge = errors.New("sealed: message does not fit one envelope; send long text as a file")
	// ErrVersion is wrapped by a *VersionError.
	ErrVersion = errors.New("sealed: unsupported envelope version")
)

// VersionError reports an envelope in a format this build does not read.
type VersionError struct{ Got uint8 }

func (e *VersionError) Error() string {
	if e.Got > Version {
		return fmt.Sprintf("sealed: envelope format %d is newer than this Hush reads (%d); update Hush", e.Got, Version)
	}
	return fmt.Sprintf("sealed: envelope format %d is not supported (this Hush reads %d)", e.Got, Version)
}

// Unwrap returns ErrVersion.
func (e *VersionError) Unwrap() error { return ErrVersion }

// Opened is what Open finds in an envelope.
type Opened struct {
	// Sender is the sender's identity key, authenticated by the static
	// layer.
	Sender identity.PublicKey
	// Message is the Signal ciphertext for the sender's session.
	Message session.Ciphertext
}
