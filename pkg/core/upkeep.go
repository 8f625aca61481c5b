// SPDX-License-Identifier: AGPL-3.0-or-later

package core

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/hushchat/hush/pkg/core/store"
)

const (
	upkeepEvery = time.Minute
	// orphanAge is how old a queue with no contact and no invitation must
	// be before it is dropped (one left by a crash between making it and
	// using it).
	orphanAge = 10 * time.Minute
)

// upkeepLoop does the client's housekeeping at start and then every
// minute: queues to delete on their relays, expired invitations, contacts
// still to be answered, the processed-envelope ledger.
func (c *Client) upkeepLoop(ctx context.Context) {
	for {
		c.upkeep(ctx)
		t := time.NewTimer(upkeepEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (c *Client) upkeep(ctx context.Context) {
	if err := c.endInvitations(ctx); err != nil {
		c.background("end expired invitations", err)
	}
	if err := c.answerUnanswered(ctx); err != nil {
		c.background("answer new contacts", err)
	}
	if err := c.deleteDropped(ctx); err != nil {
		c.log.Info("queues left to delete later", "err", err)
	}
	if err := c.removeOrphanFiles(ctx); err != nil {
		c.background("remove unused attachment files", err)
	}
	// Envelopes older than twice the relays' TTL cannot come back.
	if _, err := c.st.ForgetProcessed(ctx, c.now().Add(-2*c.opts.MessageTTL)); err != nil {
		c.background("trim the processed-envelope ledger", err)
	}
}

// endInvitations ends the expired invitations (their prekeys erased,
// their queues deleted) and drops orphaned queues.
func (c *Client) endInvitations(ctx context.Context) error {
	qs, err := c.st.ListQueues(ctx)
	if err != nil {
		return err
	}
	drop, err := c.dropList(ctx)
	if err != nil {
		return err
	}
	now := c.now()
	var errs []error
	for _, q := range qs {
		if q.Contact != 0 || slices.Contains(drop, q.ID) {
			continue
		}
		err := c.transact(ctx, func(ctx context.Context) error {
			inv, err := c.loadInvite(ctx, q.ID)
			switch {
			case err != nil:
				return err
			case inv == nil && now.Sub(q.Created) > orphanAge:
				return c.dropQueues(ctx, q.ID)
			case inv != nil && inv.Expired(now):
				return c.endInvite(ctx, q.ID, inv)
			}
			return nil
		})
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// answerUnanswered answers the contacts that have no queue of ours and
// are not waiting for their own answer: the inviter's side of a contact
// whose answer a crash or the network interrupted.
func (c *Client) answerUnanswered(ctx context.Context) error {
	c.answerMu.Lock()
	defer c.answerMu.Unlock()
	contacts, err := c.st.ListContacts(ctx)
	if err != nil {
		return err
	}
	qs, err := c.st.ListQueues(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, ct := range contacts {
		if ct.Blocked || slices.ContainsFunc(qs, func(q store.OwnQueue) bool { return q.Contact == ct.ID }) {
			continue
		}
		if awaiting, err := c.flag(ctx, prefixAwaiting, int64(ct.ID)); err != nil || awaiting {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, c.answerContact(ctx, ct.ID))
	}
	return errors.Join(errs...)
}
