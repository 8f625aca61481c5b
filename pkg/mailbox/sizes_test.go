// SPDX-License-Identifier: AGPL-3.0-or-later

package mailbox

import (
	"testing"

	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/core/sealed"
	"github.com/hushchat/hush/pkg/onion"
)

// opHeaderBudget is the room each mailbox operation keeps for its own
// fields (operation, IDs, signature, status) beside what it carries.
const opHeaderBudget = 256

// TestSizesFitOnion checks the sizes of the packages that own them
// against the onion payload capacities, as the design requires: a Send
// carries one envelope, a Fetch response two, PutChunk and GetChunk one
// chunk each.
func TestSizesFitOnion(t *testing.T) {
	checks := []struct {
		what      string
		need, cap int
	}{
		{"Send request (one envelope)", sealed.EnvelopeSize + opHeaderBudget, onion.RequestCapacity},
		{"Fetch response (two envelopes)", 2*sealed.EnvelopeSize + opHeaderBudget, onion.ResponseCapacity},
		{"PutChunk request (one chunk)", attach.ChunkSize + opHeaderBudget, onion.RequestCapacity},
		{"GetChunk response (one chunk)", attach.ChunkSize + opHeaderBudget, onion.ResponseCapacity},
	}
	for _, c := range checks {
		if c.need > c.cap {
			t.Errorf("%s needs %d bytes; the onion layer carries %d", c.what, c.need, c.cap)
		}
	}
	if sealed.EnvelopeSize != 15360 || attach.ChunkSize != 30720 || onion.PacketSize != 32768 {
		t.Error("a size differs from the design's table")
	}
}
