// SPDX-License-Identifier: AGPL-3.0-or-later

package mailbox

import "fmt"

// Status is the exit's answer to a request: OK, or the one reason it was
// refused. It travels as a number; the text is this table's. A Status
// other than StatusOK is an error, and errors.Is(err, StatusQueueFull)
// tells which.
type Status uint8

// The status codes. Each refusal has its own.
const (
	StatusOK                 Status = iota // done
	StatusMalformed                        // the request does not decode or breaks the format
	StatusVersion                          // the request's format version is not this relay's
	StatusBadSize                          // an envelope or chunk of the wrong size
	StatusNoQueue                          // no queue has this ID
	StatusExists                           // a queue or chunk with this ID already exists
	StatusAuth                             // the owner's signature does not verify
	StatusCounter                          // the counter is not above the last accepted: a replay
	StatusQueueFull                        // the queue holds as many envelopes or bytes as it may
	StatusContactRequestUsed               // the contact-request queue already took its one envelope
	StatusTooManyQueues                    // the relay holds as many queues as it may
	StatusTooManyChunks                    // the relay holds as many chunks as it may
	StatusRelayFull                        // the relay's storage budget is used up
	StatusRateLimited                      // too many requests of this kind; try later
	StatusNoChunk                          // no chunk has this ID (or it expired)
	StatusBadToken                         // the delete token is not this chunk's
	StatusInternal                         // the relay failed; the request may be retried
	statusCount
)

var statusText = [statusCount]string{
	StatusOK:                 "ok",
	StatusMalformed:          "request is malformed",
	StatusVersion:            "request format version is not supported by this relay",
	StatusBadSize:            "envelope or chunk has the wrong size",
	StatusNoQueue:            "no such queue",
	StatusExists:             "a queue or chunk with this ID already exists",
	StatusAuth:               "signature of the queue's owner does not verify",
	StatusCounter:            "counter is not above the last accepted one (replayed request?)",
	StatusQueueFull:          "queue is full",
	StatusContactRequestUsed: "contact-request queue has already been used",
	StatusTooManyQueues:      "relay holds as many queues as it may",
	StatusTooManyChunks:      "relay holds as many chunks as it may",
	StatusRelayFull:          "relay's storage budget is used up",
	StatusRateLimited:        "too many requests; try again later",
	StatusNoChunk:            "no such chunk",
	StatusBadToken:           "delete token does not match",
	StatusInternal:           "relay error; try again",
}

// String names the status.
func (s Status) String() string {
	if s < statusCount {
		return statusText[s]
	}
	return fmt.Sprintf("unknown status %d", uint8(s))
}

// Error implements error, so a Status can be returned and compared with
// errors.Is.
func (s Status) Error() string { return "mailbox: " + s.String() }

// Temporary reports whether the same request may succeed later.
func (s Status) Temporary() bool {
	return s == StatusRateLimited || s == StatusInternal
}
