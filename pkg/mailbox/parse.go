// SPDX-License-Identifier: AGPL-3.0-or-later

package mailbox

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hushchat/hush/pkg/internal/secret"
	"github.com/hushchat/hush/pkg/onion"
	mailboxv1 "github.com/hushchat/hush/proto/mailbox/v1"
)

// Request is a parsed request: exactly one field is set.
type Request struct {
	Create      *Create
	Send        *Send
	Owner       *OwnerOp
	PutChunk    *PutChunk
	GetChunk    *ChunkID
	DeleteChunk *DeleteChunk
}

// Create asks for a new queue. Verify before acting on it.
type Create struct {
	Recipient      RecipientID
	Sender         SenderID
	AuthKey        AuthPublicKey
	ContactRequest bool
	body, sig      []byte
}

// Send stores one envelope.
type Send struct {
	Sender   SenderID
	Message  MessageID
	Envelope []byte
}

// OwnerOp is an operation by a queue's owner: exactly one of Fetch, Ack
// and Delete is set. Verify it with the queue's key before acting on it;
// the relay then accepts Counter only if it is above the last accepted.
type OwnerOp struct {
	Recipient RecipientID
	Counter   uint64
	Fetch     *Fetch
	Ack       []uint64
	Delete    bool
	body, sig []byte
}

// Fetch asks for up to Max envelopes, waiting up to Wait, after deleting
// the envelopes Ack names (as an Ack operation would).
type Fetch struct {
	Wait time.Duration
	Max  int
	Ack  []uint64
}

// PutChunk stores a chunk.
type PutChunk struct {
	ID              ChunkID
	Data            []byte
	TTL             time.Duration
	DeleteTokenHash [sha256.Size]byte
}

// DeleteChunk deletes a chunk.
type DeleteChunk struct {
	ID    ChunkID
	Token DeleteToken
}

func bad(format string, args ...any) error {
	return fmt.Errorf("%w: %s", StatusMalformed, fmt.Sprintf(format, args...))
}

// ParseRequest reads a request at the exit. Its errors wrap the Status to
// answer with (StatusMalformed, StatusVersion or StatusBadSize).
func ParseRequest(b []byte) (*Request, error) {
	if len(b) > onion.RequestCapacity {
		return nil, bad("request of %d bytes", len(b))
	}
	var p mailboxv1.Request
	if err := proto.Unmarshal(b, &p); err != nil {
		return nil, bad("does not decode")
	}
	switch p.GetVersion() {
	case Version:
	case 0:
		return nil, bad("no version")
	default:
		return nil, fmt.Errorf("%w: version %d, this relay reads %d", StatusVersion, p.GetVersion(), Version)
	}
	switch op := p.GetOp().(type) {
	case *mailboxv1.Request_CreateQueue:
		c, err := parseCreate(op.CreateQueue)
		return &Request{Create: c}, err
	case *mailboxv1.Request_Send:
		s, err := parseSend(op.Send)
		return &Request{Send: s}, err
	case *mailboxv1.Request_RecipientOp:
		o, err := parseOwner(op.RecipientOp)
		return &Request{Owner: o}, err
	case *mailboxv1.Request_PutChunk:
		c, err := parsePutChunk(op.PutChunk)
		return &Request{PutChunk: c}, err
	case *mailboxv1.Request_GetChunk:
		id, err := chunkID(op.GetChunk.GetChunkId())
		return &Request{GetChunk: &id}, err
	case *mailboxv1.Request_DeleteChunk:
		d, err := parseDeleteChunk(op.DeleteChunk)
		return &Request{DeleteChunk: d}, err
	case nil:
		return nil, bad("no operation")
	default:
		return nil, bad("unknown operation %T", op)
	}
}

func parseCreate(p *mailboxv1.CreateQueue) (*Create, error) {
	var body mailboxv1.CreateQueueBody
	if err := proto.Unmarshal(p.GetBody(), &body); err != nil {
		return nil, bad("create body does not decode")
	}
	c := &Create{ContactRequest: body.GetContactRequest(), body: p.GetBody(), sig: p.GetSignature()}
	var err error
	if c.Recipient, err = ParseRecipientID(body.GetRecipientId()); err != nil {
		return nil, bad("%v", err)
	}
	if c.Sender, err = ParseSenderID(body.GetSenderId()); err != nil {
		return nil, bad("%v", err)
	}
	if len(body.GetAuthKey()) != ed25519.PublicKeySize {
		return nil, bad("auth key of %d bytes", len(body.GetAuthKey()))
	}
	c.AuthKey = AuthPublicKey(body.GetAuthKey())
	if err := canonical(p.GetBody(), &body); err != nil {
		return nil, err
	}
	return c, nil
}

// Verify checks the create request's signature by its own auth key, for
// this relay.
func (c *Create) Verify(relay RelayID) error {
	return verify(c.AuthKey, LabelCreate, relay, c.body, c.sig)
}

func parseSend(p *mailboxv1.Send) (*Send, error) {
	sid, err := ParseSenderID(p.GetSenderId())
	if err != nil {
		return nil, bad("%v", err)
	}
	if len(p.GetMessageId()) != MessageIDSize {
		return nil, bad("message ID of %d bytes", len(p.GetMessageId()))
	}
	if len(p.GetEnvelope()) != EnvelopeSize {
		return nil, fmt.Errorf("%w: envelope of %d bytes, want %d", StatusBadSize, len(p.GetEnvelope()), EnvelopeSize)
	}
	return &Send{Sender: sid, Message: MessageID(p.GetMessageId()), Envelope: p.GetEnvelope()}, nil
}

func parseOwner(p *mailboxv1.SignedRecipientOp) (*OwnerOp, error) {
	var body mailboxv1.RecipientOp
	if err := proto.Unmarshal(p.GetBody(), &body); err != nil {
		return nil, bad("owner operation does not decode")
	}
	o := &OwnerOp{Counter: body.GetCounter(), body: p.GetBody(), sig: p.GetSignature()}
	var err error
	if o.Recipient, err = ParseRecipientID(body.GetRecipientId()); err != nil {
		return nil, bad("%v", err)
	}
	if o.Counter == 0 {
		return nil, bad("counter 0")
	}
	switch op := body.GetOp().(type) {
	case *mailboxv1.RecipientOp_Fetch:
		f := op.Fetch
		if f.GetMax() < 1 || f.GetMax() > MaxFetch || time.Duration(f.GetWaitMs())*time.Millisecond > MaxWait {
			return nil, bad("fetch of %d envelopes waiting %d ms", f.GetMax(), f.GetWaitMs())
		}
		if n := len(f.GetAck()); n > MaxAck {
			return nil, bad("fetch acknowledging %d envelopes", n)
		}
		o.Fetch = &Fetch{Wait: time.Duration(f.GetWaitMs()) * time.Millisecond, Max: int(f.GetMax()), Ack: f.GetAck()}
	case *mailboxv1.RecipientOp_Ack:
		if n := len(op.Ack.GetSeqs()); n == 0 || n > MaxAck {
			return nil, bad("ack of %d envelopes", n)
		}
		o.Ack = op.Ack.GetSeqs()
	case *mailboxv1.RecipientOp_DeleteQueue:
		o.Delete = true
	default:
		return nil, bad("owner operation %T", op)
	}
	if err := canonical(p.GetBody(), &body); err != nil {
		return nil, err
	}
	return o, nil
}

// Verify checks the owner's signature with the queue's auth key, for this
// relay. The counter is the caller's to check.
func (o *OwnerOp) Verify(relay RelayID, key AuthPublicKey) error {
	return verify(key, LabelRecipient, relay, o.body, o.sig)
}

func parsePutChunk(p *mailboxv1.PutChunk) (*PutChunk, error) {
	id, err := chunkID(p.GetChunkId())
	if err != nil {
		return nil, err
	}
	if len(p.GetData()) != ChunkSize {
		return nil, fmt.Errorf("%w: chunk of %d bytes, want %d", StatusBadSize, len(p.GetData()), ChunkSize)
	}
	if len(p.GetDeleteTokenHash()) != sha256.Size {
		return nil, bad("delete token hash of %d bytes", len(p.GetDeleteTokenHash()))
	}
	ttl := time.Duration(p.GetTtlSeconds()) * time.Second
	if ttl <= 0 || ttl > MaxChunkTTL {
		return nil, bad("chunk TTL of %d seconds", p.GetTtlSeconds())
	}
	return &PutChunk{ID: id, Data: p.GetData(), TTL: ttl, DeleteTokenHash: [sha256.Size]byte(p.GetDeleteTokenHash())}, nil
}

func parseDeleteChunk(p *mailboxv1.DeleteChunk) (*DeleteChunk, error) {
	id, err := chunkID(p.GetChunkId())
	if err != nil {
		return nil, err
	}
	tok, err := ParseDeleteToken(p.GetDeleteToken())
	if err != nil {
		return nil, bad("%v", err)
	}
	return &DeleteChunk{ID: id, Token: tok}, nil
}

// TokenMatches reports whether token hashes to hash, in constant time.
func TokenMatches(token DeleteToken, hash [sha256.Size]byte) bool {
	h := sha256.Sum256(token.k[:])
	return secret.Equal(h[:], hash[:])
}

func chunkID(raw []byte) (ChunkID, error) {
	if len(raw) != IDSize {
		return ChunkID{}, bad("chunk ID of %d bytes", len(raw))
	}
	return ChunkID(raw), nil
}

// canonical requires a signed body to be exactly the deterministic
// encoding of what it parsed to: one spelling per operation, no unknown
// fields riding under the signature.
func canonical(body []byte, m proto.Message) error {
	again, err := deterministic.Marshal(m)
	if err != nil || !bytes.Equal(again, body) {
		return bad("signed body is not in canonical form")
	}
	return nil
}

func verify(key AuthPublicKey, label string, relay RelayID, body, sig []byte) error {
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(key[:], signedBytes(label, relay, body), sig) {
		return StatusAuth
	}
	return nil
}
