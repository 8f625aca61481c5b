// SPDX-License-Identifier: AGPL-3.0-or-later

package transfer

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/mailbox"
)

const (
	// DefaultParallel is how many requests a transfer keeps in flight when
	// the options say 0. Measured over a loopback devnet of 5 relays on 2
	// cores (BenchmarkTransfer, see ARCHITECTURE.md): beyond it the relays'
	// CPU, not the client's waiting, sets the pace.
	DefaultParallel = 16
	// DefaultTTL is the chunk TTL asked of relays when the options say 0:
	// relays cap it at their own (30 days by default).
	DefaultTTL = 30 * 24 * time.Hour
)

// UploadOptions tune Upload. The zero value uploads everything with the
// defaults.
type UploadOptions struct {
	// Start is the first chunk to put: chunks before it are known stored
	// (the last prefix Stored reported, when resuming).
	Start int64
	// Parallel is how many requests are in flight at once; 0 means
	// DefaultParallel.
	Parallel int
	// TTL is how long relays are asked to keep the chunks (whole
	// seconds, at most mailbox.MaxChunkTTL); 0 means DefaultTTL.
	TTL time.Duration
	// Progress, if set, is told how many chunks are stored (padding
	// included, chunks before Start too) of Total(). It is called from
	// one goroutine at a time, at most every 100 ms and once at the end;
	// it should return quickly.
	Progress func(done, total int64)
	// Stored, if set, is told a prefix: every chunk below it is stored.
	// Persist it to resume later with Start = prefix. Same calls as
	// Progress, including once at the end, failed or not.
	Stored func(prefix int64)
}

func (o *UploadOptions) check(l *Layout) error {
	if o.Start < 0 || o.Start > l.total {
		return fmt.Errorf("transfer: upload start %d is outside 0..%d", o.Start, l.total)
	}
	if o.Parallel < 0 {
		return fmt.Errorf("transfer: %d parallel requests", o.Parallel)
	}
	if o.Parallel == 0 {
		o.Parallel = DefaultParallel
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	if o.TTL < time.Second || o.TTL > mailbox.MaxChunkTTL {
		return fmt.Errorf("transfer: chunk TTL %v is outside 1s..%v", o.TTL, mailbox.MaxChunkTTL)
	}
	return nil
}

// Upload puts chunks opts.Start..Total()-1 on their relays, each through
// its own onion path. Real chunk i is read from src at offset
// i × attach.ChunkSize: src holds the attachment's ciphertext as
// attach.Encryptor made it, one chunk after another. Padding chunks are
// random bytes, put like the real ones.
//
// A relay answering that the chunk exists counts it as stored: it is
// this upload's own earlier attempt whose answer was lost (chunk IDs come
// from the secret key; no one else can take one). A network failure or a
// relay asking to slow down is tried again on fresh paths a few times
// (about 3 s); after that, or at once for a refusal (StatusRelayFull,
// StatusTooManyChunks, …), Upload stops every request and returns a
// *ChunkError; Temporary tells whether a later Upload from the last
// Stored prefix may succeed. When ctx is done it stops at once and
// returns an error wrapping ctx.Err().
//
// Memory stays flat: one chunk buffer per request in flight.
func Upload(ctx context.Context, a Asker, l *Layout, src io.ReaderAt, opts UploadOptions) error {
	if err := opts.check(l); err != nil {
		return err
	}
	u := &uploader{a: a, l: l, src: src, ttl: opts.TTL, q: newQueue(opts.Start, l.total, opts.Parallel)}
	progress := counter{fn: opts.Progress, total: l.total}
	stored := counter{fn: func(p, _ int64) { opts.Stored(p) }}
	if opts.Stored == nil {
		stored.fn = nil
	}
	rep := startReporter(func(final bool) {
		progress.report(opts.Start+u.stored.Load(), final)
		stored.report(u.q.prefix(), final)
	})
	err := run(ctx, opts.Parallel, u.work)
	rep.finish()
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("transfer: upload stopped with chunks below %d of %d stored: %w", u.q.prefix(), l.total, ctx.Err())
	}
	return err
}

// uploader is one Upload's shared state.
type uploader struct {
	a      Asker
	l      *Layout
	src    io.ReaderAt
	ttl    time.Duration
	q      *queue
	stored atomic.Int64 // chunks stored by this Upload
}

// work is one worker: it puts chunks from the queue until none is left,
// with a buffer of its own.
func (u *uploader) work(ctx context.Context, w int) error {
	buf := make([]byte, attach.ChunkSize)
	for {
		i, ok := u.q.take(w)
		if !ok {
			return nil
		}
		if err := u.put(ctx, i, buf); err != nil {
			return err
		}
		u.q.finish(w)
		u.stored.Add(1)
	}
}

// put stores chunk i: the ciphertext's, or random bytes for padding.
func (u *uploader) put(ctx context.Context, i int64, buf []byte) error {
	if i < u.l.chunks {
		n, err := u.src.ReadAt(buf, i*attach.ChunkSize)
		if n < len(buf) {
			if err == nil || errors.Is(err, io.EOF) {
				err = fmt.Errorf("%w (chunk %d has %d bytes)", ErrSource, i, n)
			}
			return fmt.Errorf("transfer: read chunk %d of the ciphertext: %w", i, err)
		}
	} else {
		rand.Read(buf) // never fails (Go 1.24+)
	}
	relay, id, token := u.l.Place(i)
	body, err := mailbox.PutChunkRequest(id, buf, u.ttl, token)
	if err != nil {
		return fmt.Errorf("transfer: internal error: %w", err)
	}
	_, err = do(ctx, u.a, &request{op: opPut, index: i, total: u.l.total, relay: relay, body: body, check: putDone})
	return err
}

// putDone accepts OK, and Exists: an earlier attempt of this upload
// stored the chunk and its answer was lost.
func putDone(r *mailbox.Response) error {
	if r.Status == mailbox.StatusOK || r.Status == mailbox.StatusExists {
		return nil
	}
	return r.Status
}

// run runs parallel workers until all return; the first error stops the
// others (their ctx is cancelled) and is returned.
func run(ctx context.Context, parallel int, work func(ctx context.Context, w int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for w := range parallel {
		wg.Go(func() {
			if err := work(ctx, w); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// queue hands chunk indices start..end-1 to workers, in order, and knows
// the prefix of those finished.
type queue struct {
	mu   sync.Mutex
	next int64
	end  int64
	busy []int64 // each worker's chunk in hand, or -1
}

func newQueue(start, end int64, workers int) *queue {
	q := &queue{next: start, end: end, busy: make([]int64, workers)}
	for w := range q.busy {
		q.busy[w] = -1
	}
	return q
}

// take gives worker w the next chunk, or false when none is left.
func (q *queue) take(w int) (int64, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.next >= q.end {
		return 0, false
	}
	q.busy[w] = q.next
	q.next++
	return q.busy[w], true
}

// finish records that worker w's chunk is done.
func (q *queue) finish(w int) {
	q.mu.Lock()
	q.busy[w] = -1
	q.mu.Unlock()
}

// prefix returns the first chunk not known done: every chunk below the
// next one to hand out is done unless a worker still holds it (or gave
// up on it).
func (q *queue) prefix() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	p := q.next
	for _, i := range q.busy {
		if i >= 0 && i < p {
			p = i
		}
	}
	return p
}
