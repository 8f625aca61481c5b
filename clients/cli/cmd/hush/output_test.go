// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/core"
	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/invite"
	"github.com/hushchat/hush/pkg/core/keychain"
	"github.com/hushchat/hush/pkg/core/store"
	"github.com/hushchat/hush/pkg/core/store/sqlstore"
)

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"alice":               "alice",
		"héllo 👋":             "héllo 👋",
		"\x1b[2Jgotcha":       `\u001b[2Jgotcha`,
		"a\rb":                `a\u000db`,
		"line\nbreak":         `line\u000abreak`,
		"evil\u202etxt.exe":   `evil\u202etxt.exe`,
		"bad \xff utf8":       "bad \uFFFD utf8",
		"sep\u2028arator\x7f": `sep\u2028arator\u007f`,
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
	if got := cleanLines("one\ntwo\r\n[12:00:00] bob: fake", "    "); got != "one\n    two\n    [12:00:00] bob: fake" {
		t.Errorf("cleanLines = %q", got)
	}
}

func TestReport(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		want string
	}{
		{fmt.Errorf("accept the invitation: %w", invite.ErrExpired), exitError,
			"hush: error: accept the invitation: invitation has expired; ask for a new one\n"},
		{fmt.Errorf("open: %w", sqlstore.ErrWrongKey), exitError,
			"hush: error: wrong passphrase (or keychain entry): the store did not open; nothing was changed\nhush: hint: check $HUSH_PASSPHRASE or what --passphrase-fd reads\n"},
		{keychain.ErrTimeout, exitError,
			"hush: error: the OS keychain did not answer in time (is it locked?)\nhush: hint: unlock the keychain (log in to the desktop session) and try again\n"},
		{withHint(errors.New("something."), "do this"), exitError, "hush: error: something\nhush: hint: do this\n"},
		{fmt.Errorf("x: %w", core.ErrInvitationUsed), exitError,
			"hush: error: x: this invitation was already accepted by someone (it is single-use); ask for a new one\n"},
		{usageErrorf(lookup("accept"), "accept: missing arguments"), exitUsage,
			"hush: error: accept: missing arguments\nhush: hint: usage: hush accept LINK\n"},
	} {
		var buf bytes.Buffer
		if code := report(&buf, tc.err); code != tc.code || buf.String() != tc.want {
			t.Errorf("report(%v) = %d\n%s\nwant %d\n%s", tc.err, code, buf.String(), tc.code, tc.want)
		}
	}
}

func TestMessageLine(t *testing.T) {
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	in := core.Message{Direction: store.Incoming, State: store.Arrived, Body: content.Text{Text: "hi\n\x1b[1mthere"}}
	if got, want := messageLine(at, "15:04:05", "alice", in), "[15:04:05] alice: hi\n    \\u001b[1mthere"; got != want {
		t.Errorf("incoming: %q, want %q", got, want)
	}
	out := core.Message{Direction: store.Outgoing, State: store.Delivered, Body: content.Text{Text: "yo"}}
	if got, want := messageLine(at, "2006-01-02 15:04:05", "me", out), "[2026-01-02 15:04:05] me: yo  (delivered)"; got != want {
		t.Errorf("outgoing: %q, want %q", got, want)
	}
	file := core.Message{Direction: store.Incoming, Body: content.File{Attachment: content.Attachment{FileName: "a.pdf", Size: 3 << 20}}}
	if got, want := messageLine(at, "15:04:05", "bob", file), `[15:04:05] bob: [file "a.pdf", 3.0 MiB]`; got != want {
		t.Errorf("file: %q, want %q", got, want)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	c := &core.Cursor{At: time.Unix(1700000000, 123456789)}
	copy(c.ID[:], "0123456789abcdef")
	s := formatCursor(c)
	got, err := parseCursor(s)
	if err != nil || !got.At.Equal(c.At) || got.ID != c.ID {
		t.Errorf("parseCursor(%q) = %+v, %v", s, got, err)
	}
	for _, bad := range []string{"", "1.", "x.00", "1.0011", "1700000000"} {
		if _, err := parseCursor(bad); err == nil {
			t.Errorf("parseCursor(%q) succeeded", bad)
		}
	}
}

func TestSafetyNumberLayout(t *testing.T) {
	groups := strings.Fields("11111 22222 33333 44444 55555 66666 77777 88888 99999 00000 12345 67890")
	var buf bytes.Buffer
	writeSafetyNumber(&buf, "bob", groups)
	want := "safety number with bob:\n    11111 22222 33333 44444\n    55555 66666 77777 88888\n    99999 00000 12345 67890\n"
	if buf.String() != want {
		t.Errorf("got\n%s", buf.String())
	}
}

func TestQuoteArg(t *testing.T) {
	for in, want := range map[string]string{"bob": "bob", "#3": "#3", "bob (2)": "'bob (2)'", "o'neil": `'o'\''neil'`} {
		if got := quoteArg(in); got != want {
			t.Errorf("quoteArg(%q) = %q, want %q", in, got, want)
		}
	}
}
