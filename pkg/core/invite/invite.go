// SPDX-License-Identifier: AGPL-3.0-or-later

// Package invite makes and reads one-time Hush invitations: a "hush:"
// link, or the same text as a QR code, signed by the inviter's identity
// key.
//
// An invitation carries the inviter's X3DH prekey bundle, the address of
// a contact-request queue to answer into, an optional display name and an
// expiry. Sign makes the link; Parse verifies it; Check also refuses one
// the profile has already accepted (a Ledger remembers those) and one of
// its own. The byte layout is in ARCHITECTURE.md ("Invitation").
package invite

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/session"
	"github.com/hushchat/hush/pkg/mailbox"
)

// Format constants.
const (
	// Version is the invitation format this package writes and reads.
	Version = 1
	// Scheme starts every invitation link.
	Scheme = "hush:"
	// SignatureLabel is prefixed to the body before signing, so an
	// invitation signature can never be taken for another signature made
	// with the identity key.
	SignatureLabel = "hush invitation v1"
	// IDSize is the size of an invitation ID.
	IDSize = 16
	// MaxLinkLength bounds a link before it is decoded. A full invitation
	// with the longest display name (identity.MaxDisplayName) is about 590
	// characters.
	MaxLinkLength = 2048
	// DefaultTTL is how long an invitation is valid unless asked otherwise.
	DefaultTTL = 7 * 24 * time.Hour
	// MaxTTL is the longest validity Sign accepts: the one-time prekey
	// lives until expiry.
	MaxTTL = 30 * 24 * time.Hour
	// ClockSkew is how far in the future an invitation's creation time may
	// be before Parse blames a clock.
	ClockSkew = time.Hour
)

// ID names an invitation. An acceptor records it to refuse a second use.
type ID [IDSize]byte

// String returns the ID in hex.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Invitation is the content of a one-time invitation.
type Invitation struct {
	ID          ID
	Bundle      session.Bundle       // the inviter's X3DH bundle, identity key included
	Queue       mailbox.QueueAddress // where the acceptor sends its contact request
	DisplayName string               // optional
	Created     time.Time            // whole seconds
	Expires     time.Time            // whole seconds
}

// Inviter returns the inviter's identity key.
func (inv *Invitation) Inviter() identity.PublicKey { return inv.Bundle.Identity }

// New fills an Invitation with a random ID, created now and expiring after
// ttl (DefaultTTL if zero).
func New(b session.Bundle, q mailbox.QueueAddress, displayName string, now time.Time, ttl time.Duration) (*Invitation, error) {
	if ttl == 0 {
		ttl = DefaultTTL
	}
	inv := &Invitation{
		Bundle:      b,
		Queue:       q,
		DisplayName: displayName,
		Created:     now.Truncate(time.Second),
		Expires:     now.Add(ttl).Truncate(time.Second),
	}
	if _, err := rand.Read(inv.ID[:]); err != nil {
		return nil, fmt.Errorf("invite: read randomness: %w", err)
	}
	return inv, nil
}

// Expired reports whether the invitation is no longer valid at now.
func (inv *Invitation) Expired(now time.Time) bool { return !now.Before(inv.Expires) }

// validate checks the fields Sign and Parse both require.
func (inv *Invitation) validate() error {
	if err := inv.Bundle.Verify(); err != nil {
		return malformed("%v", err)
	}
	if inv.Queue.Relay.IsZero() {
		return malformed("no queue relay")
	}
	if err := identity.CheckDisplayName(inv.DisplayName); err != nil {
		return malformed("%v", err)
	}
	if !inv.Expires.After(inv.Created) {
		return malformed("expires (%s) is not after created (%s)", inv.Expires.UTC(), inv.Created.UTC())
	}
	if v := inv.Expires.Sub(inv.Created); v > MaxTTL {
		return malformed("valid for %s, longer than the maximum %s", v, MaxTTL)
	}
	return nil
}
