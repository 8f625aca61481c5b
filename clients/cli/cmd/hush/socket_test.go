// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"bufio"
	"context"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// serveTest serves h on a socket in a fresh directory until the test
// ends, and returns the directory.
func serveTest(t *testing.T, h handler) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hush-sock-") // short: socket paths are limited to ~100 bytes
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := listenSocket(ctx, dir, h)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return dir
}

func echoHandler(_ context.Context, req request, _ func(progress)) response {
	return response{Stdout: req.Cmd + " " + strings.Join(req.Args, ",") + "\n", Stderr: "from " + req.Dir, Exit: 3}
}

func TestSocketRoundTrip(t *testing.T) {
	dir := serveTest(t, echoHandler)
	fi, err := os.Stat(socketPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("socket mode %v, want 0600", perm)
	}
	resp, err := call(t.Context(), socketPath(dir), request{Cmd: "send", Args: []string{"bob", "hi there"}, Dir: "/here"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Stdout != "send bob,hi there\n" || resp.Stderr != "from /here" || resp.Exit != 3 || resp.V != protocolVersion {
		t.Errorf("response %+v", resp)
	}
}

func TestSocketVersionMismatch(t *testing.T) {
	dir := serveTest(t, echoHandler)
	conn, err := net.Dial("unix", socketPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := writeLine(conn, request{V: protocolVersion + 1, Cmd: "contacts"}); err != nil {
		t.Fatal(err)
	}
	var resp response
	if err := readLine(bufio.NewReader(conn), maxResponse, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Error == "" || !strings.Contains(resp.Error, "protocol version 2") || resp.Stdout != "" {
		t.Errorf("response %+v", resp)
	}
}

// A listener of another version answers with its own version number;
// the caller says so instead of printing what it does not understand.
func TestSocketOldListener(t *testing.T) {
	dir := serveTest(t, func(context.Context, request, func(progress)) response { return response{Stdout: "x"} })
	// The server stamps its own version; fake an old one with a raw server.
	path := socketPath(dir) + "2"
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		bufio.NewReader(conn).ReadString('\n')
		conn.Write([]byte(`{"v":0,"stdout":"x","exit":0}` + "\n"))
	}()
	_, err = call(t.Context(), path, request{Cmd: "contacts"})
	if err == nil || !strings.Contains(err.Error(), "protocol version 0") {
		t.Errorf("call: %v", err)
	}
}

func TestSocketMalformedRequest(t *testing.T) {
	dir := serveTest(t, echoHandler)
	conn, err := net.Dial("unix", socketPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("{not json\n"))
	var resp response
	if err := readLine(bufio.NewReader(conn), maxResponse, &resp); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(resp.Error, "malformed request") {
		t.Errorf("response %+v", resp)
	}
}

// Two callers at once are served at once: the second does not wait for
// the first to finish.
func TestSocketConcurrentCallers(t *testing.T) {
	var (
		mu      sync.Mutex
		arrived int
		both    = make(chan struct{})
	)
	dir := serveTest(t, func(ctx context.Context, req request, _ func(progress)) response {
		mu.Lock()
		arrived++
		if arrived == 2 {
			close(both)
		}
		mu.Unlock()
		select {
		case <-both:
			return response{Stdout: req.Args[0]}
		case <-time.After(10 * time.Second):
			return response{Exit: 1, Stderr: "alone"}
		}
	})
	var wg sync.WaitGroup
	for _, arg := range []string{"one", "two"} {
		wg.Go(func() {
			resp, err := call(t.Context(), socketPath(dir), request{Cmd: "send", Args: []string{arg}})
			if err != nil || resp.Stdout != arg || resp.Exit != 0 {
				t.Errorf("%s: %+v %v", arg, resp, err)
			}
		})
	}
	wg.Wait()
}

// A caller that hangs up cancels its command.
func TestSocketCallerHangsUp(t *testing.T) {
	canceled := make(chan struct{})
	dir := serveTest(t, func(ctx context.Context, req request, _ func(progress)) response {
		<-ctx.Done()
		close(canceled)
		return response{}
	})
	ctx, cancel := context.WithCancel(t.Context())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	if _, err := call(ctx, socketPath(dir), request{Cmd: "send"}); err == nil {
		t.Error("call survived its context")
	}
	select {
	case <-canceled:
	case <-time.After(5 * time.Second):
		t.Error("the command was not canceled")
	}
}

func TestStaleSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "hush-sock-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// A socket file nobody serves, as a killed hush listen leaves it.
	ln, err := net.Listen("unix", socketPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	if _, err := call(t.Context(), socketPath(dir), request{Cmd: "contacts"}); err != errNoListener {
		t.Fatalf("call on a stale socket: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	srv, err := listenSocket(ctx, dir, echoHandler)
	if err != nil {
		t.Fatalf("a stale socket was not replaced: %v", err)
	}
	done := make(chan struct{})
	go func() { srv.serve(ctx); close(done) }()
	// A live one is not taken over.
	if _, err := listenSocket(ctx, dir, echoHandler); err == nil || !strings.Contains(err.Error(), "already") {
		t.Errorf("second listener: %v", err)
	}
	cancel()
	<-done
	if _, err := os.Lstat(socketPath(dir)); !os.IsNotExist(err) {
		t.Errorf("socket left behind after serve returned: %v", err)
	}
}

func TestNoListener(t *testing.T) {
	if _, err := call(t.Context(), socketPath(t.TempDir()), request{Cmd: "contacts"}); err != errNoListener {
		t.Errorf("call without a listener: %v", err)
	}
}

// The hand-over runs the very command code on the listener's client and
// gives back its output and exit code.
func TestRemoteHandler(t *testing.T) {
	c := testClient(t, "alice")
	dir := serveTest(t, remoteHandler(c))
	local, _, _ := runAction(t, c, "contacts")
	resp, err := call(t.Context(), socketPath(dir), request{Cmd: "contacts"})
	if err != nil || resp.Stdout != local || resp.Exit != 0 {
		t.Errorf("contacts: %+v %v; local output %q", resp, err, local)
	}
	resp, err = call(t.Context(), socketPath(dir), request{Cmd: "history", Args: []string{"carol"}})
	if err != nil || resp.Exit != exitError || !strings.HasPrefix(resp.Stderr, "hush: error: no such contact called \"carol\"") {
		t.Errorf("history carol: %+v %v", resp, err)
	}
	for _, name := range []string{"init", "passphrase", "listen", "bogus"} {
		resp, err := call(t.Context(), socketPath(dir), request{Cmd: name})
		if err == nil || !strings.Contains(err.Error(), "refused") {
			t.Errorf("%s: %+v %v", name, resp, err)
		}
	}
}

// A caller that asks for progress gets the progress lines before the
// answer; one that does not gets the answer only.
func TestSocketProgress(t *testing.T) {
	dir := serveTest(t, func(ctx context.Context, req request, send func(progress)) response {
		if send != nil {
			for done := int64(0); done <= 100; done += 50 {
				send(progress{What: "a.bin", Done: done, Total: 100})
			}
		}
		return response{Stdout: "sent\n"}
	})
	var got []progress
	resp, err := callProgress(t.Context(), socketPath(dir), request{Cmd: "send-file"}, func(p progress) { got = append(got, p) })
	if err != nil || resp.Stdout != "sent\n" || resp.Progress != nil {
		t.Fatalf("callProgress: %+v %v", resp, err)
	}
	if len(got) != 3 || got[0] != (progress{What: "a.bin", Done: 0, Total: 100}) || got[2].Done != 100 {
		t.Errorf("progress lines: %+v", got)
	}
	resp, err = call(t.Context(), socketPath(dir), request{Cmd: "send-file"})
	if err != nil || resp.Stdout != "sent\n" {
		t.Errorf("call: %+v %v", resp, err)
	}
}

// The listener's progress lines are paced, but the first and the last
// always go.
func TestLineSinkPacing(t *testing.T) {
	var sent []progress
	l := &lineSink{send: func(p progress) { sent = append(sent, p) }}
	for done := int64(0); done <= 1000; done++ {
		l.update(progress{What: "x", Done: done, Total: 1000})
	}
	if len(sent) < 2 || len(sent) > 10 || sent[0].Done != 0 || sent[len(sent)-1].Done != 1000 {
		t.Errorf("sent %d lines: first %+v, last %+v", len(sent), sent[0], sent[len(sent)-1])
	}
}
