// SPDX-License-Identifier: AGPL-3.0-or-later

package transfer

import (
	"context"
	"errors"
	"fmt"

	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion"
)

// Errors callers can branch on with errors.Is. Those about one chunk come
// inside a *ChunkError that names it.
var (
	// ErrBadResponse: a relay's answer does not decode, or says OK without
	// the chunk. Permanent: the relay speaks another protocol.
	ErrBadResponse = errors.New("transfer: the relay's answer is malformed")
	// ErrSource: the ciphertext given to Upload is shorter than the
	// layout's chunks.
	ErrSource = errors.New("transfer: the ciphertext is shorter than the attachment")
)

// ChunkError names the chunk, the relay and the operation that failed.
// Err is the reason: the mailbox.Status the relay answered (errors.Is(err,
// mailbox.StatusNoChunk)), the network's error (errors.Is(err,
// relaynet.ErrExitUnreachable)), ErrBadResponse, or attach's
// *attach.ChunkError for a chunk that does not verify. Temporary tells
// whether trying again later may work.
type ChunkError struct {
	Index, Total int64
	Relay        onion.RelayID
	Op           string // "put", "get" or "delete"
	Err          error
}

// Error reads "transfer: chunk 17 of 2304 (get from relay hushrelay:AbCdEfGh…): reason".
func (e *ChunkError) Error() string {
	reason := e.Err.Error()
	var ae *attach.ChunkError
	if errors.As(e.Err, &ae) && ae.Index == e.Index {
		reason = ae.Err.Error() // attach's message would name the chunk again
	}
	return fmt.Sprintf("transfer: chunk %d of %d (%s relay %s): %s", e.Index, e.Total, opText(e.Op), shortRelay(e.Relay), reason)
}

// Unwrap returns the reason.
func (e *ChunkError) Unwrap() error { return e.Err }

func opText(op string) string {
	switch op {
	case opPut:
		return "put on"
	case opGet:
		return "get from"
	case opDelete:
		return "delete on"
	}
	return op + " at"
}

// shortRelay is how errors name a relay: its text form's prefix and the
// first 8 characters of the key, enough to find it in the network file.
func shortRelay(r onion.RelayID) string {
	s := r.String()
	return s[:len(onion.RelayPrefix)+8] + "…"
}

// Temporary reports whether trying again later may succeed where err
// failed: a relay or path that was down, a relay that asked to slow down
// (mailbox.StatusRateLimited, StatusInternal), or a caller that gave up
// (context cancelled). It is false for what will never work: a refusal
// (StatusNoChunk, StatusRelayFull, StatusTooManyChunks, …), a chunk that
// does not verify, a digest mismatch, a malformed answer, and local
// errors (reading the ciphertext, writing the file).
func Temporary(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ce *ChunkError
	return errors.As(err, &ce) && transient(ce.Err)
}

// transient reports whether a chunk's failure is worth another attempt:
// an error of the network (anything Asker.Ask returns, relaynet's
// ErrNoPath and ErrExitUnreachable among them) or a Status that says so.
// A decoded refusal, a bad answer and a chunk that does not verify are
// final.
func transient(err error) bool {
	var s mailbox.Status
	var ae *attach.ChunkError
	switch {
	case errors.As(err, &s):
		return s.Temporary()
	case errors.As(err, &ae), errors.Is(err, ErrBadResponse), errors.Is(err, attach.ErrDigest):
		return false
	}
	return true
}
