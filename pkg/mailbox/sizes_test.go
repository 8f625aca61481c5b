// SPDX-License-Identifier: AGPL-3.0-or-later

package mailbox

import (
	"bytes"
	"testing"

	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/core/sealed"
	"github.com/hushchat/hush/pkg/onion"
)

// TestSizesFitOnion checks the sizes of the packages that own them
// against the onion payload capacities, as the design requires, and
// measures the largest requests and responses this package writes.
func TestSizesFitOnion(t *testing.T) {
	if EnvelopeSize != sealed.EnvelopeSize || ChunkSize != attach.ChunkSize {
		t.Fatal("mailbox's sizes differ from sealed's and attach's")
	}
	if sealed.EnvelopeSize != 15360 || attach.ChunkSize != 30720 || onion.PacketSize != 32768 {
		t.Fatal("a size differs from the design's table")
	}
	q, _ := NewQueue(relay(t), false)
	tok, _ := NewDeleteToken(nil)
	env := bytes.Repeat([]byte{0xff}, EnvelopeSize)
	chunk := bytes.Repeat([]byte{0xff}, ChunkSize)
	send, _ := SendRequest(q.Sender, MessageID{}, env)
	put, _ := PutChunkRequest(ChunkID{}, chunk, MaxChunkTTL, tok)
	q.Counter = ^uint64(0) - 1
	seqs := make([]uint64, MaxAck)
	for i := range seqs {
		seqs[i] = ^uint64(0)
	}
	ack, _ := q.AckRequest(seqs)
	ackFetch, _ := q.AckFetchRequest(seqs, MaxWait, MaxFetch)
	fetch, _ := EncodeResponse(&Response{Envelopes: []Envelope{{^uint64(0), env}, {^uint64(0), env}}})
	get, _ := EncodeResponse(&Response{Chunk: chunk})
	checks := []struct {
		what      string
		size, cap int
	}{
		{"Send request", len(send), onion.RequestCapacity},
		{"PutChunk request", len(put), onion.RequestCapacity},
		{"Ack request of MaxAck", len(ack), onion.RequestCapacity},
		{"Fetch request acknowledging MaxAck", len(ackFetch), onion.RequestCapacity},
		{"Fetch response with two envelopes", len(fetch), onion.ResponseCapacity},
		{"GetChunk response", len(get), onion.ResponseCapacity},
	}
	for _, c := range checks {
		if c.size > c.cap {
			t.Errorf("%s is %d bytes; the onion layer carries %d", c.what, c.size, c.cap)
		}
		t.Logf("%s: %d bytes of %d (%d spare)", c.what, c.size, c.cap, c.cap-c.size)
	}
}
