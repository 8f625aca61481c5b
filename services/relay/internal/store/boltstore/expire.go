// SPDX-License-Identifier: AGPL-3.0-or-later

package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
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
	var st store.ExpireStats
	cutoff := uint64(0)
	if n, ttl := unix(now), uint64(s.limits.EnvelopeTTL/time.Second); n > ttl {
		cutoff = n - ttl
	}
	err := s.submit(ctx, func(tx *bolt.Tx) error {
		st = store.ExpireStats{}
		c := readCounts(tx)
		var more [3]bool
		var errs [3]error
		st.Envelopes, more[0], errs[0] = expireEnvelopes(tx, cutoff, &c)
		st.MessageIDs, more[1], errs[1] = expireIndexed(tx, bucketMsgTimes, bucketMsgIDs, cutoff, nil)
		st.Chunks, more[2], errs[2] = expireIndexed(tx, bucketChunkExp, bucketChunks, unix(now), &c)
		st.More = more[0] || more[1] || more[2]
		return errors.Join(errs[0], errs[1], errs[2], writeCounts(tx, c))
	}, nil)
	return st, err
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

// expireIndexed deletes the records of b due by the time index idx. A
// record whose value does not start with the index's time (an index
// entry left by a deleted queue whose ID came back) is left alone. If c is
// not nil the records are chunks and are counted out of c.
func expireIndexed(tx *bolt.Tx, idx, b []byte, cutoff uint64, c *counts) (int, bool, error) {
	ib, rb := tx.Bucket(idx), tx.Bucket(b)
	keys, more := dueKeys(ib, cutoff)
	n := 0
	for _, k := range keys {
		key := k[u64:]
		if v := rb.Get(key); v != nil && bytes.Equal(v[:u64], k[:u64]) {
			if c != nil {
				c.chunks--
				c.bytes -= int64(len(v) - chunkHeadSize)
			}
			if err := rb.Delete(key); err != nil {
				return n, more, err
			}
			n++
		}
		if err := ib.Delete(k); err != nil {
			return n, more, err
		}
	}
	return n, more, nil
}

// expireEnvelopes deletes envelopes stored at or before cutoff, with their
// queues' and the store's counts.
func expireEnvelopes(tx *bolt.Tx, cutoff uint64, c *counts) (int, bool, error) {
	ib, envs, queues := tx.Bucket(bucketEnvTimes), tx.Bucket(bucketEnvelopes), tx.Bucket(bucketQueues)
	keys, more := dueKeys(ib, cutoff)
	n := 0
	for _, k := range keys {
		key := k[u64:]
		if v := envs.Get(key); v != nil && bytes.Equal(v[:u64], k[:u64]) {
			size := uint64(len(v) - envHeadSize)
			rec, err := decodeQueue(queues.Get(key[:idSz]))
			if err != nil {
				return n, more, err
			}
			rec.count--
			rec.bytes -= size
			c.envelopes--
			c.bytes -= int64(size)
			if err := errors.Join(envs.Delete(key), queues.Put(key[:idSz], rec.encode())); err != nil {
				return n, more, err
			}
			n++
		}
		if err := ib.Delete(k); err != nil {
			return n, more, err
		}
	}
	return n, more, nil
}

// Stats returns the store's counts and file size.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	var st store.Stats
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := readCounts(tx)
		st = store.Stats{Queues: c.queues, Envelopes: c.envelopes, Chunks: c.chunks, Bytes: c.bytes, FileBytes: tx.Size()}
		return nil
	})
	return st, err
}

// Backup writes a consistent copy of the store, as of one moment, to w
// while sends go on. The copy is a bbolt file Open accepts. It holds a
// read transaction throughout: if the file must grow meanwhile, writes
// wait for the backup to finish.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
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
