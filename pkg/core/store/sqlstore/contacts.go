// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/store"
	"github.com/hushchat/hush/pkg/internal/secret"
	"github.com/hushchat/hush/pkg/mailbox"
)

const contactColumns = "id, name, identity, verified, blocked, created, disappear, disappear_changed, retention"

// AddContact implements store.Contacts.
func (s *Store) AddContact(ctx context.Context, c store.Contact) (store.ContactID, error) {
	if c.Identity.IsZero() {
		return 0, fmt.Errorf("%w: contact has no identity key", store.ErrInvalid)
	}
	if c.Disappear < 0 || c.Retention < 0 {
		return 0, fmt.Errorf("%w: negative contact timer", store.ErrInvalid)
	}
	res, err := s.q(ctx).ExecContext(ctx, "INSERT INTO contacts (name, identity, verified, blocked, created, disappear, disappear_changed, retention) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		c.Name, c.Identity.Bytes(), flag(c.Verified), flag(c.Blocked), ms(c.Created), c.Disappear.Milliseconds(), ms(c.DisappearChanged), c.Retention.Milliseconds())
	if err != nil {
		return 0, wrap("add contact", err)
	}
	id, err := res.LastInsertId()
	return store.ContactID(id), wrap("add contact", err)
}

// Contact implements store.Contacts.
func (s *Store) Contact(ctx context.Context, id store.ContactID) (store.Contact, error) {
	c, err := scanContact(s.q(ctx).QueryRowContext(ctx, "SELECT "+contactColumns+" FROM contacts WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("sqlstore: contact %d: %w", id, store.ErrNotFound)
	}
	return c, err
}

// ListContacts implements store.Contacts.
func (s *Store) ListContacts(ctx context.Context) ([]store.Contact, error) {
	rows, err := s.q(ctx).QueryContext(ctx, "SELECT "+contactColumns+" FROM contacts ORDER BY id")
	if err != nil {
		return nil, wrap("list contacts", err)
	}
	defer rows.Close()
	var out []store.Contact
	for rows.Next() {
		c, err := scanContact(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, wrap("list contacts", rows.Err())
}

// UpdateContact implements store.Contacts.
func (s *Store) UpdateContact(ctx context.Context, c store.Contact) error {
	if c.Identity.IsZero() {
		return fmt.Errorf("%w: contact has no identity key", store.ErrInvalid)
	}
	if c.Disappear < 0 || c.Retention < 0 {
		return fmt.Errorf("%w: negative contact timer", store.ErrInvalid)
	}
	return s.one(ctx, "update contact", "UPDATE contacts SET name = ?, identity = ?, verified = ?, blocked = ?, disappear = ?, disappear_changed = ?, retention = ? WHERE id = ?",
		c.Name, c.Identity.Bytes(), flag(c.Verified), flag(c.Blocked), c.Disappear.Milliseconds(), ms(c.DisappearChanged), c.Retention.Milliseconds(), c.ID)
}

// DeleteContact implements store.Contacts.
func (s *Store) DeleteContact(ctx context.Context, id store.ContactID) error {
	return s.one(ctx, "delete contact", "DELETE FROM contacts WHERE id = ?", id)
}

type scanner interface{ Scan(dst ...any) error }

func scanContact(r scanner) (store.Contact, error) {
	var c store.Contact
	var key []byte
	var verified, blocked int
	var created, disappear, changed, retention int64
	if err := r.Scan(&c.ID, &c.Name, &key, &verified, &blocked, &created, &disappear, &changed, &retention); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return c, err
		}
		return c, wrap("read contact", err)
	}
	k, err := identity.NewPublicKey(key)
	if err != nil {
		return store.Contact{}, fmt.Errorf("sqlstore: stored contact key: %w", err)
	}
	c.Identity, c.Verified, c.Blocked, c.Created = k, verified == 1, blocked == 1, fromMs(created)
	c.Disappear, c.Retention = time.Duration(disappear)*time.Millisecond, time.Duration(retention)*time.Millisecond
	c.DisappearChanged = fromMs(changed)
	return c, nil
}

// one runs a statement that must change exactly one row, else
// store.ErrNotFound.
func (s *Store) one(ctx context.Context, what, query string, args ...any) error {
	res, err := s.q(ctx).ExecContext(ctx, query, args...)
	if err != nil {
		return wrap(what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(what, err)
	}
	if n != 1 {
		return fmt.Errorf("sqlstore: %s: %w", what, store.ErrNotFound)
	}
	return nil
}

const queueColumns = "id, contact, relay, recipient_id, sender_id, auth_seed, counter, contact_request, created"

// AddQueue implements store.Queues.
func (s *Store) AddQueue(ctx context.Context, q store.OwnQueue) (store.QueueID, error) {
	if q.Queue == nil || q.Queue.Auth == nil || q.Queue.Relay.IsZero() {
		return 0, fmt.Errorf("%w: queue is incomplete", store.ErrInvalid)
	}
	seed := q.Queue.Auth.Seed()
	defer secret.Zero(seed)
	res, err := s.q(ctx).ExecContext(ctx, "INSERT INTO queues (contact, relay, recipient_id, sender_id, auth_seed, counter, contact_request, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		nullID(int64(q.Contact)), q.Queue.Relay.Bytes(), q.Queue.Recipient.Bytes(), q.Queue.Sender.Bytes(),
		seed, int64(q.Queue.Counter), flag(q.Queue.ContactRequest), ms(q.Created))
	if isConstraint(err) {
		return 0, fmt.Errorf("%w: a queue with this recipient ID, or no such contact", store.ErrExists)
	}
	if err != nil {
		return 0, wrap("add queue", err)
	}
	id, err := res.LastInsertId()
	return store.QueueID(id), wrap("add queue", err)
}

// Queue implements store.Queues.
func (s *Store) Queue(ctx context.Context, id store.QueueID) (store.OwnQueue, error) {
	q, err := scanQueue(s.q(ctx).QueryRowContext(ctx, "SELECT "+queueColumns+" FROM queues WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return q, fmt.Errorf("sqlstore: queue %d: %w", id, store.ErrNotFound)
	}
	return q, err
}

// ListQueues implements store.Queues.
func (s *Store) ListQueues(ctx context.Context) ([]store.OwnQueue, error) {
	rows, err := s.q(ctx).QueryContext(ctx, "SELECT "+queueColumns+" FROM queues ORDER BY id")
	if err != nil {
		return nil, wrap("list queues", err)
	}
	defer rows.Close()
	var out []store.OwnQueue
	for rows.Next() {
		q, err := scanQueue(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, wrap("list queues", rows.Err())
}

// ContactQueues implements store.Queues, through the queues_contact
// index and without reading the queues' secrets.
func (s *Store) ContactQueues(ctx context.Context, contact store.ContactID) ([]store.QueueID, error) {
	rows, err := s.q(ctx).QueryContext(ctx, "SELECT id FROM queues WHERE contact = ? ORDER BY id", contact)
	if err != nil {
		return nil, wrap("list a contact's queues", err)
	}
	defer rows.Close()
	var out []store.QueueID
	for rows.Next() {
		var id store.QueueID
		if err := rows.Scan(&id); err != nil {
			return nil, wrap("list a contact's queues", err)
		}
		out = append(out, id)
	}
	return out, wrap("list a contact's queues", rows.Err())
}

// SetQueueContact implements store.Queues.
func (s *Store) SetQueueContact(ctx context.Context, id store.QueueID, contact store.ContactID) error {
	return s.one(ctx, "set queue contact", "UPDATE queues SET contact = ? WHERE id = ?", nullID(int64(contact)), id)
}

// DeleteQueue implements store.Queues.
func (s *Store) DeleteQueue(ctx context.Context, id store.QueueID) error {
	return s.one(ctx, "delete queue", "DELETE FROM queues WHERE id = ?", id)
}

// NextCounter implements store.Queues: the increment and the read are
// one transaction, committed (and fsynced) before it returns unless ctx
// carries an outer transaction.
func (s *Store) NextCounter(ctx context.Context, id store.QueueID, n uint64) (uint64, error) {
	if n < 1 || n > math.MaxInt32 {
		return 0, fmt.Errorf("%w: reserve %d counters", store.ErrInvalid, n)
	}
	var last int64
	err := s.Transact(ctx, func(ctx context.Context) error {
		if err := s.one(ctx, "next counter", "UPDATE queues SET counter = counter + ? WHERE id = ?", int64(n), id); err != nil {
			return err
		}
		return wrap("next counter", s.q(ctx).QueryRowContext(ctx, "SELECT counter FROM queues WHERE id = ?", id).Scan(&last))
	})
	return uint64(last), err
}

func scanQueue(r scanner) (store.OwnQueue, error) {
	var q store.OwnQueue
	var contact sql.NullInt64
	var relay, rid, sid, seed []byte
	var counter, created int64
	var cr int
	if err := r.Scan(&q.ID, &contact, &relay, &rid, &sid, &seed, &counter, &cr, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return q, err
		}
		return q, wrap("read queue", err)
	}
	defer secret.Zero(seed)
	mq := &mailbox.Queue{ContactRequest: cr == 1, Counter: uint64(counter)}
	var errs [4]error
	mq.Relay, errs[0] = mailbox.NewRelayID(relay)
	mq.Recipient, errs[1] = mailbox.ParseRecipientID(rid)
	mq.Sender, errs[2] = mailbox.ParseSenderID(sid)
	mq.Auth, errs[3] = mailbox.AuthKeyFromSeed(seed)
	if err := errors.Join(errs[:]...); err != nil {
		return store.OwnQueue{}, fmt.Errorf("sqlstore: stored queue %d: %w", q.ID, err)
	}
	q.Queue, q.Contact, q.Created = mq, store.ContactID(contact.Int64), fromMs(created)
	return q, nil
}

// nullID stores a zero ID as NULL (no contact).
func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// SetTarget implements store.Targets.
func (s *Store) SetTarget(ctx context.Context, contact store.ContactID, addr mailbox.QueueAddress) error {
	_, err := s.q(ctx).ExecContext(ctx, "INSERT OR REPLACE INTO targets (contact, relay, sender_id) VALUES (?, ?, ?)",
		contact, addr.Relay.Bytes(), addr.Sender.Bytes())
	if isConstraint(err) {
		return fmt.Errorf("sqlstore: set target: contact %d: %w", contact, store.ErrNotFound)
	}
	return wrap("set target", err)
}

// Target implements store.Targets.
func (s *Store) Target(ctx context.Context, contact store.ContactID) (mailbox.QueueAddress, error) {
	var relay, sid []byte
	err := s.q(ctx).QueryRowContext(ctx, "SELECT relay, sender_id FROM targets WHERE contact = ?", contact).Scan(&relay, &sid)
	if errors.Is(err, sql.ErrNoRows) {
		return mailbox.QueueAddress{}, fmt.Errorf("sqlstore: target of contact %d: %w", contact, store.ErrNotFound)
	}
	if err != nil {
		return mailbox.QueueAddress{}, wrap("load target", err)
	}
	return queueAddress(relay, sid)
}

func queueAddress(relay, sid []byte) (mailbox.QueueAddress, error) {
	r, err := mailbox.NewRelayID(relay)
	if err != nil {
		return mailbox.QueueAddress{}, fmt.Errorf("sqlstore: stored queue address: %w", err)
	}
	s, err := mailbox.ParseSenderID(sid)
	if err != nil {
		return mailbox.QueueAddress{}, fmt.Errorf("sqlstore: stored queue address: %w", err)
	}
	return mailbox.QueueAddress{Relay: r, Sender: s}, nil
}
