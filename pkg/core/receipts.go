// SPDX-License-Identifier: AGPL-3.0-or-later

package core

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/store"
)

// receiptTick is how often due receipts are looked for.
const receiptTick = 250 * time.Millisecond

// receipts collects the receipts to send, per contact and kind, each
// batch due at the earliest time one of its messages asked for. They are
// kept in memory: after a crash a delivery receipt may be missing, never
// wrong.
type receipts struct {
	mu      sync.Mutex
	pending map[receiptKey]*receiptBatch
}

type receiptKey struct {
	contact store.ContactID
	kind    content.ReceiptKind
}

type receiptBatch struct {
	ids []content.ID
	due time.Time
}

func (r *receipts) add(contact store.ContactID, kind content.ReceiptKind, id content.ID, due time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending == nil {
		r.pending = make(map[receiptKey]*receiptBatch)
	}
	k := receiptKey{contact, kind}
	b := r.pending[k]
	if b == nil {
		b = &receiptBatch{due: due}
		r.pending[k] = b
	}
	if len(b.ids) < content.MaxReceiptIDs {
		b.ids = append(b.ids, id)
	}
	if due.Before(b.due) {
		b.due = due
	}
}

// takeDue removes and returns the batches due at now.
func (r *receipts) takeDue(now time.Time) map[receiptKey][]content.ID {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[receiptKey][]content.ID)
	for k, b := range r.pending {
		if !b.due.After(now) {
			out[k] = b.ids
			delete(r.pending, k)
		}
	}
	return out
}

func (c *Client) receiptLoop(ctx context.Context) {
	t := time.NewTicker(receiptTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for k, ids := range c.receipts.takeDue(c.now()) {
			err := c.transact(ctx, func(ctx context.Context) error {
				ct, to, err := c.sendable(ctx, k.contact)
				if err != nil {
					return err
				}
				_, _, err = c.queueContent(ctx, ct, to, content.Receipt{Kind: k.kind, MessageIDs: ids}, 0)
				return err
			})
			switch {
			case err == nil:
				wake(c.outboxCh)
			case errors.Is(err, ErrBlocked), errors.Is(err, ErrNoContact):
			default:
				c.background("send a receipt", err)
			}
		}
	}
}

// MarkRead records that the user read these received messages and sends
// the contact a read receipt for them.
func (c *Client) MarkRead(ctx context.Context, contact store.ContactID, ids ...content.ID) error {
	var unread []content.ID
	err := c.transact(ctx, func(ctx context.Context) error {
		for _, id := range ids {
			m, err := c.st.Message(ctx, contact, id)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("%w: message %s", store.ErrNotFound, id)
			}
			if err != nil {
				return err
			}
			if m.Direction != store.Incoming || m.State == store.Read {
				continue
			}
			if err := c.st.SetMessageState(ctx, contact, id, store.Read); err != nil {
				return err
			}
			unread = append(unread, id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mark read: %w", err)
	}
	for _, id := range unread {
		c.receipts.add(contact, content.Read, id, c.now())
	}
	return nil
}
