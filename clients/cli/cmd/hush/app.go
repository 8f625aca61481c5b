// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/hushchat/hush/pkg/core"
	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/core/keychain"
	"github.com/hushchat/hush/pkg/core/store/sqlstore"
)

// app is one run of the hush command: its standard streams, environment
// and global flags.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	stdinFD        int // -1: stdin is not a file
	stderrFD       int
	lookupEnv      func(string) (string, bool)
	isTerminal     func(fd int) bool
	// readSecret reads a line from the terminal without echo.
	readSecret func(fd int) ([]byte, error)
	keychain   keychain.Keychain // nil: the OS keychain
	wd         string            // working directory

	g       globals
	secrets []func() // zero cached passphrases at exit
}

func newApp(stdin *os.File, stdout, stderr *os.File) *app {
	wd, _ := os.Getwd()
	return &app{
		stdin: stdin, stdout: stdout, stderr: stderr,
		stdinFD: int(stdin.Fd()), stderrFD: int(stderr.Fd()),
		lookupEnv: os.LookupEnv, isTerminal: term.IsTerminal,
		readSecret: term.ReadPassword, wd: wd,
	}
}

func (a *app) getenv(k string) string {
	v, _ := a.lookupEnv(k)
	return v
}

// main runs a command line and returns the exit code.
func (a *app) main(ctx context.Context, args []string) int {
	err := a.run(ctx, args)
	for _, z := range a.secrets {
		z()
	}
	var ec exitCode
	if errors.As(err, &ec) {
		return int(ec)
	}
	var help *helpRequest
	if errors.As(err, &help) {
		writeHelp(a.stdout, help.cmd)
		return exitOK
	}
	return report(a.stderr, err)
}

// exitCode ends the program with a code after the output was written
// (a command hush listen ran).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func (a *app) run(ctx context.Context, args []string) error {
	g, rest, err := parseGlobals(args, a.getenv)
	if err != nil {
		return err
	}
	a.g = g
	if len(rest) == 0 {
		return usageErrorf(nil, "no command given")
	}
	cmd := lookup(rest[0])
	if cmd == nil {
		return usageErrorf(nil, "unknown command %q", rest[0])
	}
	if cmd.local != nil {
		return cmd.local(ctx, a, cmd, rest[1:])
	}
	act, err := cmd.parse(cmd, rest[1:])
	if err != nil {
		return err
	}
	return a.dispatch(ctx, cmd, rest[1:], act)
}

// dispatch runs a command: handed to a running hush listen if there is
// one, else on the profile opened here. The socket is tried first, so
// no passphrase is asked for (or derived) when hush listen holds the
// profile; if the profile turns out locked anyway (hush listen was just
// starting), the socket is tried once more.
func (a *app) dispatch(ctx context.Context, cmd *command, args []string, act action) error {
	if done, err := a.handOver(ctx, cmd, args); done {
		return err
	}
	c, _, err := a.open(ctx)
	if errors.Is(err, sqlstore.ErrLocked) {
		if done, herr := a.handOver(ctx, cmd, args); done {
			return herr
		}
	}
	if err != nil {
		return err
	}
	defer c.Close()
	e := a.env(c)
	if !cmd.runClient {
		return act(ctx, e)
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { c.Run(runCtx) })
	defer wg.Wait()
	defer stop()
	return act(ctx, e)
}

// env is the environment of a command run in this process.
func (a *app) env(c *core.Client) *env {
	e := &env{
		client: c, stdout: a.stdout, stderr: a.stderr, dir: a.wd,
		stderrTTY: a.stderrTTY(), now: time.Now, loc: time.Local,
	}
	if e.stderrTTY {
		e.progress = newBarSink(a.stderr)
	}
	return e
}

func (a *app) stderrTTY() bool { return a.stderrFD >= 0 && a.isTerminal(a.stderrFD) }

// profileOptions are the options to open or make the profile with.
func (a *app) profileOptions(pass func() ([]byte, error)) (core.ProfileOptions, error) {
	o := core.ProfileOptions{Dir: a.g.profile, Passphrase: pass, Keychain: a.keychain}
	o.Log = a.logger()
	if v := a.getenv(EnvMaxAttachment); v != "" {
		n, err := parseSize(v)
		if err != nil {
			return o, withHint(fmt.Errorf("$%s: %q: %w", EnvMaxAttachment, v, err), "unset it for the 1 GiB default")
		}
		o.MaxAttachment = n
	}
	if a.g.network != "" {
		b, err := os.ReadFile(a.g.network)
		if err != nil {
			return o, fmt.Errorf("read the network file: %w", err)
		}
		o.Network = b
	}
	return o, nil
}

// EnvMaxAttachment sets the attachment size limit
// (core.Options.MaxAttachment; 1 GiB unless set): the largest file this
// profile sends, and the largest it downloads. A size as parseSize reads
// it: 2GiB, 300MiB, 65536.
const EnvMaxAttachment = "HUSH_MAX_ATTACHMENT"

// parseSize reads a size: a whole number of bytes, or of KiB, MiB, GiB
// or TiB (1 GiB is 1024 MiB), at most what an attachment can be.
func parseSize(s string) (int64, error) {
	num := strings.TrimRight(s, "KMGTiB")
	unit := int64(1)
	switch s[len(num):] {
	case "", "B":
	case "KiB":
		unit = 1 << 10
	case "MiB":
		unit = 1 << 20
	case "GiB":
		unit = 1 << 30
	case "TiB":
		unit = 1 << 40
	default:
		return 0, errors.New("not a size: use a whole number and KiB, MiB, GiB or TiB, as in 2GiB")
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("not a size: use a whole number above zero and KiB, MiB, GiB or TiB, as in 2GiB")
	}
	if n > attach.MaxSize/unit {
		return 0, fmt.Errorf("over the largest attachment there can be (%d bytes)", int64(attach.MaxSize))
	}
	return n * unit, nil
}

// EnvLog turns on the core's diagnostics on stderr: "debug", "info" or
// "warn". They never hold keys, message text or queue IDs.
const EnvLog = "HUSH_LOG"

// logger is the core's logger: nil (silent) unless $HUSH_LOG says a
// level.
func (a *app) logger() *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.getenv(EnvLog))); err != nil {
		return nil
	}
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
}

// open opens the profile.
func (a *app) open(ctx context.Context) (*core.Client, keychain.Source, error) {
	o, err := a.profileOptions(a.passphrase(false))
	if err != nil {
		return nil, 0, err
	}
	return core.OpenProfile(ctx, o)
}
