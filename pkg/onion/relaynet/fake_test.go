// SPDX-License-Identifier: AGPL-3.0-or-later

package relaynet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/directory"
	"github.com/hushchat/hush/pkg/onion/path"
)

// The fake network's transport errors: a relay that is down, and a
// packet a relay dropped (what a gRPC InvalidArgument is natively).
var (
	errDown    = errors.New("fake: connection refused")
	errDropped = errors.New("fake: packet dropped")
)

// classify is the fake network's Config.Classify.
func classify(err error) onion.Code {
	if errors.Is(err, errDropped) {
		return onion.CodeRefused
	}
	return onion.CodeUnreachable
}

// fakeRelay is one relay of a fakeNet: real onion keys, a real signed
// descriptor, and switches for its failures.
type fakeRelay struct {
	name     string
	key      *directory.SigningKey
	ring     *onion.KeyRing
	caps     []directory.Capability
	down     bool       // every call to it fails with errDown
	failWith onion.Code // nonzero: answers every packet it opens with this code
	block    bool       // as the exit, waits for the call's ctx
	garbage  bool       // serves a directory that does not decode
}

// fakeNet is an in-memory onion network: Forward opens the packet with
// the entry's key ring and passes it on hop by hop, exactly as relays do,
// answering failures inside the onion.
type fakeNet struct {
	t      testing.TB
	mu     sync.Mutex
	now    time.Time
	relays []*fakeRelay
	byID   map[onion.RelayID]*fakeRelay
	doc    []byte

	entries  []onion.RelayID // the entry of every Forward, in order
	dirCalls int
}

func newFakeNet(t testing.TB, n int) *fakeNet {
	t.Helper()
	f := &fakeNet{t: t, now: time.Now().Truncate(time.Second), byID: map[onion.RelayID]*fakeRelay{}}
	for i := range n {
		r := &fakeRelay{
			name: fmt.Sprintf("relay-%d", i),
			key:  directory.NewSigningKey([32]byte(bytes.Repeat([]byte{byte(i + 1)}, 32))),
			caps: []directory.Capability{directory.CapChunks, directory.CapMailbox},
		}
		f.rotate(r)
		f.relays = append(f.relays, r)
		f.byID[r.key.Relay()] = r
	}
	f.publish()
	return f
}

// rotate gives r a fresh key ring: packets made for its old keys are
// dropped from now on.
func (f *fakeNet) rotate(r *fakeRelay) {
	ring, err := onion.OpenKeyRing(&onion.MemStore{}, onion.RingConfig{}, f.now)
	if err != nil {
		f.t.Fatal(err)
	}
	r.ring = ring
}

// publish signs every relay's descriptor as of now and serves them.
func (f *fakeNet) publish() {
	var signed [][]byte
	for i, r := range f.relays {
		d := &directory.Descriptor{
			Relay:        r.key.Relay(),
			Keys:         r.ring.Keys(),
			Address:      fmt.Sprintf("relay%d.test:7443", i),
			Capabilities: r.caps,
			Published:    f.now,
			Expires:      f.now.Add(24 * time.Hour),
		}
		b, err := directory.Sign(r.key, d)
		if err != nil {
			f.t.Fatal(err)
		}
		signed = append(signed, b)
	}
	doc, err := directory.EncodeDirectory(signed)
	if err != nil {
		f.t.Fatal(err)
	}
	f.doc = doc
}

func (f *fakeNet) network() directory.NetworkFile {
	var nf directory.NetworkFile
	for i, r := range f.relays {
		nf.Relays = append(nf.Relays, directory.NetworkRelay{ID: r.key.Relay(), Address: fmt.Sprintf("relay%d.test:7443", i), Name: r.name})
	}
	return nf
}

func (f *fakeNet) id(i int) onion.RelayID { return f.relays[i].key.Relay() }

func (f *fakeNet) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeNet) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func (f *fakeNet) set(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

// Forward is the client's call to the entry.
func (f *fakeNet) Forward(ctx context.Context, id onion.RelayID, addr string, packet []byte) ([]byte, error) {
	f.mu.Lock()
	f.entries = append(f.entries, id)
	f.mu.Unlock()
	return f.hop(ctx, id, packet)
}

// hop is relay id answering a packet, as services/relay/internal/rpc does.
func (f *fakeNet) hop(ctx context.Context, id onion.RelayID, packet []byte) ([]byte, error) {
	f.mu.Lock()
	var r fakeRelay // a copy: the test flips the switches under f.mu
	if p := f.byID[id]; p != nil {
		r = *p
	} else {
		r.down = true
	}
	f.mu.Unlock()
	if r.down {
		return nil, errDown
	}
	o, err := r.ring.Open(packet)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errDropped, err)
	}
	if r.failWith != 0 {
		return o.Reply.Fail(r.failWith)
	}
	if o.IsExit() {
		if r.block {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return o.Reply.Reply(append([]byte("answer:"), o.Request...))
	}
	next, err := f.hop(ctx, o.Next, o.Packet)
	if err != nil {
		return o.Reply.Fail(classify(err))
	}
	return o.Reply.Relay(next)
}

// Directory serves the document, as every relay does.
func (f *fakeNet) Directory(ctx context.Context, id onion.RelayID, addr string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dirCalls++
	r := f.byID[id]
	switch {
	case r == nil || r.down:
		return nil, errDown
	case r.garbage:
		return []byte("not a directory"), nil
	}
	return bytes.Clone(f.doc), nil
}

func (f *fakeNet) calls() (entries []onion.RelayID, dirCalls int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]onion.RelayID(nil), f.entries...), f.dirCalls
}

// newNet makes a Net over f with cfg's other fields; guards, if given,
// are the client's entry guards, first choice first.
func (f *fakeNet) newNet(cfg Config, guards ...int) *Net {
	f.t.Helper()
	cfg.Network, cfg.Transport, cfg.Now, cfg.Classify = f.network(), f, f.clock, classify
	if len(guards) > 0 {
		var gs []path.Guard
		for _, g := range guards {
			gs = append(gs, path.Guard{ID: f.id(g), Added: f.now})
		}
		store := &path.MemGuards{}
		if err := store.SaveGuards(context.Background(), gs); err != nil {
			f.t.Fatal(err)
		}
		cfg.Guards = store
	}
	n, err := New(cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

func ask(t *testing.T, n *Net, exit onion.RelayID, req string) {
	t.Helper()
	got, err := n.Ask(context.Background(), exit, []byte(req))
	if err != nil {
		t.Fatalf("ask %s: %v", req, err)
	}
	if want := "answer:" + req; string(got) != want {
		t.Fatalf("ask: got %q, want %q", got, want)
	}
}

func downIDs(n *Net) map[onion.RelayID]bool {
	m := map[onion.RelayID]bool{}
	for id := range n.Down() {
		m[id] = true
	}
	return m
}

func wantDown(t *testing.T, n *Net, want ...onion.RelayID) {
	t.Helper()
	got := downIDs(n)
	if len(got) != len(want) {
		t.Fatalf("down: %d relays %v, want %v", len(got), got, want)
	}
	for _, id := range want {
		if !got[id] {
			t.Fatalf("down: %v, want %v", got, want)
		}
	}
}
