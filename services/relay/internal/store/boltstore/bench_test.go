// SPDX-License-Identifier: AGPL-3.0-or-later

package boltstore

import (
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hushchat/hush/services/relay/internal/store"
)

// benchEnvelope is the benchmark envelope: 1 KiB.
const benchEnvelope = 1 << 10

var benchLimits = store.Limits{MaxQueueEnvelopes: 1 << 40, MaxQueueBytes: 1 << 50, MaxBytes: 1 << 50}

func openBench(b *testing.B, commits *atomic.Int64) *Store {
	s, err := Open(filepath.Join(b.TempDir(), "relay.db"), Options{Limits: benchLimits, EnvelopeSize: benchEnvelope,
		OnCommit: func(int, time.Duration, error) { commits.Add(1) }})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkDurableSend: 64 goroutines send 1 KiB envelopes, each
// acknowledged only after its commit.
func BenchmarkDurableSend(b *testing.B) {
	var commits atomic.Int64
	s := openBench(b, &commits)
	queues := make([]store.NewQueue, 64)
	for i := range queues {
		queues[i] = mkQueue(b, s, false)
	}
	env := make([]byte, benchEnvelope)
	var next atomic.Int64
	b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.SetBytes(benchEnvelope)
	b.ReportAllocs()
	b.ResetTimer()
	commits.Store(0)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		q := queues[next.Add(1)%int64(len(queues))]
		for pb.Next() {
			if _, err := s.Send(ctx, q.Sender, randMsg(), env, time.Now()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "sends/s")
	b.ReportMetric(float64(b.N)/float64(max(commits.Load(), 1)), "sends/commit")
}

// BenchmarkFsyncEach is the baseline: append 1 KiB and fsync, per record,
// on the same file system.
func BenchmarkFsyncEach(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "log"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rec := make([]byte, benchEnvelope)
	b.SetBytes(benchEnvelope)
	b.ReportAllocs()
	start := time.Now()
	n := 0
	for b.Loop() {
		if _, err := f.Write(rec); err != nil {
			b.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "fsyncs/s")
}

// BenchmarkSendLone is one sender's latency: each send is its own commit.
func BenchmarkSendLone(b *testing.B) {
	var commits atomic.Int64
	s := openBench(b, &commits)
	q := mkQueue(b, s, false)
	env := make([]byte, benchEnvelope)
	b.SetBytes(benchEnvelope)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Send(ctx, q.Sender, randMsg(), env, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreate100kQueues opens a new store and creates 100,000 queues
// from 64 goroutines; it reports the file's size.
func BenchmarkCreate100kQueues(b *testing.B) {
	const n, workers = 100_000, 64
	var size int64
	for b.Loop() {
		path := filepath.Join(b.TempDir(), "relay.db")
		s, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for range n / workers {
					mkQueue(b, s, false)
				}
			})
		}
		wg.Wait()
		st, err := s.Stats(ctx)
		if err != nil || st.Queues != n/workers*workers {
			b.Fatalf("stats %+v, %v", st, err)
		}
		s.Close()
		fi, _ := os.Stat(path)
		size = fi.Size()
	}
	b.ReportMetric(float64(size)/(1<<20), "MiB-file")
}
