// SPDX-License-Identifier: AGPL-3.0-or-later

package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/sealed"
	"github.com/hushchat/hush/pkg/core/session"
	"github.com/hushchat/hush/pkg/core/store"
	"github.com/hushchat/hush/pkg/mailbox"
)

// Polling pacing.
const (
	pollMargin     = 20 * time.Second // beyond the wait, for the path there and back
	pollRetryFirst = time.Second
	pollRetryMax   = time.Minute
	pollReconcile  = time.Minute // how often the set of polled queues is rechecked anyway
)

// pollLoop keeps one poller per own queue in use, starting and stopping
// them as queues are made and dropped.
func (c *Client) pollLoop(ctx context.Context) {
	running := make(map[store.QueueID]context.CancelFunc)
	var wg sync.WaitGroup
	defer func() {
		for _, cancel := range running {
			cancel()
		}
		wg.Wait()
	}()
	for {
		want, err := c.pollable(ctx)
		if err != nil {
			c.background("list the queues to poll", err)
		} else {
			for id, cancel := range running {
				if !slices.Contains(want, id) {
					cancel()
					delete(running, id)
				}
			}
			for _, id := range want {
				if _, ok := running[id]; ok {
					continue
				}
				c.log.Debug("polling", "queue", int64(id))
				pctx, cancel := context.WithCancel(ctx)
				running[id] = cancel
				wg.Go(func() { c.poll(pctx, id) })
			}
		}
		t := time.NewTimer(pollReconcile)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-c.queuesCh:
		case <-t.C:
		}
		t.Stop()
	}
}

// pollable lists the queues to poll: every own queue but the dropped.
func (c *Client) pollable(ctx context.Context) ([]store.QueueID, error) {
	qs, err := c.st.ListQueues(ctx)
	if err != nil {
		return nil, err
	}
	drop, err := c.dropList(ctx)
	if err != nil {
		return nil, err
	}
	c.creatingMu.Lock()
	defer c.creatingMu.Unlock()
	var out []store.QueueID
	for _, q := range qs {
		if !slices.Contains(drop, q.ID) && !c.creating[q.ID] {
			out = append(out, q.ID)
		}
	}
	return out, nil
}

// poll long-polls one queue until ctx ends: each poll goes through its
// own fresh path and waits a random time, so polls are renewed at
// jittered times. Envelopes are acknowledged only after they are stored,
// by the next poll (one round trip, not two, so the next poll is waiting
// at the relay sooner). Acknowledgements not sent when polling stops are
// lost: the relay delivers those envelopes again and the store, which
// knows their hashes, drops them.
func (c *Client) poll(ctx context.Context, id store.QueueID) {
	failures := 0
	var acks []uint64 // stored, to acknowledge with the next fetch
	for ctx.Err() == nil {
		wait := c.opts.PollWait/2 + randDuration(c.opts.PollWait/2)
		pctx, cancel := context.WithTimeout(ctx, wait+pollMargin)
		resp, err := c.owner(pctx, id, func(q *mailbox.Queue) ([]byte, error) {
			return q.AckFetchRequest(acks, wait, mailbox.MaxFetch)
		})
		cancel()
		if err == nil {
			failures = 0
			acks, err = c.receiveAll(ctx, id, resp.Envelopes)
		}
		switch {
		case err == nil:
			continue
		case ctx.Err() != nil:
			return
		case errors.Is(err, store.ErrNotFound) && !c.exists(ctx, id):
			return // the queue was forgotten
		case errors.Is(err, mailbox.StatusNoQueue) && !c.young(ctx, id):
			c.background("poll a queue", fmt.Errorf("the relay no longer has one of our queues (expired while this device was offline?): %w", err))
			return
		}
		failures++
		c.log.Debug("poll failed", "failures", failures, "err", err)
		d := min(pollRetryFirst<<min(failures, 10), pollRetryMax)
		t := time.NewTimer(d/2 + randDuration(d/2))
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
}

// exists reports whether queue id is still stored.
func (c *Client) exists(ctx context.Context, id store.QueueID) bool {
	_, err := c.st.Queue(ctx, id)
	return !errors.Is(err, store.ErrNotFound)
}

// young reports whether a queue was made so recently that its relay may
// not have it yet (its creation was interrupted and is retried).
func (c *Client) young(ctx context.Context, id store.QueueID) bool {
	oq, err := c.st.Queue(ctx, id)
	return err == nil && c.now().Sub(oq.Created) < 2*time.Minute
}

// receiveAll processes fetched envelopes in order and returns the
// sequence numbers of those it is done with, to acknowledge. It stops at
// the first the store failed on, which is not acknowledged: the relay
// delivers it again.
func (c *Client) receiveAll(ctx context.Context, id store.QueueID, envs []mailbox.Envelope) ([]uint64, error) {
	if len(envs) == 0 {
		return nil, nil
	}
	c.log.Debug("envelopes fetched", "queue", int64(id), "n", len(envs))
	seqs := make([]uint64, 0, len(envs))
	for _, e := range envs {
		if err := c.receive(ctx, id, e.Data); err != nil {
			return seqs, err
		}
		seqs = append(seqs, e.Seq)
	}
	return seqs, nil
}

// receive processes one envelope from queue id. It returns an error only
// when the envelope should be fetched again (the store failed); an
// envelope that is bad for good is recorded as processed, reported and
// dropped.
func (c *Client) receive(ctx context.Context, id store.QueueID, env []byte) error {
	return c.receiveAs(ctx, id, env, store.HashEnvelope(env))
}

// receiveHeld processes an envelope held on an identity change, which is
// already marked processed under its own hash: it is marked again under a
// hash of its own, so accepting twice cannot process it twice.
func (c *Client) receiveHeld(ctx context.Context, id store.QueueID, env []byte) error {
	return c.receiveAs(ctx, id, env, store.HashEnvelope(append([]byte("held "), env...)))
}

func (c *Client) receiveAs(ctx context.Context, id store.QueueID, env []byte, h store.EnvelopeHash) error {
	oq, err := c.st.Queue(ctx, id)
	if err != nil {
		return err
	}
	o, err := sealed.Open(c.key, env)
	if err != nil {
		return c.discard(ctx, h, fmt.Errorf("an envelope that does not open was dropped: %w", err))
	}
	if oq.Contact == 0 {
		err := c.receiveContactRequest(ctx, oq, h, o)
		if err != nil && badEnvelope(err) {
			return c.discard(ctx, h, fmt.Errorf("an invalid contact request was dropped: %w", err))
		}
		return err
	}
	ct, err := c.st.Contact(ctx, oq.Contact)
	if err != nil {
		return err
	}
	if ct.Blocked {
		return c.discard(ctx, h, nil)
	}
	if !o.Sender.Equal(ct.Identity) {
		if o.Message.Type == session.TypePreKey {
			return c.hold(ctx, ct, h, env, o)
		}
		return c.discard(ctx, h, fmt.Errorf("an envelope on %q's queue sealed by another identity (%s) was refused", ct.Name, o.Sender.ShortString()))
	}
	var after []Event
	var done bool
	err = c.transact(ctx, func(ctx context.Context) error {
		after = nil
		if done, err = c.st.MarkProcessed(ctx, h, c.now()); err != nil || done {
			return err
		}
		addr := sessionAddr(ct.ID)
		pt, err := c.mgr.Decrypt(ctx, addr, o.Message)
		if err != nil {
			return fmt.Errorf("decrypt a message from %q: %w", ct.Name, err)
		}
		remote, err := c.mgr.RemoteIdentity(ctx, addr)
		if err != nil {
			return err
		}
		if !remote.Equal(ct.Identity) {
			return badf("a message from %q: the session's identity is not the contact's", ct.Name)
		}
		m, err := content.Unmarshal(pt)
		if err != nil {
			return fmt.Errorf("a message from %q: %w", ct.Name, err)
		}
		after, err = c.handle(ctx, ct, oq, m, pt)
		return err
	})
	if err != nil {
		if !badEnvelope(err) {
			return err
		}
		return c.discard(ctx, h, err)
	}
	if done {
		return nil
	}
	for _, e := range after {
		c.emit(e)
		if e.Message == nil {
			continue
		}
		// A download to start, a message that will expire: their loops
		// look (and only then: receipts are frequent).
		if _, ok := pointerOf(e.Message.Body); ok {
			c.wakeTransfers()
		}
		if !e.Message.Expires.IsZero() {
			wake(c.expireCh)
		}
	}
	return nil
}

// addDownload records, inside the receive transaction, the download of a
// received message's attachment, or why it will not be downloaded.
func (c *Client) addDownload(ctx context.Context, ct store.Contact, m content.Message) error {
	p, ok := pointerOf(m.Body)
	if !ok {
		return nil
	}
	file, err := newFileName()
	if err != nil {
		return err
	}
	a := store.Attachment{Contact: ct.ID, Message: m.ID, Direction: store.Incoming, State: store.Downloading,
		File: file, NextAttempt: c.now()}
	switch {
	case c.opts.AttachmentDir == "":
		a.State, a.Err = store.TransferFailed, ErrNoAttachmentDir.Error()
	case p.Size > c.opts.MaxAttachment:
		a.State, a.Err = store.TransferFailed, fmt.Sprintf("%s is over the size limit (%s)", sizeText(p.Size), sizeText(c.opts.MaxAttachment))
	case len(p.Relays) == 0:
		a.State, a.Err = store.TransferFailed, "the message does not say where the attachment is"
	}
	return c.st.AddAttachment(ctx, a)
}

// handle applies one decrypted message inside the receive transaction and
// returns the events to emit after the commit.
func (c *Client) handle(ctx context.Context, ct store.Contact, oq store.OwnQueue, m content.Message, pt []byte) ([]Event, error) {
	switch b := m.Body.(type) {
	case content.Text, content.Image, content.File, content.VoiceClip:
		now := c.now()
		sm := store.Message{ID: m.ID, Contact: ct.ID, Direction: store.Incoming, SentAt: m.SentAt,
			ReceivedAt: now, Kind: kindOf(m.Body), Body: pt, State: store.Arrived, Expires: expiry(m.Disappear, now)}
		err := c.st.AddMessage(ctx, sm)
		if errors.Is(err, store.ErrExists) {
			return nil, nil // the same message sent again: shown once
		}
		if err != nil {
			return nil, err
		}
		if err := c.addDownload(ctx, ct, m); err != nil {
			return nil, err
		}
		c.receipts.add(ct.ID, content.Delivered, m.ID, c.now().Add(randDuration(c.opts.ReceiptDelay)))
		msg := messageOf(sm, m.Body)
		if err := c.retireOlderQueues(ctx, ct.ID, oq.ID); err != nil {
			return nil, err
		}
		return []Event{{Kind: EventReceived, Contact: contactOf(ct), Message: &msg}}, nil
	case content.Receipt:
		state, kind := store.Delivered, EventDelivered
		if b.Kind == content.Read {
			state, kind = store.Read, EventRead
		}
		var ids []content.ID
		for _, id := range b.MessageIDs {
			sm, err := c.st.Message(ctx, ct.ID, id)
			if errors.Is(err, store.ErrNotFound) || (err == nil && (sm.Direction != store.Outgoing || sm.State >= state && sm.State != store.Failed)) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if err := c.st.SetMessageState(ctx, ct.ID, id, state); err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		if len(ids) == 0 {
			return nil, nil
		}
		return []Event{{Kind: kind, Contact: contactOf(ct), MessageIDs: ids}}, nil
	case content.QueueRotation:
		if err := c.st.SetTarget(ctx, ct.ID, b.NewQueue); err != nil {
			return nil, err
		}
		awaiting, err := c.flag(ctx, prefixAwaiting, int64(ct.ID))
		if err != nil || !awaiting {
			return nil, err
		}
		if err := c.clearFlag(ctx, prefixAwaiting, int64(ct.ID)); err != nil {
			return nil, err
		}
		return []Event{{Kind: EventContactAdded, Contact: contactOf(ct)}}, nil
	case content.DisappearingTimer:
		// The contact set the timer: it applies to what this device
		// sends from now on, unless a later change (by either side) is
		// already in force.
		ct, err := c.st.Contact(ctx, ct.ID)
		if err != nil {
			return nil, err
		}
		if m.SentAt.After(ct.DisappearChanged) {
			ct.Disappear, ct.DisappearChanged = b.After, m.SentAt
			if err := c.st.UpdateContact(ctx, ct); err != nil {
				return nil, err
			}
		}
		now := c.now()
		sm := store.Message{ID: m.ID, Contact: ct.ID, Direction: store.Incoming, SentAt: m.SentAt,
			ReceivedAt: now, Kind: store.KindOther, Body: pt, State: store.Arrived, Expires: expiry(m.Disappear, now)}
		if err := c.st.AddMessage(ctx, sm); err != nil && !errors.Is(err, store.ErrExists) {
			return nil, err
		}
		msg := messageOf(sm, m.Body)
		return []Event{{Kind: EventReceived, Contact: contactOf(ct), Message: &msg}}, nil
	default:
		// Profile updates and contact requests on a contact's queue:
		// nothing to do in this version.
		c.log.Debug("message ignored", "type", fmt.Sprintf("%T", m.Body))
		return nil, nil
	}
}

// retireOlderQueues drops the contact's queues older than the one a
// message just arrived on: once the contact uses a newer queue (after a
// rotation), the old ones are no longer needed.
func (c *Client) retireOlderQueues(ctx context.Context, contact store.ContactID, current store.QueueID) error {
	qs, err := c.st.ContactQueues(ctx, contact)
	if err != nil {
		return err
	}
	old := slices.DeleteFunc(qs, func(q store.QueueID) bool { return q >= current })
	if len(old) == 0 {
		return nil
	}
	defer wake(c.queuesCh)
	return c.dropQueues(ctx, old...)
}

// discard records an envelope as processed without keeping anything,
// and reports why (if why is not nil).
func (c *Client) discard(ctx context.Context, h store.EnvelopeHash, why error) error {
	err := c.transact(ctx, func(ctx context.Context) error {
		_, err := c.st.MarkProcessed(ctx, h, c.now())
		return err
	})
	if err != nil {
		return err
	}
	if why != nil {
		c.background("receive", why)
	}
	return nil
}

// errBadEnvelope marks an envelope that is wrong for good (its content,
// not our store, failed a check): it is dropped, not fetched again.
var errBadEnvelope = errors.New("bad envelope")

func badf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadEnvelope, fmt.Sprintf(format, args...))
}

// badEnvelope tells an envelope that will never be accepted (drop it)
// from a failure of our own (keep it at the relay: it is fetched again).
func badEnvelope(err error) bool {
	for _, e := range []error{errBadEnvelope, session.ErrNoSession, session.ErrDuplicate, session.ErrIdentityChanged,
		session.ErrMalformed, session.ErrDecrypt, session.ErrBadBundle, content.ErrVersion, content.ErrMalformed, content.ErrTooLarge} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func kindOf(b content.Body) store.Kind {
	switch b.(type) {
	case content.Text:
		return store.KindText
	case content.Image:
		return store.KindImage
	case content.File:
		return store.KindFile
	case content.VoiceClip:
		return store.KindVoice
	}
	return store.KindOther
}

func messageOf(sm store.Message, body content.Body) Message {
	return Message{ID: sm.ID, Contact: sm.Contact, Direction: sm.Direction, SentAt: sm.SentAt,
		ReceivedAt: sm.ReceivedAt, State: sm.State, Pinned: sm.Pinned, Expires: sm.Expires, Body: body}
}
