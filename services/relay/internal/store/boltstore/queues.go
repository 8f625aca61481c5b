// SPDX-License-Identifier: AGPL-3.0-or-later

package boltstore

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hushchat/hush/services/relay/internal/store"
)

// CreateQueue makes a queue; both of its IDs must be unused.
func (s *Store) CreateQueue(ctx context.Context, q store.NewQueue, now time.Time) error {
	if len(q.AuthKey) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: auth key of %d bytes, want %d", store.ErrBadSize, len(q.AuthKey), ed25519.PublicKeySize)
	}
	c := &createQueue{recipient: q.Recipient, sender: q.Sender, now: unix(now)}
	copy(c.authKey[:], q.AuthKey)
	if q.ContactRequest {
		c.flags = flagContactRequest
	}
	return s.change(ctx, c, nil)
}

type createQueue struct {
	recipient, sender store.QueueID
	authKey           [32]byte
	flags             byte
	now               uint64
}

func (c *createQueue) apply(tx *bolt.Tx, lim *store.Limits) error {
	queues, senders := tx.Bucket(bucketQueues), tx.Bucket(bucketSenders)
	if queues.Get(c.recipient[:]) != nil {
		return fmt.Errorf("%w: the recipient ID names another queue", store.ErrExists)
	}
	if senders.Get(c.sender[:]) != nil {
		return fmt.Errorf("%w: the sender ID names another queue", store.ErrExists)
	}
	if tx.Bucket(bucketReleased).Get(c.sender[:]) != nil {
		return fmt.Errorf("%w: the sender ID belonged to a deleted queue", store.ErrExists)
	}
	n := readCounts(tx)
	if n.queues >= lim.MaxQueues {
		return fmt.Errorf("%w (%d)", store.ErrTooManyQueues, lim.MaxQueues)
	}
	n.queues++
	rec := queueRecord{sender: c.sender, authKey: c.authKey, flags: c.flags, created: c.now, activeDay: dayOf(c.now)}
	return errors.Join(queues.Put(c.recipient[:], rec.encode()),
		senders.Put(c.sender[:], bytes.Clone(c.recipient[:])),
		tx.Bucket(bucketActivity).Put(cat(be64(rec.activeDay), c.recipient[:]), nil),
		writeCounts(tx, n))
}

// QueueAuth returns the queue's auth key and last accepted counter.
func (s *Store) QueueAuth(ctx context.Context, recipient store.QueueID) (ed25519.PublicKey, uint64, error) {
	var rec queueRecord
	err := s.read(ctx, func(tx *bolt.Tx) (err error) {
		rec, err = getQueue(tx, recipient)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	return ed25519.PublicKey(bytes.Clone(rec.authKey[:])), rec.lastCounter, nil
}

// Send stores one envelope for the queue whose sender ID is sender.
func (s *Store) Send(ctx context.Context, sender store.QueueID, msg store.MessageID, envelope []byte, now time.Time) (store.SendResult, error) {
	if len(envelope) != s.envSize {
		return store.SendResult{}, fmt.Errorf("%w: envelope of %d bytes, want %d", store.ErrBadSize, len(envelope), s.envSize)
	}
	c := &sendEnvelope{sender: sender, msg: msg, now: unix(now), envelope: bytes.Clone(envelope)}
	err := s.change(ctx, c, func() {
		if !c.dup {
			s.subs.notify(c.recipient)
		}
	})
	if err != nil {
		return store.SendResult{}, err
	}
	return store.SendResult{Duplicate: c.dup}, nil
}

type sendEnvelope struct {
	sender   store.QueueID
	msg      store.MessageID
	now      uint64
	envelope []byte

	dup       bool          // result: the message ID was seen
	recipient store.QueueID // result: whose queue it went to
}

func (c *sendEnvelope) apply(tx *bolt.Tx, lim *store.Limits) error {
	c.dup = false
	rid := tx.Bucket(bucketSenders).Get(c.sender[:])
	if rid == nil {
		return store.ErrNoQueue
	}
	copy(c.recipient[:], rid)
	if tx.Bucket(bucketMsgIDs).Get(cat(rid, c.msg[:])) != nil {
		c.dup = true
		return nil
	}
	return storeEnvelope(tx, lim, c.recipient, c.msg, c.envelope, c.now)
}

// storeEnvelope checks the queue's and the relay's limits, then writes the
// envelope, the message-ID record, their entry in the "sent" index and the
// counts.
func storeEnvelope(tx *bolt.Tx, lim *store.Limits, recipient store.QueueID, msg store.MessageID, envelope []byte, now uint64) error {
	rec, err := getQueue(tx, recipient)
	if err != nil {
		return err
	}
	size := uint64(len(envelope))
	c := readCounts(tx)
	switch {
	case rec.flags&flagUsed != 0:
		return store.ErrContactRequestUsed
	case rec.count+1 > uint64(lim.MaxQueueEnvelopes):
		return fmt.Errorf("%w: it holds %d envelopes, its maximum", store.ErrQueueFull, rec.count)
	case rec.bytes+size > uint64(lim.MaxQueueBytes):
		return fmt.Errorf("%w: %d more bytes would pass its maximum of %d", store.ErrQueueFull, size, lim.MaxQueueBytes)
	case c.used() > lim.MaxBytes-int64(size)-sendMetaBytes:
		return fmt.Errorf("%w (%d bytes)", store.ErrRelayFull, lim.MaxBytes)
	}
	key := cat(recipient[:], be64(rec.nextSeq))
	sentKey := cat(be64(now), be64(uint64(c.sends)))
	rec.nextSeq++
	rec.count++
	rec.bytes += size
	if rec.flags&flagContactRequest != 0 {
		rec.flags |= flagUsed
	}
	c.envelopes++
	c.bytes += int64(size)
	c.sends++
	c.meta += sendMetaBytes
	sent := tx.Bucket(bucketSent)
	sent.FillPercent = sentFillPercent
	return errors.Join(
		tx.Bucket(bucketEnvelopes).Put(key, cat(be64(now), envelope)),
		tx.Bucket(bucketMsgIDs).Put(cat(recipient[:], msg[:]), be64(now)),
		sent.Put(sentKey, cat(key, msg[:])),
		tx.Bucket(bucketQueues).Put(recipient[:], rec.encode()),
		writeCounts(tx, c))
}

// Fetch returns up to max envelopes, oldest first, and records counter.
func (s *Store) Fetch(ctx context.Context, recipient store.QueueID, counter uint64, ack []uint64, max int) ([]store.Envelope, error) {
	if max < 1 || max > store.MaxFetch {
		return nil, fmt.Errorf("%w: fetch of %d envelopes, want 1 to %d", store.ErrBadSize, max, store.MaxFetch)
	}
	if len(ack) > maxAckSeqs {
		return nil, fmt.Errorf("%w: fetch acknowledging %d sequence numbers, at most %d", store.ErrBadSize, len(ack), maxAckSeqs)
	}
	c := &fetch{recipient: recipient, counter: counter, now: unix(s.now()), ack: slices.Clone(ack), max: max}
	if err := s.change(ctx, c, nil); err != nil {
		return nil, err
	}
	return c.out, nil
}

type fetch struct {
	recipient store.QueueID
	counter   uint64
	now       uint64
	ack       []uint64 // deleted first
	max       int      // not logged: a replay returns nothing

	out []store.Envelope // result
}

func (c *fetch) apply(tx *bolt.Tx, _ *store.Limits) error {
	c.out = nil
	rec, err := authorize(tx, c.recipient, c.counter)
	if err != nil {
		return err
	}
	if len(c.ack) > 0 {
		if err := deleteEnvelopes(tx, c.recipient, &rec, c.ack); err != nil {
			return err
		}
	}
	c.out = oldest(tx, c.recipient, c.max)
	return errors.Join(touch(tx, c.recipient, &rec, c.now), tx.Bucket(bucketQueues).Put(c.recipient[:], rec.encode()))
}

// touch records an owner's operation at now in rec (which the caller
// writes back) and moves the queue in the activity index, at most once a
// day.
func touch(tx *bolt.Tx, recipient store.QueueID, rec *queueRecord, now uint64) error {
	day := dayOf(now)
	if day <= rec.activeDay {
		return nil // a clock set back moves nothing
	}
	idx := tx.Bucket(bucketActivity)
	old := rec.activeDay
	rec.activeDay = day
	return errors.Join(idx.Delete(cat(be64(old), recipient[:])), idx.Put(cat(be64(day), recipient[:]), nil))
}

// Peek returns what Fetch would, recording nothing: for a long-poll woken
// after its Fetch recorded the counter.
func (s *Store) Peek(ctx context.Context, recipient store.QueueID, max int) ([]store.Envelope, error) {
	if max < 1 || max > store.MaxFetch {
		return nil, fmt.Errorf("%w: fetch of %d envelopes, want 1 to %d", store.ErrBadSize, max, store.MaxFetch)
	}
	var out []store.Envelope
	err := s.read(ctx, func(tx *bolt.Tx) error {
		if _, err := getQueue(tx, recipient); err != nil {
			return err
		}
		out = oldest(tx, recipient, max)
		return nil
	})
	return out, err
}

// oldest returns up to max of the queue's envelopes, oldest first.
func oldest(tx *bolt.Tx, recipient store.QueueID, max int) []store.Envelope {
	var out []store.Envelope
	if max <= 0 {
		return nil
	}
	c := tx.Bucket(bucketEnvelopes).Cursor()
	for k, v := c.Seek(recipient[:]); k != nil && bytes.HasPrefix(k, recipient[:]) && len(out) < max; k, v = c.Next() {
		out = append(out, store.Envelope{
			Seq:  binary.BigEndian.Uint64(k[idSz:]),
			Data: bytes.Clone(v[envHeadSize:]),
		})
	}
	return out
}

// maxAckSeqs bounds one Ack, so its log record stays in bounds.
const maxAckSeqs = (maxRecordBody - 1024) / u64

// Ack deletes the envelopes seqs and records counter.
func (s *Store) Ack(ctx context.Context, recipient store.QueueID, counter uint64, seqs []uint64) error {
	if len(seqs) > maxAckSeqs {
		return fmt.Errorf("%w: ack of %d sequence numbers, at most %d", store.ErrBadSize, len(seqs), maxAckSeqs)
	}
	return s.change(ctx, &ack{recipient: recipient, counter: counter, now: unix(s.now()), seqs: slices.Clone(seqs)}, nil)
}

type ack struct {
	recipient store.QueueID
	counter   uint64
	now       uint64
	seqs      []uint64
}

// apply is a fetch's that returns nothing.
func (a *ack) apply(tx *bolt.Tx, lim *store.Limits) error {
	return (&fetch{recipient: a.recipient, counter: a.counter, now: a.now, ack: a.seqs}).apply(tx, lim)
}

// deleteEnvelopes deletes the queue's envelopes seqs (unknown ones are
// ignored), updating rec (which the caller writes back) and the store's
// counts.
func deleteEnvelopes(tx *bolt.Tx, recipient store.QueueID, rec *queueRecord, seqs []uint64) error {
	c := readCounts(tx)
	envs := tx.Bucket(bucketEnvelopes)
	for _, seq := range seqs {
		key := cat(recipient[:], be64(seq))
		v := envs.Get(key)
		if v == nil {
			continue
		}
		size := uint64(len(v) - envHeadSize)
		if err := envs.Delete(key); err != nil {
			return err
		}
		rec.count--
		rec.bytes -= size
		c.envelopes--
		c.bytes -= int64(size)
	}
	return writeCounts(tx, c)
}

// DeleteQueue removes the queue, its envelopes and message-ID records, and
// frees its recipient ID. Its sender ID stays taken for ReleasedSenderTTL:
// whoever held it (an invitation link carries one) must find the queue
// gone, not a stranger's queue under the same ID. Its "sent" entries stay
// until they expire.
func (s *Store) DeleteQueue(ctx context.Context, recipient store.QueueID, counter uint64) error {
	return s.change(ctx, &deleteQueue{recipient: recipient, counter: counter, now: unix(s.now())}, nil)
}

type deleteQueue struct {
	recipient store.QueueID
	counter   uint64
	now       uint64
}

func (d *deleteQueue) apply(tx *bolt.Tx, _ *store.Limits) error {
	rec, err := authorize(tx, d.recipient, d.counter)
	if err != nil {
		return err
	}
	c := readCounts(tx)
	return errors.Join(removeQueue(tx, d.recipient, rec, d.now, &c), writeCounts(tx, c))
}

// removeQueue deletes the queue rec at recipient with its envelopes,
// message-ID records and activity entry, counts them out of c, and keeps
// its sender ID taken from released on.
func removeQueue(tx *bolt.Tx, recipient store.QueueID, rec queueRecord, released uint64, c *counts) error {
	c.queues--
	c.envelopes -= int64(rec.count)
	c.bytes -= int64(rec.bytes)
	at := be64(released)
	return errors.Join(
		tx.Bucket(bucketActivity).Delete(cat(be64(rec.activeDay), recipient[:])),
		deletePrefixed(tx.Bucket(bucketEnvelopes), recipient[:]),
		deletePrefixed(tx.Bucket(bucketMsgIDs), recipient[:]),
		tx.Bucket(bucketSenders).Delete(rec.sender[:]),
		tx.Bucket(bucketReleased).Put(bytes.Clone(rec.sender[:]), at),
		tx.Bucket(bucketReleasedTimes).Put(cat(at, rec.sender[:]), nil),
		tx.Bucket(bucketQueues).Delete(recipient[:]))
}

// deletePrefixed deletes every key of b that starts with prefix.
func deletePrefixed(b *bolt.Bucket, prefix []byte) error {
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// authorize returns the queue with counter accepted as its last counter
// (the caller writes the record back), or ErrNoQueue or ErrCounter.
func authorize(tx *bolt.Tx, recipient store.QueueID, counter uint64) (queueRecord, error) {
	rec, err := getQueue(tx, recipient)
	if err != nil {
		return rec, err
	}
	if counter <= rec.lastCounter {
		return rec, fmt.Errorf("%w: got %d, last accepted %d", store.ErrCounter, counter, rec.lastCounter)
	}
	rec.lastCounter = counter
	return rec, nil
}

func getQueue(tx *bolt.Tx, recipient store.QueueID) (queueRecord, error) {
	v := tx.Bucket(bucketQueues).Get(recipient[:])
	if v == nil {
		return queueRecord{}, store.ErrNoQueue
	}
	return decodeQueue(v)
}
