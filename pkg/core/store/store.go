// SPDX-License-Identifier: AGPL-3.0-or-later

package store

import (
	"context"
	"time"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/invite"
	"github.com/hushchat/hush/pkg/core/session"
	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion/path"
)

// Store is everything a client keeps. session.Store brings Transact.
type Store interface {
	session.Store
	invite.Ledger
	path.GuardStore
	Profile
	Contacts
	Queues
	Targets
	Messages
	Outbox
	Received
	Settings
	Attachments
	Expiry
	// Close releases the store. It must not be used afterwards.
	Close() error
}

// Profile holds the profile's own identity, which session.Store's
// LocalIdentity returns.
type Profile interface {
	// SetLocalIdentity records the profile's identity key and libsignal
	// registration ID, once: a second call returns ErrExists.
	SetLocalIdentity(ctx context.Context, key *identity.PrivateKey, registrationID uint32) error
}

// Contacts holds the people this profile talks to.
type Contacts interface {
	// AddContact stores c (its ID is ignored) and returns the ID it got.
	AddContact(ctx context.Context, c Contact) (ContactID, error)
	// Contact returns one contact, or ErrNotFound.
	Contact(ctx context.Context, id ContactID) (Contact, error)
	// ListContacts returns every contact, oldest first.
	ListContacts(ctx context.Context) ([]Contact, error)
	// UpdateContact replaces the name, identity key, flags and timers of
	// c.ID.
	UpdateContact(ctx context.Context, c Contact) error
	// DeleteContact removes a contact with its send target, history and
	// outbox entries. Its own queues stay, with no contact, until the
	// client has deleted them on their relays.
	DeleteContact(ctx context.Context, id ContactID) error
}

// Queues holds the client's own mailbox queues and their secrets.
type Queues interface {
	// AddQueue stores q (its ID is ignored) and returns the ID it got.
	AddQueue(ctx context.Context, q OwnQueue) (QueueID, error)
	// Queue returns one queue, or ErrNotFound.
	Queue(ctx context.Context, id QueueID) (OwnQueue, error)
	// ListQueues returns every queue, oldest first.
	ListQueues(ctx context.Context) ([]OwnQueue, error)
	// ContactQueues returns the IDs of a contact's queues, oldest first.
	ContactQueues(ctx context.Context, contact ContactID) ([]QueueID, error)
	// SetQueueContact assigns a queue to a contact (0: to none).
	SetQueueContact(ctx context.Context, id QueueID, contact ContactID) error
	// DeleteQueue forgets a queue.
	DeleteQueue(ctx context.Context, id QueueID) error
	// NextCounter reserves the queue's next n recipient-operation
	// counters: it advances the stored counter by n and returns the new
	// value, the last one reserved. Called outside a transaction it is
	// durable when it returns, so it must be called before a signed
	// request uses one: a counter is never used twice, even after a crash
	// (reserved ones left unused are skipped, which relays allow).
	NextCounter(ctx context.Context, id QueueID, n uint64) (uint64, error)
}

// Targets holds, per contact, the queue address we send to.
type Targets interface {
	// SetTarget replaces the contact's send address.
	SetTarget(ctx context.Context, contact ContactID, addr mailbox.QueueAddress) error
	// Target returns the contact's send address, or ErrNotFound.
	Target(ctx context.Context, contact ContactID) (mailbox.QueueAddress, error)
}

// Messages holds the message history.
type Messages interface {
	// AddMessage stores m; a message with the same contact and ID
	// returns ErrExists.
	AddMessage(ctx context.Context, m Message) error
	// Message returns one message, or ErrNotFound.
	Message(ctx context.Context, contact ContactID, id content.ID) (Message, error)
	// SetMessageState records a message's delivery state.
	SetMessageState(ctx context.Context, contact ContactID, id content.ID, s State) error
	// SetPinned pins or unpins a message.
	SetPinned(ctx context.Context, contact ContactID, id content.ID, pinned bool) error
	// History returns up to limit of a contact's messages, newest first,
	// that come before the cursor (all of them for nil). The last
	// message's Cursor continues the listing.
	History(ctx context.Context, contact ContactID, before *Cursor, limit int) ([]Message, error)
}

// Outbox holds sealed envelopes until a relay acknowledged them.
type Outbox interface {
	// Enqueue stores an envelope to send (its ID is ignored; a taken
	// SendID returns ErrExists) and returns the ID it got. Called in the
	// transaction that encrypted the envelope, the ciphertext and the
	// ratchet step are kept or lost together.
	Enqueue(ctx context.Context, e OutboxEntry) (OutboxID, error)
	// Pending returns up to limit entries, those due first (by
	// NextAttempt, then by ID).
	Pending(ctx context.Context, limit int) ([]OutboxEntry, error)
	// Postpone counts a failed attempt and sets the next attempt time.
	Postpone(ctx context.Context, id OutboxID, next time.Time) error
	// Dequeue removes an entry a relay acknowledged.
	Dequeue(ctx context.Context, id OutboxID) error
}

// Received is the ledger of envelopes already processed, so that an
// envelope a relay delivers again is recognised instead of decrypted
// twice.
type Received interface {
	// MarkProcessed records h and reports whether it was recorded
	// before. Call it in the transaction that decrypts the envelope and
	// stores its message: a rollback forgets the mark too.
	MarkProcessed(ctx context.Context, h EnvelopeHash, now time.Time) (alreadyDone bool, err error)
	// ForgetProcessed drops the marks made before t (envelopes older
	// than the relays' TTL cannot come back) and says how many.
	ForgetProcessed(ctx context.Context, before time.Time) (int, error)
}

// Settings holds small key/value preferences.
type Settings interface {
	// Setting returns a value, or ErrNotFound.
	Setting(ctx context.Context, key string) ([]byte, error)
	// SetSetting stores a value, replacing any earlier one.
	SetSetting(ctx context.Context, key string, value []byte) error
	// DeleteSetting removes a value; a missing one is not an error.
	DeleteSetting(ctx context.Context, key string) error
}
