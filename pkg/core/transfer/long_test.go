// SPDX-License-Identifier: AGPL-3.0-or-later

package transfer

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/mailbox"
)

// chunkSource makes an attachment's ciphertext chunk by chunk from
// pattern(), holding none of it: Upload's source and the relays' store
// of the flat-memory test.
type chunkSource struct {
	key  attach.Key
	size int64
}

func (c *chunkSource) chunk(i int64) []byte {
	off := i * attach.PlainChunkSize
	n := min(attach.PlainChunkSize, c.size-off)
	b, err := attach.EncryptChunk(c.key, c.size, i, pattern(off, n))
	if err != nil {
		panic(err)
	}
	return b
}

// ReadAt serves whole chunks at chunk boundaries, all Upload asks for.
func (c *chunkSource) ReadAt(p []byte, off int64) (int, error) {
	if len(p) != attach.ChunkSize || off%attach.ChunkSize != 0 {
		panic("chunkSource: not a whole chunk")
	}
	return copy(p, c.chunk(off/attach.ChunkSize)), nil
}

// peakHeap samples the heap in use every 2 ms until stop is called, and
// returns the highest value above the heap at the start.
func peakHeap() (stop func() uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base := m.HeapAlloc
	var peak atomic.Uint64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var m runtime.MemStats
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > base && m.HeapAlloc-base > peak.Load() {
					peak.Store(m.HeapAlloc - base)
				}
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		return peak.Load()
	}
}

// TestLongFlatMemory uploads and downloads 64 MiB through a fake network
// that keeps no chunk data (it makes each chunk again when asked), into a
// real file: the heap must stay far below the file's size.
func TestLongFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("long test: make test-long")
	}
	const size = 64 << 20
	const bound = 32 << 20
	src := &chunkSource{key: newKey(t), size: size}
	e, err := attach.NewEncryptor(src.key, size, &patternReader{size: size})
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, _, err := e.Next(); err != nil {
			break
		}
	}
	digest, err := e.Digest()
	if err != nil {
		t.Fatal(err)
	}
	relays := testRelays(t, 5)
	l, err := NewLayout(src.key, size, relays)
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeNet(relays...)
	f.discard = true
	index := map[mailbox.ChunkID]int64{}
	for i := range l.Total() {
		_, id, _ := l.Place(i)
		index[id] = i
	}
	padding := make([]byte, attach.ChunkSize)
	f.gen = func(id mailbox.ChunkID) []byte {
		if i := index[id]; i < l.Chunks() {
			return src.chunk(i)
		}
		return padding
	}

	// Garbage alone must not reach the bound: a memory limit makes the
	// collector run before it would, so what the samples see above the
	// bound would be memory in use.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(24 << 20))
	stop := peakHeap()
	if err := Upload(context.Background(), f, l, src, UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	up := stop()

	dst, err := os.Create(filepath.Join(t.TempDir(), "attachment"))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	stop = peakHeap()
	if err := Download(context.Background(), f, l, digest, dst, DownloadOptions{}); err != nil {
		t.Fatal(err)
	}
	down := stop()
	t.Logf("peak heap above the start: upload %.1f MiB, download %.1f MiB (%d chunks)", float64(up)/(1<<20), float64(down)/(1<<20), l.Total())
	if up > bound || down > bound {
		t.Errorf("peak heap %d B up, %d B down; want under %d", up, down, bound)
	}
	if fi, err := dst.Stat(); err != nil || fi.Size() != l.Chunks()*attach.ChunkSize {
		t.Errorf("file of %v bytes (%v), want %d", fi.Size(), err, l.Chunks()*attach.ChunkSize)
	}
}
