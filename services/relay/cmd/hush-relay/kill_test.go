// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/directory"
	"github.com/hushchat/hush/pkg/onion/path"
	"github.com/hushchat/hush/pkg/onion/peer"
	"github.com/hushchat/hush/services/relay/devnet"
	"github.com/hushchat/hush/services/relay/internal/keyfile"
	"github.com/hushchat/hush/services/relay/internal/rpc"
)

const (
	// killSenders send concurrently into the victim's queue.
	killSenders = 8
	// killAfterAcks is how many acknowledged sends the victim has before
	// it is killed; with the sends still in flight it stays well under
	// the per-queue quota (store.DefaultMaxQueueEnvelopes, 1,000).
	killAfterAcks = 150
	// callTimeout bounds one client request through a path.
	callTimeout = 30 * time.Second
)

// try sends request to exit through a fresh 3-hop path, like client.ask,
// but returns failures instead of ending the test: it runs on the
// senders' goroutines too.
func (c *client) try(exit onion.RelayID, request []byte) (*mailbox.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	hops, err := c.sel.Select(ctx, path.Request{Network: c.nf, Directory: c.dir, Exit: exit, Now: time.Now()})
	if err != nil {
		return nil, err
	}
	if len(hops) != onion.DefaultHops || hops[len(hops)-1].ID != exit {
		return nil, fmt.Errorf("path %v does not end at the exit", hops)
	}
	packet, opener, err := onion.Wrap(hops, request)
	if err != nil {
		return nil, err
	}
	entry, _ := c.dir.Lookup(hops[0].ID)
	resp, err := c.pool.Forward(ctx, hops[0].ID, entry.Address, packet)
	if err != nil {
		return nil, err
	}
	reply, err := opener.Open(resp)
	if err != nil {
		return nil, err
	}
	return mailbox.ParseResponse(reply)
}

// killMessage is the envelope of message id: its ID, then a pattern
// made from it, so a fetched envelope names its message and shows it is
// whole.
func killMessage(id mailbox.MessageID) []byte {
	env := make([]byte, mailbox.EnvelopeSize)
	copy(env, id[:])
	for i := len(id); i < len(env); i++ {
		env[i] = id[i%len(id)] ^ byte(i)
	}
	return env
}

func killMessageID(sender, n int) mailbox.MessageID {
	var id mailbox.MessageID
	binary.BigEndian.PutUint32(id[0:], uint32(sender)+1)
	binary.BigEndian.PutUint64(id[4:], uint64(n))
	return id
}

// ledger records what the senders sent and what the relay acknowledged.
type ledger struct {
	mu    sync.Mutex
	sent  map[mailbox.MessageID]bool // attempted: the relay may hold them
	acked map[mailbox.MessageID]bool // StatusOK: the relay must hold them
	n     atomic.Int64               // len(acked)
	fails atomic.Int64
}

func (l *ledger) attempt(id mailbox.MessageID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent[id] = true
}

func (l *ledger) ack(id mailbox.MessageID) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.acked[id] {
		l.acked[id] = true
		return l.n.Add(1)
	}
	return l.n.Load()
}

// killNet is the network of TestLongRelaySIGKILL: two relays in this
// process (entry and middle) and the victim in a child process.
type killNet struct {
	dev    *devnet.Network
	c      *client
	victim onion.RelayID
}

// join tells the in-process relays and the client that the victim is
// at addr, and waits until the entry serves its descriptor.
func (k *killNet) join(t *testing.T, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	nf := directory.NetworkFile{Relays: append(append([]directory.NetworkRelay(nil), k.dev.File.Relays...),
		directory.NetworkRelay{ID: k.victim, Address: addr, Name: "victim"})}
	for _, r := range k.dev.Relays {
		r.SetNetwork(nf)
		if err := r.Refresh(ctx); err != nil {
			t.Fatalf("refresh: %v", err)
		}
	}
	doc, err := k.c.pool.Directory(ctx, k.dev.Relays[0].ID(), k.dev.Relays[0].Addr())
	if err != nil {
		t.Fatal(err)
	}
	d, err := directory.ParseDirectory(doc, nf, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := d.Lookup(k.victim); !ok || v.Address != addr {
		t.Fatalf("the entry's directory does not have the victim at %s", addr)
	}
	k.c.nf, k.c.dir = nf, d
}

func startKillNet(t *testing.T, victimDir string) *killNet {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	dev, err := devnet.Start(ctx, devnet.Options{Relays: 2, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	k := &killNet{dev: dev, c: &client{pool: peer.NewPool(), sel: path.NewSelector(&path.MemGuards{}, path.Config{})}}
	t.Cleanup(func() {
		k.c.pool.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := dev.Shutdown(ctx); err != nil {
			t.Errorf("shut the relays down: %v", err)
		}
	})
	key, err := keyfile.Load(filepath.Join(victimDir, keyfile.FileName))
	if err != nil {
		t.Fatal(err)
	}
	k.victim = key.Relay()
	return k
}

// TestLongRelaySIGKILL kills a hush-relay process with SIGKILL while
// clients send into a queue it hosts over 3-hop paths, restarts it on the
// same directory, and checks that every acknowledged envelope is there,
// that the restarted relay moved to new onion epochs, and that a packet
// it processed before the kill is refused when replayed to it.
func TestLongRelaySIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("long test: builds the binary and kills it")
	}
	bin := buildRelayBinary(t)
	victimDir := loopbackDir(t)
	victim := startChild(t, bin, victimDir)
	k := startKillNet(t, victimDir)
	k.join(t, victim.addr)
	c := k.c

	q, err := mailbox.NewQueue(k.victim, false)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := c.try(k.victim, must(q.CreateRequest())); err != nil || r.Status != mailbox.StatusOK {
		t.Fatalf("create the queue on the victim: %v %v", r, err)
	}
	l := &ledger{sent: map[mailbox.MessageID]bool{}, acked: map[mailbox.MessageID]bool{}}

	// A packet whose first (and only) hop is the victim, processed once.
	old := victimDescriptor(t, c, k.victim, victim.addr)
	oldKeys := old.Keys
	replayID := killMessageID(-1, 0)
	replay := directPacket(t, c, k.victim, must(mailbox.SendRequest(q.Sender, replayID, killMessage(replayID))))
	l.attempt(replayID)
	sendDirect(t, c, k.victim, victim.addr, replay)
	l.ack(replayID)
	// Before the kill, the replay cache refuses it.
	if _, err := c.pool.Forward(context.Background(), k.victim, victim.addr, replay.packet); !droppedErr(err) {
		t.Fatalf("replay before the kill: %v, want the packet dropped", err)
	}

	killed := sendUntilKilled(t, c, q, l, k.victim, victim)
	t.Logf("killed the relay after %d acknowledged sends (%d attempted, %d failed)", killed, len(l.sent), l.fails.Load())
	if !strings.Contains(victim.stdout.String(), "serving gRPC") || strings.Contains(victim.stderr.String(), "relay stopped") {
		t.Fatalf("the victim stopped cleanly, not by SIGKILL:\n%s", victim.stderr)
	}

	// Restarted at once, possibly within the same second as its first
	// descriptor: the others must still take the new one (its epochs are
	// higher).
	restarted := startChild(t, bin, victimDir)
	k.join(t, restarted.addr)

	// The ring lost its replay cache: every key is new, with a higher epoch.
	newKeys := victimDescriptor(t, c, k.victim, restarted.addr).Keys
	for _, nk := range newKeys {
		for _, ok := range oldKeys {
			if nk.Epoch <= ok.Epoch || nk.Key == ok.Key {
				t.Fatalf("after the kill the victim still has epoch %d (before: %v)", nk.Epoch, epochs(oldKeys))
			}
		}
	}
	if v, _ := c.dir.Lookup(k.victim); !slices.Equal(epochs(v.Keys), epochs(newKeys)) {
		t.Fatalf("the entry serves the victim with epochs %v, it has %v", epochs(v.Keys), epochs(newKeys))
	}
	t.Logf("onion epochs before the kill %v, after %v", epochs(oldKeys), epochs(newKeys))

	// The replayed packet is refused, though the replay cache that saw it
	// was lost: its epoch was erased (the new epochs are checked above).
	// Relays say only "dropped", never why.
	_, err = c.pool.Forward(context.Background(), k.victim, restarted.addr, replay.packet)
	if !droppedErr(err) {
		t.Fatalf("replay after the restart: %v, want the packet dropped", err)
	}

	// The relay works again, and a send after the restart is kept too.
	after := killMessageID(killSenders, 0)
	l.attempt(after)
	if r, err := c.try(k.victim, must(mailbox.SendRequest(q.Sender, after, killMessage(after)))); err != nil || r.Status != mailbox.StatusOK {
		t.Fatalf("send after the restart: %v %v", r, err)
	}
	l.ack(after)

	l.check(t, drainQueue(t, c, q))
}

// check wants every acknowledged message in got, and nothing that was
// never sent.
func (l *ledger) check(t *testing.T, got map[mailbox.MessageID]bool) {
	t.Helper()
	for id := range l.acked {
		if !got[id] {
			t.Errorf("acknowledged message %x is lost", id)
		}
	}
	unacked := 0
	for id := range got {
		if !l.sent[id] {
			t.Errorf("fetched message %x that was never sent", id)
		}
		if !l.acked[id] {
			unacked++
		}
	}
	t.Logf("after the restart: %d envelopes, all %d acknowledged ones among them, %d sent but unacknowledged", len(got), len(l.acked), unacked)
}

func epochs(keys []onion.KeyInfo) []onion.Epoch {
	var out []onion.Epoch
	for _, k := range keys {
		out = append(out, k.Epoch)
	}
	return out
}

// victimDescriptor fetches the relay's own signed descriptor.
func victimDescriptor(t *testing.T, c *client, id onion.RelayID, addr string) *directory.Descriptor {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	signed, err := c.pool.Descriptor(ctx, id, addr)
	if err != nil {
		t.Fatal(err)
	}
	d, err := directory.ParseDescriptor(signed, time.Now())
	if err != nil || d.Relay != id {
		t.Fatalf("victim's descriptor: %v", err)
	}
	return d
}

// sealedPacket is one wrapped packet and the opener of its response.
type sealedPacket struct {
	packet []byte
	opener *onion.ResponseOpener
}

// directPacket wraps request for the 1-hop path [exit].
func directPacket(t *testing.T, c *client, exit onion.RelayID, request []byte) sealedPacket {
	t.Helper()
	d, ok := c.dir.Lookup(exit)
	if !ok {
		t.Fatal("the exit is not in the directory")
	}
	hop, err := d.HopAt(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	packet, opener, err := onion.Wrap([]onion.Hop{hop}, request)
	if err != nil {
		t.Fatal(err)
	}
	return sealedPacket{packet: packet, opener: opener}
}

// sendDirect forwards p to the exit itself and wants StatusOK back.
func sendDirect(t *testing.T, c *client, exit onion.RelayID, addr string, p sealedPacket) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	resp, err := c.pool.Forward(ctx, exit, addr, bytes.Clone(p.packet))
	if err != nil {
		t.Fatal(err)
	}
	reply, err := p.opener.Open(resp)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := mailbox.ParseResponse(reply); err != nil || r.Status != mailbox.StatusOK {
		t.Fatalf("direct send: %v %v", r, err)
	}
}

// sendUntilKilled runs killSenders goroutines that send distinct messages
// into q, kills the victim once killAfterAcks were acknowledged, stops
// the senders and returns how many were acknowledged before the kill.
func sendUntilKilled(t *testing.T, c *client, q *mailbox.Queue, l *ledger, exit onion.RelayID, victim *childRelay) int64 {
	t.Helper()
	reached, stop := make(chan struct{}), make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for g := range killSenders {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				id := killMessageID(g, n)
				req, err := mailbox.SendRequest(q.Sender, id, killMessage(id))
				if err != nil {
					panic(err)
				}
				l.attempt(id)
				r, err := c.try(exit, req)
				if err != nil || r.Status != mailbox.StatusOK {
					l.fails.Add(1)
					continue
				}
				if l.ack(id) >= killAfterAcks {
					once.Do(func() { close(reached) })
				}
			}
		})
	}
	select {
	case <-reached:
	case <-time.After(childTimeout):
		close(stop)
		wg.Wait()
		t.Fatalf("only %d of %d sends acknowledged in %v (%d failed)", l.n.Load(), killAfterAcks, childTimeout, l.fails.Load())
	}
	atKill := l.n.Load()
	victim.kill(t)
	close(stop)
	wg.Wait()
	if l.fails.Load() == 0 {
		t.Fatal("no send failed: the relay was not killed mid-stream")
	}
	return atKill
}

// drainQueue fetches and acks until the queue is empty and returns the
// message IDs of what it held. Every envelope must be whole and fetched
// once.
func drainQueue(t *testing.T, c *client, q *mailbox.Queue) map[mailbox.MessageID]bool {
	t.Helper()
	got := map[mailbox.MessageID]bool{}
	for {
		r, err := c.try(q.Relay, must(q.FetchRequest(0, 2)))
		if err != nil || r.Status != mailbox.StatusOK {
			t.Fatalf("fetch: %v %v", r, err)
		}
		if len(r.Envelopes) == 0 {
			return got
		}
		var seqs []uint64
		for _, e := range r.Envelopes {
			var id mailbox.MessageID
			copy(id[:], e.Data)
			if !bytes.Equal(e.Data, killMessage(id)) {
				t.Fatalf("envelope %d is not the message it names", e.Seq)
			}
			if got[id] {
				t.Fatalf("message %x stored twice", id)
			}
			got[id] = true
			seqs = append(seqs, e.Seq)
		}
		if r, err := c.try(q.Relay, must(q.AckRequest(seqs))); err != nil || r.Status != mailbox.StatusOK {
			t.Fatalf("ack: %v %v", r, err)
		}
	}
}

// droppedErr reports whether err is a relay's answer to a packet that did
// not open: InvalidArgument with the fixed message and no reason.
func droppedErr(err error) bool {
	return status.Code(err) == codes.InvalidArgument && status.Convert(err).Message() == rpc.ErrDropped.Error()
}
