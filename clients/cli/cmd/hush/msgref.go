// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/hushchat/hush/pkg/core"
	"github.com/hushchat/hush/pkg/core/content"
)

// A message is named on the command line by the start of its ID in hex,
// as hush history prints it (shortIDLen characters); any unique prefix
// of at least minIDPrefix characters will do.
const (
	shortIDLen  = 8
	minIDPrefix = 6
	historyPage = 500
)

// shortID is how history shows a message's ID.
func shortID(id content.ID) string { return id.String()[:shortIDLen] }

// parseIDPrefix checks a message ID argument.
func parseIDPrefix(cmd *command, s string) (string, error) {
	p := strings.ToLower(s)
	if _, err := hex.DecodeString(p + strings.Repeat("0", len(p)%2)); err != nil || len(p) > 2*content.IDSize {
		return "", usageErrorf(cmd, "%s: %q is not a message ID: give the hex ID \"hush history\" shows", cmd.name, s)
	}
	if len(p) < minIDPrefix {
		return "", usageErrorf(cmd, "%s: give at least %d characters of the message ID", cmd.name, minIDPrefix)
	}
	return p, nil
}

// findContactMessage finds the contact called name and its one message
// whose ID starts with prefix (the NAME MSGID arguments of a command).
func findContactMessage(ctx context.Context, c *core.Client, name, prefix string) (core.Contact, core.Message, error) {
	ct, err := findContact(ctx, c, name)
	if err != nil {
		return ct, core.Message{}, err
	}
	m, err := findMessage(ctx, c, ct, prefix)
	return ct, m, err
}

// findMessage returns the one message of ct whose ID starts with prefix,
// looking through the whole conversation, newest first.
func findMessage(ctx context.Context, c *core.Client, ct core.Contact, prefix string) (core.Message, error) {
	var (
		found  []core.Message
		cursor *core.Cursor
	)
	for len(found) < 2 {
		page, err := c.History(ctx, ct.ID, cursor, historyPage)
		if err != nil {
			return core.Message{}, err
		}
		for _, m := range page {
			if strings.HasPrefix(m.ID.String(), prefix) {
				found = append(found, m)
			}
		}
		if len(page) < historyPage {
			break
		}
		cursor = page[len(page)-1].Cursor()
	}
	name := clean(ct.Name)
	switch len(found) {
	case 0:
		return core.Message{}, withHint(fmt.Errorf("no message with %s has an ID starting with %s", name, prefix),
			fmt.Sprintf("\"hush history %s\" shows the messages' IDs", quoteArg(ct.Name)))
	case 1:
		return found[0], nil
	}
	return core.Message{}, withHint(fmt.Errorf("several messages with %s have an ID starting with %s", name, prefix),
		"give more characters of the ID")
}
