// SPDX-License-Identifier: AGPL-3.0-or-later

package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/sealed"
	"github.com/hushchat/hush/pkg/core/store"
	"github.com/hushchat/hush/pkg/core/verify"
)

// Contacts lists the contacts, oldest first.
func (c *Client) Contacts(ctx context.Context) ([]Contact, error) {
	list, err := c.st.ListContacts(ctx)
	if err != nil {
		return nil, fmt.Errorf("list contacts: %w", err)
	}
	out := make([]Contact, len(list))
	for i, sc := range list {
		out[i] = contactOf(sc)
		if out[i].Pending, err = c.flag(ctx, prefixAwaiting, int64(sc.ID)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Contact returns one contact.
func (c *Client) Contact(ctx context.Context, id store.ContactID) (Contact, error) {
	sc, err := c.storedContact(ctx, id)
	if err != nil {
		return Contact{}, err
	}
	ct := contactOf(sc)
	ct.Pending, err = c.flag(ctx, prefixAwaiting, int64(id))
	return ct, err
}

// FindContact returns the contact called name (exactly, or else the one
// whose name starts with it, ignoring case), or one given by its number.
func (c *Client) FindContact(ctx context.Context, name string) (Contact, error) {
	list, err := c.Contacts(ctx)
	if err != nil {
		return Contact{}, err
	}
	for _, ct := range list {
		if ct.Name == name {
			return ct, nil
		}
	}
	if n, err := strconv.ParseInt(strings.TrimPrefix(name, "#"), 10, 64); err == nil {
		for _, ct := range list {
			if int64(ct.ID) == n {
				return ct, nil
			}
		}
	}
	var found []Contact
	for _, ct := range list {
		if strings.HasPrefix(strings.ToLower(ct.Name), strings.ToLower(name)) {
			found = append(found, ct)
		}
	}
	switch len(found) {
	case 0:
		return Contact{}, fmt.Errorf("%w called %q", ErrNoContact, name)
	case 1:
		return found[0], nil
	}
	return Contact{}, fmt.Errorf("%q: %w", name, ErrAmbiguousName)
}

// SafetyNumber returns the safety number of the conversation with a
// contact: the same 60 digits and QR payload on both sides if, and only
// if, each side has the other's true identity key.
func (c *Client) SafetyNumber(ctx context.Context, id store.ContactID) (verify.SafetyNumber, error) {
	ct, err := c.storedContact(ctx, id)
	if err != nil {
		return verify.SafetyNumber{}, err
	}
	return verify.New(c.Identity(), ct.Identity), nil
}

// Verify marks a contact verified. With scanned (the payload of the
// contact's QR code) the codes are compared first and a mismatch returns
// ErrVerifyMismatch; with nil the user confirms having compared the
// numbers.
func (c *Client) Verify(ctx context.Context, id store.ContactID, scanned []byte) error {
	sn, err := c.SafetyNumber(ctx, id)
	if err != nil {
		return err
	}
	if scanned != nil {
		if err := sn.CompareScanned(scanned); err != nil {
			return fmt.Errorf("%w: %w", ErrVerifyMismatch, err)
		}
	}
	return c.updateContact(ctx, id, func(sc *store.Contact) { sc.Verified = true })
}

// storedContact returns a contact from the store; ErrNoContact if there
// is none.
func (c *Client) storedContact(ctx context.Context, id store.ContactID) (store.Contact, error) {
	sc, err := c.st.Contact(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return sc, fmt.Errorf("%w (%d)", ErrNoContact, id)
	}
	return sc, err
}

// changeContact applies change to a contact in the current transaction.
func (c *Client) changeContact(ctx context.Context, id store.ContactID, change func(*store.Contact)) error {
	sc, err := c.storedContact(ctx, id)
	if err != nil {
		return err
	}
	change(&sc)
	return c.st.UpdateContact(ctx, sc)
}

func (c *Client) updateContact(ctx context.Context, id store.ContactID, change func(*store.Contact)) error {
	return c.transact(ctx, func(ctx context.Context) error { return c.changeContact(ctx, id, change) })
}

// Block blocks a contact: its queues are deleted on their relays (so it
// can no longer reach us), further envelopes are refused and nothing is
// sent to it. History is kept.
func (c *Client) Block(ctx context.Context, id store.ContactID) error {
	err := c.transact(ctx, func(ctx context.Context) error {
		if err := c.changeContact(ctx, id, func(sc *store.Contact) { sc.Blocked = true }); err != nil {
			return err
		}
		return c.dropContactQueues(ctx, id)
	})
	if err != nil {
		return fmt.Errorf("block: %w", err)
	}
	c.deleteDroppedSoon(ctx)
	return nil
}

// Remove deletes a contact with its history, session and queues.
func (c *Client) Remove(ctx context.Context, id store.ContactID) error {
	err := c.transact(ctx, func(ctx context.Context) error {
		if _, err := c.storedContact(ctx, id); err != nil {
			return err
		}
		if err := c.dropContactQueues(ctx, id); err != nil {
			return err
		}
		if err := c.st.DeleteSession(ctx, sessionAddr(id)); err != nil {
			return err
		}
		for _, p := range []string{prefixAwaiting, prefixHeld} {
			if err := c.clearFlag(ctx, p, int64(id)); err != nil {
				return err
			}
		}
		return c.st.DeleteContact(ctx, id)
	})
	if err != nil {
		return fmt.Errorf("remove contact: %w", err)
	}
	c.deleteDroppedSoon(ctx)
	return nil
}

func (c *Client) dropContactQueues(ctx context.Context, id store.ContactID) error {
	ids, err := c.st.ContactQueues(ctx, id)
	if err != nil {
		return err
	}
	return c.dropQueues(ctx, ids...)
}

// deleteDroppedSoon deletes dropped queues on their relays now; the
// upkeep loop retries what fails (a relay down, no network).
func (c *Client) deleteDroppedSoon(ctx context.Context) {
	wake(c.queuesCh)
	if err := c.deleteDropped(ctx); err != nil {
		c.log.Info("queues left to delete later", "err", err)
	}
}

// RotateQueue moves a contact to a fresh queue of ours: the contact is
// told in a QueueRotation message, and our older queues for it are
// deleted once a message arrives on the new one.
func (c *Client) RotateQueue(ctx context.Context, id store.ContactID) error {
	if _, err := c.storedContact(ctx, id); err != nil {
		return err
	}
	oq, err := c.newQueue(ctx, id, false)
	if err != nil {
		return fmt.Errorf("rotate queue: %w", err)
	}
	_, err = c.sendMessage(ctx, id, content.QueueRotation{NewQueue: oq.Queue.Address()}, 0, nil)
	if err != nil {
		c.dropAfterFailure(ctx, oq.ID)
		return fmt.Errorf("rotate queue: %w", err)
	}
	return nil
}

// heldRecord is what is kept of a contact's identity change: the new key
// and the envelopes that came with it, until the user decides.
type heldRecord struct {
	Identity  string   `json:"identity"`
	Envelopes [][]byte `json:"envelopes"`
}

// hold keeps an envelope sealed by a new identity key on a contact's
// queue, not shown, and raises EventIdentityChanged.
func (c *Client) hold(ctx context.Context, ct store.Contact, h store.EnvelopeHash, env []byte, o sealed.Opened) error {
	var done bool
	err := c.transact(ctx, func(ctx context.Context) error {
		var err error
		if done, err = c.st.MarkProcessed(ctx, h, c.now()); err != nil || done {
			return err
		}
		rec, err := c.held(ctx, ct.ID)
		if err != nil {
			return err
		}
		if rec.Identity != o.Sender.String() {
			rec = heldRecord{Identity: o.Sender.String()}
		}
		if len(rec.Envelopes) < maxHeld {
			rec.Envelopes = append(rec.Envelopes, env)
		}
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return c.st.SetSetting(ctx, settingKey(prefixHeld, int64(ct.ID)), b)
	})
	if err != nil || done {
		return err
	}
	c.emit(Event{Kind: EventIdentityChanged, Contact: contactOf(ct), NewIdentity: o.Sender})
	return nil
}

// maxHeld bounds the envelopes kept for one identity change.
const maxHeld = 64

func (c *Client) held(ctx context.Context, id store.ContactID) (heldRecord, error) {
	b, err := c.st.Setting(ctx, settingKey(prefixHeld, int64(id)))
	if errors.Is(err, store.ErrNotFound) {
		return heldRecord{}, nil
	}
	if err != nil {
		return heldRecord{}, err
	}
	var rec heldRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return heldRecord{}, fmt.Errorf("read held envelopes: %w", err)
	}
	return rec, nil
}

// PendingIdentityChange returns the new identity key a contact's held
// envelopes came with, if any.
func (c *Client) PendingIdentityChange(ctx context.Context, id store.ContactID) (identity.PublicKey, bool, error) {
	rec, err := c.held(ctx, id)
	if err != nil || rec.Identity == "" {
		return identity.PublicKey{}, false, err
	}
	k, err := identity.ParsePublicKey(rec.Identity)
	return k, err == nil, err
}

// AcceptIdentityChange trusts the contact's new identity key: the contact
// is no longer verified (compare safety numbers again), its old session
// is ended and the held envelopes are processed as if they had just
// arrived. Envelopes that still do not open are reported as errors.
func (c *Client) AcceptIdentityChange(ctx context.Context, id store.ContactID) error {
	rec, err := c.held(ctx, id)
	if err != nil {
		return err
	}
	if rec.Identity == "" {
		return ErrNoIdentityChange
	}
	k, err := identity.ParsePublicKey(rec.Identity)
	if err != nil {
		return fmt.Errorf("read held identity: %w", err)
	}
	err = c.transact(ctx, func(ctx context.Context) error {
		if err := c.changeContact(ctx, id, func(sc *store.Contact) { sc.Identity, sc.Verified = k, false }); err != nil {
			return err
		}
		if err := c.st.DeleteSession(ctx, sessionAddr(id)); err != nil {
			return err
		}
		if err := c.st.SaveRemoteIdentity(ctx, sessionAddr(id), k); err != nil {
			return err
		}
		return c.clearFlag(ctx, prefixHeld, int64(id))
	})
	if err != nil {
		return fmt.Errorf("accept the new identity: %w", err)
	}
	qs, err := c.st.ContactQueues(ctx, id)
	if err != nil {
		return err
	}
	var queue store.QueueID // the newest
	if len(qs) > 0 {
		queue = qs[len(qs)-1]
	}
	var errs []error
	for _, env := range rec.Envelopes {
		// Held envelopes were marked processed; process them afresh
		// under a hash of their own.
		if err := c.receiveHeld(ctx, queue, env); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// RejectIdentityChange drops the held envelopes; the contact keeps its
// old key.
func (c *Client) RejectIdentityChange(ctx context.Context, id store.ContactID) error {
	rec, err := c.held(ctx, id)
	if err != nil {
		return err
	}
	if rec.Identity == "" {
		return ErrNoIdentityChange
	}
	return c.transact(ctx, func(ctx context.Context) error { return c.clearFlag(ctx, prefixHeld, int64(id)) })
}
