// SPDX-License-Identifier: AGPL-3.0-or-later

package mailbox

import (
	"crypto/sha256"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	mailboxv1 "github.com/hushchat/hush/proto/mailbox/v1"
)

// Format constants.
const (
	// Version is the request and response format version.
	Version = 1
	// EnvelopeSize is the size of every envelope (sealed.EnvelopeSize).
	EnvelopeSize = 15360
	// ChunkSize is the size of every chunk (attach.ChunkSize).
	ChunkSize = 30720
	// MaxFetch is the most envelopes one fetch returns: two fill a
	// response packet.
	MaxFetch = 2
	// MaxWait is the longest a fetch waits for an envelope.
	MaxWait = 30 * time.Second
	// MaxAck bounds the envelopes one ack names.
	MaxAck = 64
	// MaxChunkTTL is the longest TTL a request can ask for (relays cap
	// it lower by configuration).
	MaxChunkTTL = 365 * 24 * time.Hour
)

// Signature labels: each signed operation has its own, so a signature for
// one can never be taken for another.
const (
	LabelCreate    = "hush mailbox v1 create"
	LabelRecipient = "hush mailbox v1 recipient"
)

var deterministic = proto.MarshalOptions{Deterministic: true}

// signedBytes is label ‖ relay identity ‖ body: binding the relay keeps a
// signed request for one relay from being replayed to another.
func signedBytes(label string, relay RelayID, body []byte) []byte {
	b := append([]byte(label), relay.Bytes()...)
	return append(b, body...)
}

func encode(req *mailboxv1.Request) ([]byte, error) {
	req.Version = Version
	b, err := deterministic.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("mailbox: encode: %w", err)
	}
	return b, nil
}

// CreateRequest asks the queue's relay to create it, signed by its auth
// key. Sending the same request again is safe: the relay answers OK if the
// queue exists with these IDs and key.
func (q *Queue) CreateRequest() ([]byte, error) {
	pub := q.Auth.Public()
	body, err := deterministic.Marshal(&mailboxv1.CreateQueueBody{
		RecipientId:    q.Recipient.Bytes(),
		SenderId:       q.Sender.Bytes(),
		AuthKey:        pub[:],
		ContactRequest: q.ContactRequest,
	})
	if err != nil {
		return nil, fmt.Errorf("mailbox: encode: %w", err)
	}
	sig := q.Auth.sign(signedBytes(LabelCreate, q.Relay, body))
	return encode(&mailboxv1.Request{Op: &mailboxv1.Request_CreateQueue{
		CreateQueue: &mailboxv1.CreateQueue{Body: body, Signature: sig}}})
}

// SendRequest stores envelope in the queue whose sender ID is sender.
// Resending with the same message ID stores it once.
func SendRequest(sender SenderID, msg MessageID, envelope []byte) ([]byte, error) {
	if len(envelope) != EnvelopeSize {
		return nil, fmt.Errorf("%w: envelope of %d bytes, want %d", StatusBadSize, len(envelope), EnvelopeSize)
	}
	return encode(&mailboxv1.Request{Op: &mailboxv1.Request_Send{Send: &mailboxv1.Send{
		SenderId: sender.Bytes(), MessageId: msg[:], Envelope: envelope}}})
}

// FetchRequest asks for up to max (at most MaxFetch) envelopes, waiting up
// to wait (at most MaxWait) if none is there. It uses the next counter.
func (q *Queue) FetchRequest(wait time.Duration, max int) ([]byte, error) {
	return q.AckFetchRequest(nil, wait, max)
}

// AckFetchRequest deletes the envelopes with sequence numbers ack (at
// most MaxAck; none is a plain fetch) and then fetches as FetchRequest
// does: the owner acknowledges what it stored from one fetch in the next.
func (q *Queue) AckFetchRequest(ack []uint64, wait time.Duration, max int) ([]byte, error) {
	if max < 1 || max > MaxFetch || wait < 0 || wait > MaxWait {
		return nil, fmt.Errorf("mailbox: fetch of %d envelopes waiting %v is out of range", max, wait)
	}
	if len(ack) > MaxAck {
		return nil, fmt.Errorf("mailbox: fetch acknowledging %d envelopes, at most %d", len(ack), MaxAck)
	}
	return q.ownerRequest(&mailboxv1.RecipientOp{Op: &mailboxv1.RecipientOp_Fetch{Fetch: &mailboxv1.Fetch{
		WaitMs: uint32(wait / time.Millisecond), Max: uint32(max), Ack: ack}}})
}

// AckRequest deletes the envelopes with these sequence numbers.
func (q *Queue) AckRequest(seqs []uint64) ([]byte, error) {
	if len(seqs) == 0 || len(seqs) > MaxAck {
		return nil, fmt.Errorf("mailbox: ack of %d envelopes, want 1 to %d", len(seqs), MaxAck)
	}
	return q.ownerRequest(&mailboxv1.RecipientOp{Op: &mailboxv1.RecipientOp_Ack{Ack: &mailboxv1.Ack{Seqs: seqs}}})
}

// DeleteRequest removes the queue and everything in it.
func (q *Queue) DeleteRequest() ([]byte, error) {
	return q.ownerRequest(&mailboxv1.RecipientOp{Op: &mailboxv1.RecipientOp_DeleteQueue{DeleteQueue: &mailboxv1.DeleteQueue{}}})
}

// ownerRequest fills in the queue and the next counter, signs, and
// encodes. The counter advances even if encoding fails later, which only
// skips a number.
func (q *Queue) ownerRequest(op *mailboxv1.RecipientOp) ([]byte, error) {
	q.Counter++
	op.RecipientId, op.Counter = q.Recipient.Bytes(), q.Counter
	body, err := deterministic.Marshal(op)
	if err != nil {
		return nil, fmt.Errorf("mailbox: encode: %w", err)
	}
	sig := q.Auth.sign(signedBytes(LabelRecipient, q.Relay, body))
	return encode(&mailboxv1.Request{Op: &mailboxv1.Request_RecipientOp{
		RecipientOp: &mailboxv1.SignedRecipientOp{Body: body, Signature: sig}}})
}

// PutChunkRequest stores one chunk for ttl (capped by the relay); token
// lets its holder delete it later, and only its hash is sent.
func PutChunkRequest(id ChunkID, data []byte, ttl time.Duration, token DeleteToken) ([]byte, error) {
	if len(data) != ChunkSize {
		return nil, fmt.Errorf("%w: chunk of %d bytes, want %d", StatusBadSize, len(data), ChunkSize)
	}
	if ttl <= 0 || ttl > MaxChunkTTL {
		return nil, fmt.Errorf("mailbox: chunk TTL %v out of range", ttl)
	}
	h := sha256.Sum256(token.k[:])
	return encode(&mailboxv1.Request{Op: &mailboxv1.Request_PutChunk{PutChunk: &mailboxv1.PutChunk{
		ChunkId: id[:], Data: data, TtlSeconds: uint32(ttl / time.Second), DeleteTokenHash: h[:]}}})
}

// GetChunkRequest fetches a chunk.
func GetChunkRequest(id ChunkID) ([]byte, error) {
	return encode(&mailboxv1.Request{Op: &mailboxv1.Request_GetChunk{GetChunk: &mailboxv1.GetChunk{ChunkId: id[:]}}})
}

// DeleteChunkRequest deletes a chunk with its delete token.
func DeleteChunkRequest(id ChunkID, token DeleteToken) ([]byte, error) {
	return encode(&mailboxv1.Request{Op: &mailboxv1.Request_DeleteChunk{DeleteChunk: &mailboxv1.DeleteChunk{
		ChunkId: id[:], DeleteToken: token.Bytes()}}})
}
