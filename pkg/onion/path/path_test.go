// SPDX-License-Identifier: AGPL-3.0-or-later

package path

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/directory"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func seeded(b byte) *mrand.ChaCha8 { return mrand.NewChaCha8([32]byte(bytes.Repeat([]byte{b}, 32))) }

// testNet is n relays with signed descriptors, verified into a directory.
type testNet struct {
	ids []onion.RelayID
	nf  directory.NetworkFile
	dir *directory.Directory
}

func newNet(t testing.TB, n int) *testNet {
	t.Helper()
	var signed [][]byte
	var ds []*directory.Descriptor
	for i := range n {
		k := directory.NewSigningKey([32]byte(bytes.Repeat([]byte{byte(i + 1)}, 32)))
		ok, err := onion.GenerateKey(seeded(byte(100 + i)))
		if err != nil {
			t.Fatal(err)
		}
		d := &directory.Descriptor{
			Relay:     k.Relay(),
			Keys:      []onion.KeyInfo{{Epoch: onion.Epoch(i + 1), Key: ok.Public(), Start: t0.Add(-time.Hour), End: t0.Add(47 * time.Hour)}},
			Address:   fmt.Sprintf("relay%d.example.org:7443", i),
			Published: t0,
			Expires:   t0.Add(24 * time.Hour),
		}
		b, err := directory.Sign(k, d)
		if err != nil {
			t.Fatal(err)
		}
		signed, ds = append(signed, b), append(ds, d)
	}
	nf := directory.FromDescriptors(ds)
	doc, err := directory.EncodeDirectory(signed)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := directory.ParseDirectory(doc, nf, t0)
	if err != nil || len(dir.Relays) != n {
		t.Fatalf("directory: %v", err)
	}
	tn := &testNet{nf: nf, dir: dir}
	for _, d := range dir.Relays {
		tn.ids = append(tn.ids, d.Relay)
	}
	return tn
}

func (n *testNet) req(exit onion.RelayID) Request {
	return Request{Network: n.nf, Directory: n.dir, Exit: exit, Now: t0}
}

func guardIDs(t testing.TB, s GuardStore) []onion.RelayID {
	t.Helper()
	gs, err := s.LoadGuards(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []onion.RelayID
	for _, g := range gs {
		ids = append(ids, g.ID)
	}
	return ids
}

func ids(p []onion.Hop) []onion.RelayID {
	var out []onion.RelayID
	for _, h := range p {
		out = append(out, h.ID)
	}
	return out
}

func TestSelectShape(t *testing.T) {
	n := newNet(t, 5)
	store := &MemGuards{}
	s := NewSelector(store, Config{Rand: seeded(1)})
	exit := n.ids[4]
	p, err := s.Select(context.Background(), n.req(exit))
	if err != nil {
		t.Fatal(err)
	}
	if len(p) != onion.DefaultHops || p[2].ID != exit {
		t.Fatalf("path %v", ids(p))
	}
	guards := guardIDs(t, store)
	if len(guards) != DefaultGuards || p[0].ID != guards[0] || slices.Contains(guards, exit) {
		t.Fatalf("guards %v, entry %v, exit %v", guards, p[0].ID, exit)
	}
	for _, h := range p {
		d, _ := n.dir.Lookup(h.ID)
		want, _ := d.HopAt(t0)
		if h != want {
			t.Fatalf("hop %v is not its descriptor's %v", h, want)
		}
	}
	// The path is usable: Wrap takes it.
	if _, _, err := onion.Wrap(p, []byte("x")); err != nil {
		t.Fatal(err)
	}
}

func TestGuardsStableAcrossRestarts(t *testing.T) {
	n := newNet(t, 8)
	store := &MemGuards{}
	first := NewSelector(store, Config{Rand: seeded(1)})
	if _, err := first.Select(context.Background(), n.req(n.ids[7])); err != nil {
		t.Fatal(err)
	}
	guards := guardIDs(t, store)
	// A restart: a new Selector, other randomness, the same store.
	again := NewSelector(store, Config{Rand: seeded(99)})
	for i := range 200 {
		exit := n.ids[i%len(n.ids)]
		p, err := again.Select(context.Background(), n.req(exit))
		if err != nil {
			t.Fatal(err)
		}
		want := guards[0]
		if exit == guards[0] {
			want = guards[1]
		}
		if p[0].ID != want {
			t.Fatalf("exit %v: entry %v, want guard %v", exit, p[0].ID, want)
		}
	}
	if got := guardIDs(t, store); !slices.Equal(got, guards) {
		t.Fatalf("guards changed: %v, was %v", got, guards)
	}
}

func TestGuardsReplacedOnlyAfterLongDown(t *testing.T) {
	n := newNet(t, 6)
	store := &MemGuards{}
	s := NewSelector(store, Config{Rand: seeded(3), GuardDownLimit: 24 * time.Hour})
	exit := n.ids[5]
	if _, err := s.Select(context.Background(), n.req(exit)); err != nil {
		t.Fatal(err)
	}
	g := guardIDs(t, store)
	req := n.req(exit)
	req.Health = DownMap{g[0]: t0.Add(-23 * time.Hour)}
	p, err := s.Select(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if p[0].ID != g[1] || !slices.Equal(guardIDs(t, store), g) {
		t.Fatalf("guard down 23 h: entry %v, guards %v (was %v)", p[0].ID, guardIDs(t, store), g)
	}
	// Both guards down, not for long: no path, and no new guards.
	req.Health = DownMap{g[0]: t0.Add(-time.Hour), g[1]: t0.Add(-time.Hour)}
	if _, err := s.Select(context.Background(), req); !errors.Is(err, ErrNoPath) {
		t.Fatalf("both guards down: %v", err)
	}
	if !slices.Equal(guardIDs(t, store), g) {
		t.Fatal("guards replaced after a short outage")
	}
	req.Health = DownMap{g[0]: t0.Add(-24 * time.Hour)}
	p, err = s.Select(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	now := guardIDs(t, store)
	if now[0] != g[1] || now[1] == g[0] || now[1] == exit || len(now) != 2 {
		t.Fatalf("after 24 h down: guards %v, was %v", now, g)
	}
	if p[0].ID != g[1] {
		t.Fatalf("entry %v, want the remaining guard %v", p[0].ID, g[1])
	}
}

func TestGuardsLeavingTheNetwork(t *testing.T) {
	n := newNet(t, 6)
	store := &MemGuards{}
	s := NewSelector(store, Config{Rand: seeded(4)})
	exit := n.ids[5]
	if _, err := s.Select(context.Background(), n.req(exit)); err != nil {
		t.Fatal(err)
	}
	g := guardIDs(t, store)

	// Missing from the directory but still in the network file: kept,
	// not used.
	req := n.req(exit)
	req.Directory = &directory.Directory{}
	for _, d := range n.dir.Relays {
		if d.Relay != g[0] {
			req.Directory.Relays = append(req.Directory.Relays, d)
		}
	}
	p, err := s.Select(context.Background(), req)
	if err != nil || p[0].ID != g[1] || !slices.Equal(guardIDs(t, store), g) {
		t.Fatalf("guard left out of the directory: %v, entry %v, guards %v", err, ids(p), guardIDs(t, store))
	}

	// Gone from the network file: replaced at once.
	req = n.req(exit)
	req.Network.Relays = slices.DeleteFunc(slices.Clone(n.nf.Relays), func(r directory.NetworkRelay) bool { return r.ID == g[0] })
	if _, err := s.Select(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if now := guardIDs(t, store); slices.Contains(now, g[0]) || now[0] != g[1] {
		t.Fatalf("guard left the network: guards %v, was %v", now, g)
	}
}

// TestPathProperties checks many random paths: distinct relays, the exit
// last, the entry a guard, no relay known down.
func TestPathProperties(t *testing.T) {
	n := newNet(t, 9)
	store := &MemGuards{}
	s := NewSelector(store, Config{Rand: seeded(5)})
	rnd := mrand.New(seeded(6))
	for i := range 3000 {
		req := n.req(n.ids[rnd.IntN(len(n.ids))])
		req.Hops = 2 + rnd.IntN(onion.MaxHops-1)
		down := DownMap{}
		for _, id := range n.ids {
			if id != req.Exit && rnd.IntN(6) == 0 {
				down[id] = t0.Add(-time.Duration(rnd.IntN(48)) * time.Hour)
			}
		}
		req.Health = down
		p, err := s.Select(context.Background(), req)
		if errors.Is(err, ErrNoPath) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got := ids(p)
		if len(p) != req.Hops || got[len(got)-1] != req.Exit {
			t.Fatalf("path %d: %v for %d hops to %v", i, got, req.Hops, req.Exit)
		}
		if !slices.Contains(guardIDs(t, store), got[0]) {
			t.Fatalf("path %d: entry %v is not a guard", i, got[0])
		}
		for j, id := range got {
			if _, isDown := down[id]; isDown {
				t.Fatalf("path %d: relay %v is down", i, id)
			}
			if slices.Contains(got[:j], id) {
				t.Fatalf("path %d: %v twice", i, id)
			}
		}
	}
}

// TestMiddleUniform checks the middle hop is uniform among the relays
// that are not the entry or the exit: a chi-square statistic well below
// a loose bound (6 degrees of freedom: 40 is p < 10⁻⁶).
func TestMiddleUniform(t *testing.T) {
	n := newNet(t, 9)
	s := NewSelector(&MemGuards{}, Config{Rand: seeded(7)})
	exit := n.ids[8]
	counts := map[onion.RelayID]int{}
	const draws = 7000
	var entry onion.RelayID
	for range draws {
		p, err := s.Select(context.Background(), n.req(exit))
		if err != nil {
			t.Fatal(err)
		}
		entry = p[0].ID
		counts[p[1].ID]++
	}
	if len(counts) != 7 || counts[entry] != 0 || counts[exit] != 0 {
		t.Fatalf("middles %v", counts)
	}
	want := float64(draws) / 7
	chi := 0.0
	for _, c := range counts {
		chi += (float64(c) - want) * (float64(c) - want) / want
	}
	if chi > 40 {
		t.Fatalf("chi-square %.1f over 7 middles: %v", chi, counts)
	}
}

func TestSelectErrors(t *testing.T) {
	ctx := context.Background()
	small := newNet(t, 2)
	s := NewSelector(&MemGuards{}, Config{Rand: seeded(8)})
	if _, err := s.Select(ctx, small.req(small.ids[1])); !errors.Is(err, ErrNoPath) {
		t.Fatalf("2 relays, 3 hops: %v", err)
	}
	req := small.req(small.ids[1])
	req.Hops = 2
	if p, err := s.Select(ctx, req); err != nil || len(p) != 2 || p[0].ID != small.ids[0] {
		t.Fatalf("2 relays, 2 hops: %v %v", err, p)
	}
	n := newNet(t, 5)
	for _, hops := range []int{-1, 1, onion.MaxHops + 1} {
		req := n.req(n.ids[0])
		req.Hops = hops
		if _, err := s.Select(ctx, req); !errors.Is(err, ErrHops) {
			t.Errorf("%d hops: %v", hops, err)
		}
	}
	req = n.req(n.ids[0])
	req.Hops = 6
	if _, err := s.Select(ctx, req); !errors.Is(err, ErrHops) {
		t.Errorf("6 hops: %v", err)
	}
	req = n.req(onion.RelayID{})
	if _, err := s.Select(ctx, req); !errors.Is(err, ErrUnknownExit) {
		t.Errorf("unknown exit: %v", err)
	}
	req = n.req(n.ids[0])
	req.Health = DownMap{n.ids[0]: t0}
	if _, err := s.Select(ctx, req); !errors.Is(err, ErrExitDown) {
		t.Errorf("exit down: %v", err)
	}
	req = n.req(n.ids[0])
	req.Now = t0.Add(24 * time.Hour) // every descriptor expired
	if _, err := s.Select(ctx, req); !errors.Is(err, ErrUnknownExit) {
		t.Errorf("expired directory: %v", err)
	}
	// Five relays, five hops, one middle down: too few.
	fresh := NewSelector(&MemGuards{}, Config{Rand: seeded(9)})
	req = n.req(n.ids[4])
	req.Hops = 5
	if _, err := fresh.Select(ctx, req); err != nil {
		t.Fatalf("5 of 5: %v", err)
	}
	g := guardIDs(t, fresh.store)
	for _, id := range n.ids {
		if id != req.Exit && !slices.Contains(g, id) {
			req.Health = DownMap{id: t0}
			break
		}
	}
	if _, err := fresh.Select(ctx, req); !errors.Is(err, ErrNoPath) {
		t.Fatalf("5 hops, one relay down: %v", err)
	}
}

type failingStore struct{ MemGuards }

func (*failingStore) SaveGuards(context.Context, []Guard) error { return errors.New("disk full") }

func TestGuardStoreErrors(t *testing.T) {
	n := newNet(t, 4)
	_, err := NewSelector(&failingStore{}, Config{Rand: seeded(1)}).Select(context.Background(), n.req(n.ids[0]))
	if !errors.Is(err, ErrGuardStore) {
		t.Fatalf("failing store: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewSelector(&MemGuards{}, Config{}).Select(ctx, n.req(n.ids[0])); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
}

func TestUniformRejects(t *testing.T) {
	// The first 8 bytes are above the largest multiple of 3: rejected.
	src := append(bytes.Repeat([]byte{0xff}, 8), 5, 0, 0, 0, 0, 0, 0, 0)
	i, err := uniform(bytes.NewReader(src), 3)
	if err != nil || i != 2 {
		t.Fatalf("uniform: %d, %v", i, err)
	}
	if _, err := uniform(bytes.NewReader(nil), 3); err == nil {
		t.Fatal("no randomness: no error")
	}
}

// TestCachedGuards: the store is read once, and saves go through to it.
func TestCachedGuards(t *testing.T) {
	ctx := context.Background()
	under := &countingGuards{}
	c := &CachedGuards{Store: under}
	for range 3 {
		if g, err := c.LoadGuards(ctx); err != nil || len(g) != 0 {
			t.Fatalf("load: %v %v", g, err)
		}
	}
	if under.loads != 1 {
		t.Fatalf("store read %d times, want 1", under.loads)
	}
	want := []Guard{{ID: onion.RelayID{}, Added: time.Unix(1, 0)}}
	if err := c.SaveGuards(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, _ := under.MemGuards.LoadGuards(ctx)
	if len(got) != 1 || !got[0].Added.Equal(want[0].Added) {
		t.Fatalf("store holds %v", got)
	}
	if g, _ := c.LoadGuards(ctx); len(g) != 1 || under.loads != 1 {
		t.Fatalf("cache: %v after %d loads", g, under.loads)
	}
}

type countingGuards struct {
	MemGuards
	loads int
}

func (c *countingGuards) LoadGuards(ctx context.Context) ([]Guard, error) {
	c.loads++
	return c.MemGuards.LoadGuards(ctx)
}
