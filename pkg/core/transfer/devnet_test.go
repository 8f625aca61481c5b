// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build !js

package transfer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/peer"
	"github.com/hushchat/hush/pkg/onion/relaynet"
	"github.com/hushchat/hush/services/relay/devnet"
)

// devnetWorld is a loopback network of 5 real relays (bbolt stores,
// mailbox exits, TLS and gRPC between them) and a client's relaynet.Net
// over it, every request on a 3-hop path.
type devnetWorld struct {
	dn     *devnet.Network
	net    *relaynet.Net
	asker  Asker // net, or net behind a delay
	relays []onion.RelayID
}

func startDevnet(tb testing.TB) *devnetWorld {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dn, err := devnet.Start(ctx, devnet.Options{Relays: devnet.DefaultRelays, Dir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := dn.Shutdown(ctx); err != nil {
			tb.Errorf("shut the devnet down: %v", err)
		}
	})
	pool := peer.NewPool()
	tb.Cleanup(func() { pool.Close() })
	n, err := relaynet.New(relaynet.Config{Network: dn.File, Transport: pool, Classify: peer.FailCode})
	if err != nil {
		tb.Fatal(err)
	}
	if err := n.Refresh(ctx); err != nil {
		tb.Fatal(err)
	}
	w := &devnetWorld{dn: dn, net: n, asker: n}
	for _, r := range dn.Relays {
		w.relays = append(w.relays, r.ID())
	}
	return w
}

// countingAsker counts requests and the answers that were not OK.
type countingAsker struct {
	a        Asker
	requests atomic.Int64
	failures atomic.Int64 // Ask errors and statuses other than OK
}

func (c *countingAsker) Ask(ctx context.Context, exit onion.RelayID, req []byte) ([]byte, error) {
	c.requests.Add(1)
	resp, err := c.a.Ask(ctx, exit, req)
	if err != nil {
		c.failures.Add(1)
	} else if r, perr := mailbox.ParseResponse(resp); perr != nil || r.Status != mailbox.StatusOK {
		c.failures.Add(1)
	}
	return resp, err
}

func tempFile(tb testing.TB) *os.File {
	f, err := os.Create(filepath.Join(tb.TempDir(), "attachment"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}

// TestDevnetTransfer sends a 3 MiB attachment over real relays: upload,
// download into a file, read back, delete; then the chunks are gone.
func TestDevnetTransfer(t *testing.T) {
	w := startDevnet(t)
	s := seal(t, 3<<20+777)
	l, err := NewLayout(s.key, s.size, w.relays)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	a := &countingAsker{a: w.net}
	if err := Upload(ctx, a, l, bytes.NewReader(s.cipher), UploadOptions{}); err != nil {
		t.Fatal(err)
	}
	dst := tempFile(t)
	if err := Download(ctx, a, l, s.digest, dst, DownloadOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(io.NewSectionReader(dst, 0, 1<<30))
	if err != nil || !bytes.Equal(got, s.cipher) {
		t.Fatalf("the downloaded file is not the ciphertext (%d bytes, %v)", len(got), err)
	}
	r, err := Open(s.key, s.size, s.digest, dst)
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := io.ReadAll(r); err != nil || !bytes.Equal(plain, pattern(0, s.size)) {
		t.Fatalf("Open: %d bytes, %v", len(plain), err)
	}
	if n, err := Delete(ctx, a, l, 0); n != l.Total() || err != nil {
		t.Fatalf("Delete = %d, %v; want %d", n, err, l.Total())
	}
	if want := 3 * l.Total(); a.requests.Load() != want || a.failures.Load() != 0 {
		t.Errorf("%d requests, %d failed; want %d, none failed", a.requests.Load(), a.failures.Load(), want)
	}
	// The relays no longer have the chunks.
	fastRetries(t)
	err = Download(ctx, a, l, s.digest, tempFile(t), DownloadOptions{})
	var ce *ChunkError
	if !errors.Is(err, mailbox.StatusNoChunk) || !errors.As(err, &ce) || ce.Op != opGet || Temporary(err) {
		t.Errorf("download after Delete: %v, want a chunk not found", err)
	}
}

// BenchmarkTransfer uploads and downloads an attachment over a loopback
// devnet of 5 relays, all in this process, every request on a 3-hop
// path: MB/s is size / (upload + download time); up-MB/s and down-MB/s
// each way. Deleting the chunks after each round is not timed.
//
// HUSH_BENCH_MIB sets the size (default 16). HUSH_BENCH_RTT (a
// duration) delays every request by that much before it is sent, as a
// path across the Internet would: loopback has next to no latency, so
// without it the relays' CPU is all that is measured.
func BenchmarkTransfer(b *testing.B) {
	size := int64(benchEnv(b, "HUSH_BENCH_MIB", 16)) << 20
	rtt := time.Duration(benchEnv(b, "HUSH_BENCH_RTT", 0))
	w := startDevnet(b)
	if rtt > 0 {
		w.asker = &slowAsker{a: w.net, delay: rtt}
	}
	// One untimed round first: connections, guards, relay stores warm.
	benchRound(b, w, 2<<20, DefaultParallel)
	for _, parallel := range []int{8, 16, 32, 64} {
		b.Run(fmt.Sprintf("%dMiB/rtt=%v/parallel=%d", size>>20, rtt, parallel), func(b *testing.B) {
			benchTransfer(b, w, size, parallel)
		})
	}
}

// benchEnv reads an integer or a duration from the environment.
func benchEnv(b *testing.B, name string, def int64) int64 {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	if d, err := time.ParseDuration(s); err == nil {
		return int64(d)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		b.Fatalf("%s=%q: %v", name, s, err)
	}
	return n
}

// slowAsker waits delay before each request.
type slowAsker struct {
	a     Asker
	delay time.Duration
}

func (s *slowAsker) Ask(ctx context.Context, exit onion.RelayID, req []byte) ([]byte, error) {
	if err := sleep(ctx, s.delay); err != nil {
		return nil, err
	}
	return s.a.Ask(ctx, exit, req)
}

func benchTransfer(b *testing.B, w *devnetWorld, size int64, parallel int) {
	var up, down, cpu time.Duration
	var failed int64
	b.SetBytes(size)
	for b.Loop() {
		r := benchRound(b, w, size, parallel)
		up, down, cpu, failed = up+r.up, down+r.down, cpu+r.cpu, failed+r.failed
	}
	mb := float64(size) * float64(b.N) / 1e6
	b.ReportMetric(mb/up.Seconds(), "up-MB/s")
	b.ReportMetric(mb/down.Seconds(), "down-MB/s")
	// CPU time of the whole process (client and relays) per MB moved up
	// and down: unlike the rates, it hardly depends on what else the
	// machine runs. 2 cores can move at most 2000 / cpu-ms/MB MB/s.
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Milliseconds())/mb, "cpu-ms/MB")
	}
	b.ReportMetric(float64(failed)/float64(b.N), "failed-req/op")
}

// round is what one benchRound measured.
type round struct {
	up, down, cpu time.Duration
	failed        int64
}

// benchRound uploads and downloads a new attachment of size bytes, and
// deletes it with the timer stopped. It returns the time each way, the
// process's CPU time for both, and the requests that failed.
func benchRound(b *testing.B, w *devnetWorld, size int64, parallel int) round {
	b.StopTimer()
	ctx := context.Background()
	a := &countingAsker{a: w.asker}
	s := seal(b, size) // a fresh key: new chunk IDs, as a new attachment has
	l, err := NewLayout(s.key, size, w.relays)
	if err != nil {
		b.Fatal(err)
	}
	dst := tempFile(b)
	b.StartTimer()

	cpu, start := processCPU(), time.Now()
	if err := Upload(ctx, a, l, bytes.NewReader(s.cipher), UploadOptions{Parallel: parallel}); err != nil {
		b.Fatal(err)
	}
	mid := time.Now()
	if err := Download(ctx, a, l, s.digest, dst, DownloadOptions{Parallel: parallel}); err != nil {
		b.Fatal(err)
	}
	r := round{up: mid.Sub(start), down: time.Since(mid), cpu: processCPU() - cpu}

	b.StopTimer()
	if n, err := Delete(ctx, a, l, parallel); err != nil || n != l.Total() {
		b.Fatalf("Delete = %d, %v", n, err)
	}
	b.StartTimer()
	r.failed = a.failures.Load()
	return r
}
