// SPDX-License-Identifier: AGPL-3.0-or-later

package core

import (
	"context"
	"fmt"
	"time"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/store"
)

// Limits of the timers.
const (
	// MinRetention is the shortest local retention.
	MinRetention = time.Minute
	// expiryCheck is how often retention is applied when no message is
	// due to disappear sooner.
	expiryCheck = time.Minute
)

// SetDisappearing sets the conversation's disappearing timer (0 turns it
// off; whole seconds, at most a year) and tells the contact in a message,
// so that both sides apply it. Each message sent after it disappears
// from both devices that long after it was sent (on the sender) or
// received (on the recipient), pinned or not, with its attachment file.
// Every message carries the timer it was sent under, so one that
// overtakes the change on the network still disappears as its sender
// meant; of two changes, the later one (by the clock of the side that
// made it) stays in force.
func (c *Client) SetDisappearing(ctx context.Context, contact store.ContactID, after time.Duration) (content.ID, error) {
	after = after.Round(time.Second)
	if after < 0 || after > content.MaxDisappearing {
		return content.ID{}, fmt.Errorf("%w: disappearing timer %v, want 0 (off) to %v", ErrTimer, after, content.MaxDisappearing)
	}
	id, err := c.sendMessage(ctx, contact, content.DisappearingTimer{After: after}, store.KindOther,
		func(ct *store.Contact) { ct.Disappear, ct.DisappearChanged = after, c.now().Truncate(time.Millisecond) })
	if err != nil {
		return content.ID{}, err
	}
	wake(c.expireCh)
	return id, nil
}

// SetRetention sets how long this device keeps the conversation's
// messages (0: for ever). It is local: the contact is not told. Pinned
// messages are kept whatever their age; a disappearing timer the contact
// set still removes them.
func (c *Client) SetRetention(ctx context.Context, contact store.ContactID, keep time.Duration) error {
	if keep != 0 && keep < MinRetention {
		return fmt.Errorf("%w: retention %v, want 0 (keep everything) or at least %v", ErrTimer, keep, MinRetention)
	}
	err := c.changeContact(ctx, contact, func(ct *store.Contact) { ct.Retention = keep })
	if err != nil {
		return err
	}
	wake(c.expireCh)
	return nil
}

// Pin pins or unpins a message. Local retention never removes a pinned
// message, but the conversation's disappearing timer, which the contact
// may have set, does: pinning does not keep a disappearing message.
func (c *Client) Pin(ctx context.Context, contact store.ContactID, id content.ID, pinned bool) error {
	if _, err := c.storedContact(ctx, contact); err != nil {
		return err
	}
	err := c.transact(ctx, func(ctx context.Context) error { return c.st.SetPinned(ctx, contact, id, pinned) })
	if err != nil {
		return fmt.Errorf("pin message %s: %w", id, err)
	}
	return nil
}

// expiry returns when a message at t disappears under a disappearing
// timer of d (zero: never).
func expiry(d time.Duration, t time.Time) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return t.Add(d)
}

// expireLoop removes expired messages as they expire, and applies
// retention every minute.
func (c *Client) expireLoop(ctx context.Context) {
	for ctx.Err() == nil {
		next := c.expire(ctx)
		t := time.NewTimer(max(next.Sub(c.now()), 10*time.Millisecond))
		select {
		case <-ctx.Done():
		case <-c.expireCh:
		case <-t.C:
		}
		t.Stop()
	}
}

// expire deletes what has expired, with the attachment files, and
// returns when to look again.
func (c *Client) expire(ctx context.Context) time.Time {
	next := c.now().Add(expiryCheck)
	var ex store.Expired
	err := c.transact(ctx, func(ctx context.Context) error {
		var err error
		ex, err = c.st.Expire(ctx, c.now())
		return err
	})
	if err != nil {
		c.background("remove expired messages", err)
		return next
	}
	c.cancelMoving(ex.Files)
	c.removeFiles(ex.Files)
	if ex.Messages > 0 {
		c.log.Debug("messages expired", "count", ex.Messages)
	}
	at, ok, err := c.st.NextExpiry(ctx)
	if err != nil {
		c.background("read the next expiry", err)
	}
	if ok && at.Before(next) {
		next = at
	}
	return next
}
