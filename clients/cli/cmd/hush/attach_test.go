// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/core"
	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/media"
	"github.com/hushchat/hush/pkg/core/store"
	"github.com/hushchat/hush/pkg/onion"
)

// idOf returns a message ID whose hex starts with prefix.
func idOf(t *testing.T, prefix string) content.ID {
	t.Helper()
	var id content.ID
	s := prefix + strings.Repeat("0", 2*content.IDSize-len(prefix))
	for i := range id {
		var b byte
		for _, c := range s[2*i : 2*i+2] {
			b = b<<4 | byte(strings.IndexRune("0123456789abcdef", c))
		}
		id[i] = b
	}
	return id
}

// addMessage stores a message of contact #1 as if it had been sent or
// received at at.
func addMessage(t *testing.T, st store.Store, id content.ID, dir store.Direction, at time.Time, body content.Body) {
	t.Helper()
	pt, err := content.Marshal(content.Message{ID: id, SentAt: at, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	m := store.Message{ID: id, Contact: 1, Direction: dir, SentAt: at, Kind: store.KindOther, Body: pt, State: store.Sent}
	switch body.(type) {
	case content.Text:
		m.Kind = store.KindText
	case content.File:
		m.Kind = store.KindFile
	}
	if dir == store.Incoming {
		m.ReceivedAt, m.State = at, store.Arrived
	}
	if err := st.AddMessage(t.Context(), m); err != nil {
		t.Fatal(err)
	}
}

// fileBody is a file message's body, pointing to nothing real.
func fileBody(t *testing.T, name string, size int64) content.File {
	t.Helper()
	key, err := attach.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	relay, err := onion.NewRelayID(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return content.File{Attachment: content.Attachment{Key: key, Size: size, FileName: name, MIMEType: "application/pdf",
		Relays: []onion.RelayID{relay}}, Caption: "the report"}
}

func TestHistoryLines(t *testing.T) {
	c, st := testClientStore(t, "alice")
	ctx := t.Context()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	addMessage(t, st, idOf(t, "a1a1a1a1"), store.Incoming, at, content.Text{Text: "keep this"})
	if err := st.SetPinned(ctx, 1, idOf(t, "a1a1a1a1"), true); err != nil {
		t.Fatal(err)
	}
	addMessage(t, st, idOf(t, "b2b2b2b2"), store.Outgoing, at.Add(time.Second), content.DisappearingTimer{After: time.Hour})
	addMessage(t, st, idOf(t, "c3c3c3c3"), store.Incoming, at.Add(2*time.Second), content.DisappearingTimer{})
	addMessage(t, st, idOf(t, "d4d4d4d4"), store.Incoming, at.Add(3*time.Second), fileBody(t, "report.pdf", 3<<20))
	if err := st.AddAttachment(ctx, store.Attachment{Contact: 1, Message: idOf(t, "d4d4d4d4"), Direction: store.Incoming,
		State: store.Downloading, File: "x.chunks"}); err != nil {
		t.Fatal(err)
	}
	addMessage(t, st, idOf(t, "e5e5e5e5"), store.Incoming, at.Add(4*time.Second), content.DisappearingTimer{After: 30 * day})
	out, _, err := runAction(t, c, "history", "alice")
	if err != nil {
		t.Fatal(err)
	}
	want := `a1a1a1a1 [2026-01-02 03:04:05] alice: keep this  [pinned]
b2b2b2b2 [2026-01-02 03:04:06] you set disappearing messages to 1h
c3c3c3c3 [2026-01-02 03:04:07] alice turned disappearing messages off
d4d4d4d4 [2026-01-02 03:04:08] alice: [file "report.pdf", 3.0 MiB, downloading] the report
e5e5e5e5 [2026-01-02 03:04:09] alice set disappearing messages to 30d
`
	if out != want {
		t.Errorf("history:\n%s\nwant\n%s", out, want)
	}
}

func TestPinByPrefix(t *testing.T) {
	c, st := testClientStore(t, "alice")
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, p := range []string{"abcdef01", "abcdef02", "12345678"} {
		addMessage(t, st, idOf(t, p), store.Incoming, at.Add(time.Duration(i)*time.Second), content.Text{Text: p})
	}
	out, _, err := runAction(t, c, "pin", "alice", "ABCDEF01")
	if err != nil || out != "pinned message abcdef01 with alice: retention keeps it\n" {
		t.Errorf("pin: %q, %v", out, err)
	}
	if out, _, err = runAction(t, c, "pin", "--off", "alice", "123456"); err != nil || out != "unpinned message 12345678 with alice\n" {
		t.Errorf("pin --off: %q, %v", out, err)
	}
	list, err := c.History(t.Context(), 1, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if m.Pinned != (m.ID == idOf(t, "abcdef01")) {
			t.Errorf("%s pinned: %v", m.ID, m.Pinned)
		}
	}
	for prefix, want := range map[string]string{
		"abcdef":   "hush: error: several messages with alice have an ID starting with abcdef\nhush: hint: give more characters",
		"abcdef03": "hush: error: no message with alice has an ID starting with abcdef03\nhush: hint: \"hush history alice\" shows",
	} {
		_, _, err := runAction(t, c, "pin", "alice", prefix)
		var buf bytes.Buffer
		if code := report(&buf, err); code != exitError || !strings.HasPrefix(buf.String(), want) {
			t.Errorf("pin %s: exit %d\n%s", prefix, code, buf.String())
		}
	}
}

// findMessage pages through a long history.
func TestFindMessageOlderPages(t *testing.T) {
	c, st := testClientStore(t, "alice")
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range historyPage + 10 {
		id := idOf(t, "ffff")
		id[14], id[15] = byte(i>>8), byte(i)
		addMessage(t, st, id, store.Incoming, at.Add(time.Duration(i)*time.Second), content.Text{Text: "x"})
	}
	addMessage(t, st, idOf(t, "0123456789"), store.Incoming, at.Add(-time.Hour), content.Text{Text: "oldest"})
	ct, err := c.FindContact(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	m, err := findMessage(t.Context(), c, ct, "012345")
	if err != nil || m.Body.(content.Text).Text != "oldest" {
		t.Errorf("findMessage: %+v, %v", m, err)
	}
}

func TestSaveRefuses(t *testing.T) {
	c, st := testClientStore(t, "alice")
	ctx := t.Context()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	addMessage(t, st, idOf(t, "d4d4d4d4"), store.Incoming, at, fileBody(t, "report.pdf", 100))
	if err := st.AddAttachment(ctx, store.Attachment{Contact: 1, Message: idOf(t, "d4d4d4d4"), Direction: store.Incoming,
		State: store.Downloading, File: "x.chunks"}); err != nil {
		t.Fatal(err)
	}
	addMessage(t, st, idOf(t, "a1a1a1a1"), store.Incoming, at, content.Text{Text: "no file here"})
	dir := t.TempDir()
	existing := filepath.Join(dir, "taken.pdf")
	os.WriteFile(existing, []byte("mine"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"save", "alice", "d4d4d4", existing}, "hush: error: " + existing + " exists; hush never overwrites a file\nhush: hint: give a new file name"},
		{[]string{"save", "alice", "d4d4d4", filepath.Join(dir, "new.pdf")}, "hush: error: the attachment is not downloaded (still downloading)\nhush: hint:"},
		{[]string{"save", "alice", "d4d4d4", filepath.Join(dir, "nodir", "new.pdf")}, "hush: error: " + filepath.Join(dir, "nodir") + ": no such directory\n"},
		{[]string{"save", "alice", "a1a1a1", filepath.Join(dir, "new.pdf")}, "hush: error: that message has no attachment\n"},
	} {
		_, _, err := runAction(t, c, tc.args...)
		var buf bytes.Buffer
		if code := report(&buf, err); code != exitError || !strings.HasPrefix(buf.String(), tc.want) {
			t.Errorf("%q: exit %d\n%s\nwant\n%s", tc.args, code, buf.String(), tc.want)
		}
	}
	if b, _ := os.ReadFile(existing); string(b) != "mine" {
		t.Errorf("the existing file holds %q", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "new.pdf")); err == nil {
		t.Error("something was saved")
	}
}

func TestSendFileErrors(t *testing.T) {
	c := testClient(t, "alice")
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("not a picture"), 0o600)
	unreadable := filepath.Join(dir, "secret")
	os.WriteFile(unreadable, []byte("x"), 0o000)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"send-file", "alice", filepath.Join(dir, "missing.bin")}, "hush: error: " + filepath.Join(dir, "missing.bin") + ": no such file\n"},
		{[]string{"send-file", "alice", dir}, "hush: error: " + dir + " is a directory\nhush: hint: send one file"},
		{[]string{"send-image", "alice", text}, "hush: error: " + text + ": unsupported format"},
		{[]string{"send-voice", "alice", text}, "hush: error: " + text + ": unsupported format"},
		{[]string{"send-file", "carol", text}, "hush: error: no such contact"},
	} {
		_, _, err := runAction(t, c, tc.args...)
		var buf bytes.Buffer
		if code := report(&buf, err); code != exitError || !strings.HasPrefix(buf.String(), tc.want) {
			t.Errorf("%q: exit %d\n%s\nwant\n%s", tc.args, code, buf.String(), tc.want)
		}
		if tc.args[0] != "send-file" && strings.HasPrefix(tc.args[1], "alice") {
			if !errors.Is(err, media.ErrUnsupported) || !strings.Contains(buf.String(), "hush: hint: "+tc.args[0]+" takes") {
				t.Errorf("%q: no hint on formats: %v\n%s", tc.args, err, buf.String())
			}
		}
	}
	if os.Getuid() != 0 { // root reads anything
		_, _, err := runAction(t, c, "send-file", "alice", unreadable)
		if err == nil || err.Error() != unreadable+": permission denied" {
			t.Errorf("unreadable: %v", err)
		}
	}
}

func TestMessageLineAttachments(t *testing.T) {
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		body content.Body
		want string
	}{
		{content.Image{Attachment: content.Attachment{FileName: "p.jpg", Size: 52 << 10}, Width: 640, Height: 480, Caption: "look"},
			`[15:04:05] bob: [image "p.jpg", 640x480, 52.0 KiB] look`},
		{content.File{Attachment: content.Attachment{Size: 10}},
			`[15:04:05] bob: [file, 10 B]`},
		{content.VoiceClip{Attachment: content.Attachment{FileName: "memo.ogg", Size: 5 << 10}, Duration: 83 * time.Second},
			`[15:04:05] bob: [voice clip "memo.ogg", 1:23, 5.0 KiB]`},
		{content.File{Attachment: content.Attachment{FileName: "x\u202egpj.exe", Size: 1}},
			`[15:04:05] bob: [file "x\u202egpj.exe", 1 B]`},
		{content.DisappearingTimer{After: 12 * time.Hour}, `[15:04:05] bob set disappearing messages to 12h`},
	} {
		m := core.Message{Direction: store.Incoming, State: store.Arrived, Body: tc.body}
		if got := messageLine(at, "15:04:05", "bob", m); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}

func TestListenPrinter(t *testing.T) {
	c, st := testClientStore(t, "alice")
	ctx := t.Context()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	add := func(prefix string, state store.TransferState, why string) core.Message {
		t.Helper()
		id := idOf(t, prefix)
		addMessage(t, st, id, store.Incoming, at, fileBody(t, "report.pdf", 10<<20))
		if err := st.AddAttachment(ctx, store.Attachment{Contact: 1, Message: id, Direction: store.Incoming,
			State: state, File: prefix + ".chunks", Err: why}); err != nil {
			t.Fatal(err)
		}
		list, err := c.History(ctx, 1, nil, 1)
		if err != nil || list[0].ID != id {
			t.Fatalf("history: %v", err)
		}
		return list[0]
	}
	big := add("a1a1a1a1", store.TransferFailed, "10.0 MiB is over the size limit (1.0 MiB)")
	ok := add("b2b2b2b2", store.Downloading, "")
	var stdout, stderr bytes.Buffer
	now := at
	p := &printer{client: c, stdout: &stdout, stderr: &stderr, loc: time.UTC, moving: make(map[content.ID]*moving),
		now: func() time.Time { return now }}
	alice := core.Contact{ID: 1, Name: "alice"}
	p.print(ctx, core.Event{Kind: core.EventReceived, At: at, Contact: alice, Message: &big})
	for _, done := range []int64{0, 1 << 20, 5 << 20, 6 << 20, 10 << 20} {
		p.print(ctx, core.Event{Kind: core.EventProgress, At: now, Contact: alice,
			Progress: &core.Progress{Message: ok.ID, Direction: store.Incoming, Done: done, Total: 10 << 20}})
		now = now.Add(3 * time.Second)
	}
	p.print(ctx, core.Event{Kind: core.EventAttachment, At: now, Contact: alice,
		Progress: &core.Progress{Message: ok.ID, Direction: store.Incoming, Done: 10 << 20, Total: 10 << 20}})
	p.print(ctx, core.Event{Kind: core.EventFailed, At: now, Contact: alice, MessageIDs: []content.ID{ok.ID},
		Err: errors.New("download of report.pdf: the attachment is gone from the relays")})
	want := `[03:04:05] alice: [file "report.pdf", 10.0 MiB] the report
[03:04:05] FAILED to receive from alice: 10.0 MiB is over the size limit (1.0 MiB)
[03:04:11] downloading report.pdf from alice: 50% (5.0 MiB of 10.0 MiB)
[03:04:20] downloaded report.pdf (10.0 MiB) from alice
[03:04:20] FAILED to receive from alice: download of report.pdf: the attachment is gone from the relays
`
	if stdout.String() != want {
		t.Errorf("stdout:\n%s\nwant\n%s", stdout.String(), want)
	}
	if !strings.Contains(stderr.String(), `hush: hint: save it with "hush save alice b2b2b2b2 PATH"`) {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	if len(p.moving) != 0 {
		t.Errorf("%d transfers still tracked", len(p.moving))
	}
}
