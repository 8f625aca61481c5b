// SPDX-License-Identifier: AGPL-3.0-or-later

package session_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"go.mau.fi/libsignal/serialize"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/internal/signallog"
	"github.com/hushchat/hush/pkg/core/session"
	"github.com/hushchat/hush/pkg/core/session/memstore"
)

// peer is one profile in a test: its store and its manager.
type peer struct {
	st *memstore.Store
	m  *session.Manager
}

func newPeer(t testing.TB) *peer {
	t.Helper()
	st, err := memstore.Generate()
	if err != nil {
		t.Fatal(err)
	}
	m, err := session.New(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	return &peer{st: st, m: m}
}

// pair sets up a session: bob initiates from alice's bundle, sends one
// prekey message, and alice decrypts it. Alice knows bob as "bob", bob
// knows alice as "alice".
func pair(t testing.TB) (alice, bob *peer) {
	t.Helper()
	ctx := context.Background()
	alice, bob = newPeer(t), newPeer(t)
	b, err := alice.m.NewBundle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := bob.m.Initiate(ctx, "alice", b); err != nil {
		t.Fatal(err)
	}
	c, err := bob.m.Encrypt(ctx, "alice", []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Type != session.TypePreKey {
		t.Fatalf("first message type = %v, want prekey message", c.Type)
	}
	pt, err := alice.m.Decrypt(ctx, "bob", c)
	if err != nil {
		t.Fatal(err)
	}
	if string(pt) != "hello" {
		t.Fatalf("alice read %q, want %q", pt, "hello")
	}
	return alice, bob
}

func TestLoggerSilenced(t *testing.T) {
	if !signallog.Installed() {
		t.Fatal("libsignal's logger is not the discarding logger")
	}
}

func TestFirstExchange(t *testing.T) {
	ctx := context.Background()
	alice, bob := pair(t)
	if n := alice.st.PreKeyCount(); n != 0 {
		t.Errorf("alice still holds %d one-time prekeys after the first message", n)
	}
	got, err := alice.m.RemoteIdentity(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(bob.m.Identity()) {
		t.Errorf("alice trusts %v for bob, want %v", got, bob.m.Identity())
	}
	c, err := alice.m.Encrypt(ctx, "bob", []byte("hi bob"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Type != session.TypeMessage {
		t.Errorf("alice's reply type = %v, want message", c.Type)
	}
	pt, err := bob.m.Decrypt(ctx, "alice", c)
	if err != nil || string(pt) != "hi bob" {
		t.Fatalf("bob read %q, %v", pt, err)
	}
	c, err = bob.m.Encrypt(ctx, "alice", []byte("again"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Type != session.TypeMessage {
		t.Errorf("bob's message after alice's reply is %v, want message", c.Type)
	}
}

type sent struct {
	c    session.Ciphertext
	text []byte
}

// TestThousandMessagesReorderedAndLost sends 1,000 messages each way in
// bursts. Within a burst messages arrive shuffled; some are lost; some
// arrive only after the other side has answered (a later ratchet step).
func TestThousandMessagesReorderedAndLost(t *testing.T) {
	ctx := context.Background()
	alice, bob := pair(t)
	rng := rand.New(rand.NewPCG(1, 2))
	peers := [2]*peer{alice, bob}
	names := [2]session.Address{"alice", "bob"}
	var late [2][]sent // held back, addressed to peers[i]
	var count, delivered, lost [2]int
	for turn := 0; count[0] < 1000 || count[1] < 1000; turn++ {
		from, to := turn%2, 1-turn%2
		var burst []sent
		for range 1 + rng.IntN(12) {
			text := fmt.Appendf(nil, "%s→%s #%d", names[from], names[to], count[from])
			c, err := peers[from].m.Encrypt(ctx, names[to], text)
			if err != nil {
				t.Fatalf("encrypt %s: %v", text, err)
			}
			count[from]++
			burst = append(burst, sent{c, text})
		}
		rng.Shuffle(len(burst), func(i, j int) { burst[i], burst[j] = burst[j], burst[i] })
		arriving := late[to]
		late[to] = nil
		for _, s := range burst {
			switch r := rng.IntN(10); {
			case r == 0:
				lost[from]++
			case r == 1:
				late[to] = append(late[to], s)
			default:
				arriving = append(arriving, s)
			}
		}
		for _, s := range arriving {
			pt, err := peers[to].m.Decrypt(ctx, names[from], s.c)
			if err != nil {
				t.Fatalf("decrypt %s: %v", s.text, err)
			}
			if !bytes.Equal(pt, s.text) {
				t.Fatalf("decrypted %q, want %q", pt, s.text)
			}
			delivered[from]++
		}
	}
	t.Logf("alice sent %d (%d lost), bob sent %d (%d lost)", count[0], lost[0], count[1], lost[1])
	if lost[0] == 0 || lost[1] == 0 {
		t.Fatal("the test lost no messages; it is not testing loss")
	}
	if delivered[0]+lost[0]+len(late[1]) != count[0] || delivered[1]+lost[1]+len(late[0]) != count[1] {
		t.Fatal("message accounting does not add up")
	}
}

func TestReplayRefused(t *testing.T) {
	ctx := context.Background()
	alice, bob := newPeer(t), newPeer(t)
	b, err := alice.m.NewBundle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := bob.m.Initiate(ctx, "alice", b); err != nil {
		t.Fatal(err)
	}
	first, _ := bob.m.Encrypt(ctx, "alice", []byte("one"))
	second, _ := bob.m.Encrypt(ctx, "alice", []byte("two"))
	for _, c := range []session.Ciphertext{first, second} {
		if _, err := alice.m.Decrypt(ctx, "bob", c); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range []session.Ciphertext{first, second, first} {
		if _, err := alice.m.Decrypt(ctx, "bob", c); !errors.Is(err, session.ErrDuplicate) {
			t.Errorf("replay %d: err = %v, want ErrDuplicate", i, err)
		}
	}
	reply, _ := alice.m.Encrypt(ctx, "bob", []byte("three"))
	if _, err := bob.m.Decrypt(ctx, "alice", reply); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.m.Decrypt(ctx, "alice", reply); !errors.Is(err, session.ErrDuplicate) {
		t.Errorf("replayed message: err = %v, want ErrDuplicate", err)
	}
}

func TestTamperedMessageChangesNothing(t *testing.T) {
	ctx := context.Background()
	alice, bob := pair(t)
	c, _ := alice.m.Encrypt(ctx, "bob", []byte("intact"))
	before, _ := bob.st.LoadSession(ctx, "alice")
	for i := range len(c.Body) * 8 {
		bad := session.Ciphertext{Type: c.Type, Body: bytes.Clone(c.Body)}
		bad.Body[i/8] ^= 1 << (i % 8)
		if pt, err := bob.m.Decrypt(ctx, "alice", bad); err == nil {
			t.Fatalf("bit %d flipped: decrypted %q", i, pt)
		}
	}
	after, _ := bob.st.LoadSession(ctx, "alice")
	if !bytes.Equal(before, after) {
		t.Fatal("a refused message changed the stored session")
	}
	pt, err := bob.m.Decrypt(ctx, "alice", c)
	if err != nil || string(pt) != "intact" {
		t.Fatalf("original after tampering: %q, %v", pt, err)
	}
}

// TestForgedFirstMessageStoresNothing flips one bit in every byte of a
// prekey message in turn: each forgery is refused and leaves no trusted
// identity, no session and the one-time prekey in place.
//
// The registration ID field is the exception: Signal's format does not
// authenticate it, and Hush does not use it for anything. Flipping it
// changes only that number (checked below); the sealed envelope around
// every message authenticates all its bytes.
func TestForgedFirstMessageStoresNothing(t *testing.T) {
	ctx := context.Background()
	alice, bob := newPeer(t), newPeer(t)
	b, _ := alice.m.NewBundle(ctx)
	if err := bob.m.Initiate(ctx, "alice", b); err != nil {
		t.Fatal(err)
	}
	c, _ := bob.m.Encrypt(ctx, "alice", []byte("first"))
	regStart, regEnd := fieldRange(t, c.Body[1:], 5)
	for i := range len(c.Body) {
		bad := session.Ciphertext{Type: c.Type, Body: bytes.Clone(c.Body)}
		bad.Body[i] ^= 1 << (i % 8)
		if i >= 1+regStart && i < 1+regEnd {
			if !onlyRegistrationIDDiffers(t, c.Body, bad.Body) {
				t.Fatalf("byte %d is in the registration ID but changed more", i)
			}
			continue
		}
		if pt, err := alice.m.Decrypt(ctx, "bob", bad); err == nil {
			t.Fatalf("byte %d flipped: decrypted %q", i, pt)
		}
		if _, err := alice.m.RemoteIdentity(ctx, "bob"); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("byte %d flipped: a trusted identity was stored (err = %v)", i, err)
		}
		if n := alice.st.PreKeyCount(); n != 1 {
			t.Fatalf("byte %d flipped: the one-time prekey was consumed", i)
		}
		if _, err := alice.st.LoadSession(ctx, "bob"); !errors.Is(err, session.ErrNotFound) {
			t.Fatalf("byte %d flipped: a session was stored (err = %v)", i, err)
		}
	}
	if pt, err := alice.m.Decrypt(ctx, "bob", c); err != nil || string(pt) != "first" {
		t.Fatalf("genuine message after forgeries: %q, %v", pt, err)
	}
}

func protowireNumber(n int) protowire.Number { return protowire.Number(n) }

// fieldRange returns the byte range of protobuf field num's value in b.
func fieldRange(t *testing.T, b []byte, num protowire.Number) (start, end int) {
	t.Helper()
	for off := 0; off < len(b); {
		n, typ, tagLen := protowire.ConsumeTag(b[off:])
		if tagLen < 0 {
			t.Fatal("bad tag in prekey message")
		}
		valLen := protowire.ConsumeFieldValue(n, typ, b[off+tagLen:])
		if valLen < 0 {
			t.Fatal("bad field in prekey message")
		}
		if n == num {
			return off + tagLen, off + tagLen + valLen
		}
		off += tagLen + valLen
	}
	t.Fatalf("field %d not in prekey message", num)
	return 0, 0
}

func onlyRegistrationIDDiffers(t *testing.T, a, b []byte) bool {
	t.Helper()
	ser := serialize.NewProtoBufSerializer()
	ma, err := ser.PreKeySignalMessage.Deserialize(a)
	if err != nil {
		t.Fatal(err)
	}
	mb, err := ser.PreKeySignalMessage.Deserialize(b)
	if err != nil {
		return false
	}
	if ma.RegistrationID == mb.RegistrationID {
		return false
	}
	mb.RegistrationID = ma.RegistrationID
	return bytes.Equal(ser.PreKeySignalMessage.Serialize(ma), ser.PreKeySignalMessage.Serialize(mb))
}

func TestIdentityChangeRefused(t *testing.T) {
	ctx := context.Background()
	alice, bob := pair(t)
	impostor := newPeer(t)
	b, _ := alice.m.NewBundle(ctx)
	if err := impostor.m.Initiate(ctx, "alice", b); err != nil {
		t.Fatal(err)
	}
	c, _ := impostor.m.Encrypt(ctx, "alice", []byte("it's me, bob"))
	if _, err := alice.m.Decrypt(ctx, "bob", c); !errors.Is(err, session.ErrIdentityChanged) {
		t.Fatalf("err = %v, want ErrIdentityChanged", err)
	}
	got, _ := alice.m.RemoteIdentity(ctx, "bob")
	if !got.Equal(bob.m.Identity()) {
		t.Fatal("the impostor's key replaced bob's")
	}
	// Bob going to a new bundle with a changed identity is refused too.
	if err := impostor.m.Initiate(ctx, "alice", b); err != nil {
		t.Fatal(err)
	}
	if err := alice.m.Initiate(ctx, "bob", mustBundle(t, impostor)); !errors.Is(err, session.ErrIdentityChanged) {
		t.Fatalf("initiate with a changed identity: err = %v, want ErrIdentityChanged", err)
	}
}

func mustBundle(t *testing.T, p *peer) session.Bundle {
	t.Helper()
	b, err := p.m.NewBundle(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBadBundle(t *testing.T) {
	ctx := context.Background()
	alice, bob := newPeer(t), newPeer(t)
	b := mustBundle(t, alice)
	other, _ := identity.Generate(nil)
	forged := b
	forged.Identity = other.Public()
	if err := bob.m.Initiate(ctx, "alice", forged); !errors.Is(err, session.ErrBadBundle) {
		t.Errorf("bundle signed by another key: err = %v, want ErrBadBundle", err)
	}
	forged = b
	forged.SignedPreKey.Signature[5] ^= 1
	if err := bob.m.Initiate(ctx, "alice", forged); !errors.Is(err, session.ErrBadBundle) {
		t.Errorf("bad signature: err = %v, want ErrBadBundle", err)
	}
	if err := bob.m.Initiate(ctx, "alice", session.Bundle{}); !errors.Is(err, session.ErrBadBundle) {
		t.Errorf("empty bundle: err = %v, want ErrBadBundle", err)
	}
	if _, err := bob.st.LoadSession(ctx, "alice"); !errors.Is(err, session.ErrNotFound) {
		t.Error("a refused bundle stored a session")
	}
}

func TestDiscardedBundleCannotStartSession(t *testing.T) {
	ctx := context.Background()
	alice, bob := newPeer(t), newPeer(t)
	b := mustBundle(t, alice)
	if err := alice.m.DiscardBundle(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := bob.m.Initiate(ctx, "alice", b); err != nil {
		t.Fatal(err)
	}
	c, _ := bob.m.Encrypt(ctx, "alice", []byte("too late"))
	if _, err := alice.m.Decrypt(ctx, "bob", c); !errors.Is(err, session.ErrDecrypt) {
		t.Fatalf("message to a discarded bundle: err = %v, want ErrDecrypt", err)
	}
}

func TestMalformed(t *testing.T) {
	ctx := context.Background()
	alice, bob := pair(t)
	good, _ := bob.m.Encrypt(ctx, "alice", []byte("x"))
	cases := map[string]session.Ciphertext{
		"empty message":        {Type: session.TypeMessage},
		"empty prekey message": {Type: session.TypePreKey},
		"unknown type":         {Type: 7, Body: good.Body},
		"version only":         {Type: session.TypeMessage, Body: good.Body[:1]},
		"truncated":            {Type: session.TypeMessage, Body: good.Body[:len(good.Body)/2]},
		"garbage":              {Type: session.TypePreKey, Body: bytes.Repeat([]byte{0x33, 0xff}, 40)},
	}
	for name, c := range cases {
		if _, err := alice.m.Decrypt(ctx, "bob", c); !errors.Is(err, session.ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	if _, err := alice.m.Decrypt(ctx, "bob", good); err != nil {
		t.Fatalf("good message after malformed ones: %v", err)
	}
}

func TestNoSession(t *testing.T) {
	ctx := context.Background()
	alice, bob := pair(t)
	if _, err := alice.m.Encrypt(ctx, "carol", []byte("x")); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("encrypt without session: err = %v", err)
	}
	c, _ := alice.m.Encrypt(ctx, "bob", []byte("x"))
	if _, err := alice.m.Decrypt(ctx, "carol", c); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("decrypt without session: err = %v", err)
	}
	_ = bob
}

func FuzzDecrypt(f *testing.F) {
	ctx := context.Background()
	alice, bob := pair(f)
	pre := newPeer(f)
	b := mustBundleF(f, alice)
	if err := pre.m.Initiate(ctx, "alice", b); err != nil {
		f.Fatal(err)
	}
	for _, from := range []*peer{bob, pre} {
		c, err := from.m.Encrypt(ctx, "alice", []byte("seed"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(c.Type), c.Body)
		for _, bit := range []int{0, 9, len(c.Body) * 4, len(c.Body)*8 - 1} {
			flipped := bytes.Clone(c.Body)
			flipped[bit/8] ^= 1 << (bit % 8)
			f.Add(uint8(c.Type), flipped)
		}
	}
	f.Fuzz(func(t *testing.T, typ uint8, body []byte) {
		c := session.Ciphertext{Type: session.MessageType(typ), Body: body}
		_, err := alice.m.Decrypt(ctx, "bob", c)
		if err != nil && !errors.Is(err, session.ErrMalformed) && !errors.Is(err, session.ErrDecrypt) &&
			!errors.Is(err, session.ErrDuplicate) && !errors.Is(err, session.ErrIdentityChanged) {
			t.Fatalf("unexpected error class: %v", err)
		}
	})
}

func mustBundleF(f *testing.F, p *peer) session.Bundle {
	b, err := p.m.NewBundle(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	return b
}
