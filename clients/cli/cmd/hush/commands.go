// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/hushchat/hush/pkg/core"
)

// env is what a command works with: an open client and where its output
// goes. The same command runs in its own process, or inside `hush
// listen` for another process (remote), with the same output.
type env struct {
	client    *core.Client
	stdout    io.Writer
	stderr    io.Writer
	dir       string // the caller's working directory, for relative file names
	stderrTTY bool   // the caller's stderr is a terminal (QR codes go there)
	remote    bool   // running inside hush listen for another process
	now       func() time.Time
	loc       *time.Location // how times are shown
	progress  progressSink   // where a transfer's progress goes; nil: nowhere
}

// path resolves a file name given on the caller's command line.
func (e *env) path(name string) string {
	if filepath.IsAbs(name) || e.dir == "" {
		return name
	}
	return filepath.Join(e.dir, name)
}

// action is a command's work, its arguments already parsed.
type action func(ctx context.Context, e *env) error

// command is one of hush's commands.
type command struct {
	name    string
	args    string // usage after the name
	summary string
	// parse checks the arguments and returns the work. Arguments are
	// parsed before the profile is opened, so a usage error costs
	// nothing; inside hush listen they are parsed again.
	parse func(cmd *command, args []string) (action, error)
	// local runs a command that needs a process of its own (init,
	// passphrase, listen); it is never handed to hush listen.
	local func(ctx context.Context, a *app, cmd *command, args []string) error
	// runClient: the client's loops must run while the work is done
	// (send waits for the outbox to be flushed).
	runClient bool
	// upload: the command queues an upload and shows its progress
	// (send-file and its kin); handed over, it asks for progress lines.
	upload bool
}

// commands is the command table, filled in by init (help refers to it).
var commands []*command

func init() {
	commands = []*command{
		{name: "init", args: "[--name NAME] [--passphrase]", summary: "make a profile", local: runInit},
		{name: "invite", args: "[--ttl DURATION] [--png FILE] [--qr]", summary: inviteHelp, parse: parseInvite},
		{name: "accept", args: "LINK", summary: "accept an invitation", parse: parseAccept},
		{name: "contacts", args: "", summary: "list contacts", parse: parseContacts},
		{name: "send", args: "[--no-wait] NAME TEXT...", summary: "send a text message", parse: parseSend, runClient: true},
		{name: "send-file", args: "[--caption TEXT] NAME PATH", summary: sendFileHelp, parse: parseSendFile, runClient: true, upload: true},
		{name: "send-image", args: "[--caption TEXT] NAME PATH", summary: sendImageHelp, parse: parseSendImage, runClient: true, upload: true},
		{name: "send-voice", args: "NAME PATH", summary: sendVoiceHelp, parse: parseSendVoice, runClient: true, upload: true},
		{name: "listen", args: "[--save-dir DIR]", summary: listenHelp, local: runListen},
		{name: "history", args: "[--limit N] [--before CURSOR] NAME", summary: historyHelp, parse: parseHistory},
		{name: "save", args: "NAME MSGID PATH", summary: saveHelp, parse: parseSave},
		{name: "pin", args: "[--off] NAME MSGID", summary: pinHelp, parse: parsePin},
		{name: "retention", args: "NAME DURATION|off", summary: retentionHelp, parse: parseRetention},
		{name: "disappearing", args: "NAME DURATION|off", summary: disappearingHelp, parse: parseDisappearing, runClient: true},
		{name: "verify", args: "[--confirm] [--scan FILE.png] [--qr] NAME", summary: "show or check a safety number", parse: parseVerify},
		{name: "block", args: "NAME", summary: "block a contact", parse: parseBlock},
		{name: "remove", args: "NAME", summary: "remove a contact and its history", parse: parseRemove},
		{name: "identity", args: "accept|reject NAME", summary: "decide on a contact's new identity key", parse: parseIdentity},
		{name: "passphrase", args: "[--new-passphrase-fd N]", summary: "change the store's passphrase", local: runPassphrase},
		{name: "help", args: "[COMMAND]", summary: "show help", local: runHelp},
	}
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// flagSet makes a command's flag set; errors are reported by the caller.
func flagSet(cmd *command) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses flags that may come before, between or after the
// positional arguments, and returns the positional ones. Everything
// after "--" is positional.
func parseFlags(cmd *command, fs *flag.FlagSet, args []string) ([]string, error) {
	var tail []string
	for i, a := range args {
		if a == "--" {
			args, tail = args[:i], args[i+1:]
			break
		}
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, flagError(cmd, err)
		}
		if args = fs.Args(); len(args) == 0 {
			return append(pos, tail...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// flagError turns the flag package's error into a usage error.
func flagError(cmd *command, err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return &helpRequest{cmd: cmd}
	}
	return usageErrorf(cmd, "%v", err)
}

// positional checks the number of positional arguments.
func positional(cmd *command, args []string, min, max int) error {
	switch {
	case len(args) < min:
		return usageErrorf(cmd, "%s: missing arguments", cmd.name)
	case max >= 0 && len(args) > max:
		return usageErrorf(cmd, "%s: too many arguments", cmd.name)
	}
	return nil
}

// findContact resolves a contact argument: a name, the start of a name,
// or #N.
func findContact(ctx context.Context, c *core.Client, name string) (core.Contact, error) {
	if strings.TrimSpace(name) == "" {
		return core.Contact{}, errors.New("empty contact name")
	}
	ct, err := c.FindContact(ctx, name)
	if err != nil {
		return core.Contact{}, err
	}
	return ct, nil
}

// helpRequest is -h or --help on a command's line: its usage is printed
// on stdout.
type helpRequest struct{ cmd *command }

func (h *helpRequest) Error() string { return "help requested" }
func (h *helpRequest) Unwrap() error { return flag.ErrHelp }

func writeHelp(w io.Writer, c *command) {
	fmt.Fprintf(w, "usage: hush %s %s\n\n%s\n", c.name, c.args, c.summary)
}

func runHelp(_ context.Context, a *app, cmd *command, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(a.stdout, usage)
		return nil
	}
	c := lookup(args[0])
	if c == nil {
		return usageErrorf(cmd, "no command %q", args[0])
	}
	writeHelp(a.stdout, c)
	return nil
}
