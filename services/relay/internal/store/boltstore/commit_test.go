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
			envs, err := s.Fetch(ctx, q.Recipient, counter, store.MaxFetch)
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

// TestBatchIsolatesFailedOp runs one batch by hand: a refused op and an op
// that fails after writing must not take the others' writes with them.
func TestBatchIsolatesFailedOp(t *testing.T) {
	s := openTemp(t, store.Limits{})
	put := func(key string, ret error) *op {
		return &op{err: make(chan error, 1), fn: func(tx *bolt.Tx) error {
			if err := tx.Bucket(bucketMeta).Put([]byte(key), []byte{1}); err != nil {
				return err
			}
			return ret
		}}
	}
	boom := errors.New("boom")
	refuse := &op{err: make(chan error, 1), fn: func(*bolt.Tx) error { return store.ErrQueueFull }}
	batch := []*op{put("a", nil), put("b", boom), refuse, put("c", nil)}
	s.commit(batch)
	for i, want := range []error{nil, boom, store.ErrQueueFull, nil} {
		if got := <-batch[i].err; !errors.Is(got, want) {
			t.Errorf("op %d: %v, want %v", i, got, want)
		}
	}
	s.db.View(func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m.Get([]byte("a")) == nil || m.Get([]byte("c")) == nil || m.Get([]byte("b")) != nil {
			t.Errorf("after the batch: a=%x b=%x c=%x, want a and c only",
				m.Get([]byte("a")), m.Get([]byte("b")), m.Get([]byte("c")))
		}
		return nil
	})
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
		envs, err := b.Fetch(ctx, q.Recipient, c, 2)
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
