// SPDX-License-Identifier: AGPL-3.0-or-later

// Package core is the Hush client: the one API the shells (CLI, desktop,
// browser) call. A Client works on one profile's store (pkg/core/store)
// and reaches relays through a Network (pkg/onion/relaynet in practice).
//
// # Life of a profile
//
// Init makes a profile (an identity key and a display name) in a store;
// New opens a Client on it; Run starts the loops that make it a
// messenger and returns when its context ends; Close releases it. Every
// other method may be called while Run runs, from any goroutine.
//
//   - Invitations: CreateInvitation makes a single-use contact-request
//     queue on a relay and a signed link for it. AcceptInvitation runs
//     X3DH with the inviter's bundle, creates the acceptor's queue for
//     this contact and sends the contact request into the invitation's
//     queue. The inviter answers from a fresh queue of its own (a
//     QueueRotation message, the first message of its session) and
//     deletes the invitation's queue. Both sides then hold a contact and
//     a queue each way; the acceptor can send once the answer arrived
//     (until then SendText returns ErrContactPending).
//   - Sending: the message is encrypted in the ratchet, sealed for the
//     contact, stored in history and put in the outbox, all in one store
//     transaction, before anything goes on the network. The outbox loop
//     sends each envelope through a fresh onion path; a failed attempt is
//     retried with backoff over other paths, also after a restart, with
//     the same message ID so a relay keeps one copy.
//   - Receiving: each own queue is long-polled through its own fresh path
//     per poll, with jittered waits. Each envelope is opened, checked
//     (its sealed sender must be the queue's contact and the session's
//     identity), decrypted and stored in one transaction keyed by its
//     hash, and acknowledged to the relay only after that commit, so an
//     envelope delivered again is recognised rather than decrypted twice.
//   - Receipts: a delivery receipt goes back after a random delay; a read
//     receipt when the shell calls MarkRead.
//   - Events: Subscribe returns the one event stream (received,
//     delivered, read, contact added, identity changed, failed, error).
//
// # Concurrency
//
// Store write transactions are serialised by the Client (one at a time),
// so the session manager's lock and the database's write lock are always
// taken in the same order. No transaction is held across a network call.
package core
