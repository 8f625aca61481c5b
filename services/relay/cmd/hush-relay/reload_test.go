// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/onion/directory"
	"github.com/hushchat/hush/services/relay/config"
)

// recorder is a networkSetter that keeps what it was given.
type recorder struct {
	mu  sync.Mutex
	got []directory.NetworkFile
}

func (r *recorder) SetNetwork(nf directory.NetworkFile) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, nf)
}

func (r *recorder) calls() []directory.NetworkFile {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]directory.NetworkFile(nil), r.got...)
}

// writeNetwork writes a valid network file of n relays at path.
func writeNetwork(t *testing.T, path string, n int) directory.NetworkFile {
	t.Helper()
	var nf directory.NetworkFile
	for i := range n {
		id := directory.NewSigningKey([32]byte{byte(i + 1)}).Relay()
		nf.Relays = append(nf.Relays, directory.NetworkRelay{ID: id, Address: "127.0.0.1:7443", Name: "r" + string(rune('a'+i))})
	}
	data, err := nf.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return nf
}

// TestReloadNetwork: a valid file replaces the network and is logged at
// Info with its relay count; a bad or missing one is logged at Error with
// the reason and changes nothing.
func TestReloadNetwork(t *testing.T) {
	path := filepath.Join(t.TempDir(), "network.toml")
	var logs lockedBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	rec := &recorder{}
	hup := make(chan os.Signal)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { watchReload(ctx, hup, path, rec, log); close(done) }()
	defer func() {
		cancel()
		<-done
	}()
	// Each reload logs one line: wait for it.
	signal := func() {
		t.Helper()
		n := strings.Count(logs.String(), "\n")
		hup <- syscall.SIGHUP
		for deadline := time.Now().Add(10 * time.Second); strings.Count(logs.String(), "\n") == n; {
			if time.Now().After(deadline) {
				t.Fatal("no reload logged")
			}
			time.Sleep(time.Millisecond)
		}
	}

	want := writeNetwork(t, path, 3)
	signal()
	calls := rec.calls()
	if len(calls) != 1 || len(calls[0].Relays) != 3 || calls[0].Relays[2] != want.Relays[2] {
		t.Fatalf("after a valid file: %+v", calls)
	}
	if !strings.Contains(logs.String(), `level=INFO msg="network file reloaded" file=`+path+" relays=3") {
		t.Fatalf("log:\n%s", logs.String())
	}

	before := len(rec.calls())
	if err := os.WriteFile(path, []byte("version = 1\n[[relay]]\nidentity = \"hushrelay:nope\"\naddress = \"x:1\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	signal()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	signal()
	if got := len(rec.calls()); got != before {
		t.Fatalf("a bad file changed the network (%d calls, want %d)", got, before)
	}
	out := logs.String()
	for _, want := range []string{
		`level=ERROR msg="network file not reloaded: keeping the previous one" file=` + path + ` err="` + path + `: directory: network file is malformed: relay 1 (\"\"): identity: onion: not a relay identity`,
		`level=ERROR msg="network file not reloaded: keeping the previous one" file=` + path + ` err="open ` + path + `: no such file or directory"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log does not say\n%s\nlog:\n%s", want, out)
		}
	}

	writeNetwork(t, path, 1)
	signal()
	calls = rec.calls()
	if len(calls) != 2 || len(calls[1].Relays) != 1 {
		t.Fatalf("after a fixed file: %+v", calls)
	}
}

// TestRunReloadsOnSIGHUP runs a real relay with runRelay and reloads its
// network file through the signal channel.
func TestRunReloadsOnSIGHUP(t *testing.T) {
	dir := loopbackDir(t)
	opts, err := loadRelay(dir)
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	opts.Log = slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	hup := make(chan os.Signal, 1)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- runRelay(ctx, dir, opts, hup, pw); pw.Close() }()
	waitAdmin(t, bufio.NewScanner(pr))
	go io.Copy(io.Discard, pr)

	writeNetwork(t, networkPath(dir, config.Defaults().NetworkFile), 4)
	hup <- syscall.SIGHUP
	waitLog(t, &logs, `msg="network file reloaded"`, "relays=4")
	if err := os.WriteFile(networkPath(dir, opts.Config.NetworkFile), []byte("garbage ="), 0o644); err != nil {
		t.Fatal(err)
	}
	hup <- syscall.SIGHUP
	waitLog(t, &logs, `level=ERROR msg="network file not reloaded: keeping the previous one"`)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not stop")
	}
}

// waitLog waits until one line of the log has every part.
func waitLog(t *testing.T, logs *lockedBuffer, parts ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(logs.String(), "\n") {
			if containsAll(line, parts) {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no log line with %q:\n%s", parts, logs.String())
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// TestLongRelayReloadsOnSIGHUP sends a real SIGHUP to the hush-relay
// binary: a bad network file is logged and the process keeps running; a
// good one is reloaded.
func TestLongRelayReloadsOnSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("long test: builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "hush-relay")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dir := loopbackDir(t)
	nfPath := networkPath(dir, config.Defaults().NetworkFile)
	cmd := exec.Command(bin, "run", "--dir", dir)
	stdout, _ := cmd.StdoutPipe()
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	admin := waitAdmin(t, bufio.NewScanner(stdout))
	go io.Copy(io.Discard, stdout)

	if err := os.WriteFile(nfPath, []byte("version = 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, &stderr, "level=ERROR", "network file not reloaded", "network file format 2 is newer")
	writeNetwork(t, nfPath, 2)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLog(t, &stderr, "level=INFO", `msg="network file reloaded"`, "relays=2")
	resp, err := http.Get(admin + "healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz after the reloads: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
	}
}
