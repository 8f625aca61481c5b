// SPDX-License-Identifier: AGPL-3.0-or-later

package boltstore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hushchat/hush/services/relay/internal/store"
)

func TestSubscribe(t *testing.T) {
	s := openTemp(t, store.Limits{})
	q, other := mkQueue(t, s, false), mkQueue(t, s, false)
	ch, cancel := s.Subscribe(q.Recipient)
	defer cancel()
	send(t, s, other, randMsg(), 'x', t0)
	select {
	case <-ch:
		t.Fatal("woken by another queue's envelope")
	default:
	}
	msg := randMsg()
	send(t, s, q, msg, 'a', t0)
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("no wake-up after a send")
	}
	send(t, s, q, msg, 'a', t0) // a duplicate stores nothing
	select {
	case <-ch:
		t.Fatal("woken by a duplicate")
	default:
	}
	cancel()
	cancel()
	send(t, s, q, randMsg(), 'b', t0)
	select {
	case <-ch:
		t.Fatal("woken after cancel")
	default:
	}
	ch2, cancel2 := s.Subscribe(q.Recipient)
	defer cancel2()
	s.Close()
	if _, ok := <-ch2; ok {
		t.Fatal("subscription not closed by Close")
	}
}

func TestConcurrentSendsStoredOnce(t *testing.T) {
	s := openTemp(t, store.Limits{})
	queues := []store.NewQueue{mkQueue(t, s, false), mkQueue(t, s, false), mkQueue(t, s, false)}
	const workers, each = 16, 20
	msgs := make([]store.MessageID, workers*each)
	for i := range msgs {
		msgs[i] = randMsg()
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	dups := 0
	// Every message is sent twice, by two workers, at about the same time.
	for w := range 2 * workers {
		wg.Go(func() {
			for i := range each {
				m := (w%workers)*each + i
				res, err := s.Send(ctx, queues[m%len(queues)].Sender, msgs[m], envelope(byte(m%len(queues))), t0)
				if err != nil {
					t.Error(err)
					return
				}
				if res.Duplicate {
					mu.Lock()
					dups++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if dups != len(msgs) {
		t.Fatalf("%d duplicates, want %d", dups, len(msgs))
	}
	if st := stats(t, s); st.Envelopes != int64(len(msgs)) {
		t.Fatalf("Envelopes = %d, want %d", st.Envelopes, len(msgs))
	}
	total := 0
	for qi, q := range queues {
		var counter uint64
		for {
			counter++
			envs, err := s.Fetch(ctx, q.Recipient, counter, nil, store.MaxFetch)
			if err != nil || len(envs) == 0 {
				break
			}
			var seqs []uint64
			for _, e := range envs {
				if e.Data[0] != byte(qi) {
					t.Fatalf("envelope for queue %d in queue %d", e.Data[0], qi)
				}
				seqs = append(seqs, e.Seq)
			}
			total += len(envs)
			counter++
			if err := s.Ack(ctx, q.Recipient, counter, seqs); err != nil {
				t.Fatal(err)
			}
		}
	}
	if total != len(msgs) {
		t.Fatalf("fetched %d envelopes, want %d", total, len(msgs))
	}
}

func TestDurableAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	s := openAt(t, path, store.Limits{})
	q := mkQueue(t, s, false)
	msg := randMsg()
	send(t, s, q, msg, 'a', t0)
	id := store.ChunkID(randID())
	if err := s.PutChunk(ctx, id, chunk('c'), time.Hour, [32]byte{}, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "second Close", s.Close(), store.ErrClosed)
	_, err := s.Send(ctx, q.Sender, randMsg(), envelope('b'), t0)
	wantErr(t, "Send after Close", err, store.ErrClosed)
	_, err = s.Stats(ctx)
	wantErr(t, "Stats after Close", err, store.ErrClosed)

	s = openAt(t, path, store.Limits{})
	if res := send(t, s, q, msg, 'a', t0); !res.Duplicate {
		t.Fatal("message ID lost across reopen")
	}
	if _, fills := fetchSeqs(t, s, q, 1, 2); string(fills) != "a" {
		t.Fatalf("after reopen the queue holds %q", fills)
	}
	if got, err := s.GetChunk(ctx, id, t0); err != nil || !bytes.Equal(got, chunk('c')) {
		t.Fatalf("chunk after reopen: %v", err)
	}
}

func TestOpenRefusesOtherVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	s := openAt(t, path, store.Limits{})
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyVersion, []byte{9}) })
	db.Close()
	if _, err := Open(path, Options{}); err == nil {
		t.Fatal("Open accepted layout version 9")
	}
}

// failingChange writes into meta, then fails as bbolt might.
type failingChange struct{ err error }

func (failingChange) kind() recordKind              { return 0 }
func (failingChange) appendPayload(b []byte) []byte { panic("a failed change is never logged") }
func (f failingChange) apply(tx *bolt.Tx, _ *store.Limits) error {
	if err := tx.Bucket(bucketMeta).Put([]byte("b"), []byte{1}); err != nil {
		return err
	}
	return f.err
}

// refusingChange is refused without writing.
type refusingChange struct{}

func (refusingChange) kind() recordKind              { return 0 }
func (refusingChange) appendPayload(b []byte) []byte { panic("a refused change is never logged") }
func (refusingChange) apply(*bolt.Tx, *store.Limits) error {
	return store.ErrQueueFull
}

// inOneBatch submits ops so that the writer takes them as one batch: it
// holds the writer in a read until all are queued.
func inOneBatch(t *testing.T, s *Store, ops ...*op) {
	t.Helper()
	hold, held := make(chan struct{}), make(chan struct{})
	go s.read(ctx, func(*bolt.Tx) error {
		close(held)
		<-hold
		return nil
	})
	<-held
	for _, o := range ops {
		o.err = make(chan error, 1)
		s.ops <- o
	}
	close(hold)
}

// TestBatchIsolatesFailedOp runs one batch: a refused op and an op that
// fails after writing must not take the others' writes with them, nor
// leave their own, before or after a replay.
func TestBatchIsolatesFailedOp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	s := openAt(t, path, store.Limits{})
	before := mkQueue(t, s, false) // logged earlier: the rebuild must keep it
	qa, qc := store.NewQueue{Recipient: randID(), Sender: randID()}, store.NewQueue{Recipient: randID(), Sender: randID()}
	boom := errors.New("boom")
	batch := []*op{
		{change: &createQueue{recipient: qa.Recipient, sender: qa.Sender, now: unix(t0)}},
		{change: failingChange{boom}},
		{change: refusingChange{}},
		{change: &createQueue{recipient: qc.Recipient, sender: qc.Sender, now: unix(t0)}},
	}
	inOneBatch(t, s, batch...)
	for i, want := range []error{nil, boom, store.ErrQueueFull, nil} {
		if got := <-batch[i].err; !errors.Is(got, want) {
			t.Errorf("op %d: %v, want %v", i, got, want)
		}
	}
	check := func(s *Store, when string) {
		t.Helper()
		err := s.read(ctx, func(tx *bolt.Tx) error {
			q := tx.Bucket(bucketQueues)
			if q.Get(before.Recipient[:]) == nil || q.Get(qa.Recipient[:]) == nil || q.Get(qc.Recipient[:]) == nil {
				t.Errorf("%s: a queue is missing", when)
			}
			if v := tx.Bucket(bucketMeta).Get([]byte("b")); v != nil {
				t.Errorf("%s: the failed op's write is there", when)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if st := stats(t, s); st.Queues != 3 {
			t.Errorf("%s: %d queues, want 3", when, st.Queues)
		}
	}
	check(s, "after the batch")
	s2 := crashCopy(t, s)
	check(s2, "after a crash and replay")
}

func TestBackupWhileSending(t *testing.T) {
	s := openTemp(t, store.Limits{})
	q := mkQueue(t, s, false)
	var before []store.MessageID
	for range 20 {
		m := randMsg()
		send(t, s, q, m, 'a', t0)
		before = append(before, m)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.Send(ctx, q.Sender, randMsg(), envelope('b'), t0); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.Create(backup)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Backup(ctx, f)
	close(stop)
	wg.Wait()
	if err != nil || f.Close() != nil {
		t.Fatalf("Backup: %v", err)
	}
	if fi, _ := os.Stat(backup); fi.Size() != n {
		t.Fatalf("Backup reported %d bytes, wrote %d", n, fi.Size())
	}
	b := openAt(t, backup, store.Limits{})
	st := stats(t, b)
	if st.Queues != 1 || st.Envelopes < int64(len(before)) {
		t.Fatalf("backup stats %+v, want 1 queue and at least %d envelopes", st, len(before))
	}
	for _, m := range before {
		if res := send(t, b, q, m, 'a', t0); !res.Duplicate {
			t.Fatal("backup lacks a send acknowledged before it started")
		}
	}
	// The backup's counts match what it holds.
	seen := int64(0)
	for c := uint64(1); ; c += 2 {
		envs, err := b.Fetch(ctx, q.Recipient, c, nil, 2)
		if err != nil || len(envs) == 0 {
			break
		}
		seen += int64(len(envs))
		b.Ack(ctx, q.Recipient, c+1, []uint64{envs[0].Seq, envs[len(envs)-1].Seq})
	}
	if seen != st.Envelopes {
		t.Fatalf("backup holds %d envelopes, counts say %d", seen, st.Envelopes)
	}
}
