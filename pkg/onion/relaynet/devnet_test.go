// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build !js

package relaynet_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/directory"
	"github.com/hushchat/hush/pkg/onion/path"
	"github.com/hushchat/hush/pkg/onion/peer"
	"github.com/hushchat/hush/pkg/onion/relaynet"
	"github.com/hushchat/hush/services/relay/devnet"
)

// startDevnet runs n real relays on loopback (bbolt store and mailbox
// exit, as hush-relay runs them).
func startDevnet(t *testing.T, n int) *devnet.Network {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dn, err := devnet.Start(ctx, devnet.Options{Relays: n, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := dn.Shutdown(ctx); err != nil {
			t.Errorf("shut the devnet down: %v", err)
		}
	})
	return dn
}

// newNet is a client's Net over nf with a real peer.Pool; guards, if
// given, are its entry guards.
func newNet(t *testing.T, nf directory.NetworkFile, guards ...onion.RelayID) *relaynet.Net {
	t.Helper()
	pool := peer.NewPool()
	t.Cleanup(func() { pool.Close() })
	store := &path.MemGuards{}
	var gs []path.Guard
	for _, g := range guards {
		gs = append(gs, path.Guard{ID: g, Added: time.Now()})
	}
	if err := store.SaveGuards(context.Background(), gs); err != nil {
		t.Fatal(err)
	}
	n, err := relaynet.New(relaynet.Config{Network: nf, Transport: pool, Classify: peer.FailCode, Guards: store})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// createQueue asks exit to create a new queue and checks it said OK.
func createQueue(t *testing.T, n *relaynet.Net, exit onion.RelayID) *mailbox.Queue {
	t.Helper()
	q, err := mailbox.NewQueue(exit, false)
	if err != nil {
		t.Fatal(err)
	}
	req, err := q.CreateRequest()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	reply, err := n.Ask(ctx, exit, req)
	if err != nil {
		t.Fatalf("create a queue on %s: %v", exit, err)
	}
	r, err := mailbox.ParseResponse(reply)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != mailbox.StatusOK {
		t.Fatalf("create a queue on %s: status %q", exit, r.Status)
	}
	return q
}

func stop(t *testing.T, dn *devnet.Network, i int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := dn.Stop(ctx, i); err != nil {
		t.Fatal(err)
	}
}

// TestDevnetAskEveryExit refreshes from a devnet of 5 and creates a queue
// on each relay through its own 3-hop path.
func TestDevnetAskEveryExit(t *testing.T) {
	dn := startDevnet(t, 5)
	n := newNet(t, dn.File)
	if err := n.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := map[onion.RelayID]bool{}
	for _, id := range n.Relays() {
		got[id] = true
	}
	if len(got) != 5 {
		t.Fatalf("%d relays usable as exits, want 5", len(got))
	}
	for _, r := range dn.Relays {
		if !got[r.ID()] {
			t.Fatalf("relay %s missing from Relays()", r.ID())
		}
		createQueue(t, n, r.ID())
	}
	if d := n.Down(); len(d) != 0 {
		t.Fatalf("relays recorded down: %v", d)
	}
}

// TestDevnetEntryAndMiddleDown stops the first guard and then a middle:
// requests still get through on other paths, and the health map records
// both.
func TestDevnetEntryAndMiddleDown(t *testing.T) {
	dn := startDevnet(t, 5)
	ids := make([]onion.RelayID, 5)
	for i, r := range dn.Relays {
		ids[i] = r.ID()
	}
	n := newNet(t, dn.File, ids[0], ids[1])
	exit := ids[4]
	createQueue(t, n, exit)

	stop(t, dn, 0)
	createQueue(t, n, exit)
	if d := n.Down(); len(d) != 1 || d[ids[0]].IsZero() {
		t.Fatalf("down after the entry stopped: %v, want only %s", d, ids[0])
	}

	// Entry 1 now; the middle is 2 or 3. Stop 2: every request gets
	// through (at most one failed path each), and 2 is recorded once a
	// path tried it.
	stop(t, dn, 2)
	for i := 0; i < 40; i++ {
		createQueue(t, n, exit)
		if _, ok := n.Down()[ids[2]]; ok {
			break
		}
	}
	d := n.Down()
	if _, ok := d[ids[2]]; !ok || len(d) != 2 {
		t.Fatalf("down: %v, want %s and %s", d, ids[0], ids[2])
	}
}

// TestDevnetExitDown stops the exit: Ask fails with ErrExitUnreachable
// naming it, after trying other paths.
func TestDevnetExitDown(t *testing.T) {
	dn := startDevnet(t, 5)
	n := newNet(t, dn.File)
	exit := dn.Relays[3].ID()
	createQueue(t, n, exit)
	stop(t, dn, 3)

	q, _ := mailbox.NewQueue(exit, false)
	req, _ := q.CreateRequest()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := n.Ask(ctx, exit, req)
	if !errors.Is(err, relaynet.ErrExitUnreachable) {
		t.Fatalf("ask a stopped exit: %v, want ErrExitUnreachable", err)
	}
	var he *relaynet.HopError
	if !errors.As(err, &he) || he.Relay != exit || !he.IsExit() {
		t.Fatalf("hop error %+v, want the exit", he)
	}
	if msg := err.Error(); !strings.Contains(msg, `"relay-4" (`+exit.String()+`) failed on 3 paths`) {
		t.Fatalf("message %q does not name the exit", msg)
	}
	if _, ok := n.Down()[exit]; !ok {
		t.Fatalf("exit not recorded down: %v", n.Down())
	}
}

// TestDevnetLongPollCancelled cancels a waiting fetch: Ask returns at
// once with ctx's error.
func TestDevnetLongPollCancelled(t *testing.T) {
	dn := startDevnet(t, 5)
	n := newNet(t, dn.File)
	exit := dn.Relays[2].ID()
	q := createQueue(t, n, exit)
	poll, err := q.FetchRequest(25*time.Second, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := n.Ask(ctx, exit, poll)
		done <- err
	}()
	time.Sleep(500 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("the long-poll returned before any envelope: %v", err)
	default:
	}
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("returned %v after the cancel", took)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Ask did not return after its ctx was cancelled")
	}
	if d := n.Down(); len(d) != 0 {
		t.Fatalf("a cancelled request marked relays down: %v", d)
	}
}

// TestDevnetUnreachable: a network file whose relays all refuse
// connections gives ErrUnreachable with one line naming each.
func TestDevnetUnreachable(t *testing.T) {
	var nf directory.NetworkFile
	for i := range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		nf.Relays = append(nf.Relays, directory.NetworkRelay{ID: directory.NewSigningKey([32]byte{byte(i + 1)}).Relay(), Address: addr})
	}
	n := newNet(t, nf)
	err := n.Refresh(context.Background())
	if !errors.Is(err, relaynet.ErrUnreachable) {
		t.Fatalf("refresh: %v, want ErrUnreachable", err)
	}
	msg := err.Error()
	t.Log(msg)
	if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "relaynet: no relay of the network file answered (3 tried: relay ") {
		t.Fatalf("message %q", msg)
	}
	for _, r := range nf.Relays {
		if !strings.Contains(msg, "relay "+r.ID.String()+" at "+r.Address+": ") {
			t.Errorf("message does not name %s at %s", r.ID, r.Address)
		}
	}
	if c := strings.Count(msg, "connection refused"); c != 3 {
		t.Errorf("message says \"connection refused\" %d times, want 3", c)
	}
}
