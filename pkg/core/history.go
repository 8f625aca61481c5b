// SPDX-License-Identifier: AGPL-3.0-or-later

package core

import (
	"context"
	"fmt"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/store"
)

// Cursor continues a History listing: pass the Cursor of the last message
// of one page to get the next.
type Cursor = store.Cursor

// Cursor returns the position of m for History.
func (m Message) Cursor() *Cursor {
	return store.Message{ID: m.ID, Direction: m.Direction, SentAt: m.SentAt, ReceivedAt: m.ReceivedAt}.Cursor()
}

// History returns up to limit of a contact's messages, newest first,
// from before the cursor (nil: the newest).
func (c *Client) History(ctx context.Context, contact store.ContactID, before *Cursor, limit int) ([]Message, error) {
	if _, err := c.storedContact(ctx, contact); err != nil {
		return nil, err
	}
	list, err := c.st.History(ctx, contact, before, limit)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	out := make([]Message, 0, len(list))
	for _, sm := range list {
		m, err := content.Unmarshal(sm.Body)
		if err != nil {
			return nil, fmt.Errorf("history: message %s: %w", sm.ID, err)
		}
		out = append(out, messageOf(sm, m.Body))
	}
	return out, nil
}
