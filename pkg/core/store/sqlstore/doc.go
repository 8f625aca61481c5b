// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

// Package sqlstore is the client's store (pkg/core/store) in one SQLCipher
// database file, through github.com/mutecomm/go-sqlcipher/v4.
//
// Open is the entry point: it takes the profile lock, applies the raw
// 256-bit key from pkg/core/keychain (PRAGMA key = "x'…'", so no PBKDF2
// runs per connection), checks at once that the key opens the file
// (SQLCipher only notices a wrong key at the first read) and applies the
// numbered migrations in migrations/.
//
// # Durability and concurrency
//
// The journal is WAL with synchronous=FULL: every commit is fsynced
// before it returns (the driver's default, WAL with NORMAL, is not
// durable), and a commit costs one fsync of the WAL. The store uses a
// single connection, so its calls run one at a time and a Transact holds
// the store until it commits; only one process opens a profile (an
// exclusive flock on the file named by the database path plus ".lock").
//
// The -wal file is encrypted like the database. The key also lives in
// the process's memory for as long as the store is open, to open a new
// connection if the old one breaks.
package sqlstore
