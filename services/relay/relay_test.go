// SPDX-License-Identifier: AGPL-3.0-or-later

package relay_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/services/relay/internal/rpc"
)

func TestThreeHopPaths(t *testing.T) {
	tn := startNet(t, 5, false)
	paths := [][]int{{0, 1, 2}, {4, 3, 2}, {1, 3, 0}, {2, 0, 4}, {3, 4, 1}, {0, 2}, {4, 3, 2, 1, 0}}
	for _, p := range paths {
		exit := p[len(p)-1]
		before := tn.exits[exit].Count()
		req := randomBytes(t, 1000+100*len(p))
		got, err := tn.roundTrip(t, req, p...)
		if err != nil {
			t.Fatalf("path %v: %v", p, err)
		}
		if !bytes.Equal(got, req) {
			t.Fatalf("path %v: reply is not the echoed request", p)
		}
		if n := tn.exits[exit].Count(); n != before+1 {
			t.Fatalf("path %v: exit handled %d requests, want %d", p, n, before+1)
		}
	}
	// The largest request fits, and the echo is cut to the response capacity.
	req := randomBytes(t, onion.RequestCapacity)
	got, err := tn.roundTrip(t, req, 0, 1, 2)
	if err != nil || !bytes.Equal(got, req) {
		t.Fatalf("full-size request: %v", err)
	}
}

func TestRelayDownInPath(t *testing.T) {
	tn := startNet(t, 5, false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tn.Stop(ctx, 2); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path []int
		hop  int
	}{
		{[]int{0, 2, 4}, 0}, // the middle is down: the entry says so
		{[]int{0, 1, 2}, 1}, // the exit is down: the middle says so
	} {
		_, err := tn.roundTrip(t, []byte("hello"), tc.path...)
		var he *onion.HopError
		if !errors.As(err, &he) || !errors.Is(err, onion.ErrHopFailed) {
			t.Fatalf("path %v: got %v, want a *onion.HopError", tc.path, err)
		}
		if he.Hop != tc.hop || he.Code != onion.CodeUnreachable {
			t.Fatalf("path %v: got hop %d code %v, want hop %d unreachable", tc.path, he.Hop, he.Code, tc.hop)
		}
	}
	// A retry on another path succeeds.
	got, err := tn.roundTrip(t, []byte("hello"), 0, 3, 4)
	if err != nil || string(got) != "hello" {
		t.Fatalf("retry on a path without the relay that is down: %q, %v", got, err)
	}
}

func TestDroppedPackets(t *testing.T) {
	tn := startNet(t, 3, false)
	entry := tn.Relays[0]
	ctx := context.Background()

	// Every drop reads the same: the reason is counted, never sent.
	dropped := func(what string, err error) {
		t.Helper()
		if status.Code(err) != codes.InvalidArgument || status.Convert(err).Message() != rpc.ErrDropped.Error() {
			t.Fatalf("%s: got %v, want InvalidArgument %q and nothing more", what, err, rpc.ErrDropped)
		}
	}
	_, err := tn.client.Forward(ctx, entry.ID(), entry.Addr(), randomBytes(t, onion.PacketSize))
	dropped("garbage packet", err)
	_, err = tn.client.Forward(ctx, entry.ID(), entry.Addr(), []byte("short"))
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("short packet: got %v, want InvalidArgument", err)
	}

	packet, _, err := onion.Wrap(tn.path(t, 0, 1, 2), []byte("once"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tn.client.Forward(ctx, entry.ID(), entry.Addr(), packet); err != nil {
		t.Fatalf("first send: %v", err)
	}
	_, err = tn.client.Forward(ctx, entry.ID(), entry.Addr(), packet)
	dropped("replayed packet", err)
	stale := tn.path(t, 0, 1, 2)
	stale[0].Epoch += 100
	other, _, err := onion.Wrap(stale, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = tn.client.Forward(ctx, entry.ID(), entry.Addr(), other)
	dropped("packet for an unknown epoch", err)
	if n := tn.exits[2].Count(); n != 1 {
		t.Fatalf("exit saw %d requests, want 1", n)
	}
}

func TestNextHopDropIsRefused(t *testing.T) {
	tn := startNet(t, 3, false)
	// A path whose middle hop key is for the wrong epoch: the entry opens
	// the packet, the middle drops it, and the entry answers CodeRefused.
	hops := tn.path(t, 0, 1, 2)
	hops[1].Epoch += 100
	packet, opener, err := onion.Wrap(hops, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	entry := tn.Relays[0]
	resp, err := tn.client.Forward(context.Background(), entry.ID(), entry.Addr(), packet)
	if err != nil {
		t.Fatal(err)
	}
	_, err = opener.Open(resp)
	var he *onion.HopError
	if !errors.As(err, &he) || he.Hop != 0 || he.Code != onion.CodeRefused {
		t.Fatalf("got %v, want hop 0 refused", err)
	}
}

func TestWrongKeyRefusedByPinning(t *testing.T) {
	tn := startNet(t, 2, false)
	a, b := tn.Relays[0], tn.Relays[1]
	// Relay b's identity pinned, relay a's address dialled.
	_, err := tn.client.Descriptor(context.Background(), b.ID(), a.Addr())
	if status.Code(err) != codes.Unavailable || !bytes.Contains([]byte(err.Error()), []byte("presented "+a.ID().String())) {
		t.Fatalf("got %v, want the pinning to refuse naming the key presented", err)
	}
	if _, err := tn.client.Descriptor(context.Background(), a.ID(), a.Addr()); err != nil {
		t.Fatalf("the right key: %v", err)
	}
}
