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
// what was sent.
func bodyText(b content.Body) string {
	switch b := b.(type) {
	case content.Text:
		return b.Text
	case content.Image:
		return withCaption(fmt.Sprintf("[image %dx%d, %s]", b.Width, b.Height, size(b.Attachment.Size)), b.Caption)
	case content.File:
		return withCaption(fmt.Sprintf("[file %q, %s]", b.Attachment.FileName, size(b.Attachment.Size)), b.Caption)
	case content.VoiceClip:
		return fmt.Sprintf("[voice clip, %v]", b.Duration.Round(time.Second))
	}
	return fmt.Sprintf("[%T]", b)
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
	line := fmt.Sprintf("[%s] %s: %s", at.Format(layout), clean(who), cleanLines(bodyText(m.Body), "    "))
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
