// SPDX-License-Identifier: AGPL-3.0-or-later

// Package store defines what a Hush client keeps on its device, as narrow,
// context-first interfaces with one concern each, and their record types.
// pkg/core/store/sqlstore implements them over SQLCipher; Store is the
// whole set a client opens.
//
// # Transactions
//
// Store.Transact (from session.Store) runs a function so that every store
// call made with the context it is given commits together or not at all.
// A Transact inside another joins it (implementations may use a savepoint,
// so that a failing inner function undoes only its own writes). Inside a
// transaction, use only the context Transact gave: a call made with
// another context does not see the transaction's writes and may wait for
// it to finish.
//
// # Secrets
//
// Records carry keys as their types (identity.PublicKey, mailbox.SenderID,
// *mailbox.AuthKey). Implementations keep secrets only in encrypted
// storage and hand out fresh copies.
package store

import "errors"

// Errors the implementations return, possibly wrapped. The session.Store
// methods return session.ErrNotFound instead of ErrNotFound, as that
// interface requires.
var (
	// ErrNotFound is returned for a record that does not exist.
	ErrNotFound = errors.New("store: record not found")
	// ErrExists is returned when adding a record whose key is taken.
	ErrExists = errors.New("store: record already exists")
	// ErrInvalid is returned for a record that breaks a rule of its
	// type (a zero key, an empty envelope, an unknown enum value).
	ErrInvalid = errors.New("store: invalid record")
)
