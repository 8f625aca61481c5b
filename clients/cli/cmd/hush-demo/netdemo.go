// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hushchat/hush/pkg/core"
	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/keychain"
	"github.com/hushchat/hush/services/relay/devnet"
)

// netUser is one side of the network demo: a real client on a profile.
type netUser struct {
	name   string
	dir    string
	c      *core.Client
	events <-chan core.Event
	stop   func()
}

// netDemo runs the network part: relays, profiles, invitation, messages.
type netDemo struct {
	*demo
	root       string
	passphrase []byte // nil: the OS keychain answered
	kc         keychain.Keychain
	net        *devnet.Network
	file       []byte
	users      []*netUser
}

// timed runs one step and prints how long it took.
func (d *netDemo) timed(title string, f func() error) error {
	d.begin(title)
	start := time.Now()
	if err := f(); err != nil {
		return fmt.Errorf("%s: %w", strings.ToLower(title), err)
	}
	d.say("(%s)", time.Since(start).Round(time.Millisecond))
	return nil
}

func (d *netDemo) run(ctx context.Context) (err error) {
	root, err := os.MkdirTemp("", "hush-demo-")
	if err != nil {
		return err
	}
	d.root = root
	defer func() {
		if cerr := d.cleanup(); err == nil {
			err = cerr
		}
	}()
	var alice, bob *netUser
	var link string
	var ab, ba core.Contact
	steps := []struct {
		title string
		f     func() error
	}{
		{"A network of 5 relays on loopback", func() error { return d.startNet(ctx) }},
		{"Where the store keys live", func() error { return d.chooseKeys(ctx) }},
		{"Two profiles, each an encrypted store and an identity", func() (err error) {
			if alice, err = d.newUser(ctx, "Alice"); err != nil {
				return err
			}
			bob, err = d.newUser(ctx, "Bob")
			return err
		}},
		{"Alice makes a one-time invitation (a contact-request queue on a relay)", func() (err error) {
			link, err = d.invite(ctx, alice)
			return err
		}},
		{"Bob accepts it: X3DH, his own queue, the contact request through 3 relays", func() (err error) {
			ba, err = bob.c.AcceptInvitation(ctx, link)
			if err != nil {
				return err
			}
			d.say("Bob has contact %q, waiting for her answer", ba.Name)
			e, err := alice.await(ctx, core.EventContactAdded, nil)
			if err != nil {
				return err
			}
			ab = e.Contact
			d.say("Alice got the request: contact %q %s; she answers from a fresh queue", ab.Name, ab.Identity.ShortString())
			if _, err := bob.await(ctx, core.EventContactAdded, nil); err != nil {
				return err
			}
			d.say("Bob got her answer: both sides have a queue each way, the invitation's queue is deleted")
			return nil
		}},
		{"The same invitation used by a third profile is refused by the relay", func() error {
			carol, err := d.newUser(ctx, "Carol")
			if err != nil {
				return err
			}
			_, err = carol.c.AcceptInvitation(ctx, link)
			if !errors.Is(err, core.ErrInvitationUsed) {
				return fmt.Errorf("got %v, want the invitation refused", err)
			}
			d.say("Carol: %v", err)
			return nil
		}},
		{"Messages both ways, each through fresh 3-hop onion paths", func() error { return d.converse(ctx, alice, bob, ab, ba) }},
		{"Safety numbers", func() error { return d.compare(ctx, alice, bob, ab, ba) }},
		{"A photo with GPS tags each way, through the relays' chunk stores", func() error { return d.photo(ctx, alice, bob, ab, ba) }},
		{"A 10 MiB file each way", func() error { return d.files(ctx, alice, bob, ab, ba) }},
		{"A voice clip each way", func() error { return d.voice(ctx, alice, bob, ab, ba) }},
	}
	for _, s := range steps {
		if err := d.timed(s.title, s.f); err != nil {
			return err
		}
	}
	return nil
}

func (d *netDemo) startNet(ctx context.Context) error {
	n, err := devnet.Start(ctx, devnet.Options{Dir: filepath.Join(d.root, "relays")})
	if err != nil {
		return err
	}
	d.net = n
	if d.file, err = os.ReadFile(n.FilePath); err != nil {
		return err
	}
	for _, r := range n.Relays {
		d.say("relay %s… at %s (embedded bbolt store)", r.ID().String()[:18], r.Addr())
	}
	return nil
}

// chooseKeys uses the OS keychain when a Secret Service answers, and
// otherwise the explicit passphrase path with a passphrase the demo makes
// up (and says so).
func (d *netDemo) chooseKeys(ctx context.Context) error {
	probe := keychain.OS{Timeout: 2 * time.Second}
	_, err := probe.Get(ctx, "hush-demo-probe")
	if err == nil || errors.Is(err, keychain.ErrNotFound) {
		d.kc = probe
		d.say("a Secret Service answered: each profile's store key goes into the OS keychain (removed at the end)")
		return nil
	}
	d.say("no OS keychain answered (%v)", err)
	raw := make([]byte, 12)
	rand.Read(raw)
	d.passphrase = []byte("demo-" + hex.EncodeToString(raw))
	d.say("so each profile takes the explicit passphrase path: Argon2id of a passphrase the demo chose (%s)", d.passphrase)
	return nil
}

func (d *netDemo) newUser(ctx context.Context, name string) (*netUser, error) {
	dir := filepath.Join(d.root, strings.ToLower(name))
	o := core.ProfileOptions{Dir: dir, Network: d.file, Keychain: d.kc, UsePassphrase: d.passphrase != nil}
	if d.passphrase != nil {
		o.Passphrase = func() ([]byte, error) { return bytes.Clone(d.passphrase), nil }
	}
	o.ReceiptDelay = 200 * time.Millisecond
	start := time.Now()
	c, src, err := core.InitProfile(ctx, o, name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	events, unsubscribe := c.Subscribe()
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(rctx)
	}()
	u := &netUser{name: name, dir: dir, c: c, events: events}
	u.stop = func() {
		cancel()
		<-done
		unsubscribe()
		c.Close()
	}
	d.users = append(d.users, u)
	d.say("%-5s %s, store key from the %s (%s)", name, c.Identity().ShortString(), src, time.Since(start).Round(time.Millisecond))
	return u, nil
}

func (d *netDemo) invite(ctx context.Context, alice *netUser) (string, error) {
	inv, err := alice.c.CreateInvitation(ctx, time.Hour)
	if err != nil {
		return "", err
	}
	d.say("link (%d characters): %s…%s", len(inv.Link), inv.Link[:24], inv.Link[len(inv.Link)-8:])
	d.say("expires %s", inv.Expires.UTC().Format(time.RFC3339))
	if d.showQR {
		qr, err := inv.QRTerminal()
		if err != nil {
			return "", err
		}
		fmt.Fprint(d.out, qr)
	}
	return inv.Link, nil
}

func (d *netDemo) converse(ctx context.Context, alice, bob *netUser, ab, ba core.Contact) error {
	lines := []struct {
		from, to *netUser
		contact  core.Contact
		text     string
	}{
		{alice, bob, ab, "Hi Bob! Glad you made it."},
		{bob, alice, ba, "Hi Alice. No phone number needed, nice."},
		{bob, alice, ba, "Two in a row, to move the chain on."},
		{alice, bob, ab, "Zoë says hello 🌻"},
	}
	for _, l := range lines {
		start := time.Now()
		id, err := l.from.c.SendText(ctx, l.contact.ID, l.text)
		if err != nil {
			return err
		}
		e, err := l.to.await(ctx, core.EventReceived, func(e core.Event) bool { return e.Message.ID == id })
		if err != nil {
			return err
		}
		got, _ := e.Message.Body.(content.Text)
		if got.Text != l.text {
			return fmt.Errorf("%s read %q, want %q", l.to.name, got.Text, l.text)
		}
		d.say("%-5s → %-5s %q (%s)", l.from.name, l.to.name, got.Text, time.Since(start).Round(time.Millisecond))
		if err := l.to.c.MarkRead(ctx, e.Contact.ID, id); err != nil {
			return err
		}
		if _, err := l.from.await(ctx, core.EventRead, func(e core.Event) bool { return len(e.MessageIDs) > 0 && e.MessageIDs[0] == id }); err != nil {
			return err
		}
	}
	d.say("each message came back as delivered, then read")
	h, err := alice.c.History(ctx, ab.ID, nil, 10)
	if err != nil {
		return err
	}
	d.say("Alice's history holds %d messages, newest: %q", len(h), h[0].Body.(content.Text).Text)
	return nil
}

func (d *netDemo) compare(ctx context.Context, alice, bob *netUser, ab, ba core.Contact) error {
	an, err := alice.c.SafetyNumber(ctx, ab.ID)
	if err != nil {
		return err
	}
	bn, err := bob.c.SafetyNumber(ctx, ba.ID)
	if err != nil {
		return err
	}
	payload, err := d.showAndScan(an, bn)
	if err != nil {
		return err
	}
	if err := alice.c.Verify(ctx, ab.ID, payload); err != nil {
		return err
	}
	d.say("Alice scanned Bob's QR code: Bob is verified in her contacts")
	return nil
}

// await returns the next event of kind k that match accepts (nil: any).
func (u *netUser) await(ctx context.Context, k core.EventKind, match func(core.Event) bool) (core.Event, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		select {
		case e, ok := <-u.events:
			if !ok {
				return core.Event{}, fmt.Errorf("%s: the client stopped", u.name)
			}
			if e.Kind == core.EventFailed {
				return core.Event{}, fmt.Errorf("%s: %w", u.name, e.Err)
			}
			if e.Kind == k && (match == nil || match(e)) {
				return e, nil
			}
		case <-ctx.Done():
			return core.Event{}, fmt.Errorf("%s: no %s event within 30 s", u.name, k)
		}
	}
}

// cleanup stops the clients and relays, removes the keychain entries the
// demo made and the temporary directory.
func (d *netDemo) cleanup() error {
	var errs []error
	for _, u := range d.users {
		u.stop()
		if d.kc != nil {
			if user, err := keychain.ProfileUser(u.dir); err == nil {
				if err := d.kc.Delete(context.Background(), user); err != nil && !errors.Is(err, keychain.ErrNotFound) {
					errs = append(errs, err)
				}
			}
		}
	}
	if d.net != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		errs = append(errs, d.net.Shutdown(ctx))
	}
	errs = append(errs, os.RemoveAll(d.root))
	return errors.Join(errs...)
}
