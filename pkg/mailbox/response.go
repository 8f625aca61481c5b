// SPDX-License-Identifier: AGPL-3.0-or-later

package mailbox

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/hushchat/hush/pkg/onion"
	mailboxv1 "github.com/hushchat/hush/proto/mailbox/v1"
)

// Response is the exit's answer.
type Response struct {
	Status    Status
	Envelopes []Envelope // a fetch's, oldest first
	Chunk     []byte     // a get-chunk's
	Duplicate bool       // a send whose message ID was stored before
	// LastCounter answers a correctly signed owner operation refused with
	// StatusCounter: the counter the relay last accepted.
	LastCounter uint64
}

// Envelope is one stored envelope and its sequence number in the queue.
type Envelope struct {
	Seq  uint64
	Data []byte
}

// Err returns nil for StatusOK and the Status otherwise.
func (r *Response) Err() error {
	if r.Status == StatusOK {
		return nil
	}
	return r.Status
}

// EncodeResponse writes a response for the exit to reply with.
func EncodeResponse(r *Response) ([]byte, error) {
	p := &mailboxv1.Response{Version: Version, Status: uint32(r.Status), Chunk: r.Chunk,
		Duplicate: r.Duplicate, LastCounter: r.LastCounter}
	for _, e := range r.Envelopes {
		p.Envelopes = append(p.Envelopes, &mailboxv1.Envelope{Seq: e.Seq, Data: e.Data})
	}
	b, err := deterministic.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("mailbox: encode response: %w", err)
	}
	if len(b) > onion.ResponseCapacity {
		return nil, fmt.Errorf("mailbox: response of %d bytes does not fit a packet", len(b))
	}
	return b, nil
}

// ParseResponse reads the exit's answer at the client.
func ParseResponse(b []byte) (*Response, error) {
	var p mailboxv1.Response
	if err := proto.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("mailbox: response does not decode")
	}
	if p.GetVersion() != Version {
		return nil, fmt.Errorf("mailbox: response version %d, this client reads %d", p.GetVersion(), Version)
	}
	if p.GetStatus() >= uint32(statusCount) {
		return nil, fmt.Errorf("mailbox: unknown status %d in response", p.GetStatus())
	}
	r := &Response{Status: Status(p.GetStatus()), Chunk: p.GetChunk(), Duplicate: p.GetDuplicate(), LastCounter: p.GetLastCounter()}
	if len(p.GetEnvelopes()) > MaxFetch {
		return nil, fmt.Errorf("mailbox: response holds %d envelopes, at most %d", len(p.GetEnvelopes()), MaxFetch)
	}
	for _, e := range p.GetEnvelopes() {
		if len(e.GetData()) != EnvelopeSize {
			return nil, fmt.Errorf("mailbox: envelope of %d bytes in response", len(e.GetData()))
		}
		r.Envelopes = append(r.Envelopes, Envelope{Seq: e.GetSeq(), Data: e.GetData()})
	}
	if r.Chunk != nil && len(r.Chunk) != ChunkSize {
		return nil, fmt.Errorf("mailbox: chunk of %d bytes in response", len(r.Chunk))
	}
	return r, nil
}
