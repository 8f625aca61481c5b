// SPDX-License-Identifier: AGPL-3.0-or-later

// Package mailbox is the client side of relay mailboxes: per-contact
// queues and the chunk store. So far it defines how a queue is named;
// the operations, their encoding and status codes come with the relay.
package mailbox

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"github.com/hushchat/hush/pkg/internal/secret"
	"github.com/hushchat/hush/pkg/onion"
)

// IDSize is the size of queue IDs.
const IDSize = 32

// ErrIDLength is returned for a queue ID that is not IDSize bytes.
var ErrIDLength = errors.New("mailbox: ID is not 32 bytes")

// RelayID is a relay's Ed25519 identity public key. It is onion's type:
// the relay a queue lives on is the exit of the paths that reach it.
type RelayID = onion.RelayID

// NewRelayID checks raw and returns it as a RelayID.
func NewRelayID(raw []byte) (RelayID, error) { return onion.NewRelayID(raw) }

// RelayIDFromKey returns the RelayID of an Ed25519 public key.
func RelayIDFromKey(k ed25519.PublicKey) (RelayID, error) { return onion.NewRelayID(k) }

// SenderID is a queue's sender ID: a capability, since whoever holds it
// may send into the queue. It never prints.
type SenderID struct {
	_ [0]func() // incomparable: use Equal
	k [IDSize]byte
}

// NewSenderID returns a random sender ID read from rand (crypto/rand if
// nil).
func NewSenderID(r io.Reader) (SenderID, error) {
	if r == nil {
		r = rand.Reader
	}
	var s SenderID
	if _, err := io.ReadFull(r, s.k[:]); err != nil {
		return SenderID{}, fmt.Errorf("mailbox: read randomness: %w", err)
	}
	return s, nil
}

// ParseSenderID checks raw and returns it as a SenderID.
func ParseSenderID(raw []byte) (SenderID, error) {
	if len(raw) != IDSize {
		return SenderID{}, fmt.Errorf("%w (sender ID of %d bytes)", ErrIDLength, len(raw))
	}
	var s SenderID
	copy(s.k[:], raw)
	if secret.IsZero(s.k[:]) {
		return SenderID{}, errors.New("mailbox: sender ID is all zeros")
	}
	return s, nil
}

// Bytes returns a copy of the ID. It must be kept secret.
func (s SenderID) Bytes() []byte { return bytes.Clone(s.k[:]) }

// Equal reports whether s and o are the same ID, in constant time.
func (s SenderID) Equal(o SenderID) bool { return secret.Equal(s.k[:], o.k[:]) }

// String returns a placeholder: the capability never prints.
func (s SenderID) String() string { return "mailbox.SenderID(redacted)" }

// GoString returns the same placeholder as String.
func (s SenderID) GoString() string { return s.String() }

// Format makes every fmt verb print the placeholder.
func (s SenderID) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// QueueAddress names a queue and carries the capability to send into it.
type QueueAddress struct {
	Relay  RelayID
	Sender SenderID
}
