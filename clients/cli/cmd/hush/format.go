// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hushchat/hush/pkg/core"
	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/store"
)

// bodyText is how a message body is shown: the text, or a line saying
// what was sent. state, if not empty, says where an attachment's
// transfer stands.
func bodyText(b content.Body, state string) string {
	switch b := b.(type) {
	case content.Text:
		return b.Text
	case content.Image:
		return withCaption(attachmentText("image", b.Attachment, state, fmt.Sprintf("%dx%d", b.Width, b.Height)), b.Caption)
	case content.File:
		return withCaption(attachmentText("file", b.Attachment, state), b.Caption)
	case content.VoiceClip:
		return attachmentText("voice clip", b.Attachment, state, clipLength(b.Duration))
	case content.DisappearingTimer:
		return "[" + timerText(b) + "]"
	}
	return fmt.Sprintf("[%T]", b)
}

// attachmentText is "[file "a.pdf", 3.0 MiB]": the kind, the sender's
// file name if any, details, the size and the transfer's state.
func attachmentText(kind string, a content.Attachment, state string, details ...string) string {
	if a.FileName != "" {
		kind += " " + strconv.Quote(a.FileName)
	}
	parts := append(append([]string{kind}, details...), size(a.Size))
	if state != "" {
		parts = append(parts, state)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// clipLength is a voice clip's duration as m:ss.
func clipLength(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// timerText says what a disappearing-timer message did.
func timerText(t content.DisappearingTimer) string {
	if t.After <= 0 {
		return "turned disappearing messages off"
	}
	return "set disappearing messages to " + shortDuration(t.After)
}

// attachmentName is an attachment message's file name for a line of
// output ("a.pdf", or "an image"), and its size.
func attachmentName(b content.Body) (string, int64, bool) {
	var a content.Attachment
	what := ""
	switch b := b.(type) {
	case content.Image:
		a, what = b.Attachment, "an image"
	case content.File:
		a, what = b.Attachment, "a file"
	case content.VoiceClip:
		a, what = b.Attachment, "a voice clip"
	default:
		return "", 0, false
	}
	if a.FileName != "" {
		what = a.FileName
	}
	return clean(what), a.Size, true
}

func withCaption(what, caption string) string {
	if caption == "" {
		return what
	}
	return what + " " + caption
}

func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// stateMark is how an outgoing message's state is shown in history.
func stateMark(s store.State) string {
	switch s {
	case store.Pending:
		return "queued"
	case store.Sent:
		return "sent"
	case store.Delivered:
		return "delivered"
	case store.Read:
		return "read"
	case store.Failed:
		return "FAILED"
	}
	return ""
}

// messageLine is one message of a conversation: "[15:04:05] alice: hi".
// layout is the time layout; who is the sender's name or "me".
func messageLine(at time.Time, layout, who string, m core.Message) string {
	return stateLine(at, layout, who, m, "")
}

// stateLine is messageLine with an attachment's transfer state. A
// disappearing-timer message reads "[15:04:05] alice set disappearing
// messages to 1h".
func stateLine(at time.Time, layout, who string, m core.Message, state string) string {
	if t, ok := m.Body.(content.DisappearingTimer); ok {
		if who == "me" {
			who = "you"
		}
		return fmt.Sprintf("[%s] %s %s", at.Format(layout), clean(who), timerText(t))
	}
	line := fmt.Sprintf("[%s] %s: %s", at.Format(layout), clean(who), cleanLines(bodyText(m.Body, state), "    "))
	if m.Direction == store.Outgoing {
		line += "  (" + stateMark(m.State) + ")"
	}
	return line
}

// The text form of a history cursor: the message's time in Unix
// nanoseconds and its ID in hex, joined by a dot.
func formatCursor(c *core.Cursor) string {
	return strconv.FormatInt(c.At.UnixNano(), 10) + "." + c.ID.String()
}

var errCursor = errors.New("not a cursor printed by hush history")

func parseCursor(s string) (*core.Cursor, error) {
	at, id, ok := strings.Cut(s, ".")
	if !ok {
		return nil, errCursor
	}
	ns, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		return nil, errCursor
	}
	raw, err := hex.DecodeString(id)
	if err != nil || len(raw) != content.IDSize {
		return nil, errCursor
	}
	c := &core.Cursor{At: time.Unix(0, ns)}
	copy(c.ID[:], raw)
	return c, nil
}
