// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	sqlite3 "github.com/mutecomm/go-sqlcipher/v4"

	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/invite"
	"github.com/hushchat/hush/pkg/core/session"
	"github.com/hushchat/hush/pkg/core/store"
	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/path"
)

var (
	_ store.Store     = (*Store)(nil)
	_ session.Store   = (*Store)(nil)
	_ invite.Ledger   = (*Store)(nil)
	_ path.GuardStore = (*Store)(nil)
	_ store.Profile   = (*Store)(nil)
	_ store.Received  = (*Store)(nil)
	_ store.Settings  = (*Store)(nil)
	_ store.Outbox    = (*Store)(nil)
	_ store.Messages  = (*Store)(nil)
	_ store.Targets   = (*Store)(nil)
	_ store.Queues    = (*Store)(nil)
	_ store.Contacts  = (*Store)(nil)
)

// SetLocalIdentity implements store.Profile.
func (s *Store) SetLocalIdentity(ctx context.Context, key *identity.PrivateKey, regID uint32) error {
	_, err := s.q(ctx).ExecContext(ctx, "INSERT INTO profile (id, identity_secret, registration_id) VALUES (1, ?, ?)",
		key.EncodeSecret(), regID)
	if isConstraint(err) {
		return fmt.Errorf("%w: the profile already has an identity", store.ErrExists)
	}
	return wrap("save own identity", err)
}

// LocalIdentity implements session.IdentityStore.
func (s *Store) LocalIdentity(ctx context.Context) (*identity.PrivateKey, uint32, error) {
	var text string
	var regID uint32
	err := s.q(ctx).QueryRowContext(ctx, "SELECT identity_secret, registration_id FROM profile WHERE id = 1").Scan(&text, &regID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, fmt.Errorf("sqlstore: own identity: %w", session.ErrNotFound)
	}
	if err != nil {
		return nil, 0, wrap("load own identity", err)
	}
	k, err := identity.ParseSecret(text)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlstore: stored identity: %w", err)
	}
	return k, regID, nil
}

// RemoteIdentity implements session.IdentityStore.
func (s *Store) RemoteIdentity(ctx context.Context, addr session.Address) (identity.PublicKey, error) {
	raw, err := s.blob(ctx, "SELECT key FROM remote_identities WHERE address = ?", string(addr))
	if err != nil {
		return identity.PublicKey{}, err
	}
	return identity.NewPublicKey(raw)
}

// SaveRemoteIdentity implements session.IdentityStore.
func (s *Store) SaveRemoteIdentity(ctx context.Context, addr session.Address, key identity.PublicKey) error {
	_, err := s.q(ctx).ExecContext(ctx, "INSERT OR REPLACE INTO remote_identities (address, key) VALUES (?, ?)",
		string(addr), key.Bytes())
	return wrap("save identity", err)
}

// LoadPreKey implements session.PreKeyStore.
func (s *Store) LoadPreKey(ctx context.Context, id uint32) ([]byte, error) {
	return s.blob(ctx, "SELECT record FROM prekeys WHERE id = ?", id)
}

// StorePreKey implements session.PreKeyStore.
func (s *Store) StorePreKey(ctx context.Context, id uint32, rec []byte) error {
	_, err := s.q(ctx).ExecContext(ctx, "INSERT OR REPLACE INTO prekeys (id, record) VALUES (?, ?)", id, rec)
	return wrap("store prekey", err)
}

// RemovePreKey implements session.PreKeyStore.
func (s *Store) RemovePreKey(ctx context.Context, id uint32) error {
	_, err := s.q(ctx).ExecContext(ctx, "DELETE FROM prekeys WHERE id = ?", id)
	return wrap("remove prekey", err)
}

// LoadSignedPreKey implements session.SignedPreKeyStore.
func (s *Store) LoadSignedPreKey(ctx context.Context, id uint32) ([]byte, error) {
	return s.blob(ctx, "SELECT record FROM signed_prekeys WHERE id = ?", id)
}

// StoreSignedPreKey implements session.SignedPreKeyStore.
func (s *Store) StoreSignedPreKey(ctx context.Context, id uint32, rec []byte) error {
	_, err := s.q(ctx).ExecContext(ctx, "INSERT OR REPLACE INTO signed_prekeys (id, record) VALUES (?, ?)", id, rec)
	return wrap("store signed prekey", err)
}

// RemoveSignedPreKey implements session.SignedPreKeyStore.
func (s *Store) RemoveSignedPreKey(ctx context.Context, id uint32) error {
	_, err := s.q(ctx).ExecContext(ctx, "DELETE FROM signed_prekeys WHERE id = ?", id)
	return wrap("remove signed prekey", err)
}

// LoadSession implements session.SessionStore.
func (s *Store) LoadSession(ctx context.Context, addr session.Address) ([]byte, error) {
	return s.blob(ctx, "SELECT record FROM sessions WHERE address = ?", string(addr))
}

// StoreSession implements session.SessionStore.
func (s *Store) StoreSession(ctx context.Context, addr session.Address, rec []byte) error {
	_, err := s.q(ctx).ExecContext(ctx, "INSERT OR REPLACE INTO sessions (address, record) VALUES (?, ?)", string(addr), rec)
	return wrap("store session", err)
}

// DeleteSession implements session.SessionStore.
func (s *Store) DeleteSession(ctx context.Context, addr session.Address) error {
	_, err := s.q(ctx).ExecContext(ctx, "DELETE FROM sessions WHERE address = ?", string(addr))
	return wrap("delete session", err)
}

// blob reads one BLOB for the session.Store methods, whose missing
// records are session.ErrNotFound.
func (s *Store) blob(ctx context.Context, query string, arg any) ([]byte, error) {
	var b []byte
	err := s.q(ctx).QueryRowContext(ctx, query, arg).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlstore: %v: %w", arg, session.ErrNotFound)
	}
	return b, wrap("load record", err)
}

// Accepted implements invite.Ledger.
func (s *Store) Accepted(ctx context.Context, id invite.ID) (bool, error) {
	var n int
	err := s.q(ctx).QueryRowContext(ctx, "SELECT count(*) FROM accepted_invitations WHERE id = ?", id[:]).Scan(&n)
	return n > 0, wrap("read accepted invitations", err)
}

// RecordAccepted implements invite.Ledger: one INSERT, which the primary
// key makes fail for an ID already there.
func (s *Store) RecordAccepted(ctx context.Context, id invite.ID, expires time.Time) error {
	_, err := s.q(ctx).ExecContext(ctx, "INSERT INTO accepted_invitations (id, expires) VALUES (?, ?)", id[:], ms(expires))
	if isConstraint(err) {
		return invite.ErrAlreadyAccepted
	}
	return wrap("record accepted invitation", err)
}

// LoadGuards implements path.GuardStore.
func (s *Store) LoadGuards(ctx context.Context) ([]path.Guard, error) {
	rows, err := s.q(ctx).QueryContext(ctx, "SELECT relay, added FROM guards ORDER BY position")
	if err != nil {
		return nil, wrap("load guards", err)
	}
	defer rows.Close()
	var out []path.Guard
	for rows.Next() {
		var raw []byte
		var added int64
		if err := rows.Scan(&raw, &added); err != nil {
			return nil, wrap("load guards", err)
		}
		id, err := onion.NewRelayID(raw)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: stored guard: %w", err)
		}
		out = append(out, path.Guard{ID: id, Added: fromMs(added)})
	}
	return out, wrap("load guards", rows.Err())
}

// SaveGuards implements path.GuardStore.
func (s *Store) SaveGuards(ctx context.Context, guards []path.Guard) error {
	return s.Transact(ctx, func(ctx context.Context) error {
		if _, err := s.q(ctx).ExecContext(ctx, "DELETE FROM guards"); err != nil {
			return wrap("save guards", err)
		}
		for i, g := range guards {
			if _, err := s.q(ctx).ExecContext(ctx, "INSERT INTO guards (position, relay, added) VALUES (?, ?, ?)",
				i, g.ID.Bytes(), ms(g.Added)); err != nil {
				return wrap("save guards", err)
			}
		}
		return nil
	})
}

// wrap names the operation that failed; nil stays nil.
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sqlstore: %s: %w", what, err)
}

// isConstraint reports a UNIQUE or PRIMARY KEY violation.
func isConstraint(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrConstraint
}

// ms is t in Unix milliseconds; the zero time is 0.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMs is the inverse of ms, in UTC.
func fromMs(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}
