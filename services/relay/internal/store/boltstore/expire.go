// SPDX-License-Identifier: AGPL-3.0-or-later

package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hushchat/hush/services/relay/internal/store"
)

// expireBatch bounds what one Expire removes of each kind, so one call
// never holds the writer for long; ExpireStats.More says to call again.
const expireBatch = 4096

// Expire removes envelopes and message-ID records stored at least
// EnvelopeTTL before now, and chunks whose expiry is not after now.
func (s *Store) Expire(ctx context.Context, now time.Time) (store.ExpireStats, error) {
	c := &expire{now: unix(now), envCutoff: cutoff(now, s.limits.EnvelopeTTL),
		releasedCutoff: cutoff(now, ReleasedSenderTTL), idleBefore: dayOf(cutoff(now, s.limits.QueueIdleTTL))}
	if err := s.change(ctx, c, nil); err != nil {
		return store.ExpireStats{}, err
	}
	return c.stats, nil
}

// cutoff is the Unix time ttl before now, 0 if that is before 1970.
func cutoff(now time.Time, ttl time.Duration) uint64 {
	if n, t := unix(now), uint64(ttl/time.Second); n > t {
		return n - t
	}
	return 0
}

// expire carries its cutoffs, not the TTLs: a replay after the operator
// changed a TTL removes what the first run removed.
//
// idleBefore is a day: a queue whose owner was last active on an earlier
// day is deleted. Every operation of that day is then at least
// QueueIdleTTL old (and at most a day more).
type expire struct {
	now, envCutoff, releasedCutoff, idleBefore uint64

	stats store.ExpireStats // result
}

func (e *expire) apply(tx *bolt.Tx, _ *store.Limits) error {
	e.stats = store.ExpireStats{}
	c := readCounts(tx)
	var moreSent, moreChunks bool
	var errSent, errChunks error
	e.stats.Envelopes, e.stats.MessageIDs, moreSent, errSent = expireSent(tx, e.envCutoff, &c)
	e.stats.Chunks, moreChunks, errChunks = expireChunks(tx, e.now, &c)
	idle, idleEnvs, moreIdle, errIdle := expireIdle(tx, e.idleBefore, e.now, &c)
	e.stats.IdleQueues = idle
	e.stats.Envelopes += idleEnvs
	moreReleased, errReleased := expireReleased(tx, e.releasedCutoff)
	e.stats.More = moreSent || moreChunks || moreIdle || moreReleased
	return errors.Join(errSent, errChunks, errIdle, errReleased, writeCounts(tx, c))
}

// expireIdle deletes the queues whose owner was last active before day
// idleBefore, as DeleteQueue would at now: their envelopes and message-ID
// records go, the recipient ID is free, the sender ID stays taken for
// ReleasedSenderTTL. It returns the queues and envelopes it removed.
func expireIdle(tx *bolt.Tx, idleBefore, now uint64, c *counts) (queues, envelopes int, more bool, err error) {
	if idleBefore == 0 {
		return 0, 0, false, nil
	}
	idx := tx.Bucket(bucketActivity)
	keys, more := dueKeys(idx, idleBefore-1)
	for _, k := range keys {
		var rid store.QueueID
		copy(rid[:], k[u64:])
		rec, err := getQueue(tx, rid)
		if err == nil && rec.activeDay == binary.BigEndian.Uint64(k) {
			if err := removeQueue(tx, rid, rec, now, c); err != nil {
				return queues, envelopes, more, err
			}
			queues++
			envelopes += int(rec.count)
			continue
		}
		// No such queue, or it moved on: a stale entry.
		if err := idx.Delete(k); err != nil {
			return queues, envelopes, more, err
		}
	}
	return queues, envelopes, more, nil
}

// ReleasedSenderTTL is how long a deleted queue's sender ID stays taken:
// the longest an invitation, which carries one, is valid.
const ReleasedSenderTTL = 30 * 24 * time.Hour

// expireReleased frees the sender IDs released at or before cutoff.
func expireReleased(tx *bolt.Tx, cutoff uint64) (more bool, err error) {
	idx, ids := tx.Bucket(bucketReleasedTimes), tx.Bucket(bucketReleased)
	keys, more := dueKeys(idx, cutoff)
	for _, k := range keys {
		sender := k[u64:]
		// Act only if the ID was not released again later.
		if v := ids.Get(sender); v != nil && bytes.Equal(v, k[:u64]) {
			if err := ids.Delete(sender); err != nil {
				return false, err
			}
		}
		if err := idx.Delete(k); err != nil {
			return false, err
		}
	}
	return more, nil
}

// dueKeys returns up to expireBatch keys of the time index idx whose time
// is at most cutoff, and whether more are due.
func dueKeys(idx *bolt.Bucket, cutoff uint64) (keys [][]byte, more bool) {
	c := idx.Cursor()
	for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= cutoff; k, _ = c.Next() {
		if len(keys) == expireBatch {
			return keys, true
		}
		keys = append(keys, bytes.Clone(k))
	}
	return keys, false
}

// expireChunks deletes the chunks due by cutoff and counts them out of c.
func expireChunks(tx *bolt.Tx, cutoff uint64, c *counts) (int, bool, error) {
	idx, chunks := tx.Bucket(bucketChunkExp), tx.Bucket(bucketChunks)
	keys, more := dueKeys(idx, cutoff)
	n := 0
	for _, k := range keys {
		var id store.ChunkID
		copy(id[:], k[u64:])
		if v := chunks.Get(id[:]); v != nil && bytes.Equal(v[:u64], k[:u64]) {
			if err := deleteChunk(tx, id, v, c); err != nil {
				return n, more, err
			}
			n++
			continue
		}
		if err := idx.Delete(k); err != nil {
			return n, more, err
		}
	}
	return n, more, nil
}

// expireSent deletes the envelopes and message-ID records of the "sent"
// entries due by cutoff, with their queues' and the store's counts, and
// the entries. A record is deleted only if it was stored at the entry's
// time: one of a queue made again with a deleted queue's IDs is not the
// entry's.
func expireSent(tx *bolt.Tx, cutoff uint64, c *counts) (envelopes, msgIDs int, more bool, err error) {
	sent, envs, msgs := tx.Bucket(bucketSent), tx.Bucket(bucketEnvelopes), tx.Bucket(bucketMsgIDs)
	keys, more := dueKeys(sent, cutoff)
	for _, k := range keys {
		v := sent.Get(k)
		if len(v) != sentValueSize {
			return envelopes, msgIDs, more, fmt.Errorf("boltstore: corrupt sent entry of %d bytes", len(v))
		}
		key, msgKey := v[:envKeySize], cat(v[:idSz], v[envKeySize:])
		if e := envs.Get(key); e != nil && bytes.Equal(e[:u64], k[:u64]) {
			if err := expireEnvelope(tx, key, uint64(len(e)-envHeadSize), c); err != nil {
				return envelopes, msgIDs, more, err
			}
			envelopes++
		}
		if m := msgs.Get(msgKey); m != nil && bytes.Equal(m, k[:u64]) {
			if err := msgs.Delete(msgKey); err != nil {
				return envelopes, msgIDs, more, err
			}
			msgIDs++
		}
		if err := sent.Delete(k); err != nil {
			return envelopes, msgIDs, more, err
		}
		c.meta -= sendMetaBytes
	}
	return envelopes, msgIDs, more, nil
}

// expireEnvelope deletes the envelope at key (recipient ‖ seq) of size
// bytes and counts it out of its queue and c.
func expireEnvelope(tx *bolt.Tx, key []byte, size uint64, c *counts) error {
	queues := tx.Bucket(bucketQueues)
	rec, err := decodeQueue(queues.Get(key[:idSz]))
	if err != nil {
		return err
	}
	rec.count--
	rec.bytes -= size
	c.envelopes--
	c.bytes -= int64(size)
	return errors.Join(tx.Bucket(bucketEnvelopes).Delete(key), queues.Put(key[:idSz], rec.encode()))
}

// Stats returns the store's counts, and the size of its files: bbolt's
// (as of the last checkpoint) and the log's, which holds the rest.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	var st store.Stats
	err := s.read(ctx, func(tx *bolt.Tx) error {
		c := readCounts(tx)
		st = store.Stats{Queues: c.queues, Envelopes: c.envelopes, Chunks: c.chunks, Bytes: c.bytes,
			MetaBytes: c.meta, FileBytes: tx.Size() + s.wal.size}
		return nil
	})
	return st, err
}

// Check checkpoints, then walks the whole file and returns the first
// inconsistency bbolt finds (a page unreachable, referenced twice, or out
// of bounds), for a backup's verification.
func (s *Store) Check(ctx context.Context) error {
	if err := s.syncToFile(ctx); err != nil {
		return err
	}
	return s.view(ctx, func(tx *bolt.Tx) error {
		var first error
		for err := range tx.Check() {
			if first == nil {
				first = fmt.Errorf("boltstore: check: %w", err)
			}
		}
		return first
	})
}

// Backup writes a consistent copy of the store, as of one moment, to w
// while sends go on. It checkpoints first, so the copy holds everything
// acknowledged before Backup was called, and needs no log: the copy is a
// bbolt file Open accepts alone. It holds a read transaction throughout:
// if the file must grow at a checkpoint meanwhile, writes wait for the
// backup to finish.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if err := s.syncToFile(ctx); err != nil {
		return 0, err
	}
	var n int64
	err := s.view(ctx, func(tx *bolt.Tx) (err error) {
		n, err = tx.WriteTo(ctxWriter{ctx, w})
		return err
	})
	return n, err
}

// ctxWriter stops a backup when its context ends.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
