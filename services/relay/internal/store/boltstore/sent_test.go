// SPDX-License-Identifier: AGPL-3.0-or-later

package boltstore

import (
	"encoding/binary"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hushchat/hush/services/relay/internal/store"
)

// sentKeys returns the "sent" index's keys as (time, send number) pairs.
func sentKeys(t *testing.T, s *Store) [][2]uint64 {
	t.Helper()
	var out [][2]uint64
	s.read(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSent).ForEach(func(k, v []byte) error {
			if len(k) != sentKeySize || len(v) != sentValueSize {
				t.Fatalf("sent entry of %d and %d bytes", len(k), len(v))
			}
			out = append(out, [2]uint64{binary.BigEndian.Uint64(k), binary.BigEndian.Uint64(k[u64:])})
			return nil
		})
	})
	return out
}

// TestSentIndex: one entry per stored envelope, keyed by time and a send
// number that grows across reopening; a duplicate adds none.
func TestSentIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	s := openAt(t, path, store.Limits{})
	q := mkQueue(t, s, false)
	m := randMsg()
	send(t, s, q, m, 'a', t0)
	send(t, s, q, m, 'a', t0.Add(time.Minute)) // duplicate
	send(t, s, q, randMsg(), 'b', t0.Add(time.Second))
	s.Close()
	s = openAt(t, path, store.Limits{})
	send(t, s, q, randMsg(), 'c', t0) // an earlier clock: still a new send number
	want := [][2]uint64{{unix(t0), 0}, {unix(t0), 2}, {unix(t0) + 1, 1}}
	if got := sentKeys(t, s); !slices.Equal(got, want) {
		t.Fatalf("sent index %v, want %v", got, want)
	}
}

// TestExpireAfterAckAndDelete: Ack and DeleteQueue leave "sent" entries
// that Expire drops without touching a queue made again with the same
// IDs, whose records were stored at another time.
func TestExpireAfterAckAndDelete(t *testing.T) {
	s := openTemp(t, store.Limits{})
	q := mkQueue(t, s, false)
	acked, deleted := randMsg(), randMsg()
	send(t, s, q, acked, 'a', t0)
	seqs, _ := fetchSeqs(t, s, q, 1, 1)
	if err := s.Ack(ctx, q.Recipient, 2, seqs); err != nil {
		t.Fatal(err)
	}
	send(t, s, q, deleted, 'd', t0)
	if err := s.DeleteQueue(ctx, q.Recipient, 3); err != nil {
		t.Fatal(err)
	}
	// The same recipient ID again (the sender ID stays taken), an hour
	// later: its first envelope gets seq 0, the key the acknowledged
	// envelope had.
	q.Sender = randID()
	if err := s.CreateQueue(ctx, q, t0); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(time.Hour)
	send(t, s, q, deleted, 'n', later)
	if n := len(sentKeys(t, s)); n != 3 {
		t.Fatalf("%d sent entries, want 3 (acked, deleted, new)", n)
	}
	st, err := s.Expire(ctx, t0.Add(store.DefaultEnvelopeTTL))
	// The deleted queue's records (its envelope and both message IDs) went
	// with it; the new queue's are an hour younger: nothing to remove but
	// the two entries.
	if err != nil || st != (store.ExpireStats{}) {
		t.Fatalf("Expire = %+v, %v; want nothing removed", st, err)
	}
	if n := len(sentKeys(t, s)); n != 1 {
		t.Fatalf("%d sent entries left, want 1", n)
	}
	if res := send(t, s, q, deleted, 'x', later); !res.Duplicate {
		t.Fatal("the new queue's message ID was expired with the old queue's entry")
	}
	if got := stats(t, s); got != (store.Stats{Queues: 1, Envelopes: 1, Bytes: store.EnvelopeSize, MetaBytes: sendMetaBytes}) {
		t.Fatalf("stats %+v", got)
	}
	if _, fills := fetchSeqs(t, s, q, 1, 2); string(fills) != "n" {
		t.Fatalf("queue holds %q, want \"n\"", fills)
	}
	st, err = s.Expire(ctx, later.Add(store.DefaultEnvelopeTTL))
	if err != nil || st != (store.ExpireStats{Envelopes: 1, MessageIDs: 1}) || len(sentKeys(t, s)) != 0 {
		t.Fatalf("last Expire = %+v, %v, %d entries left", st, err, len(sentKeys(t, s)))
	}
	if got := stats(t, s); got != (store.Stats{Queues: 1}) {
		t.Fatalf("stats after expiry %+v", got)
	}
}

// TestCheck: a store's file passes bbolt's consistency check.
func TestCheck(t *testing.T) {
	s := openTemp(t, store.Limits{})
	q := mkQueue(t, s, false)
	send(t, s, q, randMsg(), 'a', t0)
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestExpireAcked: an acknowledged envelope's message ID is remembered
// until the TTL, then its entry and record go.
func TestExpireAcked(t *testing.T) {
	s := openTemp(t, store.Limits{})
	q := mkQueue(t, s, false)
	m := randMsg()
	send(t, s, q, m, 'a', t0)
	seqs, _ := fetchSeqs(t, s, q, 1, 1)
	if err := s.Ack(ctx, q.Recipient, 2, seqs); err != nil {
		t.Fatal(err)
	}
	if res := send(t, s, q, m, 'a', t0.Add(time.Hour)); !res.Duplicate {
		t.Fatal("acknowledged send's message ID forgotten before its TTL")
	}
	st, err := s.Expire(ctx, t0.Add(store.DefaultEnvelopeTTL))
	if err != nil || st != (store.ExpireStats{MessageIDs: 1}) || len(sentKeys(t, s)) != 0 {
		t.Fatalf("Expire = %+v, %v, %d entries left; want one message ID, none left", st, err, len(sentKeys(t, s)))
	}
	if res := send(t, s, q, m, 'b', t0.Add(store.DefaultEnvelopeTTL)); res.Duplicate {
		t.Fatal("expired message ID still remembered")
	}
}
