// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The CLI's output rules, in one place (as age's cmd/age/tui.go):
//
//   - stdout carries the requested output only (a link, a table, a
//     conversation), so it can be piped;
//   - everything else goes to stderr, one line each, lower case, no
//     final period: "hush: error: …", "hush: warning: …", "hush: hint: …";
//   - no stack traces, no Go error chains a user cannot act on;
//   - text that came from someone else (names, messages) is printed
//     through clean, so it cannot move the cursor, recolour the terminal
//     or fake a line of output.

// usageError is a command line that does not parse: exit code 2.
type usageError struct {
	cmd *command // nil: the global command line
	msg string
}

func (e *usageError) Error() string { return e.msg }

func usageErrorf(cmd *command, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

// hinted is an error with what the user can do about it.
type hinted struct {
	err   error
	hints []string
}

func (e *hinted) Error() string { return e.err.Error() }
func (e *hinted) Unwrap() error { return e.err }

// withHint attaches hints to err.
func withHint(err error, hints ...string) error {
	return &hinted{err: err, hints: hints}
}

// report prints err the CLI's way and returns the exit code.
func report(w io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(w, "hush: error: %s\n", ue.msg)
		if ue.cmd != nil {
			fmt.Fprintf(w, "hush: hint: usage: hush %s %s\n", ue.cmd.name, ue.cmd.args)
		} else {
			fmt.Fprintln(w, "hush: hint: run \"hush help\" for usage")
		}
		return exitUsage
	}
	msg, hints := explain(err)
	fmt.Fprintf(w, "hush: error: %s\n", msg)
	for _, h := range hints {
		fmt.Fprintf(w, "hush: hint: %s\n", h)
	}
	return exitError
}

// errorMessage is the text of err for a user: the first letter lower
// case, no final period.
func errorMessage(err error) string {
	if errors.Is(err, context.Canceled) {
		return "interrupted"
	}
	s := strings.TrimSuffix(strings.TrimSpace(err.Error()), ".")
	for _, p := range pkgPrefixes {
		s = strings.TrimPrefix(s, p+": ")
		s = strings.ReplaceAll(s, ": "+p+": ", ": ")
	}
	return clean(s)
}

// pkgPrefixes start the core's error strings; the CLI's own "hush:"
// stands for them (the user did not call a package).
var pkgPrefixes = []string{"core", "invite", "keychain", "sqlstore", "relaynet", "verify", "directory", "mailbox",
	"media", "ogg", "content", "transfer", "attach", "opusenc"}

func warnf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "hush: warning: "+format+"\n", args...)
}

func hintf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "hush: hint: "+format+"\n", args...)
}

// clean makes text from elsewhere safe to print on one line: control
// characters (escape sequences, carriage returns, newlines), bidi
// controls and line separators are shown escaped, and bytes that are
// not UTF-8 as U+FFFD.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if unsafeRune(r) {
			ok = false
			break
		}
	}
	if ok && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unsafeRune(r) {
			fmt.Fprintf(&b, "\\u%04x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// cleanLines is clean for a message of several lines: each line is
// cleaned and the lines after the first are indented by indent, so no
// line of a message can pass for a line of hush's own output.
func cleanLines(s, indent string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = clean(l)
	}
	return strings.Join(lines, "\n"+indent)
}

func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) ||
		r == '\u2028' || r == '\u2029' || r == '\uFEFF'
}

// quoteArg quotes s for a POSIX shell if it needs quoting, for hints
// that show a command line.
func quoteArg(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.,:/@#+=", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(clean(s), "'", `'\''`) + "'"
}
