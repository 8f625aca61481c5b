// SPDX-License-Identifier: AGPL-3.0-or-later

package boltstore

import (
	"encoding/binary"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hushchat/hush/services/relay/internal/store"
)

// clock is a settable clock for Options.Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

const day = 24 * time.Hour

// activity lists the "queue-activity" index as (day, first ID byte).
func activity(t *testing.T, s *Store) [][2]uint64 {
	t.Helper()
	var out [][2]uint64
	if err := s.read(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketActivity).ForEach(func(k, _ []byte) error {
			out = append(out, [2]uint64{binary.BigEndian.Uint64(k), uint64(k[u64])})
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestIdleQueueExpires: a queue whose owner neither fetches nor acks for
// QueueIdleTTL is deleted with its envelopes; its recipient ID is free
// again, its sender ID stays taken; an active queue stays.
func TestIdleQueueExpires(t *testing.T) {
	clk := &clock{t0}
	s := openWith(t, filepath.Join(t.TempDir(), "relay.db"), Options{Now: clk.now})
	idle, busy := mkQueue(t, s, false), mkQueue(t, s, false)
	// Sends are no owner activity; these are still kept at day 46.
	send(t, s, idle, randMsg(), 'a', t0.Add(30*day))
	send(t, s, idle, randMsg(), 'b', t0.Add(30*day))
	// The busy queue's owner fetches on day 10 and acks on day 40.
	clk.t = t0.Add(10 * day)
	fetchSeqs(t, s, busy, 1, 1)
	clk.t = t0.Add(40 * day)
	if err := s.Ack(ctx, busy.Recipient, 2, nil); err != nil {
		t.Fatal(err)
	}
	// 45 days after the idle queue's creation day has not fully passed.
	st, err := s.Expire(ctx, t0.Add(45*day))
	if err != nil || st.IdleQueues != 0 {
		t.Fatalf("Expire at day 45 = %+v, %v; want no idle queue", st, err)
	}
	st, err = s.Expire(ctx, t0.Add(46*day))
	if err != nil || st.IdleQueues != 1 || st.Envelopes != 2 {
		t.Fatalf("Expire at day 46 = %+v, %v; want one idle queue with 2 envelopes", st, err)
	}
	// The idle queue's two sends stay charged until their TTL.
	if got := stats(t, s); got != (store.Stats{Queues: 1, MetaBytes: 2 * sendMetaBytes}) {
		t.Fatalf("stats after idle expiry %+v, want the busy queue alone", got)
	}
	_, _, err = s.QueueAuth(ctx, idle.Recipient)
	wantErr(t, "idle queue's auth", err, store.ErrNoQueue)
	_, err = s.Send(ctx, idle.Sender, randMsg(), envelope(1), t0.Add(46*day))
	wantErr(t, "send to the idle queue", err, store.ErrNoQueue)
	// Its sender ID stays taken; its recipient ID is free.
	again := idle
	wantErr(t, "reuse of the sender ID", s.CreateQueue(ctx, again, t0.Add(46*day)), store.ErrExists)
	again.Sender = randID()
	if err := s.CreateQueue(ctx, again, t0.Add(46*day)); err != nil {
		t.Fatalf("recipient ID not freed: %v", err)
	}
	if _, _, err := s.QueueAuth(ctx, busy.Recipient); err != nil {
		t.Fatalf("busy queue: %v", err)
	}
	// The busy queue goes 45 full days after day 40.
	if st, _ := s.Expire(ctx, t0.Add(85*day)); st.IdleQueues != 0 {
		t.Fatalf("busy queue expired at day 85: %+v", st)
	}
	if st, _ := s.Expire(ctx, t0.Add(86*day)); st.IdleQueues != 1 {
		t.Fatalf("busy queue not expired at day 86: %+v", st)
	}
}

// TestActivityIndexMovesOncePerDay: fetches on one day move the queue in
// the index once; a later day moves it again; DeleteQueue drops it.
func TestActivityIndexMovesOncePerDay(t *testing.T) {
	clk := &clock{t0}
	s := openWith(t, filepath.Join(t.TempDir(), "relay.db"), Options{Now: clk.now})
	q := mkQueue(t, s, false)
	d0 := uint64(dayOf(unix(t0)))
	want := [][2]uint64{{d0, uint64(q.Recipient[0])}}
	if got := activity(t, s); !slices.Equal(got, want) {
		t.Fatalf("after creation %v, want %v", got, want)
	}
	counter := uint64(0)
	for _, at := range []time.Duration{time.Hour, 2 * time.Hour, 3 * time.Hour} {
		clk.t = t0.Add(at)
		counter++
		fetchSeqs(t, s, q, counter, 1)
	}
	if got := activity(t, s); !slices.Equal(got, want) {
		t.Fatalf("after fetches on the same day %v, want %v", got, want)
	}
	clk.t = t0.Add(3 * day)
	counter++
	if err := s.Ack(ctx, q.Recipient, counter, nil); err != nil {
		t.Fatal(err)
	}
	want[0][0] = d0 + 3
	if got := activity(t, s); !slices.Equal(got, want) {
		t.Fatalf("after an ack 3 days later %v, want %v", got, want)
	}
	// A fetch refused for its counter is no activity.
	clk.t = t0.Add(5 * day)
	if _, err := s.Fetch(ctx, q.Recipient, counter, nil, 1); !errors.Is(err, store.ErrCounter) {
		t.Fatalf("replayed fetch: %v", err)
	}
	if got := activity(t, s); !slices.Equal(got, want) {
		t.Fatalf("after a refused fetch %v, want %v", got, want)
	}
	if err := s.DeleteQueue(ctx, q.Recipient, counter+1); err != nil {
		t.Fatal(err)
	}
	if got := activity(t, s); len(got) != 0 {
		t.Fatalf("after DeleteQueue %v, want none", got)
	}
}

// TestMigrateFromLayout2: a layout-2 file opens, and its queues count as
// active from the migration on.
func TestMigrateFromLayout2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	s := openAt(t, path, store.Limits{})
	q := mkQueue(t, s, false)
	m := randMsg()
	send(t, s, q, m, 'a', t0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Make it what a layout-2 relay left: 105-byte queue records, no
	// activity index, no log keys.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		queues := tx.Bucket(bucketQueues)
		v := queues.Get(q.Recipient[:])
		meta := tx.Bucket(bucketMeta)
		st := meta.Get(keyStats)
		return errors.Join(queues.Put(q.Recipient[:], append([]byte(nil), v[:queueRecordSizeV3]...)),
			meta.Put(keyStats, append([]byte(nil), st[:statsSizeV3]...)),
			tx.DeleteBucket(bucketActivity), meta.Delete(keyStoreID), meta.Delete(keyLogSeq),
			meta.Put(keyVersion, []byte{2}))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	migrated := t0.Add(100 * day)
	s = openWith(t, path, Options{Now: func() time.Time { return migrated }})
	if got := activity(t, s); !slices.Equal(got, [][2]uint64{{dayOf(unix(migrated)), uint64(q.Recipient[0])}}) {
		t.Fatalf("activity after migration %v", got)
	}
	var version []byte
	s.read(ctx, func(tx *bolt.Tx) error {
		version = slices.Clone(tx.Bucket(bucketMeta).Get(keyVersion))
		return nil
	})
	if !slices.Equal(version, []byte{formatVersion}) {
		t.Fatalf("version %v after migration", version)
	}
	want := store.Stats{Queues: 1, Envelopes: 1, Bytes: store.EnvelopeSize, MetaBytes: sendMetaBytes}
	if got := stats(t, s); got != want {
		t.Fatalf("stats after migration %+v, want %+v (the live send charged)", got, want)
	}
	if !send(t, s, q, m, 'a', t0).Duplicate {
		t.Fatal("message ID lost in the migration")
	}
	if st, err := s.Expire(ctx, migrated.Add(45*day)); err != nil || st.IdleQueues != 0 {
		t.Fatalf("Expire 45 days after the migration = %+v, %v", st, err)
	}
	if st, err := s.Expire(ctx, migrated.Add(46*day)); err != nil || st.IdleQueues != 1 {
		t.Fatalf("Expire 46 days after the migration = %+v, %v", st, err)
	}
}
