// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/hushchat/hush/pkg/core"
	"github.com/hushchat/hush/pkg/core/store"
)

const (
	defaultHistory = 20
	maxHistory     = 1000
)

const historyHelp = `print a conversation

The latest messages, oldest first, each after its ID: give the start of
one (at least 6 characters) to "hush pin" or "hush save". Attachments
show their name, size and transfer (downloading, downloaded, failed);
[pinned] marks what retention keeps.`

type historyOpts struct {
	limit  int
	before *core.Cursor
	name   string
}

func parseHistory(cmd *command, args []string) (action, error) {
	o := historyOpts{}
	fs := flagSet(cmd)
	fs.IntVar(&o.limit, "limit", defaultHistory, "how many messages")
	fs.Func("before", "continue from this cursor", func(s string) error {
		c, err := parseCursor(s)
		o.before = c
		return err
	})
	pos, err := parseFlags(cmd, fs, args)
	if err != nil {
		return nil, err
	}
	if err := positional(cmd, pos, 1, 1); err != nil {
		return nil, err
	}
	if o.limit < 1 || o.limit > maxHistory {
		return nil, usageErrorf(cmd, "--limit must be between 1 and %d", maxHistory)
	}
	o.name = pos[0]
	return o.run, nil
}

// run prints the latest messages, oldest first; if there may be older
// ones, a hint on stderr says how to see them.
func (o historyOpts) run(ctx context.Context, e *env) error {
	ct, err := findContact(ctx, e.client, o.name)
	if err != nil {
		return err
	}
	list, err := e.client.History(ctx, ct.ID, o.before, o.limit)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		hintf(e.stderr, "no messages with %s yet", clean(ct.Name))
		return nil
	}
	for _, m := range slices.Backward(list) {
		who, at := ct.Name, m.ReceivedAt
		if m.Direction == store.Outgoing {
			who, at = "me", m.SentAt
		}
		line := shortID(m.ID) + " " + stateLine(at.In(e.loc), "2006-01-02 15:04:05", who, m, transferState(ctx, e.client, m))
		if m.Pinned {
			line += "  [pinned]"
		}
		fmt.Fprintln(e.stdout, line)
	}
	if len(list) == o.limit {
		hintf(e.stderr, "older messages: hush history --before %s %s", formatCursor(list[len(list)-1].Cursor()), quoteArg(o.name))
	}
	return nil
}

// transferState says where a message's attachment stands, "" for a
// message without one.
func transferState(ctx context.Context, c *core.Client, m core.Message) string {
	if _, _, ok := attachmentName(m.Body); !ok {
		return ""
	}
	info, err := c.Attachment(ctx, m.Contact, m.ID)
	if err != nil {
		return "state unknown"
	}
	switch info.State {
	case store.Uploading:
		return "uploading"
	case store.Uploaded:
		return "uploaded"
	case store.Downloading:
		return "downloading"
	case store.Downloaded:
		return "downloaded"
	case store.TransferFailed:
		return "failed"
	}
	return ""
}
