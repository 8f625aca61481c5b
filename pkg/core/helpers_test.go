// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

package core

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/keychain"
	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/services/relay/devnet"
)

// memKeychain is an in-memory keychain.Keychain: the keychain path of a
// profile without a Secret Service (make test-keychain runs the real one).
type memKeychain struct {
	mu   sync.Mutex
	keys map[string]keychain.Key
}

func (m *memKeychain) Get(_ context.Context, user string) (*keychain.Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[user]
	if !ok {
		return nil, keychain.ErrNotFound
	}
	return &k, nil
}

func (m *memKeychain) Set(_ context.Context, user string, k *keychain.Key) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys == nil {
		m.keys = make(map[string]keychain.Key)
	}
	m.keys[user] = *k
	return nil
}

func (m *memKeychain) Delete(_ context.Context, user string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, user)
	return nil
}

// testNet is a devnet of 5 relays on loopback for one test.
type testNet struct {
	net  *devnet.Network
	file []byte
	kc   *memKeychain
	// passphrase, if set, puts new profiles on the passphrase path (a
	// child process cannot share the in-memory keychain).
	passphrase []byte
	now        func() time.Time // the clock of new clients; nil: time.Now
}

func startNet(tb testing.TB) *testNet {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := devnet.Start(ctx, devnet.Options{Relays: 5, Dir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := n.Shutdown(ctx); err != nil {
			tb.Errorf("shut the devnet down: %v", err)
		}
	})
	file, err := os.ReadFile(n.FilePath)
	if err != nil {
		tb.Fatal(err)
	}
	return &testNet{net: n, file: file, kc: &memKeychain{}}
}

// user is one running client of a test.
type user struct {
	name   string
	dir    string
	c      *Client
	events <-chan Event
	stop   func()
}

// newUser makes a profile on tn and runs its client until the test ends.
func (tn *testNet) newUser(tb testing.TB, name string, wrap func(Network) Network) *user {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), name)
	c, _, err := InitProfile(context.Background(), tn.opts(dir, wrap), name)
	if err != nil {
		tb.Fatalf("init %s: %v", name, err)
	}
	return tn.run(tb, name, dir, c)
}

// reopen opens an existing profile and runs it.
func (tn *testNet) reopen(tb testing.TB, name, dir string, wrap func(Network) Network) *user {
	tb.Helper()
	c, _, err := OpenProfile(context.Background(), tn.opts(dir, wrap))
	if err != nil {
		tb.Fatalf("open %s: %v", name, err)
	}
	return tn.run(tb, name, dir, c)
}

func (tn *testNet) opts(dir string, wrap func(Network) Network) ProfileOptions {
	o := ProfileOptions{Dir: dir, Network: tn.file, Keychain: tn.kc}
	if tn.passphrase != nil {
		o.UsePassphrase = true
		o.Passphrase = func() ([]byte, error) { return slices.Clone(tn.passphrase), nil }
	}
	o.ReceiptDelay = 50 * time.Millisecond
	o.Now = tn.now
	if os.Getenv("HUSH_TEST_LOG") != "" {
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("profile", filepath.Base(dir))
	}
	if wrap != nil {
		o.wrapNetwork = wrap
	}
	return o
}

func (tn *testNet) run(tb testing.TB, name, dir string, c *Client) *user {
	events, unsubscribe := c.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx)
	}()
	u := &user{name: name, dir: dir, c: c, events: events}
	var once sync.Once
	u.stop = func() {
		once.Do(func() {
			cancel()
			<-done
			unsubscribe()
			if err := c.Close(); err != nil {
				tb.Errorf("close %s: %v", name, err)
			}
		})
	}
	tb.Cleanup(u.stop)
	return u
}

// await returns the first event that match accepts, failing the test
// after timeout. Events that do not match are skipped; error events are
// logged.
func (u *user) await(tb testing.TB, what string, timeout time.Duration, match func(Event) bool) Event {
	tb.Helper()
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case e, ok := <-u.events:
			if !ok {
				tb.Fatalf("%s: event stream closed while waiting for %s", u.name, what)
			}
			if e.Kind == EventError {
				tb.Logf("%s: error event: %v", u.name, e.Err)
			}
			if match(e) {
				return e
			}
		case <-t.C:
			tb.Fatalf("%s: no %s within %v", u.name, what, timeout)
		}
	}
}

func kind(k EventKind) func(Event) bool { return func(e Event) bool { return e.Kind == k } }

// receivedText matches a received text.
func receivedText(text string) func(Event) bool {
	return func(e Event) bool {
		if e.Kind != EventReceived || e.Message == nil {
			return false
		}
		t, ok := e.Message.Body.(content.Text)
		return ok && t.Text == text
	}
}

// connect makes a and b contacts through an invitation of a's and
// returns each one's contact for the other.
func connect(tb testing.TB, a, b *user) (aSeesB, bSeesA Contact) {
	tb.Helper()
	ctx := context.Background()
	inv, err := a.c.CreateInvitation(ctx, 0)
	if err != nil {
		tb.Fatalf("invite: %v", err)
	}
	bSeesA, err = b.c.AcceptInvitation(ctx, inv.Link)
	if err != nil {
		tb.Fatalf("accept: %v", err)
	}
	e := a.await(tb, "contact added", 20*time.Second, kind(EventContactAdded))
	aSeesB = e.Contact
	b.await(tb, "contact added", 20*time.Second, kind(EventContactAdded))
	return aSeesB, bSeesA
}

// flaky wraps a Network and fails every Ask while down is set.
type flaky struct {
	Network
	mu    sync.Mutex
	down  bool
	tried int
}

var errOutage = errors.New("test: network outage")

func (f *flaky) Ask(ctx context.Context, exit onion.RelayID, req []byte) ([]byte, error) {
	f.mu.Lock()
	down := f.down
	if down {
		f.tried++
	}
	f.mu.Unlock()
	if down {
		return nil, fmt.Errorf("%w (relay %s)", errOutage, exit)
	}
	return f.Network.Ask(ctx, exit, req)
}

func (f *flaky) set(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

func (f *flaky) attempts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tried
}

// envDevnetDir tells TestChildDevnet, in a child process, where to run
// its devnet.
const envDevnetDir = "HUSH_TEST_DEVNET_DIR"

// startNetChild runs a devnet of 5 relays in a child process (this test
// binary again), so that what this process measures (its heap) is the
// clients' alone. The relays stop when the test ends.
func startNetChild(tb testing.TB) *testNet {
	tb.Helper()
	dir := tb.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChildDevnet$", "-test.v")
	cmd.Env = append(os.Environ(), envDevnetDir+"="+dir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		stdin.Close() // the child shuts its relays down and exits
		if err := cmd.Wait(); err != nil {
			tb.Errorf("devnet child: %v", err)
		}
	})
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if lines.Text() == "devnet ready" {
			go io.Copy(io.Discard, stdout)
			file, err := os.ReadFile(filepath.Join(dir, devnet.NetworkFileName))
			if err != nil {
				tb.Fatal(err)
			}
			return &testNet{file: file, kc: &memKeychain{}}
		}
	}
	tb.Fatal("the devnet child ended before its relays were ready")
	return nil
}

// TestChildDevnet is the child process of startNetChild: it runs a
// devnet until its standard input closes. Run directly, it skips.
func TestChildDevnet(t *testing.T) {
	dir := os.Getenv(envDevnetDir)
	if dir == "" {
		t.Skip("the child process of startNetChild")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	n, err := devnet.Start(ctx, devnet.Options{Relays: 5, Dir: dir})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("devnet ready")
	io.Copy(io.Discard, os.Stdin)
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := n.Shutdown(ctx); err != nil {
		t.Error(err)
	}
}
