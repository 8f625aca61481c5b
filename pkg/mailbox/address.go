// SPDX-License-Identifier: AGPL-3.0-or-later

// Package mailbox is Hush's mailbox protocol: what a client asks the exit
// relay of an onion path (create a queue, send into it, fetch, ack and
// delete as its owner, and put, get and delete attachment chunks), how
// those requests and the answers are encoded, the status codes, and how a
// queue's owner proves itself.
//
// Clients build requests with the Queue methods and the *Request
// functions, and read answers with ParseResponse. The exit relay reads
// requests with ParseRequest, checks owners with Verify, and answers with
// EncodeResponse. The byte layout is in ARCHITECTURE.md ("Mailbox
// protocol").
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

// IDSize is the size of queue IDs, chunk IDs and delete tokens.
const IDSize = 32

// ErrIDLength is returned for an ID that is not IDSize bytes.
var ErrIDLength = errors.New("mailbox: ID is not 32 bytes")

// RelayID is a relay's Ed25519 identity public key. It is onion's type:
// the relay a queue lives on is the exit of the paths that reach it.
type RelayID = onion.RelayID

// NewRelayID checks raw and returns it as a RelayID.
func NewRelayID(raw []byte) (RelayID, error) { return onion.NewRelayID(raw) }

// RelayIDFromKey returns the RelayID of an Ed25519 public key.
func RelayIDFromKey(k ed25519.PublicKey) (RelayID, error) { return onion.NewRelayID(k) }

// capability is a random 32-byte value that grants something to whoever
// holds it. It never prints and compares in constant time.
type capability struct {
	_ [0]func() // incomparable: use Equal
	k [IDSize]byte
}

func newCapability(r io.Reader, what string) (capability, error) {
	if r == nil {
		r = rand.Reader
	}
	var c capability
	if _, err := io.ReadFull(r, c.k[:]); err != nil {
		return capability{}, fmt.Errorf("mailbox: read randomness: %w", err)
	}
	return c, nil
}

func parseCapability(raw []byte, what string) (capability, error) {
	if len(raw) != IDSize {
		return capability{}, fmt.Errorf("%w (%s of %d bytes)", ErrIDLength, what, len(raw))
	}
	var c capability
	copy(c.k[:], raw)
	if secret.IsZero(c.k[:]) {
		return capability{}, fmt.Errorf("mailbox: %s is all zeros", what)
	}
	return c, nil
}

// Bytes returns a copy of the value. It must be kept secret.
func (c capability) Bytes() []byte { return bytes.Clone(c.k[:]) }

// Array returns the value. It must be kept secret.
func (c capability) Array() [IDSize]byte { return c.k }

func (c capability) equal(o capability) bool { return secret.Equal(c.k[:], o.k[:]) }

// SenderID is a queue's sender ID: whoever holds it may send into the
// queue.
type SenderID struct{ capability }

// NewSenderID returns a random sender ID read from r (crypto/rand if nil).
func NewSenderID(r io.Reader) (SenderID, error) {
	c, err := newCapability(r, "sender ID")
	return SenderID{c}, err
}

// ParseSenderID checks raw and returns it as a SenderID.
func ParseSenderID(raw []byte) (SenderID, error) {
	c, err := parseCapability(raw, "sender ID")
	return SenderID{c}, err
}

// Equal reports whether s and o are the same ID, in constant time.
func (s SenderID) Equal(o SenderID) bool { return s.equal(o.capability) }

// String returns a placeholder: the capability never prints.
func (s SenderID) String() string { return "mailbox.SenderID(redacted)" }

// GoString returns the same placeholder as String.
func (s SenderID) GoString() string { return s.String() }

// Format makes every fmt verb print the placeholder.
func (s SenderID) Format(f fmt.State, _ rune) { io.WriteString(f, s.String()) }

// RecipientID is a queue's recipient ID: it names the queue to its owner's
// fetch, ack and delete, which must also be signed by the queue's auth
// key.
type RecipientID struct{ capability }

// NewRecipientID returns a random recipient ID read from r (crypto/rand
// if nil).
func NewRecipientID(r io.Reader) (RecipientID, error) {
	c, err := newCapability(r, "recipient ID")
	return RecipientID{c}, err
}

// ParseRecipientID checks raw and returns it as a RecipientID.
func ParseRecipientID(raw []byte) (RecipientID, error) {
	c, err := parseCapability(raw, "recipient ID")
	return RecipientID{c}, err
}

// Equal reports whether r and o are the same ID, in constant time.
func (r RecipientID) Equal(o RecipientID) bool { return r.equal(o.capability) }

// String returns a placeholder: the ID never prints.
func (r RecipientID) String() string { return "mailbox.RecipientID(redacted)" }

// GoString returns the same placeholder as String.
func (r RecipientID) GoString() string { return r.String() }

// Format makes every fmt verb print the placeholder.
func (r RecipientID) Format(f fmt.State, _ rune) { io.WriteString(f, r.String()) }

// DeleteToken lets whoever holds it delete a chunk. The relay keeps only
// its SHA-256 hash.
type DeleteToken struct{ capability }

// NewDeleteToken returns a random delete token.
func NewDeleteToken(r io.Reader) (DeleteToken, error) {
	c, err := newCapability(r, "delete token")
	return DeleteToken{c}, err
}

// ParseDeleteToken checks raw and returns it as a DeleteToken.
func ParseDeleteToken(raw []byte) (DeleteToken, error) {
	c, err := parseCapability(raw, "delete token")
	return DeleteToken{c}, err
}

// String returns a placeholder: the token never prints.
func (t DeleteToken) String() string { return "mailbox.DeleteToken(redacted)" }

// GoString returns the same placeholder as String.
func (t DeleteToken) GoString() string { return t.String() }

// Format makes every fmt verb print the placeholder.
func (t DeleteToken) Format(f fmt.State, _ rune) { io.WriteString(f, t.String()) }

// ChunkID names a stored chunk. Whoever holds it can fetch the chunk's
// ciphertext; it is not logged.
type ChunkID [IDSize]byte

// MessageIDSize is the size of a send's message ID.
const MessageIDSize = 16

// MessageID makes a send idempotent: the relay stores one envelope per ID.
type MessageID [MessageIDSize]byte

// QueueAddress names a queue and carries the capability to send into it.
type QueueAddress struct {
	Relay  RelayID
	Sender SenderID
}
