// SPDX-License-Identifier: AGPL-3.0-or-later

package transfer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/internal/secret"
	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/relaynet"
)

const cs = attach.ChunkSize

// world is one test attachment, its layout over relays, and a fake
// network of those relays.
type world struct {
	s      *sealed
	l      *Layout
	f      *fakeNet
	relays []onion.RelayID
}

func newWorld(t *testing.T, size int64, relays int) *world {
	t.Helper()
	fastRetries(t)
	w := &world{s: seal(t, size), relays: testRelays(t, relays)}
	var err error
	if w.l, err = NewLayout(w.s.key, size, w.relays); err != nil {
		t.Fatal(err)
	}
	w.f = newFakeNet(w.relays...)
	return w
}

func (w *world) upload(t *testing.T, opts UploadOptions) error {
	t.Helper()
	return Upload(context.Background(), w.f, w.l, bytes.NewReader(w.s.cipher), opts)
}

func (w *world) mustUpload(t *testing.T) {
	t.Helper()
	if err := w.upload(t, UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	w.f.resetCounts()
}

func (w *world) download(dst File, opts DownloadOptions) error {
	return Download(context.Background(), w.f, w.l, w.s.digest, dst, opts)
}

// id returns chunk i's relay and ID.
func (w *world) id(i int64) (onion.RelayID, mailbox.ChunkID) {
	r, id, _ := w.l.Place(i)
	return r, id
}

// failChunk makes every request about chunk i answer with err (a Status
// as the relay's answer, anything else as Ask's error), and counts them.
func (w *world) failChunk(i int64, err error) *atomic.Int64 {
	_, id := w.id(i)
	var n atomic.Int64
	w.f.setHook(func(_ context.Context, _ onion.RelayID, _ string, req *mailbox.Request) ([]byte, error, bool) {
		if chunkOf(req) != id {
			return nil, nil, false
		}
		n.Add(1)
		if s, ok := err.(mailbox.Status); ok {
			return encode(s), nil, true
		}
		return nil, err, true
	})
	return &n
}

func wantChunkError(t *testing.T, err error, w *world, index int64, op string, cause error, temporary bool) {
	t.Helper()
	var ce *ChunkError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a *ChunkError", err)
	}
	relay, _ := w.id(index)
	if ce.Index != index || ce.Total != w.l.Total() || ce.Relay != relay || ce.Op != op {
		t.Errorf("ChunkError{%d of %d, %s, %s}, want {%d of %d, %s, %s}", ce.Index, ce.Total, ce.Relay, ce.Op, index, w.l.Total(), relay, op)
	}
	if !errors.Is(err, cause) {
		t.Errorf("err = %v, want it to wrap %v", err, cause)
	}
	if Temporary(err) != temporary {
		t.Errorf("Temporary(%v) = %v, want %v", err, !temporary, temporary)
	}
	if want := fmt.Sprintf("transfer: chunk %d of %d (", index, w.l.Total()); !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %q, want it to start %q", err, want)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, size := range []int64{0, 1, attach.PlainChunkSize, attach.PlainChunkSize + 1, 3<<20 + 12345} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			w := newWorld(t, size, 3)
			var done, total int64
			if err := w.upload(t, UploadOptions{Parallel: 4, Progress: func(d, tt int64) { done, total = d, tt }}); err != nil {
				t.Fatal(err)
			}
			if done != w.l.Total() || total != w.l.Total() {
				t.Errorf("last upload progress %d of %d, want %d of %d", done, total, w.l.Total(), w.l.Total())
			}
			if p := w.f.count(opPut); p != int(w.l.Total()) {
				t.Errorf("%d puts, want %d", p, w.l.Total())
			}
			checkStored(t, w)

			dst := &memFile{}
			var got int64 = -1
			if err := w.download(dst, DownloadOptions{Parallel: 4, Progress: func(d, tt int64) {
				if tt != size {
					t.Errorf("download progress total %d, want %d", tt, size)
				}
				got = d
			}}); err != nil {
				t.Fatal(err)
			}
			if got != size {
				t.Errorf("last download progress %d, want %d", got, size)
			}
			if !bytes.Equal(dst.bytes(), w.s.cipher) {
				t.Fatal("the downloaded file is not the ciphertext")
			}
			if g := w.f.count(opGet); g != int(w.l.Total()) || dst.writes != int(w.l.Chunks()) {
				t.Errorf("%d gets and %d writes, want %d and %d", g, dst.writes, w.l.Total(), w.l.Chunks())
			}
			checkOpen(t, w, dst)

			n, err := Delete(context.Background(), w.f, w.l, 4)
			if n != w.l.Total() || err != nil {
				t.Fatalf("Delete = %d, %v; want %d, nil", n, err, w.l.Total())
			}
			for r, c := range w.f.held() {
				if c != 0 {
					t.Errorf("relay %s still holds %d chunks", r, c)
				}
			}
			// Again: every chunk is already gone, which is what it is for.
			if n, err := Delete(context.Background(), w.f, w.l, 0); n != w.l.Total() || err != nil {
				t.Errorf("second Delete = %d, %v; want %d, nil", n, err, w.l.Total())
			}
		})
	}
}

// checkStored checks every relay holds exactly its chunks: the
// ciphertext's, or random padding, under the token's hash and the TTL.
func checkStored(t *testing.T, w *world) {
	t.Helper()
	want := map[onion.RelayID]int{}
	for i := range w.l.Total() {
		relay, id, token := w.l.Place(i)
		want[relay]++
		c, ok := w.f.chunk(relay, id)
		if !ok {
			t.Fatalf("chunk %d is not on %s", i, relay)
		}
		if c.tokenHash != sha256.Sum256(token.Bytes()) || c.ttl != DefaultTTL {
			t.Errorf("chunk %d: token hash or TTL (%v) wrong", i, c.ttl)
		}
		switch {
		case i < w.l.Chunks() && !bytes.Equal(c.data, w.s.cipher[i*cs:(i+1)*cs]):
			t.Errorf("chunk %d is not the ciphertext's", i)
		case i >= w.l.Chunks() && (len(c.data) != cs || secret.IsZero(c.data[:64])):
			t.Errorf("padding chunk %d is not random", i)
		}
	}
	for r, n := range w.f.held() {
		if n != want[r] {
			t.Errorf("relay %s holds %d chunks, want %d", r, n, want[r])
		}
	}
}

func checkOpen(t *testing.T, w *world, src io.ReaderAt) {
	t.Helper()
	r, err := Open(w.s.key, w.s.size, w.s.digest, src)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(plain, pattern(0, w.s.size)) {
		t.Fatal("Open does not give the plaintext back")
	}
}

// TestUploadResume stops an upload at a refused chunk, then resumes it
// from the last stored prefix: only the chunks from there are put again.
func TestUploadResume(t *testing.T) {
	w := newWorld(t, 41*attach.PlainChunkSize, 3) // 41 chunks, 44 with padding
	attempts := w.failChunk(20, mailbox.StatusRelayFull)
	prefix := int64(-1)
	err := w.upload(t, UploadOptions{Parallel: 4, Stored: func(p int64) {
		if p < prefix {
			t.Errorf("stored prefix went back from %d to %d", prefix, p)
		}
		prefix = p
	}})
	wantChunkError(t, err, w, 20, opPut, mailbox.StatusRelayFull, false)
	if attempts.Load() != 1 {
		t.Errorf("a refusal was tried %d times, want once", attempts.Load())
	}
	if prefix < 0 || prefix > 20 {
		t.Fatalf("stored prefix %d, want 0..20", prefix)
	}
	for i := range prefix {
		if _, ok := w.f.chunk(w.id(i)); !ok {
			t.Fatalf("chunk %d is below the stored prefix %d but not stored", i, prefix)
		}
	}

	w.f.setHook(nil)
	w.f.resetCounts()
	var done int64
	if err := w.upload(t, UploadOptions{Start: prefix, Parallel: 4, Progress: func(d, _ int64) { done = d }}); err != nil {
		t.Fatal(err)
	}
	if p := w.f.count(opPut); p != int(w.l.Total()-prefix) {
		t.Errorf("resumed upload put %d chunks, want %d (from %d)", p, w.l.Total()-prefix, prefix)
	}
	if done != w.l.Total() {
		t.Errorf("last progress %d, want %d", done, w.l.Total())
	}
	checkStored(t, w)
}

// TestUploadLostAnswer: the relay stored chunk 5 but its answer was lost;
// the retry is told the chunk exists, which counts as stored.
func TestUploadLostAnswer(t *testing.T) {
	w := newWorld(t, 10*attach.PlainChunkSize, 2)
	_, id5 := w.id(5)
	var attempts, exists atomic.Int64
	w.f.setHook(func(_ context.Context, relay onion.RelayID, _ string, req *mailbox.Request) ([]byte, error, bool) {
		if chunkOf(req) != id5 {
			return nil, nil, false
		}
		resp, err := w.f.serve(relay, req)
		if attempts.Add(1) == 1 {
			return nil, errors.New("fake: the answer was lost"), true
		}
		if r, _ := mailbox.ParseResponse(resp); r != nil && r.Status == mailbox.StatusExists {
			exists.Add(1)
		}
		return resp, err, true
	})
	if err := w.upload(t, UploadOptions{Parallel: 3}); err != nil {
		t.Fatal(err)
	}
	if attempts.Load() != 2 || exists.Load() != 1 {
		t.Errorf("chunk 5 put %d times, %d told it exists; want 2 and 1", attempts.Load(), exists.Load())
	}
	if p := w.f.count(opPut); p != int(w.l.Total())+1 {
		t.Errorf("%d puts, want %d", p, w.l.Total()+1)
	}
	checkStored(t, w)
}

// TestUploadTransient: a relay asking to slow down twice is tried again.
func TestUploadTransient(t *testing.T) {
	w := newWorld(t, 5*attach.PlainChunkSize, 2)
	_, id3 := w.id(3)
	var limited atomic.Int64
	w.f.setHook(func(_ context.Context, _ onion.RelayID, _ string, req *mailbox.Request) ([]byte, error, bool) {
		if chunkOf(req) == id3 && limited.Add(1) <= 2 {
			return encode(mailbox.StatusRateLimited), nil, true
		}
		return nil, nil, false
	})
	if err := w.upload(t, UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	if limited.Load() != 3 {
		t.Errorf("chunk 3 was tried %d times, want 3", limited.Load())
	}
	checkStored(t, w)
}

// TestUploadRelayDown: a relay that stays down gives a temporary error
// after the retries, naming the chunk and the relay.
func TestUploadRelayDown(t *testing.T) {
	w := newWorld(t, 3*attach.PlainChunkSize, 3)
	down := fmt.Errorf("%w: relay-2 failed on 3 paths", relaynet.ErrExitUnreachable)
	attempts := w.failChunk(1, down)
	err := w.upload(t, UploadOptions{Parallel: 1})
	wantChunkError(t, err, w, 1, opPut, relaynet.ErrExitUnreachable, true)
	if attempts.Load() != int64(retry.attempts) {
		t.Errorf("chunk 1 was tried %d times, want %d", attempts.Load(), retry.attempts)
	}
	if p := w.f.count(opPut); p != 1 {
		t.Errorf("%d chunks put with one worker stopped at chunk 1, want 1", p)
	}
}

func TestUploadCancel(t *testing.T) {
	w := newWorld(t, 100*attach.PlainChunkSize, 3)
	ctx, cancel := context.WithCancel(context.Background())
	var asked atomic.Int64
	w.f.setHook(func(ctx context.Context, _ onion.RelayID, _ string, _ *mailbox.Request) ([]byte, error, bool) {
		if asked.Add(1) == 10 {
			cancel()
		}
		<-ctx.Done()
		return nil, ctx.Err(), true
	})
	start := time.Now()
	err := Upload(ctx, w.f, w.l, bytes.NewReader(w.s.cipher), UploadOptions{Parallel: 16})
	if !errors.Is(err, context.Canceled) || !Temporary(err) {
		t.Errorf("err = %v, want context.Canceled (temporary)", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Upload took %v to stop", d)
	}
	if n := asked.Load(); n > 16 {
		t.Errorf("%d requests after cancel, want at most 16 (one per worker)", n)
	}
}

func TestUploadRefusesBadInput(t *testing.T) {
	w := newWorld(t, 3*attach.PlainChunkSize, 1)
	for _, o := range []UploadOptions{{Start: -1}, {Start: w.l.Total() + 1}, {Parallel: -1}, {TTL: time.Millisecond}, {TTL: mailbox.MaxChunkTTL + time.Second}} {
		if err := w.upload(t, o); err == nil {
			t.Errorf("Upload(%+v) = nil", o)
		}
	}
	if p := w.f.count(opPut); p != 0 {
		t.Errorf("%d chunks put with bad options", p)
	}
	err := Upload(context.Background(), w.f, w.l, bytes.NewReader(w.s.cipher[:2*cs+5]), UploadOptions{Parallel: 1})
	if !errors.Is(err, ErrSource) || Temporary(err) {
		t.Errorf("short source: err = %v, want ErrSource", err)
	}
	// Start = Total: nothing to do, and Stored says so.
	var stored int64
	if err := w.upload(t, UploadOptions{Start: w.l.Total(), Stored: func(p int64) { stored = p }}); err != nil || stored != w.l.Total() {
		t.Errorf("Upload from Total = %v, stored %d", err, stored)
	}
}

// TestDownloadResume interrupts a download after k chunks were served;
// the next Download keeps the verified prefix and fetches exactly the
// rest and the padding.
func TestDownloadResume(t *testing.T) {
	w := newWorld(t, 61*attach.PlainChunkSize, 3) // 61 chunks, 64 with padding
	w.mustUpload(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const k = 30
	var gets atomic.Int64
	w.f.setHook(func(ctx context.Context, _ onion.RelayID, op string, _ *mailbox.Request) ([]byte, error, bool) {
		if op == opGet && gets.Add(1) > k {
			cancel()
			return nil, context.Canceled, true
		}
		return nil, nil, false
	})
	dst := &memFile{}
	err := Download(ctx, w.f, w.l, w.s.digest, dst, DownloadOptions{Parallel: 4, Window: 8})
	if !errors.Is(err, context.Canceled) || !Temporary(err) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	v := dst.len() / cs
	if dst.len()%cs != 0 || v < 1 || v > k || !bytes.Equal(dst.bytes(), w.s.cipher[:v*cs]) {
		t.Fatalf("interrupted download left %d bytes, want a verified prefix of 1 to %d chunks", dst.len(), k)
	}

	w.f.setHook(nil)
	w.f.resetCounts()
	var first int64 = -1
	if err := w.download(dst, DownloadOptions{Parallel: 4, Progress: func(d, _ int64) {
		if first < 0 {
			first = d
		}
	}}); err != nil {
		t.Fatal(err)
	}
	if want := (w.l.Chunks() - v) + (w.l.Total() - w.l.Chunks()); int64(w.f.count(opGet)) != want {
		t.Errorf("resumed download fetched %d chunks, want %d: chunks %d..%d and %d padding",
			w.f.count(opGet), want, v, w.l.Chunks()-1, w.l.Total()-w.l.Chunks())
	}
	if !bytes.Equal(dst.bytes(), w.s.cipher) {
		t.Fatal("the resumed file is not the ciphertext")
	}
	if first < v*attach.PlainChunkSize {
		t.Errorf("first progress %d, want at least the %d bytes verified before", first, v*attach.PlainChunkSize)
	}
}

// TestDownloadResumeBadTail: a file whose tail does not verify (a chunk
// half written, garbage) is truncated to its verified prefix.
func TestDownloadResumeBadTail(t *testing.T) {
	w := newWorld(t, 12*attach.PlainChunkSize, 2)
	w.mustUpload(t)
	dst := &memFile{b: bytes.Clone(w.s.cipher[:5*cs+100])}
	dst.b[3*cs+7] ^= 1 // chunk 3 altered: 0..2 verify
	if err := w.download(dst, DownloadOptions{}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dst.bytes(), w.s.cipher) {
		t.Fatal("the file is not the ciphertext")
	}
	if want := int(w.l.Total() - 3); w.f.count(opGet) != want {
		t.Errorf("fetched %d chunks, want %d (from chunk 3)", w.f.count(opGet), want)
	}
}

// TestDownloadAltered: a chunk altered on its relay is named, and nothing
// is written from it on.
func TestDownloadAltered(t *testing.T) {
	w := newWorld(t, 20*attach.PlainChunkSize, 3)
	w.mustUpload(t)
	w.f.alter(w.id(13))
	dst := &memFile{}
	err := w.download(dst, DownloadOptions{Parallel: 4})
	wantChunkError(t, err, w, 13, opGet, attach.ErrChunkAuth, false)
	var ae *attach.ChunkError
	if !errors.As(err, &ae) || ae.Index != 13 {
		t.Errorf("err = %v, want attach's ChunkError for chunk 13 inside", err)
	}
	if !bytes.Equal(dst.bytes(), w.s.cipher[:13*cs]) {
		t.Errorf("the file holds %d bytes, want exactly the %d of chunks 0..12", dst.len(), 13*cs)
	}
}

func TestDownloadMissingChunk(t *testing.T) {
	w := newWorld(t, 20*attach.PlainChunkSize, 3)
	w.mustUpload(t)
	w.f.remove(w.id(4))
	dst := &memFile{}
	err := w.download(dst, DownloadOptions{Parallel: 4})
	wantChunkError(t, err, w, 4, opGet, mailbox.StatusNoChunk, false)
	if dst.len() > 4*cs || !bytes.Equal(dst.bytes(), w.s.cipher[:dst.len()]) {
		t.Errorf("the file holds %d bytes, want a verified prefix of at most 4 chunks", dst.len())
	}
}

// TestDownloadRelayDown: a relay down gives a temporary error; once it is
// back, Download goes on from the verified prefix.
func TestDownloadRelayDown(t *testing.T) {
	w := newWorld(t, 20*attach.PlainChunkSize, 3)
	w.mustUpload(t)
	relay2 := w.relays[2]
	w.f.setHook(func(_ context.Context, relay onion.RelayID, _ string, _ *mailbox.Request) ([]byte, error, bool) {
		if relay == relay2 {
			return nil, fmt.Errorf("%w: relay-3 failed on 3 paths", relaynet.ErrExitUnreachable), true
		}
		return nil, nil, false
	})
	dst := &memFile{}
	err := w.download(dst, DownloadOptions{Parallel: 1})
	wantChunkError(t, err, w, 2, opGet, relaynet.ErrExitUnreachable, true)
	if !bytes.Equal(dst.bytes(), w.s.cipher[:2*cs]) {
		t.Fatalf("the file holds %d bytes, want chunks 0 and 1", dst.len())
	}

	w.f.setHook(nil)
	w.f.resetCounts()
	if err := w.download(dst, DownloadOptions{Parallel: 4}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dst.bytes(), w.s.cipher) {
		t.Fatal("the file is not the ciphertext")
	}
	if want := int(w.l.Total() - 2); w.f.count(opGet) != want {
		t.Errorf("fetched %d chunks after the relay came back, want %d", w.f.count(opGet), want)
	}
}

func TestDownloadDigestMismatch(t *testing.T) {
	w := newWorld(t, 3*attach.PlainChunkSize, 2)
	w.mustUpload(t)
	w.s.digest[0] ^= 1
	err := w.download(&memFile{}, DownloadOptions{})
	if !errors.Is(err, attach.ErrDigest) || Temporary(err) {
		t.Errorf("err = %v, want attach.ErrDigest", err)
	}
}

// TestDownloadPaddingBestEffort: a padding chunk gone does not fail the
// download, but every padding chunk is asked for.
func TestDownloadPaddingBestEffort(t *testing.T) {
	w := newWorld(t, 2*attach.PlainChunkSize, 2) // 2 chunks, 8 with padding
	w.mustUpload(t)
	w.f.remove(w.id(6))
	dst := &memFile{}
	if err := w.download(dst, DownloadOptions{}); err != nil {
		t.Fatal(err)
	}
	if g := w.f.count(opGet); g != 8 {
		t.Errorf("%d chunks asked for, want 8", g)
	}
}

// TestDownloadWindow holds chunk 0 back: the workers fetch the next
// Window−1 chunks and then wait, holding no more.
func TestDownloadWindow(t *testing.T) {
	w := newWorld(t, 40*attach.PlainChunkSize, 3)
	w.mustUpload(t)
	_, id0 := w.id(0)
	release := make(chan struct{})
	w.f.setHook(func(_ context.Context, _ onion.RelayID, _ string, req *mailbox.Request) ([]byte, error, bool) {
		if chunkOf(req) == id0 {
			<-release
		}
		return nil, nil, false
	})
	dst := &memFile{}
	errc := make(chan error, 1)
	go func() { errc <- w.download(dst, DownloadOptions{Parallel: 4, Window: 6}) }()
	deadline := time.Now().Add(5 * time.Second)
	for w.f.count(opGet) < 5 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // would any more come?
	if g := w.f.count(opGet); g != 5 {
		t.Errorf("%d chunks fetched while chunk 0 is held back, want 5 (window 6)", g)
	}
	if dst.len() != 0 {
		t.Errorf("%d bytes written before chunk 0", dst.len())
	}
	close(release)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dst.bytes(), w.s.cipher) {
		t.Fatal("the file is not the ciphertext")
	}
}

func TestDownloadCancel(t *testing.T) {
	w := newWorld(t, 30*attach.PlainChunkSize, 3)
	w.mustUpload(t)
	ctx, cancel := context.WithCancel(context.Background())
	w.f.setHook(func(ctx context.Context, _ onion.RelayID, _ string, _ *mailbox.Request) ([]byte, error, bool) {
		cancel()
		<-ctx.Done()
		return nil, ctx.Err(), true
	})
	start := time.Now()
	err := Download(ctx, w.f, w.l, w.s.digest, &memFile{}, DownloadOptions{})
	if !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Errorf("err = %v after %v, want context.Canceled at once", err, time.Since(start))
	}
}

// TestDeleteBadToken: a chunk that cannot be deleted is skipped and
// reported; the others are deleted.
func TestDeleteBadToken(t *testing.T) {
	w := newWorld(t, 9*attach.PlainChunkSize, 3) // 9 chunks, 10 with padding
	w.mustUpload(t)
	w.failChunk(4, mailbox.StatusBadToken)
	n, err := Delete(context.Background(), w.f, w.l, 2)
	if n != w.l.Total()-1 {
		t.Errorf("Delete = %d, want %d", n, w.l.Total()-1)
	}
	wantChunkError(t, err, w, 4, opDelete, mailbox.StatusBadToken, false)
	held := 0
	for _, c := range w.f.held() {
		held += c
	}
	if held != 1 {
		t.Errorf("%d chunks left on the relays, want 1", held)
	}
}

func TestOpenRefuses(t *testing.T) {
	w := newWorld(t, 3*attach.PlainChunkSize+10, 1)
	tampered := bytes.Clone(w.s.cipher)
	tampered[2*cs+9] ^= 1
	r, err := Open(w.s.key, w.s.size, w.s.digest, bytes.NewReader(tampered))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if !errors.Is(err, attach.ErrChunkAuth) || len(got) != 2*attach.PlainChunkSize {
		t.Errorf("tampered chunk 2: read %d bytes, err = %v; want the 2 chunks before and ErrChunkAuth", len(got), err)
	}

	bad := w.s.digest
	bad[5] ^= 1
	r, _ = Open(w.s.key, w.s.size, bad, bytes.NewReader(w.s.cipher))
	got, err = io.ReadAll(r)
	if !errors.Is(err, attach.ErrDigest) || !bytes.Equal(got, pattern(0, w.s.size)) {
		t.Errorf("wrong digest: err = %v after %d bytes, want ErrDigest at the end", err, len(got))
	}

	r, _ = Open(w.s.key, w.s.size, w.s.digest, bytes.NewReader(w.s.cipher[:3*cs+1]))
	if _, err = io.ReadAll(r); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncated file: err = %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := Open(attach.Key{}, 1, w.s.digest, bytes.NewReader(nil)); !errors.Is(err, attach.ErrZeroKey) {
		t.Errorf("zero key: err = %v", err)
	}
}

// TestProgressCalls: callbacks never overlap, never go back, come at
// most every 100 ms (and once at the end), and end at the total.
func TestProgressCalls(t *testing.T) {
	w := newWorld(t, 200*attach.PlainChunkSize, 3)
	w.f.setHook(func(context.Context, onion.RelayID, string, *mailbox.Request) ([]byte, error, bool) {
		time.Sleep(2 * time.Millisecond)
		return nil, nil, false
	})
	type call struct {
		at   time.Time
		v, t int64
	}
	var (
		mu      sync.Mutex
		running atomic.Bool
		calls   = map[string][]call{}
	)
	record := func(name string) func(v, total int64) {
		return func(v, total int64) {
			if running.Swap(true) {
				t.Errorf("%s called while another callback runs", name)
			}
			mu.Lock()
			calls[name] = append(calls[name], call{time.Now(), v, total})
			mu.Unlock()
			time.Sleep(time.Millisecond)
			running.Store(false)
		}
	}
	start := time.Now()
	err := w.upload(t, UploadOptions{Parallel: 4, Progress: record("upload"), Stored: func(p int64) { record("stored")(p, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	upTime := time.Since(start)
	if err := w.download(&memFile{}, DownloadOptions{Parallel: 4, Progress: record("download")}); err != nil {
		t.Fatal(err)
	}
	ends := map[string]int64{"upload": w.l.Total(), "stored": w.l.Total(), "download": w.s.size}
	for name, list := range calls {
		for i, c := range list {
			if i > 0 && c.v < list[i-1].v {
				t.Errorf("%s went back from %d to %d", name, list[i-1].v, c.v)
			}
			if i > 0 && i < len(list)-1 && c.at.Sub(list[i-1].at) < progressEvery-10*time.Millisecond {
				t.Errorf("%s called %v after the previous call", name, c.at.Sub(list[i-1].at))
			}
		}
		if last := list[len(list)-1].v; last != ends[name] {
			t.Errorf("%s ended at %d, want %d", name, last, ends[name])
		}
	}
	if n := len(calls["upload"]); n < 2 || time.Duration(n-2)*progressEvery > upTime {
		t.Errorf("%d upload progress calls in %v", n, upTime)
	}
}
