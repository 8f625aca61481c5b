// SPDX-License-Identifier: AGPL-3.0-or-later

package store

import (
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/mailbox"
)

// ContactID names a contact in one profile's store. It never leaves the
// device. Zero means none.
type ContactID int64

// Contact is someone this profile talks to.
type Contact struct {
	ID       ContactID
	Name     string             // the display name shown locally
	Identity identity.PublicKey // the identity key trusted for them
	Verified bool               // the safety number was confirmed
	Blocked  bool               // their envelopes are refused
	Created  time.Time
	// Disappear is the conversation's disappearing timer, which both
	// sides apply to the messages after it was set; 0 is off.
	Disappear time.Duration
	// DisappearChanged is when Disappear was last set, on the clock of
	// the side that set it; zero if never.
	DisappearChanged time.Time
	// Retention is how long this device keeps the conversation's
	// unpinned messages; 0 keeps them.
	Retention time.Duration
}

// QueueID names one of the client's own queues in its store.
type QueueID int64

// OwnQueue is a queue the client created and receives on: its IDs, auth
// key and counter (in Queue) and the contact it belongs to (0 for an
// invitation's queue nobody has used yet).
type OwnQueue struct {
	ID      QueueID
	Queue   *mailbox.Queue
	Contact ContactID
	Created time.Time
}

// Direction says whether a message was sent or received.
type Direction uint8

// The directions.
const (
	Incoming Direction = 1
	Outgoing Direction = 2
)

// Kind says what a stored message holds, for listing without decoding.
type Kind uint8

// The kinds of message history keeps.
const (
	KindText  Kind = 1
	KindImage Kind = 2
	KindFile  Kind = 3
	KindVoice Kind = 4
	KindOther Kind = 5 // anything else a client chooses to show
)

// State is a message's delivery state.
type State uint8

// The delivery states. An outgoing message goes Pending → Sent (a relay
// acknowledged it) → Delivered → Read, or to Failed; a received one is
// Arrived.
const (
	Pending   State = 1
	Sent      State = 2
	Delivered State = 3
	Read      State = 4
	Failed    State = 5
	Arrived   State = 6
)

// Message is one message of the history. Body is the encoded content
// message (content.Marshal's output).
type Message struct {
	ID         content.ID
	Contact    ContactID
	Direction  Direction
	SentAt     time.Time // the sender's clock
	ReceivedAt time.Time // ours; zero for an outgoing message
	Kind       Kind
	Body       []byte
	State      State
	Pinned     bool
	Expires    time.Time // when it disappears; zero is never
}

// At is the time a message sorts by: when it was received, or for an
// outgoing message when it was sent.
func (m Message) At() time.Time {
	if m.Direction == Incoming {
		return m.ReceivedAt
	}
	return m.SentAt
}

// Cursor is a position in a contact's history.
type Cursor struct {
	At time.Time
	ID content.ID
}

// Cursor returns the position of m, to continue a History listing.
func (m Message) Cursor() *Cursor { return &Cursor{At: m.At(), ID: m.ID} }

// Validate checks the enumerations and the body of m.
func (m Message) Validate() error {
	switch {
	case m.Contact == 0:
		return fmt.Errorf("%w: message has no contact", ErrInvalid)
	case m.Direction != Incoming && m.Direction != Outgoing:
		return fmt.Errorf("%w: message direction %d", ErrInvalid, m.Direction)
	case m.Kind < KindText || m.Kind > KindOther:
		return fmt.Errorf("%w: message kind %d", ErrInvalid, m.Kind)
	case m.State < Pending || m.State > Arrived:
		return fmt.Errorf("%w: message state %d", ErrInvalid, m.State)
	case len(m.Body) == 0:
		return fmt.Errorf("%w: message has no body", ErrInvalid)
	}
	return nil
}

// OutboxID names an outbox entry.
type OutboxID int64

// OutboxEntry is a sealed envelope waiting for a relay's acknowledgement.
// Retries send the same Envelope with the same SendID, so a relay that
// stored an earlier attempt answers "duplicate" and keeps one copy.
type OutboxEntry struct {
	ID          OutboxID
	SendID      mailbox.MessageID    // the relay's idempotency key
	To          mailbox.QueueAddress // the contact's queue
	Contact     ContactID            // 0 if the send is for no contact yet
	Message     content.ID           // the history message it carries, if any
	Envelope    []byte               // the sealed envelope, exactly as sent
	Attempts    int
	NextAttempt time.Time
	Created     time.Time
}

// EnvelopeHash identifies a received envelope: SHA-256 of its bytes.
type EnvelopeHash [sha256.Size]byte

// HashEnvelope returns the hash of a received envelope.
func HashEnvelope(envelope []byte) EnvelopeHash { return sha256.Sum256(envelope) }
