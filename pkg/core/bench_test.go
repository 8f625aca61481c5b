// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

package core

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// BenchmarkEndToEndText measures one text from SendText to the
// recipient's EventReceived, both clients in this process, every request
// through 3-hop onion paths over loopback gRPC with TLS to real relays
// (bbolt stores, fsync per commit). The recipient is already
// long-polling, as a running client is.
func BenchmarkEndToEndText(b *testing.B) {
	tn := startNet(b)
	alice := tn.newUser(b, "alice", nil)
	bob := tn.newUser(b, "bob", nil)
	ab, _ := connect(b, alice, bob)
	ctx := context.Background()
	var lat []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		id, err := alice.c.SendText(ctx, ab.ID, "benchmark")
		if err != nil {
			b.Fatal(err)
		}
		bob.await(b, "the text", 20*time.Second, func(e Event) bool { return e.Kind == EventReceived && e.Message.ID == id })
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkColdStart measures opening a profile on the keychain path:
// the store key read from the keychain, the SQLCipher store opened and
// migrated, the network file read, a client ready to send. The keychain
// here is in memory; BenchmarkKeychainGet (make test-keychain) gives the
// real Secret Service's share.
func BenchmarkColdStart(b *testing.B) {
	tn := startNet(b)
	dir := filepath.Join(b.TempDir(), "alice")
	c, _, err := InitProfile(context.Background(), tn.opts(dir, nil), "alice")
	if err != nil {
		b.Fatal(err)
	}
	c.Close()
	b.ResetTimer()
	for b.Loop() {
		c, _, err := OpenProfile(context.Background(), tn.opts(dir, nil))
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		c.Close()
		b.StartTimer()
	}
}

// BenchmarkAttachment64MiB measures a 64 MiB file from SendFile until the
// recipient holds it verified (EventAttachment): encrypted into the
// sender's profile, every chunk (and the padding) put through its own
// 3-hop path to the chunk stores of 3 relays, the message sent, every
// chunk fetched the same way and verified, both clients in this process
// and the 5 relays in a child process (so the heap measured is the
// clients'). It reports file bytes over that whole time, the peak live
// heap (as of each garbage collection) and the peak heap in use
// (garbage not yet collected included). Between files it waits, untimed,
// until the recipient has deleted the chunks from the relays, and reports
// that time apart.
func BenchmarkAttachment64MiB(b *testing.B) {
	const size = 64 << 20
	tn := startNetChild(b)
	alice, bob := tn.newUser(b, "alice", nil), tn.newUser(b, "bob", nil)
	ab, _ := connect(b, alice, bob)
	path := filepath.Join(b.TempDir(), "file.bin")
	writeNoiseFile(b, path, size)
	ctx := context.Background()
	var took, deleting time.Duration
	var peakLive, peakInuse uint64
	b.ResetTimer()
	for b.Loop() {
		stop := heapPeak()
		start := time.Now()
		id, err := alice.c.SendFile(ctx, ab.ID, path, "")
		if err != nil {
			b.Fatal(err)
		}
		bob.awaitDownload(b, id, 10*time.Minute)
		took += time.Since(start)
		live, inuse := stop()
		peakLive, peakInuse = max(peakLive, live), max(peakInuse, inuse)
		// Bob now deletes the chunks from the relays, one onion request
		// each. That is after he holds the file; wait for it outside the
		// measure, so the next file does not share the CPU with it.
		b.StopTimer()
		start = time.Now()
		waitFor(b, "the chunks deleted", 5*time.Minute, func() bool {
			bob.c.movingMu.Lock()
			defer bob.c.movingMu.Unlock()
			return len(bob.c.moving) == 0
		})
		deleting += time.Since(start)
		b.StartTimer()
	}
	b.StopTimer()
	b.SetBytes(size)
	b.ReportMetric(deleting.Seconds()/float64(b.N), "s-deleting-after/op")
	b.ReportMetric(float64(size)*float64(b.N)/took.Seconds()/1e6, "MB/s-end-to-end")
	b.ReportMetric(float64(peakLive)/(1<<20), "peak-live-heap-MiB")
	b.ReportMetric(float64(peakInuse)/(1<<20), "peak-heap-inuse-MiB")
}
