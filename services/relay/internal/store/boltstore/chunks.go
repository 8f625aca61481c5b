// SPDX-License-Identifier: AGPL-3.0-or-later

package boltstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hushchat/hush/services/relay/internal/store"
)

// PutChunk stores data under id until now+ttl, ttl capped at the
// relay's MaxChunkTTL. An ID in use is refused (ErrExists) unless its
// chunk has expired, which is then replaced.
func (s *Store) PutChunk(ctx context.Context, id store.ChunkID, data []byte, ttl time.Duration, deleteTokenHash [32]byte, now time.Time) error {
	if len(data) != store.ChunkSize {
		return fmt.Errorf("%w: chunk of %d bytes, want %d", store.ErrBadSize, len(data), store.ChunkSize)
	}
	if ttl <= 0 {
		return fmt.Errorf("%w (%v)", store.ErrBadTTL, ttl)
	}
	ttl = min(ttl, s.limits.MaxChunkTTL)
	return s.change(ctx, &putChunk{id: id, expiry: unix(now.Add(ttl)), now: unix(now),
		tokenHash: deleteTokenHash, data: bytes.Clone(data)}, nil)
}

type putChunk struct {
	id          store.ChunkID
	expiry, now uint64
	tokenHash   [32]byte
	data        []byte
}

func (p *putChunk) apply(tx *bolt.Tx, lim *store.Limits) error {
	chunks := tx.Bucket(bucketChunks)
	c := readCounts(tx)
	old := chunks.Get(p.id[:])
	if old != nil && binary.BigEndian.Uint64(old) > p.now {
		return fmt.Errorf("%w: a chunk with this ID is stored", store.ErrExists)
	}
	// Check the quotas on the counts as they will be once an expired
	// chunk with this ID is gone, before anything is written: a refusal
	// must leave the store as it was.
	after := c
	if old != nil {
		after.chunks--
		after.bytes -= int64(len(old) - chunkHeadSize)
	}
	switch {
	case after.chunks >= lim.MaxChunks:
		return fmt.Errorf("%w (%d)", store.ErrTooManyChunks, lim.MaxChunks)
	case after.used() > lim.MaxBytes-int64(len(p.data)):
		return fmt.Errorf("%w (%d bytes)", store.ErrRelayFull, lim.MaxBytes)
	}
	if old != nil {
		if err := deleteChunk(tx, p.id, old, &c); err != nil {
			return err
		}
	}
	c.chunks++
	c.bytes += int64(len(p.data))
	return errors.Join(
		chunks.Put(p.id[:], cat(be64(p.expiry), p.tokenHash[:], p.data)),
		tx.Bucket(bucketChunkExp).Put(cat(be64(p.expiry), p.id[:]), nil),
		writeCounts(tx, c))
}

// GetChunk returns a copy of the chunk, or ErrNoChunk if it is not there
// or has expired.
func (s *Store) GetChunk(ctx context.Context, id store.ChunkID, now time.Time) ([]byte, error) {
	var out []byte
	err := s.read(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketChunks).Get(id[:])
		if v == nil || binary.BigEndian.Uint64(v) <= unix(now) {
			return store.ErrNoChunk
		}
		out = bytes.Clone(v[chunkHeadSize:])
		return nil
	})
	return out, err
}

// DeleteChunk deletes the chunk if SHA-256(token) equals the hash given
// at PutChunk, compared in constant time. Only the hash is logged.
func (s *Store) DeleteChunk(ctx context.Context, id store.ChunkID, token [32]byte) error {
	h := sha256.Sum256(token[:])
	clear(token[:])
	return s.change(ctx, &delChunk{id: id, tokenHash: h}, nil)
}

type delChunk struct {
	id        store.ChunkID
	tokenHash [32]byte
}

func (d *delChunk) apply(tx *bolt.Tx, _ *store.Limits) error {
	v := tx.Bucket(bucketChunks).Get(d.id[:])
	if v == nil {
		return store.ErrNoChunk
	}
	// pkg/internal/secret is not importable from services/; this is the
	// same constant-time comparison it wraps.
	if subtle.ConstantTimeCompare(d.tokenHash[:], v[u64:chunkHeadSize]) != 1 {
		return store.ErrBadToken
	}
	c := readCounts(tx)
	if err := deleteChunk(tx, d.id, v, &c); err != nil {
		return err
	}
	return writeCounts(tx, c)
}

// deleteChunk removes a chunk whose stored value is v and its expiry
// index entry, and counts it out of c.
func deleteChunk(tx *bolt.Tx, id store.ChunkID, v []byte, c *counts) error {
	size := int64(len(v) - chunkHeadSize)
	idx := cat(v[:u64], id[:])
	if err := errors.Join(tx.Bucket(bucketChunkExp).Delete(idx), tx.Bucket(bucketChunks).Delete(id[:])); err != nil {
		return err
	}
	c.chunks--
	c.bytes -= size
	return nil
}
