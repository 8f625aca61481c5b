// SPDX-License-Identifier: AGPL-3.0-or-later

package core

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/sealed"
	"github.com/hushchat/hush/pkg/core/store"
	"github.com/hushchat/hush/pkg/mailbox"
)

// Outbox pacing.
const (
	outboxBatch    = 32
	outboxParallel = 4
	retryFirst     = 2 * time.Second
	retryMax       = 5 * time.Minute
	outboxIdle     = time.Minute
)

// SendText sends a text message to a contact and returns its ID. It
// returns once the message is encrypted and stored in the outbox; the
// outbox loop (Run) delivers it to the contact's relay. Events tell when
// a relay took it (EventSent), when it was delivered and read.
func (c *Client) SendText(ctx context.Context, contact store.ContactID, text string) (content.ID, error) {
	if strings.TrimSpace(text) == "" {
		return content.ID{}, ErrEmptyText
	}
	return c.sendMessage(ctx, contact, content.Text{Text: text}, store.KindText, nil)
}

// sendMessage stores a message for history and the outbox in one
// transaction, after change (if not nil) updated the contact in it.
func (c *Client) sendMessage(ctx context.Context, contact store.ContactID, body content.Body, kind store.Kind, change func(*store.Contact)) (content.ID, error) {
	if c.closed.Load() {
		return content.ID{}, ErrClosed
	}
	var (
		id content.ID
		e  store.OutboxEntry
	)
	err := c.transact(ctx, func(ctx context.Context) error {
		ct, to, err := c.sendable(ctx, contact)
		if err != nil {
			return err
		}
		if change != nil {
			change(&ct)
			if err := c.st.UpdateContact(ctx, ct); err != nil {
				return err
			}
		}
		id, e, err = c.queueContent(ctx, ct, to, body, kind)
		return err
	})
	if err != nil {
		return content.ID{}, err
	}
	c.sendSoon(e)
	return id, nil
}

// sendSoon sends a new outbox entry at once while Run runs, without
// waiting for the outbox loop to find it; otherwise it wakes the loop.
func (c *Client) sendSoon(e store.OutboxEntry) {
	ctx := c.runCtx.Load()
	if ctx == nil || !c.claim(e.ID) {
		wake(c.outboxCh)
		return
	}
	c.bg.Go(func() {
		postponed := c.attempt(*ctx, e)
		c.release(e.ID)
		if postponed {
			// The entry is the loop's again: let it plan the retry.
			wake(c.outboxCh)
		}
	})
}

// claim marks an entry in flight; false if it already is.
func (c *Client) claim(id store.OutboxID) bool {
	c.inflightMu.Lock()
	defer c.inflightMu.Unlock()
	if c.inflight[id] {
		return false
	}
	if c.inflight == nil {
		c.inflight = make(map[store.OutboxID]bool)
	}
	c.inflight[id] = true
	return true
}

func (c *Client) release(id store.OutboxID) {
	c.inflightMu.Lock()
	delete(c.inflight, id)
	c.inflightMu.Unlock()
}

// sendable returns a contact we can send to and its queue address.
func (c *Client) sendable(ctx context.Context, id store.ContactID) (store.Contact, mailbox.QueueAddress, error) {
	ct, err := c.storedContact(ctx, id)
	if err != nil {
		return ct, mailbox.QueueAddress{}, err
	}
	if ct.Blocked {
		return ct, mailbox.QueueAddress{}, fmt.Errorf("%q: %w", ct.Name, ErrBlocked)
	}
	if pending, err := c.flag(ctx, prefixAwaiting, int64(id)); err != nil || pending {
		if err == nil {
			err = fmt.Errorf("%q: %w", ct.Name, ErrContactPending)
		}
		return ct, mailbox.QueueAddress{}, err
	}
	to, err := c.st.Target(ctx, id)
	if err != nil {
		return ct, mailbox.QueueAddress{}, fmt.Errorf("%q has no queue to send to: %w", ct.Name, err)
	}
	return ct, to, nil
}

// queueContent, inside a transaction, encrypts body in the contact's
// session, seals it, records it in history if kind is not 0, and puts
// the envelope in the outbox. The ratchet step, the history entry and the
// envelope commit together.
func (c *Client) queueContent(ctx context.Context, ct store.Contact, to mailbox.QueueAddress, body content.Body, kind store.Kind) (content.ID, store.OutboxEntry, error) {
	m, err := content.New(body, c.now())
	if err != nil {
		return content.ID{}, store.OutboxEntry{}, err
	}
	m.Disappear = ct.Disappear
	var msgID content.ID
	if kind != 0 {
		msgID = m.ID
	}
	e, pt, err := c.sealToOutbox(ctx, ct, to, m, msgID)
	if err != nil {
		return content.ID{}, store.OutboxEntry{}, err
	}
	if kind != 0 {
		err := c.st.AddMessage(ctx, store.Message{ID: m.ID, Contact: ct.ID, Direction: store.Outgoing,
			SentAt: m.SentAt, Kind: kind, Body: pt, State: store.Pending, Expires: expiry(m.Disappear, m.SentAt)})
		if err != nil {
			return content.ID{}, store.OutboxEntry{}, fmt.Errorf("save the message: %w", err)
		}
	}
	return m.ID, e, nil
}

// sealToOutbox, inside a transaction, encrypts m for ct and puts the
// sealed envelope in the outbox for the contact's queue to; msg is the
// history message it carries (zero for none). It returns the entry and
// the plaintext.
func (c *Client) sealToOutbox(ctx context.Context, ct store.Contact, to mailbox.QueueAddress, m content.Message, msg content.ID) (store.OutboxEntry, []byte, error) {
	env, pt, err := c.seal(ctx, ct, m)
	if err != nil {
		return store.OutboxEntry{}, nil, err
	}
	e, err := c.enqueue(ctx, ct.ID, to, msg, env)
	return e, pt, err
}

// seal encrypts m for ct in the current transaction and returns the
// sealed envelope and the plaintext.
func (c *Client) seal(ctx context.Context, ct store.Contact, m content.Message) (env, pt []byte, err error) {
	pt, err = content.Marshal(m)
	if err != nil {
		return nil, nil, err
	}
	ciph, err := c.mgr.Encrypt(ctx, sessionAddr(ct.ID), pt)
	if err != nil {
		return nil, nil, fmt.Errorf("encrypt for %q: %w", ct.Name, err)
	}
	env, err = sealed.Seal(c.key, ct.Identity, ciph)
	if err != nil {
		return nil, nil, fmt.Errorf("seal for %q: %w", ct.Name, err)
	}
	return env, pt, nil
}

func (c *Client) enqueue(ctx context.Context, contact store.ContactID, to mailbox.QueueAddress, msg content.ID, env []byte) (store.OutboxEntry, error) {
	var sid mailbox.MessageID
	if _, err := rand.Read(sid[:]); err != nil {
		return store.OutboxEntry{}, err
	}
	now := c.now()
	e := store.OutboxEntry{SendID: sid, To: to, Contact: contact, Message: msg, Envelope: env, NextAttempt: now, Created: now}
	var err error
	if e.ID, err = c.st.Enqueue(ctx, e); err != nil {
		return store.OutboxEntry{}, fmt.Errorf("put the envelope in the outbox: %w", err)
	}
	return e, nil
}

// outboxLoop sends what the outbox holds, due entries first, a few at a
// time, each attempt through a fresh path.
func (c *Client) outboxLoop(ctx context.Context) {
	for ctx.Err() == nil {
		next, err := c.sendDue(ctx)
		if err != nil {
			c.background("send the outbox", err)
			next = c.now().Add(retryFirst)
		}
		t := time.NewTimer(max(next.Sub(c.now()), 10*time.Millisecond))
		select {
		case <-ctx.Done():
		case <-c.outboxCh:
		case <-t.C:
		}
		t.Stop()
	}
}

// sendDue attempts every due entry and returns when the next one is due.
func (c *Client) sendDue(ctx context.Context) (time.Time, error) {
	for {
		entries, err := c.st.Pending(ctx, outboxBatch)
		if err != nil {
			return time.Time{}, err
		}
		now := c.now()
		var due []store.OutboxEntry
		next := now.Add(outboxIdle)
		for _, e := range entries {
			if e.NextAttempt.After(now) {
				next = e.NextAttempt
				break
			}
			due = append(due, e)
		}
		if len(due) == 0 {
			return next, nil
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, outboxParallel)
		claimed := 0
		for _, e := range due {
			if !c.claim(e.ID) {
				continue // a direct send has it
			}
			claimed++
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				defer c.release(e.ID)
				c.attempt(ctx, e)
			})
		}
		wg.Wait()
		if claimed == 0 {
			// Everything due is being sent directly: look again soon.
			return c.now().Add(retryFirst), nil
		}
		if ctx.Err() != nil {
			return time.Time{}, ctx.Err()
		}
	}
}

// attempt sends one entry once and records the outcome: done, failed for
// good, or postponed with backoff (then it returns true).
func (c *Client) attempt(ctx context.Context, e store.OutboxEntry) (postponed bool) {
	if c.now().Sub(e.Created) > c.opts.MessageTTL {
		c.fail(ctx, e, fmt.Errorf("no relay accepted it within %v", c.opts.MessageTTL))
		return false
	}
	err := c.sendEntry(ctx, e)
	var st mailbox.Status
	switch {
	case err == nil:
	case ctx.Err() != nil:
	case errors.As(err, &st) && permanent(st):
		c.fail(ctx, e, err)
	default:
		postponed = true
		c.log.Debug("send postponed", "attempts", e.Attempts+1, "err", err)
		next := c.now().Add(backoff(e.Attempts))
		if perr := c.transact(ctx, func(ctx context.Context) error { return c.st.Postpone(ctx, e.ID, next) }); perr != nil {
			c.background("postpone a send", perr)
		}
	}
	return postponed
}

// permanent reports whether a refusal will not change by retrying.
func permanent(s mailbox.Status) bool {
	switch s {
	case mailbox.StatusNoQueue, mailbox.StatusContactRequestUsed, mailbox.StatusBadSize,
		mailbox.StatusMalformed, mailbox.StatusVersion:
		return true
	}
	return false
}

// backoff is the wait after the n+1th failed attempt: doubling from
// retryFirst up to retryMax, with ±25% jitter so clients do not retry in
// step.
func backoff(attempts int) time.Duration {
	d := retryMax
	if attempts < 10 {
		d = min(retryFirst<<attempts, retryMax)
	}
	return d*3/4 + randDuration(d/2)
}

// randDuration returns a uniform duration in [0, d).
func randDuration(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	n, err := rand.Int(rand.Reader, big.NewInt(int64(d)))
	if err != nil {
		return d / 2
	}
	return time.Duration(n.Int64())
}

// sendEntry sends one outbox entry and, once a relay acknowledged it,
// removes it and marks its message sent.
func (c *Client) sendEntry(ctx context.Context, e store.OutboxEntry) error {
	req, err := mailbox.SendRequest(e.To.Sender, e.SendID, e.Envelope)
	if err != nil {
		return err
	}
	if _, err := c.ask(ctx, e.To.Relay, req); err != nil {
		return err
	}
	c.log.Debug("sent", "outbox", int64(e.ID))
	var ct store.Contact
	err = c.transact(context.WithoutCancel(ctx), func(ctx context.Context) error {
		if err := c.st.Dequeue(ctx, e.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if e.Message == (content.ID{}) {
			return nil
		}
		m, err := c.st.Message(ctx, e.Contact, e.Message)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if m.State == store.Pending {
			if err := c.st.SetMessageState(ctx, e.Contact, e.Message, store.Sent); err != nil {
				return err
			}
		}
		ct, err = c.st.Contact(ctx, e.Contact)
		return err
	})
	if err != nil {
		return fmt.Errorf("record a sent message: %w", err)
	}
	if e.Message != (content.ID{}) {
		c.emit(Event{Kind: EventSent, Contact: contactOf(ct), MessageIDs: []content.ID{e.Message}})
	}
	return nil
}

// fail gives up on an entry: it leaves the outbox and its message is
// marked failed.
func (c *Client) fail(ctx context.Context, e store.OutboxEntry, why error) {
	var ct store.Contact
	err := c.transact(context.WithoutCancel(ctx), func(ctx context.Context) error {
		if err := c.st.Dequeue(ctx, e.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if e.Contact == 0 {
			return nil
		}
		var err error
		if ct, err = c.st.Contact(ctx, e.Contact); err != nil {
			return err
		}
		if e.Message == (content.ID{}) {
			return nil
		}
		return c.st.SetMessageState(ctx, e.Contact, e.Message, store.Failed)
	})
	if err != nil {
		c.background("record a failed send", err)
		return
	}
	ev := Event{Kind: EventFailed, Contact: contactOf(ct), Err: why}
	if e.Message != (content.ID{}) {
		ev.MessageIDs = []content.ID{e.Message}
	}
	c.emit(ev)
}
