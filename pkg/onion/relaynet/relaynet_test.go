// SPDX-License-Identifier: AGPL-3.0-or-later

package relaynet

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/directory"
)

func TestNewRefusesBadConfig(t *testing.T) {
	f := newFakeNet(t, 3)
	for _, c := range []struct {
		name string
		cfg  Config
		want error
	}{
		{"empty network", Config{Transport: f}, ErrNoRelays},
		{"no transport", Config{Network: f.network()}, ErrConfig},
		{"too many hops", Config{Network: f.network(), Transport: f, Hops: onion.MaxHops + 1}, ErrConfig},
		{"one hop", Config{Network: f.network(), Transport: f, Hops: 1}, ErrConfig},
		{"negative attempts", Config{Network: f.network(), Transport: f, Attempts: -1}, ErrConfig},
		{"duplicate relay", Config{Network: directory.NetworkFile{Relays: append(f.network().Relays, f.network().Relays[0])}, Transport: f}, ErrConfig},
	} {
		if _, err := New(c.cfg); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := New(Config{Transport: f}); err == nil || !strings.Contains(err.Error(), "lists no relays") {
		t.Errorf("empty network file: %v", err)
	}
}

// TestAskReachesEveryExit sends a request to each relay as the exit and
// checks the answer is the exit's, over one directory fetch.
func TestAskReachesEveryExit(t *testing.T) {
	f := newFakeNet(t, 5)
	n := f.newNet(Config{})
	if got := n.Relays(); len(got) != 0 {
		t.Fatalf("relays before any refresh: %v", got)
	}
	for i := range f.relays {
		ask(t, n, f.id(i), "hello "+f.relays[i].name)
	}
	entries, dirCalls := f.calls()
	if dirCalls != 1 || len(entries) != 5 {
		t.Fatalf("%d directory calls, %d forwards; want 1 and 5", dirCalls, len(entries))
	}
	wantDown(t, n)
	if got := n.Relays(); len(got) != 5 {
		t.Fatalf("relays: %d, want 5", len(got))
	}
}

// TestAskEntryDown: the first guard is down; the request goes through
// the second, the first is recorded down and not tried again.
func TestAskEntryDown(t *testing.T) {
	f := newFakeNet(t, 5)
	n := f.newNet(Config{}, 0, 1)
	f.set(func() { f.relays[0].down = true })
	ask(t, n, f.id(4), "one")
	wantDown(t, n, f.id(0))
	ask(t, n, f.id(4), "two")
	entries, _ := f.calls()
	if want := []onion.RelayID{f.id(0), f.id(1), f.id(1)}; !slices.Equal(entries, want) {
		t.Fatalf("entries %v, want %v", entries, want)
	}
	// After DownFor the relay is tried again; it is up now and is the
	// first guard again.
	f.set(func() { f.relays[0].down = false })
	f.advance(DownFor)
	wantDown(t, n)
	ask(t, n, f.id(4), "three")
	if entries, _ = f.calls(); entries[len(entries)-1] != f.id(0) {
		t.Fatalf("entry after the outage: %v", entries[len(entries)-1])
	}
}

// TestAskMiddleDown: with 3 relays the path is fixed, so a middle that is
// down fails the one attempt allowed, and is named.
func TestAskMiddleDown(t *testing.T) {
	f := newFakeNet(t, 3)
	n := f.newNet(Config{Attempts: 1}, 0, 1)
	f.set(func() { f.relays[1].down = true })
	_, err := n.Ask(context.Background(), f.id(2), []byte("x"))
	var he *HopError
	if !errors.As(err, &he) || he.Hop != 1 || he.Relay != f.id(1) || he.Code != onion.CodeUnreachable || he.Hops != 3 {
		t.Fatalf("error %v (%+v), want hop 1 unreachable", err, he)
	}
	if !errors.Is(err, ErrRelayDown) || errors.Is(err, ErrExitUnreachable) {
		t.Fatalf("error %v: want ErrRelayDown and not ErrExitUnreachable", err)
	}
	if want := "relaynet: relay " + f.id(1).String() + " (a middle, hop 2 of 3) could not be reached"; err.Error() != want {
		t.Fatalf("message %q, want %q", err, want)
	}
	wantDown(t, n, f.id(1))

	// Now the only possible middle is known down: no path, saying why.
	_, err = n.Ask(context.Background(), f.id(2), []byte("x"))
	if !errors.Is(err, ErrNoPath) {
		t.Fatalf("with the middle down: %v, want ErrNoPath", err)
	}
}

// TestAskRetriesAroundMiddles: two of three possible middles are down;
// every request still gets through within 3 attempts, and both end up
// recorded down.
func TestAskRetriesAroundMiddles(t *testing.T) {
	f := newFakeNet(t, 5)
	n := f.newNet(Config{}, 0, 1)
	f.set(func() { f.relays[2].down, f.relays[3].down = true, true })
	for i := 0; i < 60 && len(n.Down()) < 2; i++ {
		ask(t, n, f.id(4), "x")
	}
	wantDown(t, n, f.id(2), f.id(3))
	down := n.Down()
	if !down[f.id(2)].Equal(f.clock()) {
		t.Fatalf("down since %v, want %v", down[f.id(2)], f.clock())
	}
}

// TestAskExitDown: every path fails at the exit; the error names it and
// wraps ErrExitUnreachable, after Attempts paths.
func TestAskExitDown(t *testing.T) {
	f := newFakeNet(t, 5)
	n := f.newNet(Config{})
	if err := n.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	exit := f.id(4)
	f.set(func() { f.relays[4].down = true })
	_, err := n.Ask(context.Background(), exit, []byte("x"))
	if !errors.Is(err, ErrExitUnreachable) || !errors.Is(err, ErrRelayDown) {
		t.Fatalf("error %v, want ErrExitUnreachable", err)
	}
	var he *HopError
	if !errors.As(err, &he) || he.Relay != exit || !he.IsExit() || he.Code != onion.CodeUnreachable {
		t.Fatalf("hop error %+v, want the exit unreachable", he)
	}
	msg := err.Error()
	if !strings.Contains(msg, `"relay-4" (`+exit.String()+`) failed on 3 paths`) || !strings.Contains(msg, "(the exit, hop 3 of 3) could not be reached") {
		t.Fatalf("message %q does not name the exit", msg)
	}
	if entries, _ := f.calls(); len(entries) != DefaultAttempts {
		t.Fatalf("%d paths tried, want %d", len(entries), DefaultAttempts)
	}
	wantDown(t, n, exit)

	// The exit comes back: the next request reaches it although it is
	// recorded down, and clears it.
	f.set(func() { f.relays[4].down = false })
	ask(t, n, exit, "back")
	wantDown(t, n)
}

// TestAskFailureCodes checks whom each code blames and whether Ask
// retries.
func TestAskFailureCodes(t *testing.T) {
	t.Run("middle overloaded", func(t *testing.T) {
		f := newFakeNet(t, 3)
		n := f.newNet(Config{Attempts: 1}, 0, 1)
		f.set(func() { f.relays[1].failWith = onion.CodeOverloaded })
		_, err := n.Ask(context.Background(), f.id(2), []byte("x"))
		var he *HopError
		if !errors.As(err, &he) || he.Relay != f.id(1) || !errors.Is(err, ErrRelayOverloaded) {
			t.Fatalf("%v, want the middle overloaded", err)
		}
		wantDown(t, n, f.id(1))
	})
	t.Run("exit refuses", func(t *testing.T) {
		f := newFakeNet(t, 5)
		n := f.newNet(Config{})
		f.set(func() { f.relays[4].failWith = onion.CodeRefused })
		_, err := n.Ask(context.Background(), f.id(4), []byte("x"))
		var he *HopError
		if !errors.As(err, &he) || !he.IsExit() || !errors.Is(err, ErrRelayRefused) || errors.Is(err, ErrExitUnreachable) {
			t.Fatalf("%v, want the exit's refusal", err)
		}
		if !strings.HasSuffix(err.Error(), "refused the request") {
			t.Fatalf("message %q", err)
		}
		if entries, _ := f.calls(); len(entries) != 1 {
			t.Fatalf("%d paths tried for a refusal, want 1", len(entries))
		}
		wantDown(t, n)
	})
	t.Run("exit internal error", func(t *testing.T) {
		f := newFakeNet(t, 5)
		n := f.newNet(Config{Attempts: 2})
		f.set(func() { f.relays[4].failWith = onion.CodeInternal })
		_, err := n.Ask(context.Background(), f.id(4), []byte("x"))
		if !errors.Is(err, ErrExitUnreachable) || !strings.Contains(err.Error(), "failed on 2 paths") {
			t.Fatalf("%v, want the exit unreachable after 2 paths", err)
		}
	})
}

// TestAskRefreshesForRotatedKeys: relays moved to new onion keys (a
// restart after a crash); the packet made for the old ones is dropped,
// Ask fetches the directory again once and gets through, blaming no one.
func TestAskRefreshesForRotatedKeys(t *testing.T) {
	for _, c := range []struct {
		name    string
		rotated int
	}{{"entry", 0}, {"middle", 2}, {"exit", 4}} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeNet(t, 5)
			// Guards 0 and 1, and 1 and 3 known down: the path is 0, 2, 4.
			n := f.newNet(Config{}, 0, 1)
			if err := n.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			f.set(func() {
				f.rotate(f.relays[c.rotated])
				f.publish()
			})
			n.markDown(f.id(1), f.clock())
			n.markDown(f.id(3), f.clock())
			ask(t, n, f.id(4), "x")
			entries, dirCalls := f.calls()
			if dirCalls != 2 || len(entries) != 2 {
				t.Fatalf("%d directory calls, %d paths; want 2 and 2", dirCalls, len(entries))
			}
			wantDown(t, n, f.id(1), f.id(3))
		})
	}
}

// TestAskRefreshesStaleDirectory: after MaxDirectoryAge the directory is
// fetched again before the next path; within it, it is not.
func TestAskRefreshesStaleDirectory(t *testing.T) {
	f := newFakeNet(t, 5)
	n := f.newNet(Config{})
	ask(t, n, f.id(1), "a")
	f.advance(MaxDirectoryAge - time.Second)
	ask(t, n, f.id(1), "b")
	if _, d := f.calls(); d != 1 {
		t.Fatalf("%d directory calls before it is stale, want 1", d)
	}
	f.advance(time.Second)
	ask(t, n, f.id(1), "c")
	if _, d := f.calls(); d != 2 {
		t.Fatalf("%d directory calls once stale, want 2", d)
	}
}

// TestStaleAtFollowsDescriptors: a descriptor that expires soon makes the
// directory stale StaleMargin before, one already that close does not.
func TestStaleAtFollowsDescriptors(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	d := func(expires time.Duration) *directory.Descriptor {
		return &directory.Descriptor{Expires: now.Add(expires), Keys: []onion.KeyInfo{{End: now.Add(48 * time.Hour)}}}
	}
	for _, c := range []struct {
		name string
		dir  []*directory.Descriptor
		want time.Time
	}{
		{"far", []*directory.Descriptor{d(24 * time.Hour)}, now.Add(MaxDirectoryAge)},
		{"soon", []*directory.Descriptor{d(24 * time.Hour), d(20 * time.Minute)}, now.Add(10 * time.Minute)},
		{"already close", []*directory.Descriptor{d(5 * time.Minute)}, now.Add(MaxDirectoryAge)},
		{"key ends", []*directory.Descriptor{{Expires: now.Add(24 * time.Hour), Keys: []onion.KeyInfo{{End: now.Add(15 * time.Minute)}}}}, now.Add(5 * time.Minute)},
	} {
		if got := staleAt(&directory.Directory{Relays: c.dir}, now); !got.Equal(c.want) {
			t.Errorf("%s: stale at %v, want %v", c.name, got.Sub(now), c.want.Sub(now))
		}
	}
}

// TestRefreshUnreachable: no relay answers; the error says so on one
// line, naming every relay and what it said.
func TestRefreshUnreachable(t *testing.T) {
	f := newFakeNet(t, 3)
	n := f.newNet(Config{})
	f.set(func() {
		f.relays[0].down, f.relays[1].down = true, true
		f.relays[2].garbage = true
	})
	err := n.Refresh(context.Background())
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("refresh: %v, want ErrUnreachable", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "relaynet: no relay of the network file answered (3 tried: relay ") {
		t.Fatalf("message %q", msg)
	}
	for i, r := range f.relays {
		what := "fake: connection refused"
		if i == 2 {
			what = "directory refused: directory: directory document is malformed"
		}
		if want := `relay "` + r.name + `" (` + r.key.Relay().String() + `) at relay` + string(rune('0'+i)) + `.test:7443: ` + what; !strings.Contains(msg, want) {
			t.Errorf("message %q\ndoes not say %q", msg, want)
		}
	}
	// Ask without a directory fails the same way and tries no path.
	if _, err := n.Ask(context.Background(), f.id(0), []byte("x")); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("ask: %v, want ErrUnreachable", err)
	}
	if entries, _ := f.calls(); len(entries) != 0 {
		t.Fatalf("%d paths tried without a directory", len(entries))
	}
}

// TestRefreshKeepsOldDirectory: a stale directory whose refresh fails is
// still used.
func TestRefreshKeepsOldDirectory(t *testing.T) {
	f := newFakeNet(t, 5)
	n := f.newNet(Config{}, 0, 1)
	ask(t, n, f.id(4), "a")
	f.advance(MaxDirectoryAge)
	f.set(func() {
		for _, r := range f.relays {
			r.garbage = true
		}
	})
	ask(t, n, f.id(4), "b")
	if _, d := f.calls(); d != 1+5 {
		t.Fatalf("%d directory calls, want 6", d)
	}
	// Not again within MinRefreshGap.
	ask(t, n, f.id(4), "c")
	if _, d := f.calls(); d != 6 {
		t.Fatalf("%d directory calls, want still 6", d)
	}
}

// TestAskCancelled: a request blocked at the exit (a long-poll) returns
// ctx's error as soon as ctx is cancelled, and blames no relay.
func TestAskCancelled(t *testing.T) {
	f := newFakeNet(t, 5)
	n := f.newNet(Config{})
	if err := n.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.set(func() { f.relays[3].block = true })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := n.Ask(ctx, f.id(3), []byte("poll"))
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != context.Canceled {
			t.Fatalf("error %v, want context.Canceled itself", err)
		}
		if took := time.Since(start); took > time.Second {
			t.Fatalf("returned %v after the cancel", took)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Ask did not return after its ctx was cancelled")
	}
	wantDown(t, n)
	if _, err := n.Ask(ctx, f.id(3), []byte("x")); err != context.Canceled {
		t.Fatalf("ask with a done ctx: %v", err)
	}
}

// TestUnknownExit: an exit outside the directory is refused after one
// more refresh.
func TestUnknownExit(t *testing.T) {
	f := newFakeNet(t, 5)
	n := f.newNet(Config{})
	other := directory.NewSigningKey([32]byte{99}).Relay()
	_, err := n.Ask(context.Background(), other, []byte("x"))
	if !errors.Is(err, ErrUnknownExit) {
		t.Fatalf("%v, want ErrUnknownExit", err)
	}
	if _, d := f.calls(); d != 2 {
		t.Fatalf("%d directory calls, want 2 (one more for the unknown exit)", d)
	}
	if _, err := n.Ask(context.Background(), onion.RelayID{}, []byte("x")); !errors.Is(err, ErrUnknownExit) {
		t.Fatalf("zero exit: %v", err)
	}
}

// TestSetNetwork: a new network file is used at once and fetched with
// at the next Ask.
func TestSetNetwork(t *testing.T) {
	f := newFakeNet(t, 5)
	n := f.newNet(Config{})
	ask(t, n, f.id(4), "a")
	nf := f.network()
	nf.Relays = nf.Relays[:4]
	n.SetNetwork(nf)
	if got := n.Relays(); len(got) != 4 || slices.Contains(got, f.id(4)) {
		t.Fatalf("relays after SetNetwork: %v", got)
	}
	if _, err := n.Ask(context.Background(), f.id(4), []byte("x")); !errors.Is(err, ErrUnknownExit) {
		t.Fatalf("ask a relay that left: %v", err)
	}
	if _, d := f.calls(); d < 2 {
		t.Fatalf("%d directory calls: SetNetwork did not force a refresh", d)
	}
	ask(t, n, f.id(3), "b")
	if got := len(n.Network().Relays); got != 4 {
		t.Fatalf("network has %d relays", got)
	}
	n.SetNetwork(directory.NetworkFile{})
	if _, err := n.Ask(context.Background(), f.id(3), []byte("x")); !errors.Is(err, ErrNoRelays) {
		t.Fatalf("empty network: %v", err)
	}
}

// TestRandomRelay: uniform among the usable mailbox relays, minus those
// excluded.
func TestRandomRelay(t *testing.T) {
	f := newFakeNet(t, 5)
	f.relays[2].caps = []directory.Capability{directory.CapChunks}
	f.publish()
	n := f.newNet(Config{})
	if _, err := n.RandomRelay(); !errors.Is(err, ErrNoRelay) {
		t.Fatalf("before refresh: %v", err)
	}
	if err := n.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []onion.RelayID{f.id(0), f.id(1), f.id(3), f.id(4)}
	if got := n.Relays(); !slices.Equal(got, want) {
		t.Fatalf("relays %v, want %v", got, want)
	}
	counts := map[onion.RelayID]int{}
	for range 2000 {
		id, err := n.RandomRelay(f.id(0))
		if err != nil {
			t.Fatal(err)
		}
		counts[id]++
	}
	if len(counts) != 3 || counts[f.id(0)] != 0 || counts[f.id(2)] != 0 {
		t.Fatalf("choices %v", counts)
	}
	for id, c := range counts {
		if c < 500 || c > 830 { // 666 expected; far beyond 6 sigma
			t.Errorf("relay %s chosen %d times of 2000", id, c)
		}
	}
	if _, err := n.RandomRelay(want...); !errors.Is(err, ErrNoRelay) {
		t.Fatalf("all excluded: %v", err)
	}
}

func TestHopErrorMessages(t *testing.T) {
	id := directory.NewSigningKey([32]byte{7}).Relay()
	for _, c := range []struct {
		e    *HopError
		want string
		is   error
	}{
		{&HopError{Hop: 0, Hops: 3, Relay: id, Code: onion.CodeUnreachable, Err: errDown, by: -1}, "(the entry, hop 1 of 3) could not be reached: fake: connection refused", ErrRelayDown},
		{&HopError{Hop: 1, Hops: 3, Relay: id, Code: onion.CodeTimeout, by: 0}, "(a middle, hop 2 of 3) did not answer in time", ErrRelayDown},
		{&HopError{Hop: 2, Hops: 3, Relay: id, Code: onion.CodeRefused, by: 1}, "(the exit, hop 3 of 3) dropped the packet (not for its onion keys, or damaged)", ErrRelayRefused},
		{&HopError{Hop: 2, Hops: 3, Relay: id, Code: onion.CodeRefused, by: 2}, "(the exit, hop 3 of 3) refused the request", ErrRelayRefused},
		{&HopError{Hop: 1, Hops: 3, Relay: id, Code: onion.CodeOverloaded, by: 1}, "(a middle, hop 2 of 3) is overloaded", ErrRelayOverloaded},
		{&HopError{Hop: 1, Hops: 3, Relay: id, Code: onion.CodeInternal, by: 1}, "(a middle, hop 2 of 3) failed (internal error)", ErrRelayDown},
	} {
		want := "relaynet: relay " + id.String() + " " + c.want
		if got := c.e.Error(); got != want {
			t.Errorf("got  %q\nwant %q", got, want)
		}
		if !errors.Is(c.e, c.is) {
			t.Errorf("%v does not wrap %v", c.e, c.is)
		}
	}
}

// TestBlame: unreachable, timeout and refused name the next hop;
// overloaded and internal the hop that says so.
func TestBlame(t *testing.T) {
	hops := make([]onion.Hop, 3)
	for i := range hops {
		hops[i].ID = directory.NewSigningKey([32]byte{byte(i + 1)}).Relay()
	}
	for _, c := range []struct {
		hop  int
		code onion.Code
		want int
	}{
		{0, onion.CodeUnreachable, 1}, {1, onion.CodeTimeout, 2}, {1, onion.CodeRefused, 2},
		{1, onion.CodeOverloaded, 1}, {0, onion.CodeInternal, 0}, {2, onion.CodeInternal, 2},
		{2, onion.CodeUnreachable, 2}, // the exit has no next hop
	} {
		got := blame(hops, &onion.HopError{Hop: c.hop, Code: c.code})
		if got.Hop != c.want || got.Relay != hops[c.want].ID || got.Code != c.code {
			t.Errorf("hop %d %v: blamed %+v, want hop %d", c.hop, c.code, got, c.want)
		}
	}
}
