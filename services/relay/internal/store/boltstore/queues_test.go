// SPDX-License-Identifier: AGPL-3.0-or-later

package boltstore

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hushchat/hush/services/relay/internal/store"
)

func TestCreateQueueAndAuth(t *testing.T) {
	s := openTemp(t, store.Limits{})
	q := mkQueue(t, s, false)
	key, counter, err := s.QueueAuth(ctx, q.Recipient)
	if err != nil || !bytes.Equal(key, q.AuthKey) || counter != 0 {
		t.Fatalf("QueueAuth = %x, %d, %v; want %x, 0", key, counter, err, q.AuthKey)
	}
	if st := stats(t, s); st.Queues != 1 {
		t.Fatalf("Queues = %d, want 1", st.Queues)
	}
	sameRecipient := q
	sameRecipient.Sender = randID()
	refusedUnchanged(t, s, "same recipient ID", store.ErrExists, func() error { return s.CreateQueue(ctx, sameRecipient, t0) })
	sameSender := q
	sameSender.Recipient = randID()
	refusedUnchanged(t, s, "same sender ID", store.ErrExists, func() error { return s.CreateQueue(ctx, sameSender, t0) })
	if _, _, err := s.QueueAuth(ctx, sameSender.Recipient); err != store.ErrNoQueue {
		t.Fatalf("refused queue exists: %v", err)
	}
	badKey := store.NewQueue{Recipient: randID(), Sender: randID(), AuthKey: q.AuthKey[:31]}
	refusedUnchanged(t, s, "short auth key", store.ErrBadSize, func() error { return s.CreateQueue(ctx, badKey, t0) })
}

func TestSendFetchAck(t *testing.T) {
	s := openTemp(t, store.Limits{})
	q := mkQueue(t, s, false)
	for i := range 3 {
		if res := send(t, s, q, randMsg(), byte('a'+i), t0); res.Duplicate {
			t.Fatalf("send %d: Duplicate", i)
		}
	}
	if st := stats(t, s); st.Envelopes != 3 || st.Bytes != 3*store.EnvelopeSize {
		t.Fatalf("stats %+v, want 3 envelopes of %d", st, store.EnvelopeSize)
	}
	seqs, fills := fetchSeqs(t, s, q, 1, 2)
	if !slices.Equal(seqs, []uint64{0, 1}) || string(fills) != "ab" {
		t.Fatalf("fetch = %v %q, want [0 1] \"ab\"", seqs, fills)
	}
	// Not acked: delivered again.
	if seqs, fills = fetchSeqs(t, s, q, 2, 2); !slices.Equal(seqs, []uint64{0, 1}) || string(fills) != "ab" {
		t.Fatalf("refetch = %v %q, want [0 1] \"ab\"", seqs, fills)
	}
	if err := s.Ack(ctx, q.Recipient, 3, []uint64{0, 99}); err != nil {
		t.Fatal(err)
	}
	if seqs, fills = fetchSeqs(t, s, q, 4, 2); !slices.Equal(seqs, []uint64{1, 2}) || string(fills) != "bc" {
		t.Fatalf("after ack = %v %q, want [1 2] \"bc\"", seqs, fills)
	}
	if seqs, _ = fetchSeqs(t, s, q, 5, 1); !slices.Equal(seqs, []uint64{1}) {
		t.Fatalf("fetch max 1 = %v", seqs)
	}
	if err := s.Ack(ctx, q.Recipient, 6, []uint64{1, 2, 2}); err != nil {
		t.Fatal(err)
	}
	if seqs, _ = fetchSeqs(t, s, q, 7, 2); len(seqs) != 0 {
		t.Fatalf("empty queue fetched %v", seqs)
	}
	if st := stats(t, s); st.Envelopes != 0 || st.Bytes != 0 {
		t.Fatalf("stats after acking all: %+v", st)
	}
	// The next envelope gets a new sequence number, not a reused one.
	send(t, s, q, randMsg(), 'd', t0)
	if seqs, _ = fetchSeqs(t, s, q, 8, 2); !slices.Equal(seqs, []uint64{3}) {
		t.Fatalf("seq after acks = %v, want [3]", seqs)
	}
}

func TestFetchAndSendRefusals(t *testing.T) {
	s := openTemp(t, store.Limits{})
	q := mkQueue(t, s, false)
	for _, max := range []int{0, -1, store.MaxFetch + 1} {
		_, err := s.Fetch(ctx, q.Recipient, 1, nil, max)
		wantErr(t, "fetch max", err, store.ErrBadSize)
	}
	refusedUnchanged(t, s, "unknown sender", store.ErrNoQueue, func() error {
		_, err := s.Send(ctx, randID(), randMsg(), envelope(1), t0)
		return err
	})
	for _, n := range []int{0, store.EnvelopeSize - 1, store.EnvelopeSize + 1} {
		refusedUnchanged(t, s, "envelope size", store.ErrBadSize, func() error {
			_, err := s.Send(ctx, q.Sender, randMsg(), make([]byte, n), t0)
			return err
		})
	}
	_, err := s.Fetch(ctx, randID(), 1, nil, 1)
	wantErr(t, "fetch unknown queue", err, store.ErrNoQueue)
	wantErr(t, "ack unknown queue", s.Ack(ctx, randID(), 1, nil), store.ErrNoQueue)
	wantErr(t, "delete unknown queue", s.DeleteQueue(ctx, randID(), 1), store.ErrNoQueue)
}

func TestSendIdempotent(t *testing.T) {
	s := openTemp(t, store.Limits{})
	q, other := mkQueue(t, s, false), mkQueue(t, s, false)
	msg := randMsg()
	send(t, s, q, msg, 'x', t0)
	if res := send(t, s, q, msg, 'y', t0); !res.Duplicate {
		t.Fatal("second send of one message ID not Duplicate")
	}
	if st := stats(t, s); st.Envelopes != 1 {
		t.Fatalf("Envelopes = %d after a duplicate, want 1", st.Envelopes)
	}
	// The same message ID on another queue is another message.
	if res := send(t, s, other, msg, 'z', t0); res.Duplicate {
		t.Fatal("message ID of another queue counted as duplicate")
	}
	seqs, fills := fetchSeqs(t, s, q, 1, 2)
	if string(fills) != "x" {
		t.Fatalf("queue holds %q, want the first send only", fills)
	}
	if err := s.Ack(ctx, q.Recipient, 2, seqs); err != nil {
		t.Fatal(err)
	}
	if res := send(t, s, q, msg, 'w', t0.Add(time.Hour)); !res.Duplicate {
		t.Fatal("resend after ack not Duplicate")
	}
	if seqs, _ := fetchSeqs(t, s, q, 3, 2); len(seqs) != 0 {
		t.Fatalf("resend after ack stored %v", seqs)
	}
}

func TestContactRequestQueue(t *testing.T) {
	s := openTemp(t, store.Limits{})
	q := mkQueue(t, s, true)
	msg := randMsg()
	send(t, s, q, msg, 'r', t0)
	refusedUnchanged(t, s, "second request", store.ErrContactRequestUsed, func() error {
		_, err := s.Send(ctx, q.Sender, randMsg(), envelope('s'), t0)
		return err
	})
	if res := send(t, s, q, msg, 'r', t0); !res.Duplicate {
		t.Fatal("retry of the one request not Duplicate")
	}
	seqs, _ := fetchSeqs(t, s, q, 1, 2)
	if err := s.Ack(ctx, q.Recipient, 2, seqs); err != nil {
		t.Fatal(err)
	}
	_, err := s.Send(ctx, q.Sender, randMsg(), envelope('t'), t0)
	wantErr(t, "request after ack", err, store.ErrContactRequestUsed)
}

func TestCountersSurviveReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	s := openAt(t, path, store.Limits{})
	q := mkQueue(t, s, false)
	send(t, s, q, randMsg(), 'a', t0)
	if _, err := s.Fetch(ctx, q.Recipient, 5, nil, 1); err != nil {
		t.Fatal(err)
	}
	for _, c := range []uint64{5, 4, 0} {
		_, err := s.Fetch(ctx, q.Recipient, c, nil, 1)
		wantErr(t, "fetch with old counter", err, store.ErrCounter)
		refusedUnchanged(t, s, "ack with old counter", store.ErrCounter, func() error { return s.Ack(ctx, q.Recipient, c, []uint64{0}) })
		refusedUnchanged(t, s, "delete with old counter", store.ErrCounter, func() error { return s.DeleteQueue(ctx, q.Recipient, c) })
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path, store.Limits{})
	if _, c, err := s.QueueAuth(ctx, q.Recipient); err != nil || c != 5 {
		t.Fatalf("counter after reopen = %d, %v; want 5", c, err)
	}
	_, err := s.Fetch(ctx, q.Recipient, 5, nil, 1)
	wantErr(t, "replay after reopen", err, store.ErrCounter)
	if seqs, _ := fetchSeqs(t, s, q, 6, 1); !slices.Equal(seqs, []uint64{0}) {
		t.Fatalf("fetch after reopen = %v", seqs)
	}
}

func TestDeleteQueue(t *testing.T) {
	s := openTemp(t, store.Limits{})
	q, keep := mkQueue(t, s, false), mkQueue(t, s, false)
	msg := randMsg()
	send(t, s, q, msg, 'a', t0)
	send(t, s, q, randMsg(), 'b', t0)
	send(t, s, keep, randMsg(), 'c', t0)
	if err := s.DeleteQueue(ctx, q.Recipient, 1); err != nil {
		t.Fatal(err)
	}
	// The deleted queue's sends stay charged until they expire.
	want := store.Stats{Queues: 1, Envelopes: 1, Bytes: store.EnvelopeSize, MetaBytes: 3 * sendMetaBytes}
	if st := stats(t, s); st != want {
		t.Fatalf("stats after delete %+v, want %+v", st, want)
	}
	_, err := s.Send(ctx, q.Sender, randMsg(), envelope('d'), t0)
	wantErr(t, "send to deleted queue", err, store.ErrNoQueue)
	// The sender ID stays taken, so whoever held it (an invitation link)
	// finds no stranger's queue under it.
	err = s.CreateQueue(ctx, q, t0)
	wantErr(t, "recreate with the released sender ID", err, store.ErrExists)
	// The recipient ID is free again, and the old message IDs are
	// forgotten with the queue.
	again := q
	again.Sender = randID()
	if err := s.CreateQueue(ctx, again, t0); err != nil {
		t.Fatalf("recreate with the freed recipient ID: %v", err)
	}
	if res := send(t, s, again, msg, 'e', t0); res.Duplicate {
		t.Fatal("message ID of the deleted queue remembered")
	}
	if _, fills := fetchSeqs(t, s, again, 1, 2); string(fills) != "e" {
		t.Fatalf("recreated queue holds %q, want \"e\"", fills)
	}
	if _, fills := fetchSeqs(t, s, keep, 1, 2); string(fills) != "c" {
		t.Fatalf("other queue holds %q, want \"c\"", fills)
	}
}

func TestQueueQuotas(t *testing.T) {
	s := openTemp(t, store.Limits{MaxQueueEnvelopes: 2})
	q := mkQueue(t, s, false)
	send(t, s, q, randMsg(), 'a', t0)
	send(t, s, q, randMsg(), 'b', t0)
	var err error
	refusedUnchanged(t, s, "third envelope", store.ErrQueueFull, func() error {
		_, err = s.Send(ctx, q.Sender, randMsg(), envelope('c'), t0)
		return err
	})
	if !strings.Contains(err.Error(), "envelopes") {
		t.Fatalf("count refusal does not say so: %v", err)
	}
	// Another queue is not affected.
	send(t, s, mkQueue(t, s, false), randMsg(), 'd', t0)

	s = openTemp(t, store.Limits{MaxQueueBytes: store.EnvelopeSize * 3 / 2})
	q = mkQueue(t, s, false)
	send(t, s, q, randMsg(), 'a', t0)
	refusedUnchanged(t, s, "bytes", store.ErrQueueFull, func() error {
		_, err = s.Send(ctx, q.Sender, randMsg(), envelope('b'), t0)
		return err
	})
	if !strings.Contains(err.Error(), "bytes") {
		t.Fatalf("bytes refusal does not say so: %v", err)
	}
}

func TestRelayQuotas(t *testing.T) {
	s := openTemp(t, store.Limits{MaxQueues: 2, MaxChunks: 1, MaxBytes: store.EnvelopeSize + sendMetaBytes + store.ChunkSize})
	q := mkQueue(t, s, false)
	mkQueue(t, s, false)
	refusedUnchanged(t, s, "third queue", store.ErrTooManyQueues, func() error {
		return s.CreateQueue(ctx, store.NewQueue{Recipient: randID(), Sender: randID(), AuthKey: q.AuthKey}, t0)
	})
	if err := s.PutChunk(ctx, store.ChunkID(randID()), chunk('a'), time.Hour, [32]byte{}, t0); err != nil {
		t.Fatal(err)
	}
	refusedUnchanged(t, s, "second chunk", store.ErrTooManyChunks, func() error {
		return s.PutChunk(ctx, store.ChunkID(randID()), chunk('b'), time.Hour, [32]byte{}, t0)
	})
	send(t, s, q, randMsg(), 'a', t0)
	refusedUnchanged(t, s, "send over the byte budget", store.ErrRelayFull, func() error {
		_, err := s.Send(ctx, q.Sender, randMsg(), envelope('b'), t0)
		return err
	})

	s = openTemp(t, store.Limits{MaxBytes: store.ChunkSize + store.EnvelopeSize - 1})
	if err := s.PutChunk(ctx, store.ChunkID(randID()), chunk('a'), time.Hour, [32]byte{}, t0); err != nil {
		t.Fatal(err)
	}
	refusedUnchanged(t, s, "chunk over the byte budget", store.ErrRelayFull, func() error {
		return s.PutChunk(ctx, store.ChunkID(randID()), chunk('b'), time.Hour, [32]byte{}, t0)
	})
}

func TestExpire(t *testing.T) {
	s := openTemp(t, store.Limits{})
	q := mkQueue(t, s, false)
	old, fresh := randMsg(), randMsg()
	send(t, s, q, old, 'o', t0)
	send(t, s, q, fresh, 'f', t0.Add(10*24*time.Hour))
	short, long := store.ChunkID(randID()), store.ChunkID(randID())
	if err := s.PutChunk(ctx, short, chunk('s'), time.Hour, [32]byte{}, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.PutChunk(ctx, long, chunk('l'), 25*24*time.Hour, [32]byte{}, t0); err != nil {
		t.Fatal(err)
	}
	st, err := s.Expire(ctx, t0.Add(store.DefaultEnvelopeTTL-time.Second))
	if err != nil || st != (store.ExpireStats{Chunks: 1}) {
		t.Fatalf("Expire before the TTL = %+v, %v; want one chunk", st, err)
	}
	st, err = s.Expire(ctx, t0.Add(store.DefaultEnvelopeTTL))
	if err != nil || st != (store.ExpireStats{Envelopes: 1, MessageIDs: 1}) {
		t.Fatalf("Expire at the TTL = %+v, %v; want one envelope, one message ID", st, err)
	}
	want := store.Stats{Queues: 1, Envelopes: 1, Chunks: 1, Bytes: store.EnvelopeSize + store.ChunkSize, MetaBytes: sendMetaBytes}
	if got := stats(t, s); got != want {
		t.Fatalf("stats after expiry %+v, want %+v", got, want)
	}
	if _, fills := fetchSeqs(t, s, q, 1, 2); string(fills) != "f" {
		t.Fatalf("queue holds %q after expiry, want \"f\"", fills)
	}
	later := t0.Add(store.DefaultEnvelopeTTL)
	if res := send(t, s, q, old, 'p', later); res.Duplicate {
		t.Fatal("expired message ID still remembered")
	}
	if res := send(t, s, q, fresh, 'g', later); !res.Duplicate {
		t.Fatal("message ID within its TTL forgotten")
	}
	if _, err := s.GetChunk(ctx, long, later); err != nil {
		t.Fatalf("chunk within its TTL: %v", err)
	}
}

// TestReleasedSenderExpires: a deleted queue's sender ID stays taken for
// ReleasedSenderTTL, then Expire frees it.
func TestReleasedSenderExpires(t *testing.T) {
	s := openTemp(t, store.Limits{})
	q := mkQueue(t, s, false)
	if err := s.DeleteQueue(ctx, q.Recipient, 1); err != nil {
		t.Fatal(err)
	}
	again := q
	again.Recipient = randID()
	err := s.CreateQueue(ctx, again, time.Now())
	wantErr(t, "a new queue under the released sender ID", err, store.ErrExists)
	if _, err := s.Expire(ctx, time.Now().Add(ReleasedSenderTTL-time.Hour)); err != nil {
		t.Fatal(err)
	}
	err = s.CreateQueue(ctx, again, time.Now())
	wantErr(t, "the same, before the TTL passed", err, store.ErrExists)
	if _, err := s.Expire(ctx, time.Now().Add(ReleasedSenderTTL+time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateQueue(ctx, again, time.Now()); err != nil {
		t.Fatalf("after the TTL: %v", err)
	}
}
