// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/directory"
	"github.com/hushchat/hush/pkg/onion/path"
	"github.com/hushchat/hush/pkg/onion/peer"
	"github.com/hushchat/hush/services/relay/devnet"
)

// client is what a Hush client holds of the network: the network file,
// the directory fetched from its entry, a path selector with guards, and
// pooled connections.
type client struct {
	nf   directory.NetworkFile
	dir  *directory.Directory
	sel  *path.Selector
	pool *peer.Pool
}

func startDevnet(t *testing.T, n int) (*devnet.Network, *client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	net, err := devnet.Start(ctx, devnet.Options{Relays: n, Dir: t.TempDir()})
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
	data, err := os.ReadFile(net.FilePath)
	if err != nil {
		t.Fatal(err)
	}
	if c.nf, err = directory.ParseNetworkFile(data); err != nil {
		t.Fatal(err)
	}
	doc, err := c.pool.Directory(ctx, net.Relays[0].ID(), net.Relays[0].Addr())
	if err != nil {
		t.Fatal(err)
	}
	if c.dir, err = directory.ParseDirectory(doc, c.nf, time.Now()); err != nil {
		t.Fatal(err)
	}
	return net, c
}

// ask sends request to the exit through a fresh 3-hop path and returns the
// mailbox response.
func (c *client) ask(t *testing.T, exit onion.RelayID, request []byte) *mailbox.Response {
	t.Helper()
	hops, err := c.sel.Select(context.Background(), path.Request{Network: c.nf, Directory: c.dir, Exit: exit, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if len(hops) != 3 || hops[2].ID != exit {
		t.Fatalf("path %v does not end at the exit", hops)
	}
	packet, opener, err := onion.Wrap(hops, request)
	if err != nil {
		t.Fatal(err)
	}
	entry, _ := c.dir.Lookup(hops[0].ID)
	resp, err := c.pool.Forward(context.Background(), hops[0].ID, entry.Address, packet)
	if err != nil {
		t.Fatalf("forward: %v", err)
	}
	reply, err := opener.Open(resp)
	if err != nil {
		t.Fatalf("open the response: %v", err)
	}
	r, err := mailbox.ParseResponse(reply)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func want(t *testing.T, what string, r *mailbox.Response, s mailbox.Status) {
	t.Helper()
	if r.Status != s {
		t.Fatalf("%s: %q, want %q", what, r.Status, s)
	}
}

// TestQueueLifeOverOnionPaths runs a queue's whole life on 5 real relays
// on loopback, every request through its own 3-hop path to the relay
// hosting the queue: create, send, fetch, ack, a long-poll woken by a
// send, a replayed owner request refused, delete.
func TestQueueLifeOverOnionPaths(t *testing.T) {
	net, c := startDevnet(t, 5)
	host := net.Relays[3].ID()
	q, err := mailbox.NewQueue(host, false)
	if err != nil {
		t.Fatal(err)
	}
	want(t, "create", c.ask(t, host, must(q.CreateRequest())), mailbox.StatusOK)
	env := bytes.Repeat([]byte{0x42}, mailbox.EnvelopeSize)
	want(t, "send", c.ask(t, host, must(mailbox.SendRequest(q.Sender, mailbox.MessageID{1}, env))), mailbox.StatusOK)
	fetch := must(q.FetchRequest(0, 2))
	r := c.ask(t, host, fetch)
	want(t, "fetch", r, mailbox.StatusOK)
	if len(r.Envelopes) != 1 || !bytes.Equal(r.Envelopes[0].Data, env) {
		t.Fatalf("fetched %d envelopes", len(r.Envelopes))
	}
	want(t, "ack", c.ask(t, host, must(q.AckRequest([]uint64{r.Envelopes[0].Seq}))), mailbox.StatusOK)

	// A long-poll returns as soon as an envelope arrives.
	got := make(chan *mailbox.Response, 1)
	poll := must(q.FetchRequest(10*time.Second, 1))
	start := time.Now()
	go func() { got <- c.ask(t, host, poll) }()
	time.Sleep(300 * time.Millisecond)
	want(t, "send while polled", c.ask(t, host, must(mailbox.SendRequest(q.Sender, mailbox.MessageID{2}, env))), mailbox.StatusOK)
	select {
	case r = <-got:
	case <-time.After(8 * time.Second):
		t.Fatal("the long-poll did not return")
	}
	if took := time.Since(start); len(r.Envelopes) != 1 || took > 5*time.Second {
		t.Fatalf("long-poll: %d envelopes after %v", len(r.Envelopes), took)
	}

	// The first fetch, replayed in a fresh onion packet, is refused by
	// the counter.
	r = c.ask(t, host, fetch)
	want(t, "replayed fetch", r, mailbox.StatusCounter)
	if r.LastCounter != q.Counter {
		t.Errorf("last counter %d, want %d", r.LastCounter, q.Counter)
	}
	want(t, "delete", c.ask(t, host, must(q.DeleteRequest())), mailbox.StatusOK)
	want(t, "send after delete", c.ask(t, host, must(mailbox.SendRequest(q.Sender, mailbox.MessageID{3}, env))), mailbox.StatusNoQueue)
}

// TestChunkOverOnionPaths puts, gets and deletes a chunk through 3-hop
// paths.
func TestChunkOverOnionPaths(t *testing.T) {
	net, c := startDevnet(t, 5)
	host := net.Relays[1].ID()
	id := mailbox.ChunkID{9}
	tok, _ := mailbox.NewDeleteToken(nil)
	data := bytes.Repeat([]byte{7}, mailbox.ChunkSize)
	want(t, "put", c.ask(t, host, must(mailbox.PutChunkRequest(id, data, time.Hour, tok))), mailbox.StatusOK)
	r := c.ask(t, host, must(mailbox.GetChunkRequest(id)))
	want(t, "get", r, mailbox.StatusOK)
	if !bytes.Equal(r.Chunk, data) {
		t.Fatal("the chunk changed")
	}
	want(t, "delete", c.ask(t, host, must(mailbox.DeleteChunkRequest(id, tok))), mailbox.StatusOK)
	want(t, "get after delete", c.ask(t, host, must(mailbox.GetChunkRequest(id))), mailbox.StatusNoChunk)
}
