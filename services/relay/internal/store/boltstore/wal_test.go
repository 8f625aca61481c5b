// SPDX-License-Identifier: AGPL-3.0-or-later

package boltstore

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hushchat/hush/services/relay/internal/store"
)

// crashFiles copies s's file and log as they are on disk now, which is
// what a killed process leaves, into a new directory and returns the
// copy's path. The writer is held in a read meanwhile, so nothing moves.
func crashFiles(t *testing.T, s *Store) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "relay.db")
	err := s.read(ctx, func(*bolt.Tx) error {
		for _, p := range [][2]string{{s.Path(), dst}, {LogPath(s.Path()), LogPath(dst)}} {
			b, err := os.ReadFile(p[0])
			if err != nil {
				return err
			}
			if err := os.WriteFile(p[1], b, 0o600); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// crashCopy opens what crashFiles copied.
func crashCopy(t *testing.T, s *Store) *Store {
	t.Helper()
	return openWith(t, crashFiles(t, s), Options{Limits: s.limits, EnvelopeSize: s.envSize})
}

func openWith(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// dump lists every bucket's keys and values as the writer's transaction
// sees them, but the checkpointed sequence number, which a replay moves.
func dump(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	err := s.read(ctx, func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				if string(name) == string(bucketMeta) && string(k) == string(keyLogSeq) {
					return nil
				}
				out = append(out, fmt.Sprintf("%s %x %x", name, k, v))
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// writerState reads the writer's sequence numbers and log offset.
func writerState(t *testing.T, s *Store) (seq, ckpt uint64, off int64) {
	t.Helper()
	if err := s.read(ctx, func(*bolt.Tx) error {
		seq, ckpt, off = s.seq, s.ckpt, s.wal.off
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return seq, ckpt, off
}

// workload runs one of every change on s, with refusals between them,
// and returns a message ID it sent and acknowledged, one it sent and left
// in the queue, and the queue.
func workload(t *testing.T, s *Store, at time.Time) (acked, kept store.MessageID, q store.NewQueue) {
	t.Helper()
	q = mkQueue(t, s, false)
	cr := mkQueue(t, s, true)
	gone := mkQueue(t, s, false)
	acked, kept = randMsg(), randMsg()
	send(t, s, q, acked, 'a', at)
	send(t, s, q, kept, 'k', at.Add(time.Second))
	send(t, s, q, kept, 'k', at.Add(2*time.Second)) // duplicate
	send(t, s, cr, randMsg(), 'c', at)
	send(t, s, gone, randMsg(), 'g', at)
	seqs, _ := fetchSeqs(t, s, q, 1, 1)
	if err := s.Ack(ctx, q.Recipient, 2, seqs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fetch(ctx, q.Recipient, 2, nil, 1); !errors.Is(err, store.ErrCounter) {
		t.Fatalf("replayed counter: %v", err)
	}
	// A fetch that acknowledges what the previous one returned.
	polled := mkQueue(t, s, false)
	send(t, s, polled, randMsg(), 'p', at)
	before := stats(t, s)
	seqs, _ = fetchSeqs(t, s, polled, 1, 1)
	if envs, err := s.Fetch(ctx, polled.Recipient, 2, append(seqs, 999), 1); err != nil || len(envs) != 0 {
		t.Fatalf("fetch acknowledging the only envelope (and an unknown one): %d envelopes, %v; want none", len(envs), err)
	}
	if after := stats(t, s); after.Envelopes != before.Envelopes-1 || after.Bytes >= before.Bytes {
		t.Fatalf("stats after a fetch acknowledging one envelope: %+v, before %+v", after, before)
	}
	if err := s.DeleteQueue(ctx, gone.Recipient, 1); err != nil {
		t.Fatal(err)
	}
	tok := [32]byte{7}
	keep, drop := store.ChunkID(randID()), store.ChunkID(randID())
	for _, id := range []store.ChunkID{keep, drop} {
		if err := s.PutChunk(ctx, id, chunk(id[0]), time.Hour, sha256.Sum256(tok[:]), at); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteChunk(ctx, drop, [32]byte{8}); !errors.Is(err, store.ErrBadToken) {
		t.Fatalf("wrong token: %v", err)
	}
	if err := s.DeleteChunk(ctx, drop, tok); err != nil {
		t.Fatal(err)
	}
	short := store.ChunkID(randID())
	if err := s.PutChunk(ctx, short, chunk(1), time.Minute, [32]byte{}, at); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Expire(ctx, at.Add(2*time.Minute)); err != nil || st.Chunks != 1 {
		t.Fatalf("Expire = %+v, %v; want one chunk", st, err)
	}
	return acked, kept, q
}

// TestReplayReproducesState: a store that crashed with everything still
// in the log opens to exactly the state its writer held, and behaves the
// same: message-ID idempotence, counters, envelopes, chunks, deletions.
func TestReplayReproducesState(t *testing.T) {
	s := openTemp(t, store.Limits{})
	acked, kept, q := workload(t, s, t0)
	if seq, ckpt, _ := writerState(t, s); seq <= ckpt || ckpt != 0 {
		t.Fatalf("seq %d, checkpoint %d: the workload should live in the log only", seq, ckpt)
	}
	want, wantStats := dump(t, s), stats(t, s)
	r := crashCopy(t, s)
	if got := dump(t, r); !slices.Equal(got, want) {
		t.Fatalf("replayed state differs:\n got %q\nwant %q", got, want)
	}
	if got := stats(t, r); got != wantStats {
		t.Fatalf("replayed stats %+v, want %+v", got, wantStats)
	}
	if seq, ckpt, _ := writerState(t, r); seq != ckpt {
		t.Fatalf("after replay seq %d, checkpoint %d: Open must checkpoint", seq, ckpt)
	}
	for _, m := range []store.MessageID{acked, kept} {
		if res := send(t, r, q, m, 'x', t0); !res.Duplicate {
			t.Fatalf("message ID %x forgotten by the replay", m)
		}
	}
	if _, err := r.Fetch(ctx, q.Recipient, 2, nil, 1); !errors.Is(err, store.ErrCounter) {
		t.Fatalf("counter 2 after replay: %v, want ErrCounter", err)
	}
	if _, fills := fetchSeqs(t, r, q, 3, 2); string(fills) != "k" {
		t.Fatalf("queue holds %q after replay, want \"k\"", fills)
	}
}

// TestCheckpointMidStream: a checkpoint in the middle of a stream puts
// the first part in the file; a crash then replays only the rest.
func TestCheckpointMidStream(t *testing.T) {
	var checkpoints []int
	s := openWith(t, filepath.Join(t.TempDir(), "relay.db"), Options{
		OnCheckpoint: func(n int, _ time.Duration, err error) {
			if err == nil {
				checkpoints = append(checkpoints, n)
			}
		}})
	q := mkQueue(t, s, false)
	first := []store.MessageID{randMsg(), randMsg()}
	for _, m := range first {
		send(t, s, q, m, 'a', t0)
	}
	if err := s.syncToFile(ctx); err != nil {
		t.Fatal(err)
	}
	seq1, ckpt1, off := writerState(t, s)
	if seq1 != 3 || ckpt1 != 3 || off != logHeaderSize || !slices.Equal(checkpoints, []int{3}) {
		t.Fatalf("after the checkpoint: seq %d, checkpoint %d, log at %d, checkpoints %v; want 3, 3, %d, [3]",
			seq1, ckpt1, off, checkpoints, logHeaderSize)
	}
	second := randMsg()
	send(t, s, q, second, 'b', t0)
	want := dump(t, s)
	path := crashFiles(t, s)
	// The file alone holds the first part, not the second.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *bolt.Tx) error {
		if n := tx.Bucket(bucketEnvelopes).Stats().KeyN; n != 2 {
			t.Errorf("the file holds %d envelopes before replay, want 2", n)
		}
		return nil
	})
	db.Close()
	r := openWith(t, path, Options{})
	if got := dump(t, r); !slices.Equal(got, want) {
		t.Fatalf("replayed state differs:\n got %q\nwant %q", got, want)
	}
	if seq, _, _ := writerState(t, r); seq != 4 {
		t.Fatalf("after replay seq %d, want 4", seq)
	}
	for _, m := range append(first, second) {
		if !send(t, r, q, m, 'x', t0).Duplicate {
			t.Fatalf("send %x lost", m)
		}
	}
}

// TestTornLogTail cuts the log's last record at every byte, and flips a
// byte of it: Open discards it and keeps everything before it.
func TestTornLogTail(t *testing.T) {
	const envSize = 64 // a short record, so every cut is tried
	s := openWith(t, filepath.Join(t.TempDir(), "relay.db"), Options{EnvelopeSize: envSize})
	q := mkQueue(t, s, false)
	var msgs []store.MessageID
	for i := range 5 {
		m := randMsg()
		if _, err := s.Send(ctx, q.Sender, m, bytes.Repeat([]byte{byte(i)}, envSize), t0); err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	_, _, end := writerState(t, s)
	path := crashFiles(t, s)
	log, err := os.ReadFile(LogPath(path))
	if err != nil {
		t.Fatal(err)
	}
	recs, scanEnd, _, err := scanLog(log, 0)
	if err != nil || len(recs) != 6 || int64(scanEnd) != end {
		t.Fatalf("log scan: %d records to %d, %v; want 6 to %d", len(recs), scanEnd, err, end)
	}
	last := int(end) - (recordHeadSize + len(recs[5].payload))
	db, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	try := func(name string, logBytes []byte, wantLast bool) {
		t.Helper()
		dir := t.TempDir()
		p := filepath.Join(dir, "relay.db")
		if err := errors.Join(os.WriteFile(p, db, 0o600), os.WriteFile(LogPath(p), logBytes, 0o600)); err != nil {
			t.Fatal(err)
		}
		var warned bytes.Buffer
		r, err := Open(p, Options{EnvelopeSize: envSize, Logger: slogTo(&warned)})
		if err != nil {
			t.Fatalf("%s: Open: %v", name, err)
		}
		defer r.Close()
		for i, m := range msgs {
			res, err := r.Send(ctx, q.Sender, m, bytes.Repeat([]byte{'x'}, envSize), t0)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if want := i < 4 || wantLast; res.Duplicate != want {
				t.Fatalf("%s: send %d stored before: %v, want %v", name, i, res.Duplicate, want)
			}
		}
		if !wantLast && !strings.Contains(warned.String(), "discarded") && len(logBytes) > last+8 {
			t.Fatalf("%s: no warning about the damaged record: %q", name, warned.String())
		}
	}
	for cut := last; cut < int(end); cut++ {
		try(fmt.Sprintf("cut at %d", cut), log[:cut], false)
	}
	try("whole", log[:end], true)
	for _, at := range []int{last, last + 5, last + 9, last + 20, int(end) - 1} {
		b := bytes.Clone(log)
		b[at] ^= 0x40
		try(fmt.Sprintf("byte %d flipped", at), b, false)
	}
}

// TestRefusedOpsLogNothing: a refusal neither moves the log nor the
// sequence number.
func TestRefusedOpsLogNothing(t *testing.T) {
	s := openTemp(t, store.Limits{MaxQueues: 2})
	q := mkQueue(t, s, false)
	id := store.ChunkID(randID())
	if err := s.PutChunk(ctx, id, chunk('c'), time.Hour, [32]byte{}, t0); err != nil {
		t.Fatal(err)
	}
	seq, _, off := writerState(t, s)
	refusals := map[string]func() error{
		"send to no queue": func() error { _, err := s.Send(ctx, randID(), randMsg(), envelope(1), t0); return err },
		"old counter": func() error {
			_, err := s.Fetch(ctx, q.Recipient, 0, nil, 1)
			return err
		},
		"ack of no queue": func() error { return s.Ack(ctx, randID(), 1, []uint64{0}) },
		"taken IDs":       func() error { return s.CreateQueue(ctx, q, t0) },
		"chunk ID in use": func() error { return s.PutChunk(ctx, id, chunk('d'), time.Hour, [32]byte{}, t0) },
		"wrong token":     func() error { return s.DeleteChunk(ctx, id, [32]byte{9}) },
		"no chunk":        func() error { return s.DeleteChunk(ctx, store.ChunkID(randID()), [32]byte{}) },
		"delete no queue": func() error { return s.DeleteQueue(ctx, randID(), 1) },
		"too many queues": func() error {
			mkQueue(t, s, false)
			return s.CreateQueue(ctx, store.NewQueue{Recipient: randID(), Sender: randID(), AuthKey: q.AuthKey}, t0)
		},
		"envelope too big": func() error { _, err := s.Send(ctx, q.Sender, randMsg(), envelope(1)[1:], t0); return err },
	}
	for name, fn := range refusals {
		if name == "too many queues" {
			continue
		}
		if err := fn(); !store.IsRefusal(err) {
			t.Fatalf("%s: %v, want a refusal", name, err)
		}
		if s2, _, o2 := writerState(t, s); s2 != seq || o2 != off {
			t.Fatalf("%s: log moved from record %d at %d to %d at %d", name, seq, off, s2, o2)
		}
	}
	// The one accepted creation before it is logged; the refusal is not.
	wantErr(t, "too many queues", refusals["too many queues"](), store.ErrTooManyQueues)
	if s2, _, _ := writerState(t, s); s2 != seq+1 {
		t.Fatalf("after one creation and one refusal: record %d, want %d", s2, seq+1)
	}
}

// TestBackupHoldsLoggedChanges: a backup taken while changes live only in
// the log holds them, and opens alone.
func TestBackupHoldsLoggedChanges(t *testing.T) {
	s := openTemp(t, store.Limits{})
	q := mkQueue(t, s, false)
	m := randMsg()
	send(t, s, q, m, 'a', t0)
	if seq, ckpt, _ := writerState(t, s); seq == ckpt {
		t.Fatal("the send was checkpointed already; the test needs it in the log only")
	}
	out := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Backup(ctx, f); err != nil || f.Close() != nil {
		t.Fatalf("Backup: %v", err)
	}
	if _, err := os.Stat(LogPath(out)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a log beside the backup: %v", err)
	}
	b := openAt(t, out, store.Limits{})
	if !send(t, b, q, m, 'a', t0).Duplicate {
		t.Fatal("backup lacks the logged send")
	}
	if _, fills := fetchSeqs(t, b, q, 1, 2); string(fills) != "a" {
		t.Fatalf("backup's queue holds %q", fills)
	}
}

// TestCloseRemovesLog: Close checkpoints and deletes the log; the store
// reopens from the file alone with a fresh, empty log.
func TestCloseRemovesLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	s := openAt(t, path, store.Limits{})
	if fi, err := os.Stat(LogPath(path)); err != nil || fi.Size() != logHeaderSize {
		t.Fatalf("new log: %v, %v; want %d bytes", fi, err, logHeaderSize)
	}
	q := mkQueue(t, s, false)
	m := randMsg()
	send(t, s, q, m, 'a', t0)
	want := dump(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(LogPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("log after Close: %v", err)
	}
	s = openAt(t, path, store.Limits{})
	if got := dump(t, s); !slices.Equal(got, want) {
		t.Fatalf("reopened state differs:\n got %q\nwant %q", got, want)
	}
	if seq, ckpt, off := writerState(t, s); seq != 2 || ckpt != 2 || off != logHeaderSize {
		t.Fatalf("reopened: seq %d, checkpoint %d, log at %d", seq, ckpt, off)
	}
	if !send(t, s, q, m, 'a', t0).Duplicate {
		t.Fatal("message ID lost across Close")
	}
}

// TestStaleLogRefused: a backup restored over the file, with the newer
// log of the store left beside it, is refused rather than mixed; a log of
// another store is refused too.
func TestStaleLogRefused(t *testing.T) {
	s := openTemp(t, store.Limits{})
	q := mkQueue(t, s, false)
	bk := filepath.Join(t.TempDir(), "relay.db")
	f, err := os.Create(bk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Backup(ctx, f); err != nil || f.Close() != nil {
		t.Fatal(err)
	}
	send(t, s, q, randMsg(), 'a', t0)
	if err := s.syncToFile(ctx); err != nil { // the log starts after the backup's state
		t.Fatal(err)
	}
	send(t, s, q, randMsg(), 'b', t0)
	crashed := crashFiles(t, s)
	log, _ := os.ReadFile(LogPath(crashed))
	if err := os.WriteFile(LogPath(bk), log, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(bk, Options{}); err == nil || !strings.Contains(err.Error(), "later state") {
		t.Fatalf("Open over a newer log: %v", err)
	}
	other := filepath.Join(t.TempDir(), "relay.db")
	o := openAt(t, other, store.Limits{})
	o.Close()
	if err := os.WriteFile(LogPath(other), log, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(other, Options{}); err == nil || !strings.Contains(err.Error(), "another store") {
		t.Fatalf("Open beside another store's log: %v", err)
	}
}

// TestTornLogHeader: a log whose header was never completed (the crash
// came while creating it) is started again.
func TestTornLogHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay.db")
	s := openAt(t, path, store.Limits{})
	q := mkQueue(t, s, false)
	s.Close()
	if err := os.WriteFile(LogPath(path), []byte("hush-w"), 0o600); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path, store.Limits{})
	if _, _, err := s.QueueAuth(ctx, q.Recipient); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(LogPath(path)); err != nil || fi.Size() != logHeaderSize {
		t.Fatalf("log after Open: %v, %v", fi, err)
	}
}

// TestLogReuse: after a checkpoint the log is written from its start
// again, over the old records, and a crash then replays only the new ones.
func TestLogReuse(t *testing.T) {
	s := openTemp(t, store.Limits{})
	q := mkQueue(t, s, false)
	for range 3 {
		send(t, s, q, randMsg(), 'a', t0)
	}
	if err := s.syncToFile(ctx); err != nil {
		t.Fatal(err)
	}
	late := randMsg()
	send(t, s, q, late, 'b', t0)
	_, _, off := writerState(t, s)
	if want := int64(logHeaderSize + recordHeadSize + (&sendEnvelope{envelope: envelope(0)}).appendPayloadLen()); off != want {
		t.Fatalf("log at %d after one record past the checkpoint, want %d", off, want)
	}
	r := crashCopy(t, s)
	if st := stats(t, r); st.Envelopes != 4 {
		t.Fatalf("%d envelopes after replay, want 4", st.Envelopes)
	}
	if seq, _, _ := writerState(t, r); seq != 5 {
		t.Fatalf("seq %d after replay, want 5", seq)
	}
}

func (c *sendEnvelope) appendPayloadLen() int { return len(c.appendPayload(nil)) }
