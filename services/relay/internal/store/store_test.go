// SPDX-License-Identifier: AGPL-3.0-or-later

package store

import (
	"testing"

	"github.com/hushchat/hush/pkg/core/invite"
)

// TestIdleTTLOutlivesInvitations: a queue named in an invitation must not
// expire while the invitation is valid, nor while its envelopes are kept.
func TestIdleTTLOutlivesInvitations(t *testing.T) {
	if MinQueueIdleTTL != invite.MaxTTL {
		t.Fatalf("MinQueueIdleTTL %v, invitations live up to %v", MinQueueIdleTTL, invite.MaxTTL)
	}
	l := Limits{}.WithDefaults()
	if l.QueueIdleTTL <= MinQueueIdleTTL || l.QueueIdleTTL <= l.EnvelopeTTL {
		t.Fatalf("default idle TTL %v, want above %v and %v", l.QueueIdleTTL, MinQueueIdleTTL, l.EnvelopeTTL)
	}
}
