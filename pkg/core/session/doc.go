// SPDX-License-Identifier: AGPL-3.0-or-later

// Package session runs X3DH and the Double Ratchet between two Hush users
// through go.mau.fi/libsignal.
//
// A Manager wraps one profile's Store. Bundle publishes a fresh signed
// prekey and one-time prekey (an invitation carries one); Initiate runs
// X3DH from a contact's bundle; Encrypt and Decrypt advance the ratchet.
//
// # Stores
//
// The Store interfaces are narrow and take a context first, so the
// encrypted store can carry its transaction in the context. Every Encrypt
// and Decrypt stages the library's writes in memory and hands them to the
// Store only once the whole operation succeeded: a message that fails to
// decrypt leaves the session, the trusted identities and the prekeys as
// they were. (The library itself saves a new contact's identity before it
// has checked the message's MAC; staging hides that ordering from the
// Store.)
//
// Records passed through the Store are the library's serialized records.
// Prekey and session records contain private keys and must be stored
// encrypted.
//
// # Logging
//
// Importing this package installs a logger that discards everything in
// the library (see pkg/core/internal/signallog): its default prints to
// standard output and its debug strings contain message keys.
package session
