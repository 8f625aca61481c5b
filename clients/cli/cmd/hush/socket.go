// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// The hand-over protocol. While `hush listen` runs it holds the profile
// (the store is locked to one process) and serves SocketName in the
// profile directory; every other command hands its work to it there, so
// the store, and the ratchet in it, is never open twice.
//
// One connection carries one command, as JSON lines:
//
//	→ {"v":1,"cmd":"send","args":["alice","hello"],"dir":"/home/me","stderr_tty":true}
//	← {"v":1,"stdout":"sent to alice\n","stderr":"","exit":0}
//
// The request names the command and its arguments as typed (flags
// included), the caller's working directory (relative file names are
// resolved against it) and whether the caller's stderr is a terminal.
// The answer is exactly what the command would have printed and its exit
// code.
//
// A caller that draws progress (hush send-file and its kin) says
// "progress":true; the listener may then send progress lines before the
// answer, each with "progress" set, as a transfer moves on:
//
//	→ {"v":1,"cmd":"send-file","args":["alice","big.iso"],"dir":"/home/me","progress":true}
//	← {"v":1,"progress":{"what":"big.iso","done":0,"total":4700000000}}
//	← {"v":1,"progress":{"what":"big.iso","done":30720,"total":4700000000}}
//	← {"v":1,"stdout":"sent big.iso (4.4 GiB) to alice\n","exit":0}
//
// The answer is the first line without "progress". A caller that did not
// ask never gets progress lines, and a listener that predates them
// ignores the field and just answers, so the version stays 1. A request the listener cannot take (another protocol version, a
// command that does not run remotely, a malformed line) gets an answer
// with "error" set instead. The listener cancels a command whose caller
// hangs up. Lines are at most maxRequest / maxResponse bytes.
//
// Who may connect: the socket is created 0600 in the 0700 profile
// directory, and on Linux both sides also check the other's uid with
// SO_PEERCRED (peercred_linux.go).
const (
	SocketName      = "hush.sock"
	protocolVersion = 1
	maxRequest      = 1 << 20
	maxResponse     = 64 << 20
	dialTimeout     = 2 * time.Second
)

type request struct {
	V         int      `json:"v"`
	Cmd       string   `json:"cmd"`
	Args      []string `json:"args"`
	Dir       string   `json:"dir,omitempty"`
	StderrTTY bool     `json:"stderr_tty,omitempty"`
	Progress  bool     `json:"progress,omitempty"` // the caller takes progress lines
}

type response struct {
	V        int       `json:"v"`
	Progress *progress `json:"progress,omitempty"` // set: a progress line, not the answer
	Stdout   string    `json:"stdout,omitempty"`
	Stderr   string    `json:"stderr,omitempty"`
	Exit     int       `json:"exit"`
	Error    string    `json:"error,omitempty"`
}

// progress is where a command's transfer stands: done of total bytes
// of what (a file name, for the caller to show).
type progress struct {
	What  string `json:"what"`
	Done  int64  `json:"done"`
	Total int64  `json:"total"`
}

// errNoListener: nothing answers on the socket.
var errNoListener = errors.New("no hush listen answers on the profile's socket")

// socketPath is the socket of a profile directory.
func socketPath(dir string) string { return filepath.Join(dir, SocketName) }

// dialSocket connects to the profile's hush listen, checking that it
// runs as this user.
func dialSocket(ctx context.Context, path string) (net.Conn, error) {
	if _, err := os.Lstat(path); err != nil {
		return nil, errNoListener
	}
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, errNoListener
	}
	if err := checkPeer(conn); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// call sends one request and returns the answer. It returns
// errNoListener if nobody answers on the socket.
func call(ctx context.Context, path string, req request) (response, error) {
	return callProgress(ctx, path, req, nil)
}

// callProgress is call that, if onProgress is not nil, asks for progress
// lines and gives each to onProgress before the answer comes.
func callProgress(ctx context.Context, path string, req request, onProgress func(progress)) (response, error) {
	conn, err := dialSocket(ctx, path)
	if err != nil {
		return response{}, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	req.V = protocolVersion
	req.Progress = onProgress != nil
	if err := writeLine(conn, req); err != nil {
		return response{}, fmt.Errorf("hand the command to hush listen: %w", err)
	}
	r := bufio.NewReader(conn)
	var resp response
	for {
		resp = response{}
		if err := readLine(r, maxResponse, &resp); err != nil {
			if ctx.Err() != nil {
				return response{}, ctx.Err()
			}
			return response{}, fmt.Errorf("hush listen did not answer: %w", err)
		}
		if resp.Progress == nil || resp.V != protocolVersion {
			break
		}
		if onProgress != nil {
			onProgress(*resp.Progress)
		}
	}
	if resp.V != protocolVersion {
		return response{}, withHint(fmt.Errorf("the running hush listen speaks protocol version %d, this hush %d", resp.V, protocolVersion),
			"restart hush listen with this version of hush")
	}
	if resp.Error != "" {
		return response{}, withHint(fmt.Errorf("hush listen refused the command: %s", resp.Error),
			"stop hush listen to run it here, or restart it with this version of hush")
	}
	return resp, nil
}

func writeLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// readLine reads one JSON line of at most max bytes into v.
func readLine(r *bufio.Reader, max int, v any) error {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > max {
			return fmt.Errorf("line longer than %d bytes", max)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			if errors.Is(err, io.EOF) && len(line) > 0 {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return json.Unmarshal(line, v)
}

// handler runs one request. If the caller asked for progress lines,
// progress sends one (nil otherwise).
type handler func(ctx context.Context, req request, progress func(progress)) response

// server serves the socket of a profile directory.
type server struct {
	ln     net.Listener
	path   string
	handle handler
	wg     sync.WaitGroup
}

// listenSocket creates the profile's socket, readable and writable by
// its owner only. A socket file left by a hush listen that died is
// removed, but only after checking that nobody answers on it.
func listenSocket(ctx context.Context, dir string, h handler) (*server, error) {
	path := socketPath(dir)
	if conn, err := dialSocket(ctx, path); err == nil {
		conn.Close()
		return nil, errors.New("another hush listen is already serving this profile")
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket; remove it", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("remove a stale socket: %w", err)
		}
	}
	ln, err := listenPrivate(path)
	if err != nil {
		return nil, fmt.Errorf("serve the profile's socket: %w", err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	return &server{ln: ln, path: path, handle: h}, nil
}

// serve answers connections until ctx ends, then waits for the commands
// in progress (their contexts end with ctx) and removes the socket.
func (s *server) serve(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() { s.ln.Close() })
	defer stop()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			break
		}
		s.wg.Go(func() { s.serveConn(ctx, conn) })
	}
	s.ln.Close()
	s.wg.Wait()
}

func (s *server) serveConn(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	if err := checkPeer(conn); err != nil {
		return
	}
	r := bufio.NewReader(conn)
	var req request
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := readLine(r, maxRequest, &req); err != nil {
		writeLine(conn, response{V: protocolVersion, Exit: exitError, Error: "malformed request: " + err.Error()})
		return
	}
	conn.SetReadDeadline(time.Time{})
	if req.V != protocolVersion {
		writeLine(conn, response{V: protocolVersion, Exit: exitError,
			Error: fmt.Sprintf("protocol version %d is not supported (hush listen speaks %d)", req.V, protocolVersion)})
		return
	}
	// The caller hanging up (Ctrl-C) cancels its command.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		io.Copy(io.Discard, r)
		cancel()
	}()
	var sendProgress func(progress)
	if req.Progress {
		// Called from the command's goroutine only, before the answer:
		// lines never interleave. A caller gone makes writes fail, and
		// its command is canceled (above).
		sendProgress = func(p progress) {
			conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			writeLine(conn, response{V: protocolVersion, Progress: &p})
			conn.SetWriteDeadline(time.Time{})
		}
	}
	resp := s.handle(cctx, req, sendProgress)
	resp.V, resp.Progress = protocolVersion, nil
	writeLine(conn, resp)
}
