// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/store"
)

const attachmentColumns = "contact, message, direction, state, file, done, attempts, next_attempt, error, saved"

// AddAttachment implements store.Attachments.
func (s *Store) AddAttachment(ctx context.Context, a store.Attachment) error {
	if err := a.Validate(); err != nil {
		return err
	}
	_, err := s.q(ctx).ExecContext(ctx, "INSERT INTO attachments ("+attachmentColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		a.Contact, a.Message[:], a.Direction, a.State, a.File, a.Done, a.Attempts, ms(a.NextAttempt), a.Err, a.Saved)
	if isConstraint(err) {
		return fmt.Errorf("%w: an attachment for message %v or file %q, or no such message", store.ErrExists, a.Message, a.File)
	}
	return wrap("add attachment", err)
}

// Attachment implements store.Attachments.
func (s *Store) Attachment(ctx context.Context, contact store.ContactID, msg content.ID) (store.Attachment, error) {
	a, err := scanAttachment(s.q(ctx).QueryRowContext(ctx, "SELECT "+attachmentColumns+" FROM attachments WHERE contact = ? AND message = ?", contact, msg[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("sqlstore: attachment of message %v: %w", msg, store.ErrNotFound)
	}
	return a, err
}

// UpdateAttachment implements store.Attachments.
func (s *Store) UpdateAttachment(ctx context.Context, a store.Attachment) error {
	if err := a.Validate(); err != nil {
		return err
	}
	return s.one(ctx, "update attachment", "UPDATE attachments SET state = ?, done = ?, attempts = ?, next_attempt = ?, error = ? WHERE contact = ? AND message = ?",
		a.State, a.Done, a.Attempts, ms(a.NextAttempt), a.Err, a.Contact, a.Message[:])
}

// Transfers implements store.Attachments.
func (s *Store) Transfers(ctx context.Context, limit int) ([]store.Attachment, error) {
	if limit < 1 || limit > MaxPage {
		return nil, fmt.Errorf("%w: page of %d transfers, want 1 to %d", store.ErrInvalid, limit, MaxPage)
	}
	return s.attachments(ctx, "transfers", "SELECT "+attachmentColumns+" FROM attachments WHERE state IN (?, ?) ORDER BY next_attempt LIMIT ?",
		store.Uploading, store.Downloading, limit)
}

// MarkSaved implements store.Attachments.
func (s *Store) MarkSaved(ctx context.Context, contact store.ContactID, msg content.ID) error {
	return s.one(ctx, "mark attachment saved", "UPDATE attachments SET saved = 1 WHERE contact = ? AND message = ?", contact, msg[:])
}

// Unsaved implements store.Attachments.
func (s *Store) Unsaved(ctx context.Context, limit int) ([]store.Attachment, error) {
	if limit < 1 || limit > MaxPage {
		return nil, fmt.Errorf("%w: page of %d attachments, want 1 to %d", store.ErrInvalid, limit, MaxPage)
	}
	return s.attachments(ctx, "unsaved attachments", "SELECT a."+strings.ReplaceAll(attachmentColumns, ", ", ", a.")+
		" FROM attachments a JOIN messages m ON m.contact = a.contact AND m.id = a.message"+
		" WHERE a.direction = ? AND a.state = ? AND a.saved = 0 ORDER BY m.received_at, a.contact, a.message LIMIT ?",
		store.Incoming, store.Downloaded, limit)
}

func (s *Store) attachments(ctx context.Context, what, query string, args ...any) ([]store.Attachment, error) {
	rows, err := s.q(ctx).QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(what, err)
	}
	defer rows.Close()
	var out []store.Attachment
	for rows.Next() {
		a, err := scanAttachment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, wrap(what, rows.Err())
}

// AttachmentFiles implements store.Attachments.
func (s *Store) AttachmentFiles(ctx context.Context) ([]string, error) {
	return s.strings(ctx, "attachment files", "SELECT file FROM attachments")
}

func (s *Store) strings(ctx context.Context, what, query string, args ...any) ([]string, error) {
	rows, err := s.q(ctx).QueryContext(ctx, query, args...)
	if err != nil {
		return nil, wrap(what, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var f string
		if err := rows.Scan(&f); err != nil {
			return nil, wrap(what, err)
		}
		out = append(out, f)
	}
	return out, wrap(what, rows.Err())
}

func scanAttachment(r scanner) (store.Attachment, error) {
	var a store.Attachment
	var msg []byte
	var next int64
	err := r.Scan(&a.Contact, &msg, &a.Direction, &a.State, &a.File, &a.Done, &a.Attempts, &next, &a.Err, &a.Saved)
	if errors.Is(err, sql.ErrNoRows) {
		return a, err
	}
	if err != nil {
		return a, wrap("read attachment", err)
	}
	if len(msg) != content.IDSize {
		return store.Attachment{}, fmt.Errorf("sqlstore: stored attachment's message ID of %d bytes", len(msg))
	}
	copy(a.Message[:], msg)
	a.NextAttempt = fromMs(next)
	return a, nil
}

// Expire implements store.Expiry in one transaction. Each rule reads
// through an index rather than every message: what disappeared through
// messages_expiry, and each retention contact's old messages through
// messages_history (contact, at). The files of the messages are read
// before they are deleted (their attachments go with them).
func (s *Store) Expire(ctx context.Context, now time.Time) (store.Expired, error) {
	var out store.Expired
	t := ms(now)
	err := s.Transact(ctx, func(ctx context.Context) error {
		err := s.expireWhere(ctx, &out, "m.expires > 0 AND m.expires <= ?", t)
		if err != nil {
			return err
		}
		rows, err := s.q(ctx).QueryContext(ctx, "SELECT id, retention FROM contacts WHERE retention > 0")
		if err != nil {
			return wrap("expire", err)
		}
		type keep struct{ contact, retention int64 }
		var list []keep
		for rows.Next() {
			var k keep
			if err := rows.Scan(&k.contact, &k.retention); err != nil {
				rows.Close()
				return wrap("expire", err)
			}
			list = append(list, k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return wrap("expire", err)
		}
		for _, k := range list {
			err := s.expireWhere(ctx, &out, "m.contact = ? AND m.at <= ? AND m.pinned = 0", k.contact, t-k.retention)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return store.Expired{}, err
	}
	return out, nil
}

// expireWhere deletes the messages m that where selects, adding their
// count and attachment files to out.
func (s *Store) expireWhere(ctx context.Context, out *store.Expired, where string, args ...any) error {
	files, err := s.strings(ctx, "expire", "SELECT a.file FROM attachments a JOIN messages m ON a.contact = m.contact AND a.message = m.id WHERE "+where, args...)
	if err != nil {
		return err
	}
	res, err := s.q(ctx).ExecContext(ctx, "DELETE FROM messages AS m WHERE "+where, args...)
	if err != nil {
		return wrap("expire", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap("expire", err)
	}
	out.Messages += int(n)
	out.Files = append(out.Files, files...)
	return nil
}

// NextExpiry implements store.Expiry.
func (s *Store) NextExpiry(ctx context.Context) (time.Time, bool, error) {
	var next sql.NullInt64
	err := s.q(ctx).QueryRowContext(ctx, "SELECT MIN(expires) FROM messages WHERE expires > 0").Scan(&next)
	if err != nil {
		return time.Time{}, false, wrap("next expiry", err)
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	return fromMs(next.Int64), true, nil
}
