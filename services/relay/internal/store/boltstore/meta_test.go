// SPDX-License-Identifier: AGPL-3.0-or-later

package boltstore

import (
	"slices"
	"testing"
	"time"

	"github.com/hushchat/hush/services/relay/internal/store"
)

// TestSendMetadataCharged: each stored send costs sendMetaBytes of the
// byte budget until its records expire; a duplicate or a refusal costs
// nothing; an ack frees the envelope's bytes but not the metadata's.
func TestSendMetadataCharged(t *testing.T) {
	s := openTemp(t, store.Limits{})
	q := mkQueue(t, s, false)
	m := randMsg()
	send(t, s, q, m, 'a', t0)
	send(t, s, q, randMsg(), 'b', t0.Add(time.Hour))
	send(t, s, q, m, 'a', t0) // duplicate
	if _, err := s.Send(ctx, randID(), randMsg(), envelope(1), t0); err == nil {
		t.Fatal("send to no queue accepted")
	}
	want := store.Stats{Queues: 1, Envelopes: 2, Bytes: 2 * store.EnvelopeSize, MetaBytes: 2 * sendMetaBytes}
	if got := stats(t, s); got != want {
		t.Fatalf("stats %+v, want %+v", got, want)
	}
	seqs, _ := fetchSeqs(t, s, q, 1, 2)
	if err := s.Ack(ctx, q.Recipient, 2, seqs); err != nil {
		t.Fatal(err)
	}
	want = store.Stats{Queues: 1, MetaBytes: 2 * sendMetaBytes}
	if got := stats(t, s); got != want {
		t.Fatalf("after the ack %+v, want %+v", got, want)
	}
	if _, err := s.Expire(ctx, t0.Add(store.DefaultEnvelopeTTL)); err != nil {
		t.Fatal(err)
	}
	if got := stats(t, s); got.MetaBytes != sendMetaBytes {
		t.Fatalf("after the first send's TTL: %d metadata bytes, want %d", got.MetaBytes, sendMetaBytes)
	}
	if _, err := s.Expire(ctx, t0.Add(store.DefaultEnvelopeTTL+time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := stats(t, s); got != (store.Stats{Queues: 1}) {
		t.Fatalf("after both TTLs %+v", got)
	}
}

// TestRelayFullCountsMetadata: a budget that holds an envelope but not its
// metadata refuses the send and changes nothing, not even the log; one
// that holds both takes exactly one.
func TestRelayFullCountsMetadata(t *testing.T) {
	s := openTemp(t, store.Limits{MaxBytes: store.EnvelopeSize + sendMetaBytes - 1})
	q := mkQueue(t, s, false)
	m := randMsg()
	before := dump(t, s)
	seq, _, off := writerState(t, s)
	refusedUnchanged(t, s, "send over the budget by its metadata", store.ErrRelayFull, func() error {
		_, err := s.Send(ctx, q.Sender, m, envelope('a'), t0)
		return err
	})
	if got := dump(t, s); !slices.Equal(got, before) {
		t.Fatalf("refused send changed the store:\n got %q\nwant %q", got, before)
	}
	if s2, _, o2 := writerState(t, s); s2 != seq || o2 != off {
		t.Fatal("refused send was logged")
	}

	s = openTemp(t, store.Limits{MaxBytes: store.EnvelopeSize + sendMetaBytes})
	q = mkQueue(t, s, false)
	send(t, s, q, m, 'a', t0)
	if !send(t, s, q, m, 'a', t0).Duplicate { // a duplicate needs no budget
		t.Fatal("duplicate not recognised")
	}
	// The envelope acknowledged, its metadata still fills the budget.
	seqs, _ := fetchSeqs(t, s, q, 1, 1)
	if err := s.Ack(ctx, q.Recipient, 2, seqs); err != nil {
		t.Fatal(err)
	}
	refusedUnchanged(t, s, "send while metadata fills the budget", store.ErrRelayFull, func() error {
		_, err := s.Send(ctx, q.Sender, randMsg(), envelope('b'), t0)
		return err
	})

	// A chunk that fits the budget but for an acknowledged send's metadata.
	s = openTemp(t, store.Limits{MaxBytes: store.ChunkSize + sendMetaBytes - 1})
	q = mkQueue(t, s, false)
	send(t, s, q, randMsg(), 'a', t0)
	seqs, _ = fetchSeqs(t, s, q, 1, 1)
	if err := s.Ack(ctx, q.Recipient, 2, seqs); err != nil {
		t.Fatal(err)
	}
	refusedUnchanged(t, s, "chunk while metadata holds part of the budget", store.ErrRelayFull, func() error {
		return s.PutChunk(ctx, store.ChunkID(randID()), chunk('c'), time.Hour, [32]byte{}, t0)
	})
	if _, err := s.Expire(ctx, t0.Add(store.DefaultEnvelopeTTL)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutChunk(ctx, store.ChunkID(randID()), chunk('c'), time.Hour, [32]byte{}, t0); err != nil {
		t.Fatalf("chunk after the metadata expired: %v", err)
	}
}

// TestSendMetaBytes: the charge is what the records take, as documented.
func TestSendMetaBytes(t *testing.T) {
	const elementHeader = 16 // bbolt's leafPageElementSize
	if got := msgKeySize + u64 + sentKeySize + sentValueSize + 2*elementHeader; got != sendMetaBytes {
		t.Fatalf("records take %d bytes, the charge is %d", got, sendMetaBytes)
	}
}
