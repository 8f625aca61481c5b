// SPDX-License-Identifier: AGPL-3.0-or-later

package session

import (
	"context"
	"errors"

	"github.com/hushchat/hush/pkg/core/identity"
)

// ErrNotFound is returned by Store methods for a record that does not
// exist. Implementations must return it (possibly wrapped) rather than a
// nil record.
var ErrNotFound = errors.New("session: record not found")

// IdentityStore holds the profile's own identity and the identity keys of
// its contacts.
type IdentityStore interface {
	// LocalIdentity returns the profile's identity key pair and its
	// libsignal registration ID.
	LocalIdentity(ctx context.Context) (*identity.PrivateKey, uint32, error)
	// RemoteIdentity returns the identity key trusted for addr, or
	// ErrNotFound.
	RemoteIdentity(ctx context.Context, addr Address) (identity.PublicKey, error)
	// SaveRemoteIdentity trusts key for addr, replacing any earlier key.
	SaveRemoteIdentity(ctx context.Context, addr Address, key identity.PublicKey) error
}

// PreKeyStore holds serialized one-time prekey records.
type PreKeyStore interface {
	LoadPreKey(ctx context.Context, id uint32) ([]byte, error)
	StorePreKey(ctx context.Context, id uint32, record []byte) error
	RemovePreKey(ctx context.Context, id uint32) error
}

// SignedPreKeyStore holds serialized signed prekey records.
type SignedPreKeyStore interface {
	LoadSignedPreKey(ctx context.Context, id uint32) ([]byte, error)
	StoreSignedPreKey(ctx context.Context, id uint32, record []byte) error
	RemoveSignedPreKey(ctx context.Context, id uint32) error
}

// SessionStore holds one serialized session record per contact.
type SessionStore interface {
	LoadSession(ctx context.Context, addr Address) ([]byte, error)
	StoreSession(ctx context.Context, addr Address, record []byte) error
	DeleteSession(ctx context.Context, addr Address) error
}

// Store is everything a Manager needs.
type Store interface {
	IdentityStore
	PreKeyStore
	SignedPreKeyStore
	SessionStore
	// Transact runs fn so that all the Store calls it makes with the
	// context it is given take effect together or not at all. The Manager
	// holds its lock across Transact, loading, the library's work and the
	// commit, so two operations never advance one chain from the same
	// state. A store whose writes cannot fail may just call fn.
	Transact(ctx context.Context, fn func(ctx context.Context) error) error
}
