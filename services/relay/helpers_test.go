// SPDX-License-Identifier: AGPL-3.0-or-later

package relay_test

import (
	"context"
	"crypto/rand"
	"os"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/directory"
	"github.com/hushchat/hush/pkg/onion/peer"
	"github.com/hushchat/hush/services/relay"
	"github.com/hushchat/hush/services/relay/devnet"
	"github.com/hushchat/hush/services/relay/internal/fakeexit"
)

// testNet is a devnet with echo exits and a client's view of it.
type testNet struct {
	*devnet.Network
	exits  []*fakeexit.Echo
	stores []*onion.MemStore
	dir    *directory.Directory
	client *peer.Pool
}

func startNet(tb testing.TB, n int, admin bool) *testNet {
	tb.Helper()
	tn := &testNet{client: peer.NewPool()}
	open := func(string) (relay.Backend, error) {
		e, s := &fakeexit.Echo{}, &onion.MemStore{}
		tn.exits, tn.stores = append(tn.exits, e), append(tn.stores, s)
		return relay.Backend{Ring: s, Exit: e}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	net, err := devnet.Start(ctx, devnet.Options{Relays: n, Dir: tb.TempDir(), Open: open, Admin: admin})
	if err != nil {
		tb.Fatalf("start the devnet: %v", err)
	}
	tn.Network = net
	tb.Cleanup(func() {
		tn.client.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := net.Shutdown(ctx); err != nil {
			tb.Errorf("shut the devnet down: %v", err)
		}
	})
	tn.dir = tn.fetchDirectory(tb, 0)
	return tn
}

// fetchDirectory asks relay i for the directory, as a client does, and
// verifies it against the network file on disk.
func (tn *testNet) fetchDirectory(tb testing.TB, i int) *directory.Directory {
	tb.Helper()
	data, err := os.ReadFile(tn.FilePath)
	if err != nil {
		tb.Fatal(err)
	}
	nf, err := directory.ParseNetworkFile(data)
	if err != nil {
		tb.Fatalf("the devnet's network file: %v", err)
	}
	r := tn.Relays[i]
	doc, err := tn.client.Directory(context.Background(), r.ID(), r.Addr())
	if err != nil {
		tb.Fatalf("directory from relay %d: %v", i, err)
	}
	d, err := directory.ParseDirectory(doc, nf, time.Now())
	if err != nil {
		tb.Fatalf("parse the directory: %v", err)
	}
	return d
}

// path returns the hops of relays idx, from the client's directory.
func (tn *testNet) path(tb testing.TB, idx ...int) []onion.Hop {
	tb.Helper()
	hops := make([]onion.Hop, len(idx))
	for i, j := range idx {
		d, ok := tn.dir.Lookup(tn.Relays[j].ID())
		if !ok {
			tb.Fatalf("relay %d is not in the directory", j)
		}
		h, err := d.HopAt(time.Now())
		if err != nil {
			tb.Fatal(err)
		}
		hops[i] = h
	}
	return hops
}

// roundTrip wraps request for the path through relays idx, sends it to the
// entry and opens the response.
func (tn *testNet) roundTrip(tb testing.TB, request []byte, idx ...int) ([]byte, error) {
	tb.Helper()
	packet, opener, err := onion.Wrap(tn.path(tb, idx...), request)
	if err != nil {
		tb.Fatal(err)
	}
	entry := tn.Relays[idx[0]]
	resp, err := tn.client.Forward(context.Background(), entry.ID(), entry.Addr(), packet)
	if err != nil {
		tb.Fatalf("forward to the entry: %v", err)
	}
	if len(resp) != onion.PacketSize {
		tb.Fatalf("response of %d bytes, want %d", len(resp), onion.PacketSize)
	}
	return opener.Open(resp)
}

func randomBytes(tb testing.TB, n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
