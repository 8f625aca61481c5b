// SPDX-License-Identifier: AGPL-3.0-or-later

package onion

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	mrand "math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// testRelay is one relay of a test network.
type testRelay struct {
	id    RelayID
	ring  *KeyRing
	store *MemStore
}

// seededRand returns a deterministic reader.
func seededRand(b byte) *mrand.ChaCha8 {
	return mrand.NewChaCha8([32]byte(bytes.Repeat([]byte{b}, 32)))
}

func newRelay(t testing.TB, seed byte, cfg RingConfig) *testRelay {
	t.Helper()
	pub := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32)).Public().(ed25519.PublicKey)
	id, err := NewRelayID(pub)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Rand == nil {
		cfg.Rand = seededRand(seed)
	}
	st := &MemStore{}
	ring, err := OpenKeyRing(st, cfg, t0)
	if err != nil {
		t.Fatal(err)
	}
	return &testRelay{id: id, ring: ring, store: st}
}

func newRelays(t testing.TB, n int) []*testRelay {
	rs := make([]*testRelay, n)
	for i := range rs {
		rs[i] = newRelay(t, byte(0x10+i), RingConfig{})
	}
	return rs
}

// hop returns the relay's current key as a path hop.
func (r *testRelay) hop() Hop {
	k := r.ring.Keys()[0]
	return Hop{ID: r.id, Key: k.Key, Epoch: k.Epoch}
}

func pathOf(rs []*testRelay) []Hop {
	p := make([]Hop, len(rs))
	for i, r := range rs {
		p[i] = r.hop()
	}
	return p
}

// carry sends pkt through rs and returns each hop's output (the last is
// nil), the exit's request and the repliers in path order.
func carry(t *testing.T, rs []*testRelay, pkt []byte) (outs [][]byte, req []byte, reps []*Replier) {
	t.Helper()
	for i, r := range rs {
		o, err := r.ring.Open(pkt)
		if err != nil {
			t.Fatalf("hop %d: %v (reason %v)", i, err, Reason(err))
		}
		reps = append(reps, o.Reply)
		if i == len(rs)-1 {
			if !o.IsExit() {
				t.Fatalf("hop %d is the last but was told to forward to %v", i, o.Next)
			}
			return append(outs, nil), o.Request, reps
		}
		if o.IsExit() || o.Next != rs[i+1].id {
			t.Fatalf("hop %d: next = %v (exit %v), want %v", i, o.Next, o.IsExit(), rs[i+1].id)
		}
		outs = append(outs, o.Packet)
		pkt = o.Packet
	}
	return outs, req, reps
}

// back wraps resp from the hop at position from back to the client.
func back(t *testing.T, reps []*Replier, from int, resp []byte) []byte {
	t.Helper()
	for i := from - 1; i >= 0; i-- {
		var err error
		if resp, err = reps[i].Relay(resp); err != nil {
			t.Fatalf("hop %d relay: %v", i, err)
		}
	}
	return resp
}

func TestRoundTripEveryLength(t *testing.T) {
	rs := newRelays(t, MaxHops)
	rnd := seededRand(1)
	for n := 1; n <= MaxHops; n++ {
		req := make([]byte, RequestCapacity-n)
		rnd.Read(req)
		pkt, opener, err := wrap(rnd, pathOf(rs[:n]), req)
		if err != nil {
			t.Fatal(err)
		}
		if len(pkt) != PacketSize {
			t.Fatalf("%d hops: packet of %d bytes", n, len(pkt))
		}
		outs, got, reps := carry(t, rs[:n], pkt)
		for i, o := range outs[:n-1] {
			if len(o) != PacketSize {
				t.Fatalf("%d hops: hop %d output is %d bytes", n, i, len(o))
			}
		}
		if !bytes.Equal(got, req) {
			t.Fatalf("%d hops: exit got a different request", n)
		}
		reply := bytes.Repeat([]byte{byte(n)}, ResponseCapacity-n)
		resp, err := reps[n-1].Reply(reply)
		if err != nil {
			t.Fatal(err)
		}
		resp = back(t, reps, n-1, resp)
		if len(resp) != PacketSize {
			t.Fatalf("response of %d bytes", len(resp))
		}
		body, err := opener.Open(resp)
		if err != nil {
			t.Fatalf("%d hops: open response: %v", n, err)
		}
		if !bytes.Equal(body, reply) {
			t.Fatalf("%d hops: client got a different reply", n)
		}
	}
}

func TestEmptyRequestAndReply(t *testing.T) {
	rs := newRelays(t, 3)
	pkt, opener, err := Wrap(pathOf(rs), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, req, reps := carry(t, rs, pkt)
	if len(req) != 0 {
		t.Fatalf("request of %d bytes, want 0", len(req))
	}
	resp, _ := reps[2].Reply(nil)
	body, err := opener.Open(back(t, reps, 2, resp))
	if err != nil || len(body) != 0 {
		t.Fatalf("Open = %d bytes, %v; want empty", len(body), err)
	}
}

// TestLengthsIndistinguishable (P1, P2): packets for 1, 3 and 5 hops have
// the same size and layout, and nothing in the routing block is left
// zero that would show how many slots are used.
func TestLengthsIndistinguishable(t *testing.T) {
	rs := newRelays(t, MaxHops)
	for _, n := range []int{1, 3, 5} {
		pkt, _, err := Wrap(pathOf(rs[:n]), []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		if len(pkt) != PacketSize || pkt[0] != Version {
			t.Fatalf("%d hops: %d bytes, version %d", n, len(pkt), pkt[0])
		}
		routing := pkt[offRouting:offPayload]
		for s := 0; s < RoutingSize; s += 16 {
			if bytes.Equal(routing[s:min(s+16, RoutingSize)], make([]byte, min(16, RoutingSize-s))) {
				t.Fatalf("%d hops: zero run in the routing block at %d", n, s)
			}
		}
		// Every hop's output: also one size, with the exit's layout.
		outs, _, _ := carry(t, rs[:n], pkt)
		for i, o := range outs[:n-1] {
			if len(o) != PacketSize || o[0] != Version {
				t.Fatalf("%d hops: hop %d output %d bytes, version %d", n, i, len(o), o[0])
			}
		}
	}
}

// TestHopOutputUnlinkable (P3): no 16-byte window of a hop's output
// appears anywhere in its input.
func TestHopOutputUnlinkable(t *testing.T) {
	rs := newRelays(t, 3)
	req := make([]byte, 1000) // mostly zero plaintext: the worst case
	pkt, _, err := Wrap(pathOf(rs), req)
	if err != nil {
		t.Fatal(err)
	}
	outs, _, _ := carry(t, rs, pkt)
	in := pkt
	for i, out := range outs[:2] {
		windows := make(map[[16]byte]bool, len(in))
		for j := 0; j+16 <= len(in); j++ {
			windows[[16]byte(in[j:j+16])] = true
		}
		for j := 0; j+16 <= len(out); j += 16 {
			if windows[[16]byte(out[j:j+16])] {
				t.Fatalf("hop %d: output bytes %d..%d appear in its input", i, j, j+16)
			}
		}
		in = out
	}
}

// TestHeaderBitFlips (P4): flipping any bit of the header at any hop gets
// the packet dropped there, with a reason, and changes nothing: the
// untouched packet still opens afterwards.
func TestHeaderBitFlips(t *testing.T) {
	rs := newRelays(t, 3)
	pkt, _, err := Wrap(pathOf(rs), []byte("request"))
	if err != nil {
		t.Fatal(err)
	}
	header := func(i int) bool { return i < offPayload || i >= offTag }
	for hop, r := range rs {
		for i := range pkt {
			if !header(i) {
				continue
			}
			for bit := range 8 {
				bad := bytes.Clone(pkt)
				bad[i] ^= 1 << bit
				if _, err := r.ring.Open(bad); err == nil || Reason(err) == DropNone || Reason(err) == DropReplay {
					t.Fatalf("hop %d: flip of byte %d bit %d: err %v, reason %v", hop, i, bit, err, Reason(err))
				}
			}
		}
		o, err := r.ring.Open(pkt)
		if err != nil {
			t.Fatalf("hop %d: the untouched packet was refused after the flips: %v", hop, err)
		}
		pkt = o.Packet
	}
}

// TestPayloadBitFlips (P4): a flipped payload bit is caught by the hop
// that receives it, whatever its position.
func TestPayloadBitFlips(t *testing.T) {
	rs := newRelays(t, 3)
	pkt, _, err := Wrap(pathOf(rs), []byte("request"))
	if err != nil {
		t.Fatal(err)
	}
	rnd := seededRand(9)
	for hop, r := range rs {
		positions := []int{offPayload, offPayload + 1, offTag - 1}
		for range 40 {
			positions = append(positions, offPayload+int(rnd.Uint64()%PayloadSize))
		}
		for _, i := range positions {
			bad := bytes.Clone(pkt)
			bad[i] ^= 1 << (rnd.Uint64() % 8)
			if _, err := r.ring.Open(bad); !errors.Is(err, ErrTampered) || Reason(err) != DropTampered {
				t.Fatalf("hop %d: payload flip at %d: %v", hop, i, err)
			}
		}
		o, err := r.ring.Open(pkt)
		if err != nil {
			t.Fatal(err)
		}
		pkt = o.Packet
	}
}

// TestReplayDropped (P5).
func TestReplayDropped(t *testing.T) {
	rs := newRelays(t, 2)
	pkt, _, err := Wrap(pathOf(rs), []byte("once"))
	if err != nil {
		t.Fatal(err)
	}
	for hop, r := range rs {
		o, err := r.ring.Open(pkt)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.ring.Open(pkt); !errors.Is(err, ErrReplay) || Reason(err) != DropReplay {
			t.Fatalf("hop %d: replay: %v", hop, err)
		}
		pkt = o.Packet
	}
}

func TestMalformedPacketsDropped(t *testing.T) {
	rs := newRelays(t, 1)
	pkt, _, err := Wrap(pathOf(rs), nil)
	if err != nil {
		t.Fatal(err)
	}
	weak := bytes.Clone(pkt)
	copy(weak[offEphemeral:offRouting], make([]byte, KeySize))
	noncanon := bytes.Clone(pkt)
	noncanon[offRouting-1] |= 0x80
	future := bytes.Clone(pkt)
	future[offEpoch] = 0x7f
	cases := []struct {
		name   string
		pkt    []byte
		reason DropReason
	}{
		{"empty", nil, DropSize},
		{"short", pkt[:PacketSize-1], DropSize},
		{"long", append(bytes.Clone(pkt), 0), DropSize},
		{"version", append([]byte{2}, pkt[1:]...), DropVersion},
		{"zero ephemeral", weak, DropWeakKey},
		{"non-canonical ephemeral", noncanon, DropWeakKey},
		{"future epoch", future, DropUnknownEpoch},
	}
	for _, c := range cases {
		if _, err := rs[0].ring.Open(c.pkt); Reason(err) != c.reason {
			t.Errorf("%s: %v (reason %v), want reason %v", c.name, err, Reason(err), c.reason)
		}
	}
}

func TestWrapRefusesBadInput(t *testing.T) {
	rs := newRelays(t, MaxHops+1)
	p := pathOf(rs)
	cases := []struct {
		name string
		path []Hop
		req  []byte
		want error
	}{
		{"no hops", nil, nil, ErrPath},
		{"too many hops", p, nil, ErrPath},
		{"relay twice", []Hop{p[0], p[1], p[0]}, nil, ErrPath},
		{"zero hop", []Hop{p[0], {}}, nil, ErrPath},
		{"request too large", p[:3], make([]byte, RequestCapacity+1), ErrTooLarge},
	}
	for _, c := range cases {
		if _, _, err := Wrap(c.path, c.req); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, _, err := wrap(bytes.NewReader(nil), p[:3], nil); err == nil {
		t.Error("Wrap with an empty random source succeeded")
	}
}

// TestResponseOnlyForItsOpener (P6): a response opens only with the
// opener of its own packet, and a flipped bit is refused.
func TestResponseOnlyForItsOpener(t *testing.T) {
	rs := newRelays(t, 3)
	pkt, opener, _ := Wrap(pathOf(rs), []byte("a"))
	_, other, _ := Wrap(pathOf(rs), []byte("b"))
	_, _, reps := carry(t, rs, pkt)
	resp, err := reps[2].Reply([]byte("reply"))
	if err != nil {
		t.Fatal(err)
	}
	resp = back(t, reps, 2, resp)
	if _, err := other.Open(resp); !errors.Is(err, ErrResponse) {
		t.Fatalf("another packet's opener: %v, want ErrResponse", err)
	}
	for _, i := range []int{0, 1, 17, PacketSize / 2, PacketSize - 1} {
		bad := bytes.Clone(resp)
		bad[i] ^= 4
		if _, err := copyOpener(opener).Open(bad); !errors.Is(err, ErrResponse) {
			t.Fatalf("flip at %d: %v, want ErrResponse", i, err)
		}
	}
	body, err := opener.Open(resp)
	if err != nil || string(body) != "reply" {
		t.Fatalf("own opener: %q, %v", body, err)
	}
	if _, err := opener.Open(resp); !errors.Is(err, ErrUsed) {
		t.Fatalf("second Open: %v, want ErrUsed", err)
	}
}

// copyOpener returns an opener with copies of o's secrets (Open erases).
func copyOpener(o *ResponseOpener) *ResponseOpener {
	c := &ResponseOpener{}
	for _, h := range o.hops {
		cp := *h
		c.hops = append(c.hops, &cp)
	}
	return c
}

// TestErrorResponses (P6): an error made by any hop reaches the client
// with its position and code.
func TestErrorResponses(t *testing.T) {
	rs := newRelays(t, 3)
	for pos := range rs {
		for _, code := range []Code{CodeUnreachable, CodeRefused, 0} {
			pkt, opener, _ := Wrap(pathOf(rs), []byte("x"))
			_, _, reps := carry(t, rs, pkt)
			resp, err := reps[pos].Fail(code)
			if err != nil {
				t.Fatal(err)
			}
			_, err = opener.Open(back(t, reps, pos, resp))
			want := code
			if want == 0 {
				want = CodeInternal
			}
			var he *HopError
			if !errors.As(err, &he) || he.Hop != pos || he.Code != want || !errors.Is(err, ErrHopFailed) {
				t.Fatalf("fail at hop %d with %v: got %v", pos, code, err)
			}
		}
	}
}

func TestReplierMisuse(t *testing.T) {
	rs := newRelays(t, 2)
	pkt, _, _ := Wrap(pathOf(rs), nil)
	_, _, reps := carry(t, rs, pkt)
	if _, err := reps[0].Reply(nil); !errors.Is(err, ErrNotExit) {
		t.Errorf("middle Reply: %v", err)
	}
	if _, err := reps[1].Relay(make([]byte, PacketSize)); !errors.Is(err, ErrExit) {
		t.Errorf("exit Relay: %v", err)
	}
	if _, err := reps[1].Reply(make([]byte, ResponseCapacity+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized reply: %v", err)
	}
	if _, err := reps[0].Relay(make([]byte, 10)); !errors.Is(err, ErrResponseSize) {
		t.Errorf("short response: %v", err)
	}
	if _, err := reps[1].Fail(CodeRefused); err != nil {
		t.Fatal(err)
	}
	if _, err := reps[1].Reply(nil); !errors.Is(err, ErrUsed) {
		t.Errorf("reply after fail: %v", err)
	}
}

func TestCapacities(t *testing.T) {
	// The mailbox layer's largest bodies plus a small header must fit.
	const envelope, chunk, smallHeader = 15360, 30720, 256
	if RequestCapacity < chunk+smallHeader || ResponseCapacity < 2*envelope+smallHeader {
		t.Fatalf("capacities %d/%d too small", RequestCapacity, ResponseCapacity)
	}
	if HeaderSize > 1536 || HeaderSize+PayloadSize != PacketSize {
		t.Fatalf("header %d, payload %d", HeaderSize, PayloadSize)
	}
}

func TestReasonAndCodeNames(t *testing.T) {
	if Reason(nil) != DropNone || Reason(errors.New("x")) != DropInternal {
		t.Error("Reason of nil or a foreign error")
	}
	seen := map[string]bool{}
	for r := DropNone; r <= DropInternal; r++ {
		if seen[r.String()] {
			t.Errorf("duplicate name %q", r)
		}
		seen[r.String()] = true
	}
	if CodeRefused.String() != "exit refused the request" || Code(200).String() != "code 200" {
		t.Errorf("code names: %q %q", CodeRefused, Code(200))
	}
}

// TestReplierConcurrentUse races Fail against Relay on one Replier: exactly
// one response may come out.
func TestReplierConcurrentUse(t *testing.T) {
	rs := newRelays(t, 2)
	for range 50 {
		pkt, _, err := Wrap(pathOf(rs), []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		o, err := rs[0].ring.Open(pkt)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var wins atomic.Int32
		for _, f := range []func() ([]byte, error){
			func() ([]byte, error) { return o.Reply.Fail(CodeTimeout) },
			func() ([]byte, error) { return o.Reply.Relay(make([]byte, PacketSize)) },
		} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := f(); err == nil {
					wins.Add(1)
				} else if !errors.Is(err, ErrUsed) {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d responses came out of one Replier", wins.Load())
		}
	}
}
