// SPDX-License-Identifier: AGPL-3.0-or-later

package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/invite"
	"github.com/hushchat/hush/pkg/core/sealed"
	"github.com/hushchat/hush/pkg/core/session"
	"github.com/hushchat/hush/pkg/core/store"
	"github.com/hushchat/hush/pkg/mailbox"
)

// Invitation is a link made by CreateInvitation.
type Invitation struct {
	Link    string
	Expires time.Time
}

// QRTerminal draws the link as a QR code with Unicode half blocks.
func (inv Invitation) QRTerminal() (string, error) { return invite.QRCodeTerminal(inv.Link) }

// QRPNG renders the link as a PNG QR code about size pixels wide.
func (inv Invitation) QRPNG(size int) ([]byte, error) { return invite.QRCodePNG(inv.Link, size) }

// inviteRecord is what the client keeps of an invitation it made, under
// prefixInvite + the queue's ID: the signed link (it holds the bundle
// whose prekeys must be erased when the invitation is used or expires).
type inviteRecord struct {
	Link    string    `json:"link"`
	Created time.Time `json:"created"`
}

// CreateInvitation makes a single-use invitation valid for ttl (0:
// DefaultInvitationTTL): a contact-request queue on a relay, a fresh
// prekey bundle, and the signed link carrying both.
func (c *Client) CreateInvitation(ctx context.Context, ttl time.Duration) (Invitation, error) {
	if ttl <= 0 {
		ttl = DefaultInvitationTTL
	}
	name, err := c.DisplayName(ctx)
	if err != nil {
		return Invitation{}, err
	}
	oq, err := c.newQueue(ctx, 0, true)
	if err != nil {
		return Invitation{}, fmt.Errorf("invitation: %w", err)
	}
	var out Invitation
	err = c.transact(ctx, func(ctx context.Context) error {
		b, err := c.mgr.NewBundle(ctx)
		if err != nil {
			return err
		}
		now := c.now()
		inv, err := invite.New(b, oq.Queue.Address(), name, now, ttl)
		if err != nil {
			return err
		}
		link, err := invite.Sign(c.key, inv)
		if err != nil {
			return err
		}
		rec, err := json.Marshal(inviteRecord{Link: link, Created: now})
		if err != nil {
			return err
		}
		out = Invitation{Link: link, Expires: inv.Expires}
		return c.st.SetSetting(ctx, settingKey(prefixInvite, int64(oq.ID)), rec)
	})
	if err != nil {
		c.dropAfterFailure(ctx, oq.ID)
		return Invitation{}, fmt.Errorf("invitation: %w", err)
	}
	return out, nil
}

// dropAfterFailure drops a queue made for an operation that then failed.
func (c *Client) dropAfterFailure(ctx context.Context, id store.QueueID) {
	err := c.transact(context.WithoutCancel(ctx), func(ctx context.Context) error { return c.dropQueues(ctx, id) })
	if err != nil {
		c.log.Warn("drop an unused queue", "err", err)
	}
}

// AcceptInvitation accepts an invitation link: it checks the link (one
// clear error per refusal, see package invite), runs X3DH with the
// inviter's bundle, makes our queue for this contact on a relay and sends
// the contact request into the invitation's queue. The request is sent
// before AcceptInvitation returns if the network allows, so an
// invitation someone else used first is reported (ErrInvitationUsed);
// if the relay cannot be reached, the request stays in the outbox and is
// retried. The contact is Pending until the inviter answers.
func (c *Client) AcceptInvitation(ctx context.Context, link string) (Contact, error) {
	inv, err := invite.Check(ctx, link, c.Identity(), c.st, c.now())
	if err != nil {
		return Contact{}, err
	}
	myName, err := c.DisplayName(ctx)
	if err != nil {
		return Contact{}, err
	}
	oq, err := c.newQueue(ctx, 0, false)
	if err != nil {
		return Contact{}, fmt.Errorf("accept the invitation: %w", err)
	}
	var (
		ct    store.Contact
		entry store.OutboxEntry
	)
	err = c.transact(ctx, func(ctx context.Context) error {
		name, err := c.uniqueName(ctx, inv.DisplayName)
		if err != nil {
			return err
		}
		ct = store.Contact{Name: name, Identity: inv.Inviter(), Created: c.now()}
		if ct.ID, err = c.st.AddContact(ctx, ct); err != nil {
			return err
		}
		if err := c.st.SetQueueContact(ctx, oq.ID, ct.ID); err != nil {
			return err
		}
		if err := c.st.SetTarget(ctx, ct.ID, inv.Queue); err != nil {
			return err
		}
		if err := c.mgr.Initiate(ctx, sessionAddr(ct.ID), inv.Bundle); err != nil {
			return fmt.Errorf("X3DH with the inviter: %w", err)
		}
		req := content.ContactRequest{InvitationID: inv.ID, DisplayName: myName, ReplyQueue: oq.Queue.Address()}
		if _, entry, err = c.queueContent(ctx, ct, inv.Queue, req, 0); err != nil {
			return err
		}
		if err := c.setFlag(ctx, prefixAwaiting, int64(ct.ID)); err != nil {
			return err
		}
		return c.st.RecordAccepted(ctx, inv.ID, inv.Expires)
	})
	if err != nil {
		c.dropAfterFailure(ctx, oq.ID)
		return Contact{}, fmt.Errorf("accept the invitation: %w", err)
	}
	if entry.ID != 0 {
		err := c.sendEntry(ctx, entry)
		switch {
		case errors.Is(err, mailbox.StatusContactRequestUsed), errors.Is(err, mailbox.StatusNoQueue):
			c.undoAccept(ctx, ct.ID, oq.ID)
			return Contact{}, ErrInvitationUsed
		case err != nil:
			c.log.Info("contact request queued for a later attempt", "err", err)
		}
	}
	wake(c.outboxCh)
	out := contactOf(ct)
	out.Pending = true
	return out, nil
}

// undoAccept removes a contact whose contact request the relay refused.
func (c *Client) undoAccept(ctx context.Context, contact store.ContactID, queue store.QueueID) {
	err := c.transact(context.WithoutCancel(ctx), func(ctx context.Context) error {
		if err := c.dropQueues(ctx, queue); err != nil {
			return err
		}
		if err := c.st.DeleteSession(ctx, sessionAddr(contact)); err != nil {
			return err
		}
		if err := c.clearFlag(ctx, prefixAwaiting, int64(contact)); err != nil {
			return err
		}
		return c.st.DeleteContact(ctx, contact)
	})
	if err != nil {
		c.background("remove the contact of a used invitation", err)
	}
}

// loadInvite returns the invitation made for queue, or nil.
func (c *Client) loadInvite(ctx context.Context, queue store.QueueID) (*invite.Invitation, error) {
	b, err := c.st.Setting(ctx, settingKey(prefixInvite, int64(queue)))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rec inviteRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("read an invitation record: %w", err)
	}
	// Parsed at its own creation time: an expired one must still give
	// its bundle back, to erase its prekeys.
	inv, err := invite.Parse(rec.Link, rec.Created)
	if err != nil {
		return nil, fmt.Errorf("read an invitation record: %w", err)
	}
	return inv, nil
}

// endInvite erases an invitation's prekeys and record and drops its queue.
func (c *Client) endInvite(ctx context.Context, queue store.QueueID, inv *invite.Invitation) error {
	if err := c.mgr.DiscardBundle(ctx, inv.Bundle); err != nil {
		return fmt.Errorf("erase the invitation's prekeys: %w", err)
	}
	if err := c.st.DeleteSetting(ctx, settingKey(prefixInvite, int64(queue))); err != nil {
		return err
	}
	return c.dropQueues(ctx, queue)
}

// receiveContactRequest handles the envelope of an invitation's queue:
// the contact request of whoever accepted it. In one transaction it
// makes the contact, decrypts the request (a prekey message that builds
// the session), checks that the sealed sender is the session's identity,
// records where to answer and ends the invitation. The answer (a fresh
// queue of ours) is sent by answerContact after the commit.
func (c *Client) receiveContactRequest(ctx context.Context, oq store.OwnQueue, h store.EnvelopeHash, o sealed.Opened) error {
	var (
		ct   store.Contact
		done bool
	)
	err := c.transact(ctx, func(ctx context.Context) error {
		var err error
		if done, err = c.st.MarkProcessed(ctx, h, c.now()); err != nil || done {
			return err
		}
		inv, err := c.loadInvite(ctx, oq.ID)
		if err != nil {
			return err
		}
		if inv == nil {
			return badf("an envelope on a queue that is no longer an invitation's")
		}
		if o.Message.Type != session.TypePreKey {
			return badf("contact request is a %v, want a prekey message", o.Message.Type)
		}
		ct = store.Contact{Name: "new contact", Identity: o.Sender, Created: c.now()}
		if ct.ID, err = c.st.AddContact(ctx, ct); err != nil {
			return err
		}
		addr := sessionAddr(ct.ID)
		pt, err := c.mgr.Decrypt(ctx, addr, o.Message)
		if err != nil {
			return fmt.Errorf("decrypt the contact request: %w", err)
		}
		remote, err := c.mgr.RemoteIdentity(ctx, addr)
		if err != nil {
			return err
		}
		if !remote.Equal(o.Sender) {
			return badf("contact request: the sealed sender is not the session's identity")
		}
		m, err := content.Unmarshal(pt)
		if err != nil {
			return fmt.Errorf("contact request: %w", err)
		}
		req, ok := m.Body.(content.ContactRequest)
		if !ok {
			return badf("first message on an invitation's queue is %T, not a contact request", m.Body)
		}
		if req.InvitationID != inv.ID {
			return badf("contact request names another invitation")
		}
		if ct.Name, err = c.uniqueName(ctx, req.DisplayName); err != nil {
			return err
		}
		if err := c.st.UpdateContact(ctx, ct); err != nil {
			return err
		}
		if err := c.st.SetTarget(ctx, ct.ID, req.ReplyQueue); err != nil {
			return err
		}
		return c.endInvite(ctx, oq.ID, inv)
	})
	if err != nil || done {
		return err
	}
	// The invitation's queue is dropped, so its poller (which runs this)
	// is about to be cancelled: answer on a context of its own.
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), answerTimeout)
	defer cancel()
	wake(c.queuesCh)
	c.answerMu.Lock()
	defer c.answerMu.Unlock()
	if err := c.answerContact(actx, ct.ID); err != nil {
		c.background("answer a new contact (tried again later)", err)
	}
	return nil
}

// answerTimeout bounds answering a new contact; the upkeep loop tries
// again if it runs out.
const answerTimeout = time.Minute

// answerContact gives a contact that has no queue of ours yet a fresh
// queue and tells it (a QueueRotation, the first message of our side of
// the session). The upkeep loop calls it again for any contact left
// without a queue by a crash or a network failure.
func (c *Client) answerContact(ctx context.Context, contact store.ContactID) error {
	oq, err := c.newQueue(ctx, contact, false)
	if err != nil {
		return fmt.Errorf("answer a new contact: %w", err)
	}
	var ct store.Contact
	err = c.transact(ctx, func(ctx context.Context) error {
		var err error
		if ct, err = c.st.Contact(ctx, contact); err != nil {
			return err
		}
		to, err := c.st.Target(ctx, contact)
		if err != nil {
			return err
		}
		_, _, err = c.queueContent(ctx, ct, to, content.QueueRotation{NewQueue: oq.Queue.Address()}, 0)
		return err
	})
	if err != nil {
		c.dropAfterFailure(ctx, oq.ID)
		return fmt.Errorf("answer a new contact: %w", err)
	}
	wake(c.outboxCh)
	c.emit(Event{Kind: EventContactAdded, Contact: contactOf(ct)})
	return nil
}

// uniqueName returns name, or name with a number, so that no two
// contacts share a name (the CLI finds contacts by name).
func (c *Client) uniqueName(ctx context.Context, name string) (string, error) {
	if name == "" {
		name = "contact"
	}
	list, err := c.st.ListContacts(ctx)
	if err != nil {
		return "", err
	}
	taken := make(map[string]bool, len(list))
	for _, ct := range list {
		taken[ct.Name] = true
	}
	cand := name
	for i := 2; taken[cand]; i++ {
		cand = fmt.Sprintf("%s (%d)", name, i)
	}
	return cand, nil
}

// settingKey names the setting of prefix for one contact or queue.
func settingKey(prefix string, id int64) string { return prefix + strconv.FormatInt(id, 10) }

func (c *Client) flag(ctx context.Context, prefix string, id int64) (bool, error) {
	_, err := c.st.Setting(ctx, settingKey(prefix, id))
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (c *Client) setFlag(ctx context.Context, prefix string, id int64) error {
	return c.st.SetSetting(ctx, settingKey(prefix, id), []byte{1})
}

func (c *Client) clearFlag(ctx context.Context, prefix string, id int64) error {
	return c.st.DeleteSetting(ctx, settingKey(prefix, id))
}
