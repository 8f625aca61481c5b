// SPDX-License-Identifier: AGPL-3.0-or-later

// Package content defines what one Hush message says, as hand-written Go
// types, and its protobuf encoding (proto/content/v1), which is what a
// ratchet message carries.
//
// Marshal and Unmarshal are the only way in and out; Unmarshal refuses a
// version it does not know with a *VersionError. Image, file and voice
// clip messages carry an Attachment: the pointer to an encrypted
// attachment (pkg/core/attach) and where its chunks are.
package content

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Version is the content format this package writes and reads.
const Version = 1

// MaxSize bounds an encoded message. Every message travels in one sealed
// envelope: sealed.MaxCiphertext (15,260 B) less the Signal session's
// overhead (at most ~170 B for a session's first message) leaves this,
// with room to spare; a test in pkg/core/sealed checks it. Marshal refuses
// more, so an oversized message is refused before the ratchet advances.
const MaxSize = 15000

// MaxText is the longest text message, in bytes of UTF-8. Longer text is
// sent as a file.
const MaxText = 12 << 10

// IDSize is the size of a message ID.
const IDSize = 16

// Errors returned by Unmarshal and Marshal.
var (
	// ErrVersion is wrapped by a *VersionError.
	ErrVersion = errors.New("content: unsupported content version")
	// ErrMalformed is returned for a message that does not decode or
	// breaks a rule of its type; the error says which.
	ErrMalformed = errors.New("content: malformed message")
	// ErrTooLarge is returned for input over MaxSize or text over MaxText.
	ErrTooLarge = errors.New("content: message too large")
)

// VersionError reports a message in a format version this build does not
// read.
type VersionError struct{ Got uint32 }

func (e *VersionError) Error() string {
	if e.Got > Version {
		return fmt.Sprintf("content: message format %d is newer than this Hush reads (%d); update Hush", e.Got, Version)
	}
	return fmt.Sprintf("content: message format %d is not supported (this Hush reads %d)", e.Got, Version)
}

// Unwrap returns ErrVersion.
func (e *VersionError) Unwrap() error { return ErrVersion }

// ID names a message. The sender picks it at random; receipts refer to
// it.
type ID [IDSize]byte

// String returns the ID in hex.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Message is one content message.
type Message struct {
	ID     ID
	SentAt time.Time // the sender's clock, millisecond precision
	// Disappear is the sender's disappearing timer for the conversation
	// when it wrote the message (0: off; whole seconds, at most
	// MaxDisappearing). The recipient's copy disappears this long after
	// it arrives.
	Disappear time.Duration
	Body      Body
}

// New returns a message with a random ID, sent at now.
func New(body Body, now time.Time) (Message, error) {
	m := Message{SentAt: now.Truncate(time.Millisecond), Body: body}
	if _, err := rand.Read(m.ID[:]); err != nil {
		return Message{}, fmt.Errorf("content: read randomness: %w", err)
	}
	return m, nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}
