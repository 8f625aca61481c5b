// SPDX-License-Identifier: AGPL-3.0-or-later

package boltstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hushchat/hush/services/relay/internal/store"
)

func chunk(b byte) []byte { return bytes.Repeat([]byte{b}, store.ChunkSize) }

func TestChunks(t *testing.T) {
	s := openTemp(t, store.Limits{})
	id := store.ChunkID(randID())
	token := [32]byte{1, 2, 3}
	if err := s.PutChunk(ctx, id, chunk('a'), time.Hour, sha256.Sum256(token[:]), t0); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetChunk(ctx, id, t0)
	if err != nil || !bytes.Equal(got, chunk('a')) {
		t.Fatalf("GetChunk = %d bytes, %v; want the chunk", len(got), err)
	}
	refusedUnchanged(t, s, "overwrite", store.ErrExists, func() error {
		return s.PutChunk(ctx, id, chunk('b'), time.Hour, [32]byte{}, t0)
	})
	if got, _ := s.GetChunk(ctx, id, t0); !bytes.Equal(got, chunk('a')) {
		t.Fatal("refused overwrite changed the chunk")
	}
	_, err = s.GetChunk(ctx, store.ChunkID(randID()), t0)
	wantErr(t, "unknown chunk", err, store.ErrNoChunk)
	_, err = s.GetChunk(ctx, id, t0.Add(time.Hour))
	wantErr(t, "expired chunk", err, store.ErrNoChunk)

	refusedUnchanged(t, s, "wrong token", store.ErrBadToken, func() error { return s.DeleteChunk(ctx, id, [32]byte{1, 2, 4}) })
	refusedUnchanged(t, s, "hash as token", store.ErrBadToken, func() error { return s.DeleteChunk(ctx, id, sha256.Sum256(token[:])) })
	if err := s.DeleteChunk(ctx, id, token); err != nil {
		t.Fatalf("DeleteChunk with the right token: %v", err)
	}
	_, err = s.GetChunk(ctx, id, t0)
	wantErr(t, "deleted chunk", err, store.ErrNoChunk)
	wantErr(t, "delete again", s.DeleteChunk(ctx, id, token), store.ErrNoChunk)
	if st := stats(t, s); st != (store.Stats{}) {
		t.Fatalf("stats after delete: %+v", st)
	}
}

func TestChunkRefusals(t *testing.T) {
	s := openTemp(t, store.Limits{})
	id := store.ChunkID(randID())
	for _, n := range []int{0, store.ChunkSize - 1, store.ChunkSize + 1} {
		refusedUnchanged(t, s, "chunk size", store.ErrBadSize, func() error {
			return s.PutChunk(ctx, id, make([]byte, n), time.Hour, [32]byte{}, t0)
		})
	}
	for _, ttl := range []time.Duration{0, -time.Second} {
		refusedUnchanged(t, s, "chunk ttl", store.ErrBadTTL, func() error {
			return s.PutChunk(ctx, id, chunk(0), ttl, [32]byte{}, t0)
		})
	}
}

func TestChunkTTLCapped(t *testing.T) {
	s := openTemp(t, store.Limits{MaxChunkTTL: 48 * time.Hour})
	id := store.ChunkID(randID())
	if err := s.PutChunk(ctx, id, chunk('a'), 365*24*time.Hour, [32]byte{}, t0); err != nil {
		t.Fatalf("long TTL refused, want capped: %v", err)
	}
	if _, err := s.GetChunk(ctx, id, t0.Add(48*time.Hour-time.Second)); err != nil {
		t.Fatalf("chunk gone before the cap: %v", err)
	}
	_, err := s.GetChunk(ctx, id, t0.Add(48*time.Hour))
	wantErr(t, "chunk past the cap", err, store.ErrNoChunk)
	// An expired chunk's ID may be used again, before Expire ran.
	if err := s.PutChunk(ctx, id, chunk('b'), time.Hour, [32]byte{}, t0.Add(48*time.Hour)); err != nil {
		t.Fatalf("reuse of an expired ID: %v", err)
	}
	if st := stats(t, s); st.Chunks != 1 || st.Bytes != store.ChunkSize {
		t.Fatalf("stats after replacing an expired chunk: %+v", st)
	}
	if st, err := s.Expire(ctx, t0.Add(48*time.Hour)); err != nil || st.Chunks != 0 {
		t.Fatalf("Expire removed %+v, %v; the replaced chunk's index entry must not remove the new one", st, err)
	}
	if got, err := s.GetChunk(ctx, id, t0.Add(48*time.Hour)); err != nil || got[0] != 'b' {
		t.Fatalf("new chunk after Expire: %v", err)
	}
}

// TestRefusedPutOverExpiredChunkChangesNothing: putting a chunk under the
// ID of an expired one, refused by a quota, must not delete the expired
// chunk first (found by review: the counts drifted for good).
func TestRefusedPutOverExpiredChunkChangesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	ctx := context.Background()
	data := bytes.Repeat([]byte{1}, store.ChunkSize)
	s := openAt(t, path, store.Limits{MaxChunks: 2})
	if err := s.PutChunk(ctx, store.ChunkID{1}, data, time.Hour, [32]byte{}, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.PutChunk(ctx, store.ChunkID{2}, data, 48*time.Hour, [32]byte{}, t0); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openAt(t, path, store.Limits{MaxChunks: 1})
	before, _ := s.Stats(ctx)
	later := t0.Add(2 * time.Hour) // chunk 1 has expired; chunk 2 has not
	err := s.PutChunk(ctx, store.ChunkID{1}, data, time.Hour, [32]byte{}, later)
	if !errors.Is(err, store.ErrTooManyChunks) {
		t.Fatalf("put over the limit: %v, want ErrTooManyChunks", err)
	}
	after, _ := s.Stats(ctx)
	if before != after {
		t.Fatalf("a refused put changed the store: %+v, then %+v", before, after)
	}
	exp, err := s.Expire(ctx, later)
	if err != nil || exp.Chunks != 1 {
		t.Fatalf("expire after the refusal removed %d chunks (%v), want the expired one", exp.Chunks, err)
	}
	if st, _ := s.Stats(ctx); st.Chunks != 1 || st.Bytes != store.ChunkSize {
		t.Fatalf("counts after expiry: %+v", st)
	}
}
