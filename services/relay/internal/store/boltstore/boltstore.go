// SPDX-License-Identifier: AGPL-3.0-or-later

// Package boltstore is the relay's default store.Store: one bbolt file in
// the data directory and a write-ahead log beside it ("<file>.wal"),
// written by one goroutine with group commit. Open it with Open;
// OnionStore keeps the relay's onion key ring in the same file.
//
// # Group commit through a log
//
// Every change is a value (changes.go) that validates against the store,
// writes only if it accepts, and records its own result. One writer
// goroutine owns a long-lived bbolt read-write transaction. It takes every
// op pending, applies them all to that transaction, appends the records
// of the accepted ones to the log, makes them durable with ONE fdatasync
// of the log, and only then answers their callers and wakes long-polls.
// It then takes the next batch at once: a lone op never waits on a timer,
// and ops arriving during a sync share the next one. A refused op wrote
// nothing and logs nothing, so it does not disturb the others.
//
// Why a log: a bbolt commit costs two fdatasyncs (data pages, then the
// meta page) and dirties about two random pages per send. A log record is
// appended where the last one ended, and one sync covers a whole batch.
//
// # Checkpoints
//
// Every so often the writer commits the transaction normally (synced by
// bbolt, two fdatasyncs), recording in the same commit the sequence number
// of the last log record it contains (meta/"log-seq"), then starts the log
// over and begins a new transaction. It does so after checkpointOps logged
// changes, checkpointBytes of log, or checkpointAge since the first change
// the transaction carries, whichever comes first; and at Close, Backup,
// Check and Save of the key ring. bbolt therefore only ever makes normal,
// synced commits (never NoSync, whose freed pages a crash could find
// reused), so the store survives power loss as well as a killed process.
// The op bound keeps the transaction's in-memory nodes small (bbolt splits
// them only at commit, so a hot leaf's inserts get slower as it grows); the
// byte bound keeps its memory and the log's size in check; the age bound
// keeps the file current when the relay is quiet.
//
// # Recovery
//
// Open reads meta/"log-seq", applies every whole record of the log after
// it in order (with the quotas lifted: the change was accepted once), and
// checkpoints before it serves. The log ends at the first record that is
// cut short, fails its CRC or does not continue the sequence; a record
// after that point was never acknowledged, because every batch is synced
// before its callers hear of it. A clean Close checkpoints and deletes the
// log, so a stopped store is one file.
//
// # Reads
//
// Acknowledged changes may live only in the writer's transaction and the
// log, so reads (QueueAuth, Peek, GetChunk, Stats, the key ring's Load) go
// through the writer too. It answers them first in each batch, before it
// applies the batch's changes, from state that is all durable; they never
// wait for a sync. Backup and Check force a checkpoint, then read the file
// in a bbolt read transaction beside the writer.
//
// # Failures
//
// If an op fails after it may have written (a bbolt error, not a refusal),
// the writer rolls the transaction back, rebuilds it from the file and
// the durable part of the log, and runs the batch again without that op.
// A log write or sync that fails fails its batch: the writer zeroes what
// it may have written, then rebuilds the same way; a failed checkpoint
// rebuilds too. If a rebuild fails, the store answers every later op with
// that error until it is opened again.
package boltstore

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
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
	// OnCommit, if set, is called by the writer after each group commit
	// (a batch made durable by one sync of the log) with the number of
	// changes it carried, accepted or refused, how long applying, writing
	// and syncing took, and its error (for metrics). It must not block.
	OnCommit func(ops int, took time.Duration, err error)
	// OnCheckpoint, if set, is called after each checkpoint (a bbolt
	// commit) with the number of logged changes it wrote into the file,
	// how long it took and its error. It must not block.
	OnCheckpoint func(changes int, took time.Duration, err error)
	// LockTimeout bounds the wait for the file lock another process holds
	// (default 1 s).
	LockTimeout time.Duration
	// Logger receives warnings about the log (a torn tail discarded at
	// Open, a rebuild). Nil discards them.
	Logger *slog.Logger
	// Now is the clock of the ops that take no time from their caller
	// (Fetch, Ack and DeleteQueue, and a layout migration); nil means
	// time.Now. Tests set it.
	Now func() time.Time
}

// initialMmap is bbolt's first mapping of the file (address space only).
const initialMmap = 1 << 30

// maxBatch bounds one batch, so one sync never grows without end.
const maxBatch = 1024

// The checkpoint policy (see the package comment).
const (
	checkpointOps   = 4096
	checkpointBytes = 16 << 20
	checkpointAge   = 10 * time.Second
)

// Store is the bbolt store.Store. Its zero value is not usable; Open one.
type Store struct {
	db           *bolt.DB
	limits       store.Limits
	envSize      int
	onCommit     func(int, time.Duration, error)
	onCheckpoint func(int, time.Duration, error)
	log          *slog.Logger
	now          func() time.Time

	mu     sync.RWMutex // closed, and submit's send on ops
	closed bool
	ops    chan *op
	done   chan struct{} // closed when the writer returned
	endErr error         // the writer's final checkpoint, read after done

	subs subscribers

	// Owned by the writer goroutine.
	wal     *wal
	tx      *bolt.Tx  // nil only when failed
	seq     uint64    // the last record written and synced
	ckpt    uint64    // the last record the file's committed state holds
	txSince time.Time // when the transaction took its first logged change
	failed  error     // set when a rebuild failed; every op gets it
	buf     []byte    // the batch's records
}

var _ store.Store = (*Store)(nil)

// op is one request to the writer: a logged change, a read of the open
// transaction, or a write made durable by a checkpoint instead of the log.
type op struct {
	change      change                  // logged; nil for the others
	fn          func(tx *bolt.Tx) error // read or checkpointed write
	read        bool
	checkpoint  bool   // a checkpoint must follow before the answer
	afterCommit func() // run once durable without error (notifications)
	res         error  // the op's result, then its commit's
	err         chan error
}

// apply runs o against tx.
func (o *op) apply(tx *bolt.Tx, lim *store.Limits) error {
	if o.change != nil {
		return o.change.apply(tx, lim)
	}
	return o.fn(tx)
}

// LogPath is the write-ahead log's path for the bbolt file at path.
func LogPath(path string) string { return path + logSuffix }

// Open opens (creating if needed) the store at path and its log at
// LogPath(path), and applies what the log holds beyond the file.
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
		// Map 1 GiB of address space from the start (not of disk: the file
		// grows as it needs), so checkpoints on a growing file do not
		// remap it, which waits for every reader, each time it doubles.
		InitialMmapSize: initialMmap,
	})
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	var storeID [storeIDSize]byte
	var ckpt uint64
	if err := db.Update(func(tx *bolt.Tx) (err error) {
		storeID, ckpt, err = initStore(tx, unix(now()))
		return err
	}); err != nil {
		db.Close()
		return nil, err
	}
	s := &Store{
		db:           db,
		limits:       opts.Limits.WithDefaults(),
		envSize:      opts.EnvelopeSize,
		onCommit:     opts.OnCommit,
		onCheckpoint: opts.OnCheckpoint,
		log:          opts.Logger,
		now:          now,
		ops:          make(chan *op, maxBatch),
		done:         make(chan struct{}),
		seq:          ckpt,
		ckpt:         ckpt,
	}
	if s.envSize == 0 {
		s.envSize = store.EnvelopeSize
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.recover(LogPath(path), storeID); err != nil {
		if s.tx != nil {
			s.tx.Rollback()
		}
		if s.wal != nil {
			s.wal.f.Close()
		}
		db.Close()
		return nil, err
	}
	go s.writer()
	return s, nil
}

// initStore creates the buckets of a new file, migrates an older layout,
// and returns the store's ID and its checkpointed log sequence number.
func initStore(tx *bolt.Tx, now uint64) (id [storeIDSize]byte, ckpt uint64, err error) {
	fresh := tx.Bucket(bucketMeta) == nil
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return id, 0, fmt.Errorf("boltstore: create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bucketMeta)
	v := meta.Get(keyVersion)
	switch {
	case v == nil && fresh:
		if err := meta.Put(keyVersion, []byte{formatVersion}); err != nil {
			return id, 0, err
		}
	case len(v) != 1 || v[0] < oldestMigrated || v[0] > formatVersion:
		return id, 0, fmt.Errorf("boltstore: file has layout version %x, this relay reads %d to %d", v, oldestMigrated, formatVersion)
	case v[0] < formatVersion:
		if err := migrate(tx, v[0], now); err != nil {
			return id, 0, err
		}
	}
	if b := meta.Get(keyStoreID); len(b) == storeIDSize {
		copy(id[:], b)
	} else {
		rand.Read(id[:])
		if err := meta.Put(keyStoreID, id[:]); err != nil {
			return id, 0, err
		}
	}
	if b := meta.Get(keyLogSeq); len(b) == u64 {
		ckpt = binary.BigEndian.Uint64(b)
	}
	return id, ckpt, nil
}

// recover opens the log, applies what it holds beyond the checkpoint,
// checkpoints, and leaves a fresh transaction open.
func (s *Store) recover(logPath string, storeID [storeIDSize]byte) error {
	w, data, err := openLog(logPath, storeID)
	if errors.Is(err, errLogHeader) {
		s.log.Warn("store: log header incomplete, a crash while creating it; starting it again", "log", logPath)
	} else if err != nil {
		return err
	}
	s.wal = w
	recs, end, why, err := scanLog(data, s.ckpt)
	if err != nil {
		return err
	}
	if errors.Is(why, errLogTorn) || errors.Is(why, errLogLength) || errors.Is(why, errLogChecksum) {
		// Normal after a crash: the last batch was being written, and was
		// never acknowledged. (Or the middle of an older record.)
		s.log.Warn("store: log ends in a damaged record, discarded: it was never acknowledged",
			"log", logPath, "where", why.Error())
	}
	if err := s.begin(); err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	if err := s.replay(recs); err != nil {
		return err
	}
	w.off = int64(end)
	s.log.Info("store: applied the log after an unclean stop", "records", len(recs), "through", s.seq)
	return s.checkpoint()
}

// begin starts the writer's transaction.
func (s *Store) begin() error {
	tx, err := s.db.Begin(true)
	if err != nil {
		return fmt.Errorf("boltstore: begin: %w", err)
	}
	s.tx = tx
	return nil
}

// replay applies recs, which follow s.seq, to the open transaction.
func (s *Store) replay(recs []logRecord) error {
	for _, r := range recs {
		if r.seq != s.seq+1 {
			return fmt.Errorf("boltstore: log record %d follows %d", r.seq, s.seq)
		}
		c, err := decodeChange(r.kind, r.payload)
		if err != nil {
			return fmt.Errorf("boltstore: log record %d: %w", r.seq, err)
		}
		if err := c.apply(s.tx, &replayLimits); err != nil {
			return fmt.Errorf("boltstore: log record %d (%s) does not apply again: %w", r.seq, r.kind, err)
		}
		s.seq = r.seq
	}
	return nil
}

// rebuild throws the open transaction away and makes it again from the
// file and the log's durable records: after an op failed part-way, or a
// log write or a checkpoint failed.
func (s *Store) rebuild() error {
	if s.tx != nil {
		s.tx.Rollback()
		s.tx = nil
	}
	want := s.seq
	data, err := s.wal.readDurable()
	if err != nil {
		return err
	}
	if err := s.begin(); err != nil {
		return err
	}
	b := s.tx.Bucket(bucketMeta).Get(keyLogSeq)
	s.ckpt = 0
	if len(b) == u64 {
		s.ckpt = binary.BigEndian.Uint64(b)
	}
	s.seq = s.ckpt
	recs, _, _, err := scanLog(data, s.ckpt)
	if err == nil {
		err = s.replay(recs)
	}
	if err == nil && s.seq != want {
		err = fmt.Errorf("boltstore: log holds changes through %d, %d were acknowledged", s.seq, want)
	}
	if err != nil {
		s.tx.Rollback()
		s.tx = nil
		return fmt.Errorf("boltstore: rebuild: %w", err)
	}
	s.log.Warn("store: transaction rebuilt from the log", "records", len(recs))
	return nil
}

// checkpoint commits the transaction, with the last logged sequence
// number, and begins the next one. The log starts over after it.
func (s *Store) checkpoint() error {
	start := time.Now()
	n := int(s.seq - s.ckpt)
	err := s.tx.Bucket(bucketMeta).Put(keyLogSeq, be64(s.seq))
	if err == nil {
		err = s.tx.Commit()
	} else {
		s.tx.Rollback()
	}
	s.tx = nil
	if err == nil {
		s.ckpt = s.seq
		s.wal.off = logHeaderSize
		s.txSince = time.Time{}
		err = s.begin()
	} else {
		err = fmt.Errorf("boltstore: checkpoint: %w", err)
		if rerr := s.rebuild(); rerr != nil {
			s.fail(rerr)
		}
	}
	if s.onCheckpoint != nil {
		s.onCheckpoint(n, time.Since(start), err)
	}
	if err != nil && s.tx == nil && s.failed == nil {
		s.fail(err)
	}
	return err
}

// fail puts the store in the failed state.
func (s *Store) fail(err error) {
	if s.tx != nil {
		s.tx.Rollback()
		s.tx = nil
	}
	s.failed = fmt.Errorf("boltstore: store failed, reopen it: %w", err)
	s.log.Error("store: failed; every operation is refused until the relay restarts", "err", err)
}

// Close lets pending ops finish, checkpoints, deletes the log and closes
// the file. Later calls return ErrClosed.
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
	return errors.Join(s.endErr, s.db.Close())
}

// submit hands o to the writer and waits for its answer. If ctx ends
// first it returns ctx's error; the op may still commit (Send's message
// ID makes a retry safe).
func (s *Store) submit(ctx context.Context, o *op) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	o.err = make(chan error, 1)
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

// change submits a logged change; after runs once it is durable.
func (s *Store) change(ctx context.Context, c change, after func()) error {
	return s.submit(ctx, &op{change: c, afterCommit: after})
}

// read runs fn on the writer's transaction: it sees every acknowledged
// change, and nothing unacknowledged.
func (s *Store) read(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	return s.submit(ctx, &op{fn: fn, read: true})
}

// writer is the one goroutine that writes.
func (s *Store) writer() {
	defer close(s.done)
	batch := make([]*op, 0, maxBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		var first *op
		var ok bool
		if s.seq > s.ckpt && s.failed == nil {
			// The transaction carries changes: checkpoint when they get
			// old, if nothing else comes first.
			wait := checkpointAge - time.Since(s.txSince)
			if wait <= 0 {
				s.checkpoint()
				continue
			}
			timer.Reset(wait)
			select {
			case first, ok = <-s.ops:
				timer.Stop()
			case <-timer.C:
				s.checkpoint()
				continue
			}
		} else {
			first, ok = <-s.ops
		}
		if !ok {
			break
		}
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
		s.run(batch)
		clear(batch)
	}
	s.endErr = s.finish()
}

// finish checkpoints and removes the log, at Close.
func (s *Store) finish() error {
	if s.failed != nil {
		// The log keeps what was acknowledged; Open applies it.
		return errors.Join(s.failed, s.wal.f.Close())
	}
	if err := s.checkpoint(); err != nil {
		return errors.Join(err, s.wal.f.Close())
	}
	s.tx.Rollback() // the empty one checkpoint began
	s.tx = nil
	return s.wal.remove()
}

// run answers a batch: reads first, then the changes, applied, logged and
// synced together.
func (s *Store) run(batch []*op) {
	if s.failed != nil {
		for _, o := range batch {
			o.err <- s.failed
		}
		return
	}
	writes := batch[:0:0]
	for _, o := range batch {
		if o.read {
			o.err <- o.fn(s.tx)
		} else {
			writes = append(writes, o)
		}
	}
	if len(writes) == 0 {
		return
	}
	start := time.Now()
	err := s.applyAndLog(writes)
	if s.onCommit != nil {
		s.onCommit(len(writes), time.Since(start), err)
	}
	ckpt := false
	for _, o := range writes {
		if err != nil && o.res == nil {
			o.res = err
		}
		ckpt = ckpt || (o.checkpoint && o.res == nil)
	}
	// A checkpointed write is durable only once the file holds it.
	if ckpt || s.dueCheckpoint() {
		if cerr := s.checkpoint(); cerr != nil {
			for _, o := range writes {
				if o.checkpoint && o.res == nil {
					o.res = cerr
				}
			}
		}
	}
	for _, o := range writes {
		if o.res == nil && o.afterCommit != nil {
			o.afterCommit()
		}
		o.err <- o.res
	}
}

func (s *Store) dueCheckpoint() bool {
	return s.failed == nil && s.seq > s.ckpt &&
		(s.seq-s.ckpt >= checkpointOps || s.wal.off-logHeaderSize >= checkpointBytes ||
			time.Since(s.txSince) >= checkpointAge)
}

// applyAndLog applies writes to the transaction, then logs and syncs the
// accepted changes. Each op's res is its own result; the error returned
// is the batch's (every accepted op then failed).
func (s *Store) applyAndLog(writes []*op) error {
	live := writes
	for {
		failed := -1
		for i, o := range live {
			o.res = o.apply(s.tx, &s.limits)
			if o.res != nil && !store.IsRefusal(o.res) {
				failed = i
				break
			}
		}
		if failed < 0 {
			break
		}
		// That op may have written part of its change: start again from
		// what is durable, without it. It keeps its error.
		if err := s.rebuild(); err != nil {
			s.fail(err)
			return s.failed
		}
		live = slices.Concat(live[:failed], live[failed+1:])
	}
	s.buf = s.buf[:0]
	seq := s.seq
	for _, o := range live {
		if o.res == nil && o.change != nil {
			seq++
			s.buf = appendRecord(s.buf, seq, o.change.kind(), o.change.appendPayload)
		}
	}
	if seq == s.seq {
		return nil
	}
	from := s.wal.off
	if err := s.wal.write(s.buf); err != nil {
		// Nothing of the batch may be acknowledged, and the transaction
		// holds it: zero whatever reached the file (a record there must
		// never be read as the log's), then rebuild from the rest.
		if !errors.Is(err, errLogGrow) {
			if zerr := s.wal.invalidate(from, int64(len(s.buf))); zerr != nil {
				s.fail(errors.Join(err, zerr))
				return s.failed
			}
		}
		if rerr := s.rebuild(); rerr != nil {
			s.fail(errors.Join(err, rerr))
		}
		return err
	}
	if s.seq == s.ckpt {
		s.txSince = time.Now()
	}
	s.seq = seq
	return nil
}

// syncToFile checkpoints, so that the file holds every acknowledged change
// (for Backup and Check).
func (s *Store) syncToFile(ctx context.Context) error {
	return s.submit(ctx, &op{fn: func(*bolt.Tx) error { return nil }, checkpoint: true})
}

// view runs fn in a read transaction of the file, unless the store is
// closed. The file lacks what was logged since the last checkpoint: call
// syncToFile first.
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
