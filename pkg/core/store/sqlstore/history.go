// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/store"
)

// MaxPage bounds the limit of History and Pending.
const MaxPage = 1000

const messageColumns = "contact, id, direction, sent_at, received_at, kind, body, state, pinned, expires"

// AddMessage implements store.Messages.
func (s *Store) AddMessage(ctx context.Context, m store.Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	_, err := s.q(ctx).ExecContext(ctx, "INSERT INTO messages ("+messageColumns+", at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		m.Contact, m.ID[:], m.Direction, ms(m.SentAt), ms(m.ReceivedAt), m.Kind, m.Body, m.State, flag(m.Pinned), ms(m.Expires), ms(m.At()))
	if isConstraint(err) {
		return fmt.Errorf("%w: message %v of contact %d, or no such contact", store.ErrExists, m.ID, m.Contact)
	}
	return wrap("add message", err)
}

// Message implements store.Messages.
func (s *Store) Message(ctx context.Context, contact store.ContactID, id content.ID) (store.Message, error) {
	m, err := scanMessage(s.q(ctx).QueryRowContext(ctx, "SELECT "+messageColumns+" FROM messages WHERE contact = ? AND id = ?", contact, id[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("sqlstore: message %v: %w", id, store.ErrNotFound)
	}
	return m, err
}

// SetMessageState implements store.Messages.
func (s *Store) SetMessageState(ctx context.Context, contact store.ContactID, id content.ID, st store.State) error {
	if st < store.Pending || st > store.Arrived {
		return fmt.Errorf("%w: message state %d", store.ErrInvalid, st)
	}
	return s.one(ctx, "set message state", "UPDATE messages SET state = ? WHERE contact = ? AND id = ?", st, contact, id[:])
}

// SetPinned implements store.Messages.
func (s *Store) SetPinned(ctx context.Context, contact store.ContactID, id content.ID, pinned bool) error {
	return s.one(ctx, "pin message", "UPDATE messages SET pinned = ? WHERE contact = ? AND id = ?", flag(pinned), contact, id[:])
}

// History implements store.Messages.
func (s *Store) History(ctx context.Context, contact store.ContactID, before *store.Cursor, limit int) ([]store.Message, error) {
	if limit < 1 || limit > MaxPage {
		return nil, fmt.Errorf("%w: page of %d messages, want 1 to %d", store.ErrInvalid, limit, MaxPage)
	}
	query := "SELECT " + messageColumns + " FROM messages WHERE contact = ?"
	args := []any{contact}
	if before != nil {
		at := ms(before.At)
		query += " AND (at < ? OR (at = ? AND id < ?))"
		args = append(args, at, at, before.ID[:])
	}
	rows, err := s.q(ctx).QueryContext(ctx, query+" ORDER BY at DESC, id DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, wrap("history", err)
	}
	defer rows.Close()
	var out []store.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, wrap("history", rows.Err())
}

func scanMessage(r scanner) (store.Message, error) {
	var m store.Message
	var id []byte
	var sent, received, expires int64
	var pinned int
	err := r.Scan(&m.Contact, &id, &m.Direction, &sent, &received, &m.Kind, &m.Body, &m.State, &pinned, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return m, err
	}
	if err != nil {
		return m, wrap("read message", err)
	}
	if len(id) != content.IDSize {
		return store.Message{}, fmt.Errorf("sqlstore: stored message ID of %d bytes", len(id))
	}
	copy(m.ID[:], id)
	m.SentAt, m.ReceivedAt, m.Pinned, m.Expires = fromMs(sent), fromMs(received), pinned == 1, fromMs(expires)
	return m, nil
}

const outboxColumns = "id, send_id, relay, sender_id, contact, message, envelope, attempts, next_attempt, created"

// Enqueue implements store.Outbox.
func (s *Store) Enqueue(ctx context.Context, e store.OutboxEntry) (store.OutboxID, error) {
	if len(e.Envelope) == 0 || e.To.Relay.IsZero() {
		return 0, fmt.Errorf("%w: outbox entry without envelope or destination", store.ErrInvalid)
	}
	res, err := s.q(ctx).ExecContext(ctx, "INSERT INTO outbox (send_id, relay, sender_id, contact, message, envelope, attempts, next_attempt, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		e.SendID[:], e.To.Relay.Bytes(), e.To.Sender.Bytes(), nullID(int64(e.Contact)), e.Message[:], e.Envelope,
		e.Attempts, ms(e.NextAttempt), ms(e.Created))
	if isConstraint(err) {
		return 0, fmt.Errorf("%w: an outbox entry with this send ID, or no such contact", store.ErrExists)
	}
	if err != nil {
		return 0, wrap("enqueue", err)
	}
	id, err := res.LastInsertId()
	return store.OutboxID(id), wrap("enqueue", err)
}

// Pending implements store.Outbox.
func (s *Store) Pending(ctx context.Context, limit int) ([]store.OutboxEntry, error) {
	if limit < 1 || limit > MaxPage {
		return nil, fmt.Errorf("%w: page of %d entries, want 1 to %d", store.ErrInvalid, limit, MaxPage)
	}
	rows, err := s.q(ctx).QueryContext(ctx, "SELECT "+outboxColumns+" FROM outbox ORDER BY next_attempt, id LIMIT ?", limit)
	if err != nil {
		return nil, wrap("outbox", err)
	}
	defer rows.Close()
	var out []store.OutboxEntry
	for rows.Next() {
		e, err := scanOutbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, wrap("outbox", rows.Err())
}

func scanOutbox(r scanner) (store.OutboxEntry, error) {
	var e store.OutboxEntry
	var sendID, relay, sid, msg []byte
	var contact sql.NullInt64
	var next, created int64
	if err := r.Scan(&e.ID, &sendID, &relay, &sid, &contact, &msg, &e.Envelope, &e.Attempts, &next, &created); err != nil {
		return e, wrap("read outbox", err)
	}
	if len(sendID) != len(e.SendID) || len(msg) != len(e.Message) {
		return store.OutboxEntry{}, fmt.Errorf("sqlstore: stored outbox entry %d is malformed", e.ID)
	}
	to, err := queueAddress(relay, sid)
	if err != nil {
		return store.OutboxEntry{}, err
	}
	copy(e.SendID[:], sendID)
	copy(e.Message[:], msg)
	e.To, e.Contact, e.NextAttempt, e.Created = to, store.ContactID(contact.Int64), fromMs(next), fromMs(created)
	return e, nil
}

// Postpone implements store.Outbox.
func (s *Store) Postpone(ctx context.Context, id store.OutboxID, next time.Time) error {
	return s.one(ctx, "postpone send", "UPDATE outbox SET attempts = attempts + 1, next_attempt = ? WHERE id = ?", ms(next), id)
}

// Dequeue implements store.Outbox.
func (s *Store) Dequeue(ctx context.Context, id store.OutboxID) error {
	return s.one(ctx, "dequeue", "DELETE FROM outbox WHERE id = ?", id)
}

// MarkProcessed implements store.Received: one INSERT OR IGNORE, whose
// row count says whether the hash was new.
func (s *Store) MarkProcessed(ctx context.Context, h store.EnvelopeHash, now time.Time) (bool, error) {
	res, err := s.q(ctx).ExecContext(ctx, "INSERT OR IGNORE INTO processed (hash, at) VALUES (?, ?)", h[:], ms(now))
	if err != nil {
		return false, wrap("mark processed", err)
	}
	n, err := res.RowsAffected()
	return n == 0, wrap("mark processed", err)
}

// ForgetProcessed implements store.Received.
func (s *Store) ForgetProcessed(ctx context.Context, before time.Time) (int, error) {
	res, err := s.q(ctx).ExecContext(ctx, "DELETE FROM processed WHERE at < ?", ms(before))
	if err != nil {
		return 0, wrap("forget processed", err)
	}
	n, err := res.RowsAffected()
	return int(n), wrap("forget processed", err)
}

// Setting implements store.Settings.
func (s *Store) Setting(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := s.q(ctx).QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlstore: setting %q: %w", key, store.ErrNotFound)
	}
	return v, wrap("read setting", err)
}

// SetSetting implements store.Settings.
func (s *Store) SetSetting(ctx context.Context, key string, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	_, err := s.q(ctx).ExecContext(ctx, "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", key, value)
	return wrap("save setting", err)
}

// DeleteSetting implements store.Settings.
func (s *Store) DeleteSetting(ctx context.Context, key string) error {
	_, err := s.q(ctx).ExecContext(ctx, "DELETE FROM settings WHERE key = ?", key)
	return wrap("delete setting", err)
}
