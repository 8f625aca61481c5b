// SPDX-License-Identifier: AGPL-3.0-or-later

package invite

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hushchat/hush/pkg/core/identity"
)

// Ledger remembers which invitations a profile has accepted. The
// encrypted store implements it; MemLedger keeps it in memory.
type Ledger interface {
	// Accepted reports whether the invitation id was accepted before.
	Accepted(ctx context.Context, id ID) (bool, error)
	// RecordAccepted remembers id until expires (after that Parse refuses
	// the invitation as expired anyway). It checks and records in one
	// step: if id is already recorded it returns ErrAlreadyAccepted, so two
	// concurrent accepts of one link cannot both succeed.
	RecordAccepted(ctx context.Context, id ID, expires time.Time) error
}

// Check parses link as Parse does and also refuses an invitation made by
// self or one already in the ledger. The caller records the invitation
// with RecordAccepted, in the same transaction that stores the contact
// request; that call, not this one, is what makes acceptance single-use.
func Check(ctx context.Context, link string, self identity.PublicKey, l Ledger, now time.Time) (*Invitation, error) {
	inv, err := Parse(link, now)
	if err != nil {
		return nil, err
	}
	if inv.Inviter().Equal(self) {
		return nil, ErrOwnInvitation
	}
	seen, err := l.Accepted(ctx, inv.ID)
	if err != nil {
		return nil, fmt.Errorf("invite: check accepted invitations: %w", err)
	}
	if seen {
		return nil, ErrAlreadyAccepted
	}
	return inv, nil
}

// MemLedger is an in-memory Ledger.
type MemLedger struct {
	mu   sync.Mutex
	seen map[ID]time.Time
}

var _ Ledger = (*MemLedger)(nil)

// Accepted implements Ledger.
func (m *MemLedger) Accepted(_ context.Context, id ID) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.seen[id]
	return ok, nil
}

// RecordAccepted implements Ledger.
func (m *MemLedger) RecordAccepted(_ context.Context, id ID, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[ID]time.Time{}
	}
	if _, ok := m.seen[id]; ok {
		return ErrAlreadyAccepted
	}
	m.seen[id] = expires
	return nil
}
