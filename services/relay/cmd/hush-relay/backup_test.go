// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	stdnet "net"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion/directory"
	"github.com/hushchat/hush/pkg/onion/path"
	"github.com/hushchat/hush/pkg/onion/peer"
	"github.com/hushchat/hush/services/relay/devnet"
	"github.com/hushchat/hush/services/relay/internal/store"
	"github.com/hushchat/hush/services/relay/internal/store/boltstore"
)

// startAdminDevnet is startDevnet with admin listeners.
func startAdminDevnet(t *testing.T, n int) (*devnet.Network, *client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	net, err := devnet.Start(ctx, devnet.Options{Relays: n, Dir: t.TempDir(), Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	c := &client{pool: peer.NewPool(), sel: path.NewSelector(&path.MemGuards{}, path.Config{})}
	t.Cleanup(func() {
		c.pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := net.Shutdown(ctx); err != nil {
			t.Errorf("shut the devnet down: %v", err)
		}
	})
	c.nf = net.File
	doc, err := c.pool.Directory(ctx, net.Relays[0].ID(), net.Relays[0].Addr())
	if err != nil {
		t.Fatal(err)
	}
	if c.dir, err = directory.ParseDirectory(doc, c.nf, time.Now()); err != nil {
		t.Fatal(err)
	}
	return net, c
}

func listenLoopback(t *testing.T) stdnet.Listener {
	t.Helper()
	ln, err := stdnet.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// scrape returns the value of the sample whose line starts with series
// ("name" or "name{labels}") on the admin listener at addr, -1 if absent.
func scrape(t *testing.T, addr, series string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestBackupWhileSending backs up a running relay with `hush-relay backup`
// while clients send through onion paths: the copy opens, and holds every
// envelope acknowledged before the backup began. The relay's metrics count
// the requests and the store's contents.
func TestBackupWhileSending(t *testing.T) {
	net, c := startAdminDevnet(t, 3)
	host := net.Relays[2]
	q, err := mailbox.NewQueue(host.ID(), false)
	if err != nil {
		t.Fatal(err)
	}
	want(t, "create", c.ask(t, host.ID(), must(q.CreateRequest())), mailbox.StatusOK)
	env := bytes.Repeat([]byte{0x42}, mailbox.EnvelopeSize)
	var acked []mailbox.MessageID
	for i := range 10 {
		m := mailbox.MessageID{byte(i), 1}
		want(t, "send", c.ask(t, host.ID(), must(mailbox.SendRequest(q.Sender, m, env))), mailbox.StatusOK)
		acked = append(acked, m)
	}
	want(t, "duplicate send", c.ask(t, host.ID(), must(mailbox.SendRequest(q.Sender, acked[0], env))), mailbox.StatusOK)
	nobody, err := mailbox.NewSenderID(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	want(t, "send to no queue", c.ask(t, host.ID(), must(mailbox.SendRequest(nobody, acked[0], env))), mailbox.StatusNoQueue)

	admin := host.AdminAddr()
	for series, wantV := range map[string]float64{
		`hush_relay_mailbox_requests_total{op="create",status="ok"}`:     1,
		`hush_relay_mailbox_requests_total{op="send",status="ok"}`:       11,
		`hush_relay_mailbox_requests_total{op="send",status="no_queue"}`: 1,
		`hush_relay_store_queues`:                                        1,
		`hush_relay_store_envelopes`:                                     10,
		`hush_relay_store_bytes`:                                         10 * mailbox.EnvelopeSize,
		`hush_relay_store_max_bytes`:                                     store.DefaultMaxBytes,
		`hush_relay_store_stats_up`:                                      1,
	} {
		if got := scrape(t, admin, series); got != wantV {
			t.Errorf("%s = %v, want %v", series, got, wantV)
		}
	}
	// create, 10 sends (the duplicate and the refusal write nothing but
	// still commit) and the key ring's saves: at least 11 commits.
	if got := scrape(t, admin, "hush_relay_store_commit_seconds_count"); got < 11 {
		t.Errorf("commit_seconds_count = %v, want at least 11", got)
	}
	if got := scrape(t, admin, "hush_relay_store_file_bytes"); got < 10*mailbox.EnvelopeSize {
		t.Errorf("file_bytes = %v, under what the store holds", got)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				m := mailbox.MessageID{byte(i), byte(i >> 8), 2, byte(g)}
				c.ask(t, host.ID(), must(mailbox.SendRequest(q.Sender, m, env)))
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	out := filepath.Join(t.TempDir(), "copy.db")
	code, stdout, stderr := runCmd(t, "backup", "--admin", admin, "--out", out)
	close(stop)
	wg.Wait()
	if code != 0 {
		t.Fatalf("backup: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "1 queues") {
		t.Errorf("backup output %q does not report the one queue", stdout)
	}
	b, err := boltstore.Open(out, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	st, err := b.Stats(context.Background())
	if err != nil || st.Queues != 1 || st.Envelopes < int64(len(acked)) {
		t.Fatalf("copy's stats %+v, %v; want 1 queue and at least %d envelopes", st, err, len(acked))
	}
	for _, m := range acked {
		res, err := b.Send(context.Background(), store.QueueID(q.Sender.Array()), store.MessageID(m), env, time.Now())
		if err != nil || !res.Duplicate {
			t.Fatalf("the copy lacks an acknowledged send: %+v, %v", res, err)
		}
	}
}

func TestBackupRefusals(t *testing.T) {
	out := filepath.Join(t.TempDir(), "copy.db")
	if code, _, _ := runCmd(t, "backup", "--out", out); code != 2 {
		t.Errorf("backup without --admin: exit %d, want 2", code)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("not a store"))
	})}
	ln := listenLoopback(t)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	code, _, stderr := runCmd(t, "backup", "--admin", ln.Addr().String(), "--out", out)
	if code != 1 || !strings.Contains(stderr, "not a relay store") {
		t.Errorf("backup from a non-relay: exit %d, %q", code, stderr)
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "*")); len(matches) != 0 {
		t.Errorf("a failed backup left %v behind", matches)
	}
}
