// SPDX-License-Identifier: AGPL-3.0-or-later

// Package boltstore is the relay's default store.Store: one bbolt file in
// the data directory, written by one goroutine with group commit. Open it
// with Open; OnionStore keeps the relay's onion key ring in the same file.
//
// # Group commit
//
// Every change is an op: a function that validates inside the write
// transaction, writes only if it accepts, and records its own result. One
// writer goroutine takes every op pending, runs them all in one bbolt
// transaction, commits (bbolt writes and fdatasyncs the data pages, then
// the meta page), and only then answers their callers. It then takes the
// next batch at once: a lone op never waits on a timer, and ops arriving
// during a commit share the next one. A refused op wrote nothing, so it
// does not disturb the others. If an op fails after it may have written
// (a bbolt error), the batch is rolled back and run again without it. If
// the commit fails, every op of the batch gets the error and none of it is
// visible.
//
// Reads (QueueAuth, GetChunk, Stats, Backup) use read transactions and
// never wait for the writer.
package boltstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hushchat/hush/services/relay/internal/store"
)

// Options configure Open.
type Options struct {
	Limits store.Limits
	// EnvelopeSize is the size Send accepts; 0 means store.EnvelopeSize.
	// Only benchmarks set it.
	EnvelopeSize int
	// OnCommit, if set, is called by the writer after each commit with
	// the number of ops it carried, how long it took and its error (for
	// metrics). It must not block.
	OnCommit func(ops int, took time.Duration, err error)
	// LockTimeout bounds the wait for the file lock another process holds
	// (default 1 s).
	LockTimeout time.Duration
}

// maxBatch bounds one transaction, so one commit never grows without end.
const maxBatch = 1024

// Store is the bbolt store.Store. Its zero value is not usable; Open one.
type Store struct {
	db       *bolt.DB
	limits   store.Limits
	envSize  int
	onCommit func(int, time.Duration, error)

	mu     sync.RWMutex // closed, and submit's send on ops
	closed bool
	ops    chan *op
	done   chan struct{} // closed when the writer returned

	subs subscribers
}

var _ store.Store = (*Store)(nil)

// op is one change the writer runs.
type op struct {
	fn          func(tx *bolt.Tx) error // validates, then writes; sets its own results on every run
	afterCommit func()                  // run once committed without error (notifications)
	res         error                   // fn's result, then the commit's
	err         chan error              // buffered 1
}

// Open opens (creating if needed) the store at path.
//
// bbolt is configured for durability: NoSync and NoGrowSync false, so a
// commit returns only after fdatasync. NoFreelistSync is true: the free
// list is not written at each commit (one page write less per commit) and
// is rebuilt by a scan at Open, which costs time at start only.
func Open(path string, opts Options) (*Store, error) {
	if opts.LockTimeout == 0 {
		opts.LockTimeout = time.Second
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:        opts.LockTimeout,
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	if err := db.Update(initBuckets); err != nil {
		db.Close()
		return nil, err
	}
	s := &Store{
		db:       db,
		limits:   opts.Limits.WithDefaults(),
		envSize:  opts.EnvelopeSize,
		onCommit: opts.OnCommit,
		ops:      make(chan *op, maxBatch),
		done:     make(chan struct{}),
	}
	if s.envSize == 0 {
		s.envSize = store.EnvelopeSize
	}
	go s.writer()
	return s, nil
}

func initBuckets(tx *bolt.Tx) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("boltstore: create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	switch v := meta.Get(keyVersion); {
	case v == nil:
		return meta.Put(keyVersion, []byte{formatVersion})
	case len(v) != 1 || v[0] != formatVersion:
		return fmt.Errorf("boltstore: file has layout version %x, this relay reads %d", v, formatVersion)
	}
	return nil
}

// Close lets pending ops finish, then closes the file. Later calls return
// ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.ErrClosed
	}
	s.closed = true
	close(s.ops)
	s.mu.Unlock()
	<-s.done
	s.subs.closeAll()
	return s.db.Close()
}

// submit hands fn to the writer and waits for its commit. If ctx ends
// first it returns ctx's error; the op may still commit (Send's message
// ID makes a retry safe).
func (s *Store) submit(ctx context.Context, fn func(*bolt.Tx) error, after func()) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o := &op{fn: fn, afterCommit: after, err: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return store.ErrClosed
	}
	s.ops <- o
	s.mu.RUnlock()
	select {
	case err := <-o.err:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// writer is the one goroutine that writes.
func (s *Store) writer() {
	defer close(s.done)
	batch := make([]*op, 0, maxBatch)
	for first := range s.ops {
		batch = append(batch[:0], first)
	drain:
		for len(batch) < maxBatch {
			select {
			case o, ok := <-s.ops:
				if !ok {
					break drain
				}
				batch = append(batch, o)
			default:
				break drain
			}
		}
		s.commit(batch)
		clear(batch)
	}
}

// commit runs batch in one transaction and answers every op in it.
func (s *Store) commit(batch []*op) {
	live := batch
	start := time.Now()
	var commitErr error
	for len(live) > 0 {
		failed := -1
		err := s.db.Update(func(tx *bolt.Tx) error {
			for i, o := range live {
				o.res = o.fn(tx)
				if o.res != nil && !store.IsRefusal(o.res) {
					failed = i
					return o.res
				}
			}
			return nil
		})
		if failed >= 0 {
			// That op may have written part of its change: it keeps its
			// error, and the others run again in a fresh transaction.
			live = slices.Concat(live[:failed], live[failed+1:])
			continue
		}
		if err != nil {
			err = fmt.Errorf("boltstore: commit: %w", err)
			commitErr = err
			for _, o := range live {
				o.res = err
			}
		}
		break
	}
	if s.onCommit != nil {
		s.onCommit(len(batch), time.Since(start), commitErr)
	}
	for _, o := range batch {
		if o.res == nil && o.afterCommit != nil {
			o.afterCommit()
		}
		o.err <- o.res
	}
}

// view runs a read transaction unless the store is closed.
func (s *Store) view(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.ErrClosed
	}
	return s.db.View(fn)
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.db.Path() }
