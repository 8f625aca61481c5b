// SPDX-License-Identifier: AGPL-3.0-or-later

package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	bolt "go.etcd.io/bbolt"

	"github.com/hushchat/hush/services/relay/internal/store"
)

// A change is one logged modification of the store: the writer applies it
// to the open transaction and, if it was accepted, appends its record to
// the log. Open applies the records after a crash in the same order, so a
// change must carry everything its effect depends on: the time it used
// (never the clock at replay), resolved TTLs and cutoffs, the message and
// chunk bytes. Secrets never go in: DeleteChunk logs the token's hash,
// and the onion key ring is saved by a checkpoint instead (see Save).
type change interface {
	kind() recordKind
	// appendPayload appends the record's payload.
	appendPayload(b []byte) []byte
	// apply validates against tx, writes only if it accepts, and sets
	// its own results on every run. lim is the relay's limits when live,
	// and no limits at replay: a change accepted once is accepted again,
	// even if the operator lowered a quota before the restart.
	apply(tx *bolt.Tx, lim *store.Limits) error
}

// recordKind is a record's kind byte. Values are never reused.
type recordKind byte

// Record payloads (times are Unix seconds, integers big-endian):
const (
	// recipient ID ‖ sender ID ‖ auth key (32) ‖ flags (1) ‖ now
	kindCreateQueue recordKind = 1
	// sender ID ‖ message ID (16) ‖ now ‖ envelope (the rest)
	kindSend recordKind = 2
	// recipient ID ‖ counter ‖ now ‖ acknowledged sequence numbers (8 B
	// each, the rest; none for a plain fetch)
	kindFetch recordKind = 3
	// recipient ID ‖ counter ‖ now ‖ sequence numbers (8 B each, the rest)
	kindAck recordKind = 4
	// recipient ID ‖ counter ‖ now
	kindDeleteQueue recordKind = 5
	// chunk ID ‖ expiry ‖ now ‖ SHA-256(delete token) ‖ chunk (the rest)
	kindPutChunk recordKind = 6
	// chunk ID ‖ SHA-256(delete token)
	kindDeleteChunk recordKind = 7
	// now ‖ envelope cutoff ‖ released-sender cutoff ‖ idle-before day
	kindExpire recordKind = 8
)

func (k recordKind) String() string {
	switch k {
	case kindCreateQueue:
		return "create queue"
	case kindSend:
		return "send"
	case kindFetch:
		return "fetch"
	case kindAck:
		return "ack"
	case kindDeleteQueue:
		return "delete queue"
	case kindPutChunk:
		return "put chunk"
	case kindDeleteChunk:
		return "delete chunk"
	case kindExpire:
		return "expire"
	}
	return fmt.Sprintf("kind %d", byte(k))
}

// replayLimits lifts every quota for replay.
var replayLimits = store.Limits{
	EnvelopeTTL: math.MaxInt64, MaxChunkTTL: math.MaxInt64,
	MaxQueueEnvelopes: math.MaxInt64, MaxQueueBytes: math.MaxInt64,
	MaxQueues: math.MaxInt64, MaxChunks: math.MaxInt64, MaxBytes: math.MaxInt64,
}

// errBadRecord means a record whose CRC is right does not decode: written
// by a newer relay, or a bug. Open refuses to guess.
var errBadRecord = errors.New("boltstore: log record does not decode")

// decodeChange returns the change a record's kind and payload describe.
// It accepts only the exact encoding appendPayload writes.
func decodeChange(kind recordKind, p []byte) (change, error) {
	r := payloadReader{b: p}
	var c change
	switch kind {
	case kindCreateQueue:
		v := &createQueue{recipient: r.id(), sender: r.id(), authKey: r.id(), flags: r.byte(), now: r.u64()}
		if v.flags&^flagContactRequest != 0 {
			return nil, fmt.Errorf("%w: create queue with flags %#x", errBadRecord, v.flags)
		}
		c = v
	case kindSend:
		v := &sendEnvelope{sender: r.id()}
		copy(v.msg[:], r.take(store.MessageIDSize))
		v.now = r.u64()
		v.envelope = r.rest()
		if len(v.envelope) == 0 {
			return nil, fmt.Errorf("%w: send without an envelope", errBadRecord)
		}
		c = v
	case kindFetch:
		v := &fetch{recipient: r.id(), counter: r.u64(), now: r.u64()}
		var err error
		if v.ack, err = readSeqs(kind, r.rest()); err != nil {
			return nil, err
		}
		c = v
	case kindAck:
		v := &ack{recipient: r.id(), counter: r.u64(), now: r.u64()}
		var err error
		if v.seqs, err = readSeqs(kind, r.rest()); err != nil {
			return nil, err
		}
		c = v
	case kindDeleteQueue:
		c = &deleteQueue{recipient: r.id(), counter: r.u64(), now: r.u64()}
	case kindPutChunk:
		v := &putChunk{id: r.id(), expiry: r.u64(), now: r.u64(), tokenHash: r.id()}
		v.data = r.rest()
		if len(v.data) == 0 {
			return nil, fmt.Errorf("%w: put chunk without a chunk", errBadRecord)
		}
		c = v
	case kindDeleteChunk:
		c = &delChunk{id: r.id(), tokenHash: r.id()}
	case kindExpire:
		c = &expire{now: r.u64(), envCutoff: r.u64(), releasedCutoff: r.u64(), idleBefore: r.u64()}
	default:
		return nil, fmt.Errorf("%w: unknown kind %d", errBadRecord, byte(kind))
	}
	if r.short {
		return nil, fmt.Errorf("%w: %s record of %d bytes is too short", errBadRecord, kind, len(p))
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after a %s record", errBadRecord, len(r.b), kind)
	}
	return c, nil
}

// payloadReader reads fixed fields, noting when it ran out.
type payloadReader struct {
	b     []byte
	short bool
}

func (r *payloadReader) take(n int) []byte {
	if len(r.b) < n {
		r.short = true
		r.b = nil
		return make([]byte, n)
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *payloadReader) id() (v [32]byte) { copy(v[:], r.take(32)); return v }
func (r *payloadReader) u64() uint64      { return binary.BigEndian.Uint64(r.take(u64)) }
func (r *payloadReader) byte() byte       { return r.take(1)[0] }

// rest returns a copy of what is left: bbolt keeps the slices a
// transaction puts until it commits.
func (r *payloadReader) rest() []byte {
	v := append([]byte(nil), r.b...)
	r.b = nil
	return v
}

// The payload encoders, in the order of the kinds.

func (c *createQueue) kind() recordKind { return kindCreateQueue }
func (c *createQueue) appendPayload(b []byte) []byte {
	b = append(append(append(b, c.recipient[:]...), c.sender[:]...), c.authKey[:]...)
	return binary.BigEndian.AppendUint64(append(b, c.flags), c.now)
}

func (c *sendEnvelope) kind() recordKind { return kindSend }
func (c *sendEnvelope) appendPayload(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(append(append(b, c.sender[:]...), c.msg[:]...), c.now)
	return append(b, c.envelope...)
}

func (c *fetch) kind() recordKind { return kindFetch }
func (c *fetch) appendPayload(b []byte) []byte {
	return appendOwnerOp(b, c.recipient, c.counter, c.now, c.ack)
}

// appendOwnerOp appends the payload of an owner's operation: recipient
// ID ‖ counter ‖ now ‖ sequence numbers (8 B each).
func appendOwnerOp(b []byte, recipient store.QueueID, counter, now uint64, seqs []uint64) []byte {
	b = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(append(b, recipient[:]...), counter), now)
	for _, s := range seqs {
		b = binary.BigEndian.AppendUint64(b, s)
	}
	return b
}

// readSeqs decodes a record's trailing sequence numbers.
func readSeqs(kind recordKind, rest []byte) ([]uint64, error) {
	if len(rest)%u64 != 0 {
		return nil, fmt.Errorf("%w: %s with %d bytes of sequence numbers", errBadRecord, kind, len(rest))
	}
	var seqs []uint64
	for ; len(rest) > 0; rest = rest[u64:] {
		seqs = append(seqs, binary.BigEndian.Uint64(rest))
	}
	return seqs, nil
}

func (c *ack) kind() recordKind { return kindAck }
func (c *ack) appendPayload(b []byte) []byte {
	return appendOwnerOp(b, c.recipient, c.counter, c.now, c.seqs)
}

func (c *deleteQueue) kind() recordKind { return kindDeleteQueue }
func (c *deleteQueue) appendPayload(b []byte) []byte {
	return appendOwnerOp(b, c.recipient, c.counter, c.now, nil)
}

func (c *putChunk) kind() recordKind { return kindPutChunk }
func (c *putChunk) appendPayload(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(append(b, c.id[:]...), c.expiry), c.now)
	return append(append(b, c.tokenHash[:]...), c.data...)
}

func (c *delChunk) kind() recordKind { return kindDeleteChunk }
func (c *delChunk) appendPayload(b []byte) []byte {
	return append(append(b, c.id[:]...), c.tokenHash[:]...)
}

func (c *expire) kind() recordKind { return kindExpire }
func (c *expire) appendPayload(b []byte) []byte {
	for _, v := range [...]uint64{c.now, c.envCutoff, c.releasedCutoff, c.idleBefore} {
		b = binary.BigEndian.AppendUint64(b, v)
	}
	return b
}
