// SPDX-License-Identifier: AGPL-3.0-or-later

package publish

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/directory"
	"github.com/hushchat/hush/services/relay/internal/metrics"
)

// fetchMap serves descriptors from a map, by relay.
type fetchMap map[onion.RelayID][]byte

func (f fetchMap) Descriptor(_ context.Context, id onion.RelayID, _ string) ([]byte, error) {
	if d, ok := f[id]; ok {
		return d, nil
	}
	return nil, errors.New("down")
}

type relayFixture struct {
	key  *directory.SigningKey
	ring *onion.KeyRing
	pub  *Publisher
}

func newFixture(t *testing.T, f Fetcher, now time.Time, period time.Duration) relayFixture {
	t.Helper()
	key, _ := directory.GenerateSigningKey(nil)
	ring, err := onion.OpenKeyRing(&onion.MemStore{}, onion.RingConfig{Period: period, Grace: period / 4}, now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ring.Close() })
	pub, err := New(Config{
		Key: key, Ring: ring, Address: "127.0.0.1:7443", Capabilities: []directory.Capability{directory.CapMailbox},
		Lifetime: 2 * time.Hour, Fetch: f, Metrics: metrics.New(false),
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	return relayFixture{key, ring, pub}
}

func TestTickRepublishesWhenKeysChange(t *testing.T) {
	now := time.Now()
	r := newFixture(t, fetchMap{}, now, time.Hour)
	first := r.pub.Descriptor()
	if err := r.pub.Tick(now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.pub.Descriptor(), first) {
		t.Fatal("descriptor re-signed although nothing changed")
	}
	later := now.Add(time.Hour + time.Minute) // the next key is current
	if err := r.pub.Tick(later); err != nil {
		t.Fatal(err)
	}
	d, err := directory.ParseDescriptor(r.pub.Descriptor(), later)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(d.Signed(), first) {
		t.Fatal("keys rotated but the descriptor was not re-signed")
	}
	hop, err := d.HopAt(later)
	if err != nil || hop.Epoch != r.ring.Keys()[len(r.ring.Keys())-2].Epoch {
		t.Fatalf("new descriptor's current key: %v %v, ring %v", hop.Epoch, err, r.ring.Keys())
	}
}

func TestTickRepublishesAtHalfLife(t *testing.T) {
	now := time.Now()
	r := newFixture(t, fetchMap{}, now, 24*time.Hour)
	first := r.pub.Descriptor()
	if err := r.pub.Tick(now.Add(61 * time.Minute)); err != nil { // lifetime 2 h
		t.Fatal(err)
	}
	if bytes.Equal(r.pub.Descriptor(), first) {
		t.Fatal("descriptor not re-signed after half its lifetime")
	}
}

func TestRefreshBuildsDirectory(t *testing.T) {
	now := time.Now()
	fetch := fetchMap{}
	a := newFixture(t, fetch, now, time.Hour)
	b := newFixture(t, fetch, now, time.Hour)
	c := newFixture(t, fetch, now, time.Hour)
	fetch[b.key.Relay()] = b.pub.Descriptor()
	fetch[c.key.Relay()] = b.pub.Descriptor() // c serves b's descriptor
	nf := directory.NetworkFile{Relays: []directory.NetworkRelay{
		{ID: a.key.Relay(), Address: "127.0.0.1:1"},
		{ID: b.key.Relay(), Address: "127.0.0.1:2"},
		{ID: c.key.Relay(), Address: "127.0.0.1:3"},
	}}
	a.pub.SetNetwork(nf)
	err := a.pub.Refresh(context.Background())
	if !errors.Is(err, ErrWrongRelay) {
		t.Fatalf("refresh: got %v, want ErrWrongRelay for c", err)
	}
	d, err := directory.ParseDirectory(a.pub.Directory(), nf, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Relays) != 2 || d.Relays[0].Relay != a.key.Relay() || d.Relays[1].Relay != b.key.Relay() {
		t.Fatalf("directory lists %d relays", len(d.Relays))
	}
	if addr, _ := a.pub.Address(c.key.Relay()); addr != "127.0.0.1:3" {
		t.Fatalf("address of c without a descriptor: %q", addr)
	}
	// A relay dropped from the network file is forgotten.
	a.pub.SetNetwork(directory.NetworkFile{Relays: nf.Relays[:1]})
	if _, ok := a.pub.Address(b.key.Relay()); ok {
		t.Fatal("relay b is still routable after leaving the network file")
	}
}

// TestNewerWithinTheSameSecond: a relay restarted after an unclean stop
// republishes, possibly within the second of its last descriptor, with
// higher epochs; that descriptor must replace the old one.
func TestNewerWithinTheSameSecond(t *testing.T) {
	at := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	desc := func(published time.Time, epochs ...onion.Epoch) *directory.Descriptor {
		d := &directory.Descriptor{Published: published}
		for _, e := range epochs {
			d.Keys = append(d.Keys, onion.KeyInfo{Epoch: e})
		}
		return d
	}
	cases := []struct {
		name     string
		d, old   *directory.Descriptor
		replaces bool
	}{
		{"later", desc(at.Add(time.Second), 1, 2), desc(at, 1, 2), true},
		{"earlier", desc(at, 3, 4), desc(at.Add(time.Second), 1, 2), false},
		{"same second, new epochs", desc(at, 3, 4), desc(at, 1, 2), true},
		{"same second, same epochs", desc(at, 1, 2), desc(at, 1, 2), false},
		{"same second, older epochs", desc(at, 1, 2), desc(at, 3, 4), false},
	}
	for _, c := range cases {
		if got := newer(c.d, c.old); got != c.replaces {
			t.Errorf("%s: newer = %v, want %v", c.name, got, c.replaces)
		}
	}
}
