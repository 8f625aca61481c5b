// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/directory"
	"github.com/hushchat/hush/pkg/onion/peer"
	"github.com/hushchat/hush/services/relay/backend"
	"github.com/hushchat/hush/services/relay/devnet"
	"github.com/hushchat/hush/services/relay/internal/store"
	"github.com/hushchat/hush/services/relay/internal/store/boltstore"
)

// BenchmarkRoundTrip3Hop is one owner fetch with zero wait on an empty
// queue, through 3 relays on loopback gRPC with TLS, with the real
// backend: the request is signed and wrapped, forwarded entry → middle →
// exit, answered by the exit over its bbolt store (which records the
// fetch's counter durably: one commit and fsync per fetch), and the
// response is unwrapped and parsed. It reports p50 and p99 latency.
func BenchmarkRoundTrip3Hop(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	net, err := devnet.Start(ctx, devnet.Options{Relays: 3, Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	pool := peer.NewPool()
	defer func() {
		pool.Close()
		if err := net.Shutdown(context.Background()); err != nil {
			b.Error(err)
		}
	}()
	hops := benchPath(b, pool, net)
	entry := net.Relays[0]
	q, err := mailbox.NewQueue(hops[2].ID, false)
	if err != nil {
		b.Fatal(err)
	}
	roundTrip := func(request []byte) *mailbox.Response {
		packet, opener, err := onion.Wrap(hops, request)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := pool.Forward(ctx, entry.ID(), entry.Addr(), packet)
		if err != nil {
			b.Fatal(err)
		}
		reply, err := opener.Open(resp)
		if err != nil {
			b.Fatal(err)
		}
		r, err := mailbox.ParseResponse(reply)
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	// Create the queue; this also warms the connections up.
	if r := roundTrip(must(q.CreateRequest())); r.Status != mailbox.StatusOK {
		b.Fatalf("create: %v", r.Status)
	}
	var durations []time.Duration
	b.SetBytes(onion.PacketSize)
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		fetch, err := q.FetchRequest(0, 2)
		if err != nil {
			b.Fatal(err)
		}
		if r := roundTrip(fetch); r.Status != mailbox.StatusOK || len(r.Envelopes) != 0 {
			b.Fatalf("fetch: %v, %d envelopes", r.Status, len(r.Envelopes))
		}
		durations = append(durations, time.Since(start))
	}
	p50, p99 := percentile(durations, 0.50), percentile(durations, 0.99)
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
}

// benchPath is [relay 0, relay 1, relay 2] of the network, with the keys
// of their descriptors as relay 0 serves them.
func benchPath(b *testing.B, pool *peer.Pool, net *devnet.Network) []onion.Hop {
	b.Helper()
	doc, err := pool.Directory(context.Background(), net.Relays[0].ID(), net.Relays[0].Addr())
	if err != nil {
		b.Fatal(err)
	}
	dir, err := directory.ParseDirectory(doc, net.File, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	hops := make([]onion.Hop, len(net.Relays))
	for i, r := range net.Relays {
		d, ok := dir.Lookup(r.ID())
		if !ok {
			b.Fatalf("relay %d is not in the directory", i)
		}
		if hops[i], err = d.HopAt(time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	return hops
}

// percentile returns the p-quantile (nearest rank) of ds; it sorts ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[int(p*float64(len(ds)-1)+0.5)]
}

// childTimeout bounds a child relay's start and every wait on it.
const childTimeout = 60 * time.Second

// buildRelayBinary builds hush-relay into a fresh temporary directory.
func buildRelayBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hush-relay")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// lockedBuffer is a bytes.Buffer the child's output goroutine writes
// while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var servingLine = regexp.MustCompile(`relay \S+ serving gRPC on (\S+)\n`)

// childRelay is `hush-relay run` in a child process.
type childRelay struct {
	cmd            *exec.Cmd
	addr           string
	ready          time.Duration // from start to serving
	stdout, stderr *lockedBuffer
	exited         chan struct{}
	err            error // cmd.Wait's, once exited is closed
}

// startChild runs `bin run --dir dir` and waits until it prints the
// address it serves gRPC on.
func startChild(t *testing.T, bin, dir string) *childRelay {
	t.Helper()
	c := &childRelay{cmd: exec.Command(bin, "run", "--dir", dir), stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	c.cmd.Stdout, c.cmd.Stderr = c.stdout, c.stderr
	start := time.Now()
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		<-c.exited
	})
	deadline := time.Now().Add(childTimeout)
	for {
		if m := servingLine.FindStringSubmatch(c.stdout.String()); m != nil {
			c.addr, c.ready = m[1], time.Since(start)
			return c
		}
		select {
		case <-c.exited:
			t.Fatalf("hush-relay run exited before serving: %v\n%s", c.err, c.stderr)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("hush-relay run did not print its address within %v\n%s", childTimeout, c.stderr)
		}
	}
}

// kill sends SIGKILL and checks the child died of it.
func (c *childRelay) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.exited:
	case <-time.After(childTimeout):
		t.Fatal("the killed relay did not exit")
	}
	ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, not SIGKILL", c.err)
	}
}

const (
	// rssQueues is how many queues the loaded relay's store holds.
	rssQueues = 100_000
	// rssCreators create them concurrently, so commits carry many.
	rssCreators = 256
	// rssSettle is how long the relay idles before its RSS is read:
	// a measurement period, not a wait for some state.
	rssSettle = time.Second
	// rssGoal is the idle RSS goal with an empty store (issue 5).
	rssGoal = 40 << 20
)

// TestLongRelayRSS reports the hush-relay binary's idle resident set
// size after start, with an empty store and with rssQueues queues, and
// checks the empty-store goal.
func TestLongRelayRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("long test: builds the binary and fills a store")
	}
	bin := buildRelayBinary(t)

	empty := loopbackDir(t)
	rss, ready := idleRSS(t, bin, empty)
	t.Logf("idle RSS after start, empty store: %v; serving after %v", rss, ready.Round(time.Millisecond))
	if rss.Total > rssGoal {
		t.Errorf("idle RSS with an empty store is %v, over the %d MiB goal", rss, rssGoal>>20)
	}

	loaded := loopbackDir(t)
	start := time.Now()
	fillQueues(t, filepath.Join(loaded, backend.StoreFileName), rssQueues)
	st, err := os.Stat(filepath.Join(loaded, backend.StoreFileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("created %d queues in %v; store file %.1f MiB", rssQueues, time.Since(start).Round(time.Millisecond), float64(st.Size())/(1<<20))
	rss, ready = idleRSS(t, bin, loaded)
	t.Logf("idle RSS after start, %d queues: %v; serving after %v", rssQueues, rss, ready.Round(time.Millisecond))
}

// rssFigures is a process's resident set in bytes: in all, anonymous
// (heap, stacks), and file-backed (the binary, bbolt's mmap of the store:
// page cache the kernel can reclaim).
type rssFigures struct{ Total, Anon, File int64 }

func (r rssFigures) String() string {
	mib := func(n int64) float64 { return float64(n) / (1 << 20) }
	return fmt.Sprintf("%.1f MiB (anonymous %.1f MiB, file-backed %.1f MiB)", mib(r.Total), mib(r.Anon), mib(r.File))
}

var rssLine = regexp.MustCompile(`(?m)^(VmRSS|RssAnon|RssFile):\s+(\d+) kB$`)

// readRSS reads pid's resident set from /proc.
func readRSS(t *testing.T, pid int) rssFigures {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skip("no /proc")
	}
	var r rssFigures
	fields := map[string]*int64{"VmRSS": &r.Total, "RssAnon": &r.Anon, "RssFile": &r.File}
	for _, m := range rssLine.FindAllSubmatch(data, -1) {
		kb, _ := strconv.ParseInt(string(m[2]), 10, 64)
		*fields[string(m[1])] = kb << 10
	}
	if r.Total == 0 {
		t.Fatalf("no VmRSS in /proc/%d/status", pid)
	}
	return r
}

// idleRSS runs the relay of dir, lets it idle for rssSettle, reads its
// RSS and stops it with SIGTERM. It returns the RSS and how long the
// relay took to start serving.
func idleRSS(t *testing.T, bin, dir string) (rssFigures, time.Duration) {
	t.Helper()
	c := startChild(t, bin, dir)
	time.Sleep(rssSettle)
	rss := readRSS(t, c.cmd.Process.Pid)
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.exited:
	case <-time.After(childTimeout):
		t.Fatal("the relay did not stop on SIGTERM")
	}
	if c.err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", c.err, c.stderr)
	}
	return rss, c.ready
}

// fillQueues opens the store at path as the relay would and creates n
// queues with rssCreators goroutines.
func fillQueues(t *testing.T, path string, n int) {
	t.Helper()
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	ctx := context.Background()
	errs := make(chan error, rssCreators)
	var wg sync.WaitGroup
	for w := range rssCreators {
		wg.Go(func() {
			for i := w; i < n; i += rssCreators {
				q, err := randomQueue()
				if err == nil {
					err = s.CreateQueue(ctx, q, time.Now())
				}
				if err != nil {
					errs <- fmt.Errorf("queue %d: %w", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func randomQueue() (store.NewQueue, error) {
	var q store.NewQueue
	rand.Read(q.Recipient[:])
	rand.Read(q.Sender[:])
	pub, _, err := ed25519.GenerateKey(nil)
	q.AuthKey = pub
	return q, err
}
