// SPDX-License-Identifier: AGPL-3.0-or-later

package transfer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/mailbox"
)

// DownloadOptions tune Download. The zero value downloads with the
// defaults.
type DownloadOptions struct {
	// Parallel is how many requests are in flight at once; 0 means
	// DefaultParallel.
	Parallel int
	// Window bounds the chunks held in memory, fetched ahead of one that
	// has not arrived yet; workers wait when it is full. 0 means
	// 4 × Parallel.
	Window int
	// Progress, if set, is told the plaintext bytes verified so far of
	// the attachment's size. It is called from one goroutine at a time,
	// at most every 100 ms and once at the end; it should return quickly.
	Progress func(done, total int64)
}

func (o *DownloadOptions) check() error {
	if o.Parallel < 0 || o.Window < 0 {
		return fmt.Errorf("transfer: %d parallel requests, window of %d chunks", o.Parallel, o.Window)
	}
	if o.Parallel == 0 {
		o.Parallel = DefaultParallel
	}
	if o.Window == 0 {
		o.Window = 4 * o.Parallel
	}
	return nil
}

// File is where Download puts the attachment's ciphertext; *os.File
// satisfies it.
type File interface {
	io.ReaderAt
	io.WriterAt
	Truncate(size int64) error
}

// Download fetches the attachment's chunks into dst, chunk i at offset
// i × attach.ChunkSize: dst ends up holding exactly the ciphertext, which
// stays encrypted at rest under the attachment's own key (read it with
// Open).
//
// It resumes: first it verifies the chunks already in dst, from the
// start and in order, keeps the prefix that verifies, truncates dst after
// it, and fetches only the rest. Chunks are fetched by Parallel workers
// out of order but verified (attach.Decryptor) and written strictly in
// order; dst always holds a verified prefix. Then the padding chunks are
// fetched and discarded, so relays see the padded count (best effort: a
// padding chunk that cannot be fetched is skipped).
//
// Errors: a chunk that does not verify, or that a relay no longer has
// (mailbox.StatusNoChunk), gives a *ChunkError at once and is not
// written. A network failure is tried again a few times (about 3 s), then
// gives a *ChunkError for which Temporary is true: a later Download goes
// on from what is in dst. When ctx is done it stops at once with an error
// wrapping ctx.Err(). If every chunk verified but the digest differs, the
// error wraps attach.ErrDigest: the attachment is not the one the sender
// described; delete dst. Download returns nil only when every chunk
// verified and the digest matched.
func Download(ctx context.Context, a Asker, l *Layout, digest attach.Digest, dst File, opts DownloadOptions) error {
	if err := opts.check(); err != nil {
		return err
	}
	dec, err := attach.NewDecryptor(l.key, l.size, digest, io.Discard)
	if err != nil {
		return err
	}
	d := &downloader{a: a, l: l, dst: dst, dec: dec, window: int64(opts.Window), advanced: make(chan struct{}),
		held: make(map[int64][]byte)}
	progress := counter{fn: opts.Progress, total: l.size}
	rep := startReporter(func(final bool) { progress.report(d.verifiedBytes(), final) })
	err = d.download(ctx, opts.Parallel)
	rep.finish()
	return err
}

// downloader is one Download's shared state.
type downloader struct {
	a        Asker
	l        *Layout
	dst      File
	dec      *attach.Decryptor // used by the one goroutine draining
	window   int64
	verified atomic.Int64 // chunks verified and written, for progress

	mu       sync.Mutex
	next     int64            // the next chunk to hand to a worker
	expected int64            // the next chunk to write
	held     map[int64][]byte // fetched chunks waiting for an earlier one
	draining bool             // a worker is writing chunks
	advanced chan struct{}    // closed (and replaced) when expected moves
}

func (d *downloader) download(ctx context.Context, parallel int) error {
	if err := d.resume(ctx); err != nil {
		return err
	}
	d.next, d.expected = d.dec.Verified(), d.dec.Verified()
	err := run(ctx, parallel, d.work)
	switch {
	case err != nil && ctx.Err() != nil:
		return fmt.Errorf("transfer: download stopped with %d of %d chunks verified: %w", d.verified.Load(), d.l.chunks, ctx.Err())
	case err != nil:
		return err
	}
	if err := d.dec.Finish(); err != nil {
		if errors.Is(err, attach.ErrDigest) {
			return fmt.Errorf("transfer: every chunk verified but %w: it is not the attachment the sender described", err)
		}
		return fmt.Errorf("transfer: internal error: %w", err)
	}
	return nil
}

// resume verifies the chunks already in dst, in order, and truncates dst
// after the last one that verifies.
func (d *downloader) resume(ctx context.Context) error {
	buf := make([]byte, attach.ChunkSize)
	for i := int64(0); i < d.l.chunks; i++ {
		if i%256 == 0 && ctx.Err() != nil {
			return fmt.Errorf("transfer: download stopped: %w", ctx.Err())
		}
		n, err := d.dst.ReadAt(buf, i*attach.ChunkSize)
		if n < len(buf) {
			if err != nil && !errors.Is(err, io.EOF) {
				return fmt.Errorf("transfer: read the partial download: %w", err)
			}
			break
		}
		if d.dec.Decrypt(buf) != nil {
			break
		}
		d.verified.Add(1)
	}
	if err := d.dst.Truncate(d.dec.Verified() * attach.ChunkSize); err != nil {
		return fmt.Errorf("transfer: truncate the partial download: %w", err)
	}
	return nil
}

// verifiedBytes is the plaintext verified so far.
func (d *downloader) verifiedBytes() int64 {
	return min(d.verified.Load()*attach.PlainChunkSize, d.l.size)
}

// work is one worker: it fetches chunks until none is left. Padding
// chunks are discarded, and their failures ignored.
func (d *downloader) work(ctx context.Context, _ int) error {
	for {
		i, ok, err := d.take(ctx)
		if err != nil || !ok {
			return err
		}
		chunk, err := d.get(ctx, i)
		if i >= d.l.chunks {
			// Padding: fetched for the relays to see, or not at all.
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		if err != nil {
			return err
		}
		if err := d.deliver(i, chunk); err != nil {
			return err
		}
	}
}

// take gives a worker the next chunk, waiting while that chunk is Window
// or more ahead of the next to write. It returns false when none is left.
func (d *downloader) take(ctx context.Context) (int64, bool, error) {
	d.mu.Lock()
	for {
		i := d.next
		if i >= d.l.total {
			d.mu.Unlock()
			return 0, false, nil
		}
		if i >= d.l.chunks || i < d.expected+d.window {
			d.next++
			d.mu.Unlock()
			return i, true, nil
		}
		advanced := d.advanced
		d.mu.Unlock()
		select {
		case <-advanced:
		case <-ctx.Done():
			return 0, false, ctx.Err()
		}
		d.mu.Lock()
	}
}

// get fetches chunk i.
func (d *downloader) get(ctx context.Context, i int64) ([]byte, error) {
	relay, id, _ := d.l.Place(i)
	body, err := mailbox.GetChunkRequest(id)
	if err != nil {
		return nil, fmt.Errorf("transfer: internal error: %w", err)
	}
	resp, err := do(ctx, d.a, &request{op: opGet, index: i, total: d.l.total, relay: relay, body: body, check: gotChunk})
	if err != nil {
		return nil, err
	}
	return resp.Chunk, nil
}

// gotChunk accepts OK with a chunk (ParseResponse checked its size).
func gotChunk(r *mailbox.Response) error {
	switch {
	case r.Status != mailbox.StatusOK:
		return r.Status
	case r.Chunk == nil:
		return fmt.Errorf("%w: OK without a chunk", ErrBadResponse)
	}
	return nil
}

// deliver hands over fetched chunk i. If it is the next to write, the
// caller writes it and every chunk held after it, unless another worker
// is already doing so (which then writes it too).
func (d *downloader) deliver(i int64, chunk []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.held[i] = chunk
	if d.draining || i != d.expected {
		return nil
	}
	d.draining = true
	defer func() { d.draining = false }()
	for {
		j := d.expected
		c, ok := d.held[j]
		if !ok {
			return nil
		}
		delete(d.held, j)
		d.mu.Unlock()
		err := d.write(j, c)
		d.mu.Lock()
		if err != nil {
			return err
		}
		d.expected++
		close(d.advanced)
		d.advanced = make(chan struct{})
	}
}

// write verifies chunk i, the next in order, and writes it to dst. A
// chunk that does not verify is not written.
func (d *downloader) write(i int64, chunk []byte) error {
	if err := d.dec.Decrypt(chunk); err != nil {
		relay, _, _ := d.l.Place(i)
		return &ChunkError{Index: i, Total: d.l.total, Relay: relay, Op: opGet, Err: err}
	}
	if _, err := d.dst.WriteAt(chunk, i*attach.ChunkSize); err != nil {
		return fmt.Errorf("transfer: write chunk %d: %w", i, err)
	}
	d.verified.Add(1)
	return nil
}
