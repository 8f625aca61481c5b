// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hushchat/hush/services/relay/devnet"
)

// TestCLI runs the hush binary the way a user does, against a loopback
// network of five relays: two profiles (passphrase path, no keychain),
// an invitation accepted, hush listen on both sides, messages sent
// through the socket hand-over, history, safety numbers, a second use
// of the invitation refused, and two sends at once on one profile.
func TestCLI(t *testing.T) {
	bin, network := startCLINet(t)
	alice := newUser(t, bin, network, "alice")
	bob := newUser(t, bin, network, "bob")

	link := strings.TrimSpace(alice.ok(t, "invite"))
	if !strings.HasPrefix(link, "hush:") {
		t.Fatalf("invite printed %q, want a hush: link", link)
	}
	if out := bob.ok(t, "accept", link); !strings.Contains(out, "added alice; waiting for alice to answer") {
		t.Errorf("accept printed %q", out)
	}

	al := alice.listen(t)
	bl := bob.listen(t)
	al.waitFor(t, "bob is now a contact")
	waitPending(t, bob, "alice")

	if out := bob.ok(t, "send", "alice", "hello", "alice"); out != "sent to alice\n" {
		t.Errorf("bob's send printed %q", out)
	}
	al.waitFor(t, "bob: hello alice")
	if out := alice.ok(t, "send", "bob", "hi bob"); out != "sent to bob\n" {
		t.Errorf("alice's send printed %q", out)
	}
	bl.waitFor(t, "alice: hi bob")
	bl.waitFor(t, "read by alice")

	hist := alice.ok(t, "history", "bob")
	if !regexp.MustCompile(`(?s)\] bob: hello alice\n.*\] me: hi bob  \((sent|delivered|read)\)\n$`).MatchString(hist) {
		t.Errorf("alice's history:\n%s", hist)
	}

	an, bn := safetyNumber(t, alice.ok(t, "verify", "bob")), safetyNumber(t, bob.ok(t, "verify", "alice"))
	if an == "" || an != bn {
		t.Errorf("safety numbers differ:\n%s\n%s", an, bn)
	}

	carol := newUser(t, bin, network, "carol")
	_, stderr, code := carol.run(t, "accept", link)
	if code != exitError || !strings.Contains(stderr, "already accepted by someone") {
		t.Errorf("a second accept: exit %d, stderr %q", code, stderr)
	}

	var wg sync.WaitGroup
	for _, text := range []string{"first at once", "second at once"} {
		wg.Go(func() {
			if out, stderr, code := alice.run(t, "send", "bob", text); code != 0 || out != "sent to bob\n" {
				t.Errorf("concurrent send %q: exit %d, %q %q", text, code, out, stderr)
			}
		})
	}
	wg.Wait()
	hist = alice.ok(t, "history", "--limit", "2", "bob")
	if !strings.Contains(hist, "me: first at once") || !strings.Contains(hist, "me: second at once") {
		t.Errorf("history after two sends at once:\n%s", hist)
	}
	bl.waitFor(t, "alice: first at once")
	bl.waitFor(t, "alice: second at once")

	al.stop(t)
	bl.stop(t)
	// With hush listen stopped, commands open the profile themselves.
	if out := alice.ok(t, "contacts"); !strings.Contains(out, "bob") {
		t.Errorf("contacts after listen stopped:\n%s", out)
	}
}

// startCLINet builds the binary under test and starts a loopback
// network of 5 relays until the test ends; it returns the binary and the
// network file.
func startCLINet(t *testing.T) (bin, network string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	bin = buildHush(t)
	nw, err := devnet.Start(ctx, devnet.Options{Relays: devnet.DefaultRelays, Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("devnet: %v", err)
	}
	t.Cleanup(func() { nw.Shutdown(context.Background()) })
	return bin, nw.FilePath
}

// buildHush builds the binary under test.
func buildHush(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hush")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type tuser struct {
	bin, dir string
	env      []string
}

// newUser makes a profile on the passphrase path.
func newUser(t *testing.T, bin, network, name string) *tuser {
	t.Helper()
	home := t.TempDir()
	u := &tuser{bin: bin, dir: filepath.Join(home, "profile"), env: append(os.Environ(),
		"HOME="+home, "HUSH_PASSPHRASE=correct horse "+name, "HUSH_PROFILE=", "DBUS_SESSION_BUS_ADDRESS=", "HUSH_LOG="+os.Getenv("TEST_HUSH_LOG"))}
	out := u.ok(t, "--network", network, "init", "--name", name, "--passphrase")
	if !strings.Contains(out, "identity ") {
		t.Fatalf("init printed %q", out)
	}
	return u
}

func (u *tuser) cmd(ctx context.Context, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, u.bin, append([]string{"--profile", u.dir}, args...)...)
	c.Env = u.env
	return c
}

// run runs hush and returns its stdout, stderr and exit code.
func (u *tuser) run(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	c := u.cmd(ctx, args...)
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("hush %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

// ok runs hush, which must succeed, and returns its stdout.
func (u *tuser) ok(t *testing.T, args ...string) string {
	t.Helper()
	out, stderr, code := u.run(t, args...)
	if code != 0 {
		t.Fatalf("hush %v: exit %d\n%s", args, code, stderr)
	}
	return out
}

// waitPending waits until contact is no longer pending for u.
func waitPending(t *testing.T, u *tuser, contact string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		out := u.ok(t, "contacts")
		for _, l := range strings.Split(out, "\n") {
			f := strings.Fields(l)
			if len(f) == 6 && f[1] == contact && f[5] == "no" {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s still pending", contact)
}

// listener is a running hush listen.
type listener struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	errs *syncBuffer
	done chan struct{}
}

func (u *tuser) listen(t *testing.T, args ...string) *listener {
	t.Helper()
	l := &listener{out: &syncBuffer{}, errs: &syncBuffer{}, done: make(chan struct{})}
	l.cmd = u.cmd(context.Background(), append([]string{"listen"}, args...)...)
	l.cmd.Stdout, l.cmd.Stderr = l.out, l.errs
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { l.cmd.Wait(); close(l.done) }()
	t.Cleanup(func() {
		l.cmd.Process.Kill()
		<-l.done
	})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(l.errs.String(), "listening as") {
		if time.Now().After(deadline) {
			t.Fatalf("hush listen did not start:\n%s", l.errs.String())
		}
		select {
		case <-l.done:
			t.Fatalf("hush listen exited:\n%s", l.errs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return l
}

func (l *listener) waitFor(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(l.out.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("hush listen never printed %q; stdout:\n%s\nstderr:\n%s", s, l.out.String(), l.errs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop interrupts hush listen, which must exit cleanly.
func (l *listener) stop(t *testing.T) {
	t.Helper()
	l.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-l.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("hush listen did not stop:\n%s", l.errs.String())
	}
	if code := l.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("hush listen exited with %d:\n%s", code, l.errs.String())
	}
}

// safetyNumber picks the 12 groups out of hush verify's output.
func safetyNumber(t *testing.T, out string) string {
	t.Helper()
	groups := regexp.MustCompile(`\b\d{5}\b`).FindAllString(out, -1)
	if len(groups) != 12 {
		t.Errorf("verify printed %d groups:\n%s", len(groups), out)
	}
	return strings.Join(groups, " ")
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
