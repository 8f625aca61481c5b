// SPDX-License-Identifier: AGPL-3.0-or-later

// Package store defines what the relay keeps on disk: mailbox queues with
// their envelopes, and attachment chunks (DESIGN.md "Mailboxes"). Store is
// the interface the daemon calls; boltstore is its default implementation
// (one bbolt file, group commit). Limits are the operator's quotas.
//
// Every refusal is a sentinel error below, and a refused operation changes
// nothing. Every operation that returns without error is durable.
package store

import (
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"time"

	"github.com/hushchat/hush/pkg/mailbox"
)

// Sizes of identifiers and stored objects: the mailbox protocol's (which
// checks them against the client core's), so the relay does not import
// the client core.
const (
	IDSize        = mailbox.IDSize        // queue and chunk IDs: random 256-bit
	MessageIDSize = mailbox.MessageIDSize // a client's message ID

	// EnvelopeSize is the size of every envelope a queue holds.
	EnvelopeSize = mailbox.EnvelopeSize
	// ChunkSize is the size of every chunk.
	ChunkSize = mailbox.ChunkSize
	// MaxFetch is the most envelopes one Fetch returns: two fit one onion
	// response.
	MaxFetch = mailbox.MaxFetch
)

// QueueID is a queue's recipient or sender ID. Both are capabilities: the
// daemon never logs them.
type QueueID [IDSize]byte

// ChunkID names a chunk.
type ChunkID [IDSize]byte

// MessageID is the sender's ID for one send, which makes Send idempotent.
type MessageID [MessageIDSize]byte

// Defaults of Limits.
const (
	DefaultEnvelopeTTL       = 21 * 24 * time.Hour
	DefaultMaxChunkTTL       = 30 * 24 * time.Hour
	DefaultMaxQueueEnvelopes = 1000
	DefaultMaxQueueBytes     = DefaultMaxQueueEnvelopes * EnvelopeSize // 15,360,000 B
	DefaultMaxQueues         = 1_000_000
	DefaultMaxChunks         = 1_000_000
	DefaultMaxBytes          = 50 << 30 // 50 GiB of envelopes and chunks

	// DefaultQueueIdleTTL is how long a queue lives without its owner:
	// 45 days, beyond the longest an invitation is valid (a queue made
	// for one must outlive it) and beyond the envelope TTL (an owner
	// offline for less than that still finds its mail).
	DefaultQueueIdleTTL = 45 * 24 * time.Hour
	// SendMetaBytes is the fixed cost of one stored send's message-ID and
	// expiry records, charged to MaxBytes while they live (Stats.MetaBytes).
	SendMetaBytes = 160

	// MinQueueIdleTTL: a relay's QueueIdleTTL must be above it, and above
	// its EnvelopeTTL. It is the longest an invitation, and so the queue
	// it names, is valid (invite.MaxTTL, checked by a test; not imported,
	// to keep the client core out of the relay's store).
	MinQueueIdleTTL = 30 * 24 * time.Hour
)

// Limits are a relay's quotas. A zero field takes its default.
type Limits struct {
	// EnvelopeTTL is how long an envelope is kept unacknowledged, and how
	// long a message ID is remembered for Send's idempotence.
	EnvelopeTTL time.Duration
	// MaxChunkTTL caps a chunk's TTL; longer requests are shortened.
	MaxChunkTTL time.Duration
	// Per queue: envelopes held, and their bytes.
	MaxQueueEnvelopes int64
	MaxQueueBytes     int64
	// Relay-wide: queues, chunks, and the bytes of envelopes, chunks and
	// per-send metadata together (Stats.Bytes + Stats.MetaBytes: the disk
	// budget; the files are larger by the pages' slack and the other
	// indexes, see ARCHITECTURE.md).
	MaxQueues int64
	MaxChunks int64
	MaxBytes  int64
	// QueueIdleTTL is how long a queue is kept after its owner's last
	// operation (its creation, a fetch or an ack); then Expire deletes it
	// with its envelopes.
	QueueIdleTTL time.Duration
}

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	def := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	if l.EnvelopeTTL == 0 {
		l.EnvelopeTTL = DefaultEnvelopeTTL
	}
	if l.MaxChunkTTL == 0 {
		l.MaxChunkTTL = DefaultMaxChunkTTL
	}
	if l.QueueIdleTTL == 0 {
		l.QueueIdleTTL = DefaultQueueIdleTTL
	}
	def(&l.MaxQueueEnvelopes, DefaultMaxQueueEnvelopes)
	def(&l.MaxQueueBytes, DefaultMaxQueueBytes)
	def(&l.MaxQueues, DefaultMaxQueues)
	def(&l.MaxChunks, DefaultMaxChunks)
	def(&l.MaxBytes, DefaultMaxBytes)
	return l
}

// Errors a Store returns. Each refusal has its own; the operation that
// returned it changed nothing.
var (
	ErrNoQueue            = errors.New("store: no such queue")
	ErrExists             = errors.New("store: ID already in use")
	ErrQueueFull          = errors.New("store: queue full")
	ErrContactRequestUsed = errors.New("store: contact-request queue already took its envelope")
	ErrTooManyQueues      = errors.New("store: relay holds its maximum number of queues")
	ErrTooManyChunks      = errors.New("store: relay holds its maximum number of chunks")
	ErrRelayFull          = errors.New("store: relay's storage budget is used up")
	ErrCounter            = errors.New("store: counter not above the last accepted one (replayed or reordered request)")
	ErrNoChunk            = errors.New("store: no such chunk (never stored, deleted or expired)")
	ErrBadToken           = errors.New("store: wrong chunk delete token")
	ErrBadSize            = errors.New("store: wrong size")
	ErrBadTTL             = errors.New("store: chunk TTL not positive")
	ErrClosed             = errors.New("store: closed")
)

// Refusals lists the errors that mean "refused, nothing changed", for
// callers mapping them to status codes.
var Refusals = []error{
	ErrNoQueue, ErrExists, ErrQueueFull, ErrContactRequestUsed, ErrTooManyQueues,
	ErrTooManyChunks, ErrRelayFull, ErrCounter, ErrNoChunk, ErrBadToken, ErrBadSize, ErrBadTTL,
}

// IsRefusal reports whether err is (or wraps) one of Refusals.
func IsRefusal(err error) bool {
	for _, r := range Refusals {
		if errors.Is(err, r) {
			return true
		}
	}
	return false
}

// NewQueue is what CreateQueue needs.
type NewQueue struct {
	Recipient, Sender QueueID
	// AuthKey checks the recipient's signatures (ed25519.PublicKeySize).
	AuthKey ed25519.PublicKey
	// ContactRequest makes a queue that accepts exactly one envelope.
	ContactRequest bool
}

// SendResult says what Send did.
type SendResult struct {
	// Duplicate is true when the message ID was seen on this queue within
	// the envelope TTL: nothing was stored this time.
	Duplicate bool
}

// Envelope is one stored envelope and its sequence number in its queue.
type Envelope struct {
	Seq  uint64
	Data []byte
}

// ExpireStats counts what one Expire removed.
type ExpireStats struct {
	Envelopes, Chunks, MessageIDs int
	// IdleQueues counts the queues deleted because their owner was away
	// for QueueIdleTTL (their envelopes count in Envelopes).
	IdleQueues int
	// More is true when Expire stopped at its per-call bound; call again.
	More bool
}

// Stats are the store's counts.
type Stats struct {
	Queues, Envelopes, Chunks int64
	// Bytes counts envelopes and chunks.
	Bytes int64
	// MetaBytes is the fixed cost charged per stored send while its
	// message-ID and expiry records live (the envelope TTL, even after it
	// was acknowledged). MaxBytes limits Bytes + MetaBytes.
	MetaBytes int64
	// FileBytes is the size of the store's files on disk (for boltstore,
	// the database and its write-ahead log).
	FileBytes int64
}

// Store is the relay's durable state. Every method is safe for concurrent
// use. Methods that change state return only after the change is on disk.
type Store interface {
	// CreateQueue makes a queue. Both IDs must be unused (ErrExists).
	CreateQueue(ctx context.Context, q NewQueue, now time.Time) error
	// QueueAuth returns the queue's auth key and the last accepted counter,
	// for the caller's signature check.
	QueueAuth(ctx context.Context, recipient QueueID) (ed25519.PublicKey, uint64, error)
	// Send stores one envelope, idempotently per message ID.
	Send(ctx context.Context, sender QueueID, msg MessageID, envelope []byte, now time.Time) (SendResult, error)

	// Recipient operations take the counter the caller verified; it must be
	// above the last accepted one (ErrCounter) and is recorded with the op.

	// Fetch deletes the envelopes ack names, as Ack does (the owner
	// acknowledges what it stored from one fetch in the next), then
	// returns up to max (1..MaxFetch) envelopes, oldest first, without
	// removing them.
	Fetch(ctx context.Context, recipient QueueID, counter uint64, ack []uint64, max int) ([]Envelope, error)
	// Peek returns what Fetch would, recording nothing (no counter): for a
	// long-poll woken after its Fetch recorded the counter.
	Peek(ctx context.Context, recipient QueueID, max int) ([]Envelope, error)
	// Ack deletes the envelopes with these sequence numbers; unknown ones
	// are ignored.
	Ack(ctx context.Context, recipient QueueID, counter uint64, seqs []uint64) error
	// DeleteQueue removes the queue and its envelopes and frees its IDs.
	DeleteQueue(ctx context.Context, recipient QueueID, counter uint64) error
	// Subscribe returns a channel that receives (buffered 1, never
	// blocking the store) after an envelope was stored for the queue.
	// cancel releases it.
	Subscribe(recipient QueueID) (ch <-chan struct{}, cancel func())

	// PutChunk stores a chunk under a new ID for ttl (capped at
	// MaxChunkTTL). Only SHA-256(delete token) is kept.
	PutChunk(ctx context.Context, id ChunkID, data []byte, ttl time.Duration, deleteTokenHash [32]byte, now time.Time) error
	// GetChunk returns a chunk that has not expired.
	GetChunk(ctx context.Context, id ChunkID, now time.Time) ([]byte, error)
	// DeleteChunk deletes a chunk if SHA-256(token) matches.
	DeleteChunk(ctx context.Context, id ChunkID, token [32]byte) error

	// Expire removes envelopes and message-ID records older than the
	// envelope TTL, chunks past their TTL, and queues idle for the queue
	// idle TTL.
	Expire(ctx context.Context, now time.Time) (ExpireStats, error)
	// Stats returns the current counts.
	Stats(ctx context.Context) (Stats, error)
	// Backup writes a consistent copy of the whole store while it runs.
	Backup(ctx context.Context, w io.Writer) (int64, error)
	// Close finishes pending writes and closes the store.
	Close() error
}
