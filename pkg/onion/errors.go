// SPDX-License-Identifier: AGPL-3.0-or-later

package onion

import (
	"errors"
	"fmt"
)

// DropReason says why a relay dropped a packet, for metrics. Reason maps an
// error from KeyRing.Open to it.
type DropReason uint8

// Drop reasons.
const (
	DropNone         DropReason = iota // not dropped
	DropSize                           // not PacketSize bytes
	DropVersion                        // unknown format version
	DropUnknownEpoch                   // no key for this epoch (yet)
	DropExpiredEpoch                   // the epoch's key was erased
	DropWeakKey                        // ephemeral key small-order or not canonical
	DropTampered                       // header or payload failed authentication
	DropReplay                         // this packet was already processed
	DropRouting                        // authenticated, but the routing slot is invalid
	DropInternal                       // the ring could not process it (e.g. closed)
)

var dropNames = [...]string{
	DropNone:         "none",
	DropSize:         "size",
	DropVersion:      "version",
	DropUnknownEpoch: "unknown-epoch",
	DropExpiredEpoch: "expired-epoch",
	DropWeakKey:      "weak-key",
	DropTampered:     "tampered",
	DropReplay:       "replay",
	DropRouting:      "routing",
	DropInternal:     "internal",
}

// String returns the reason's metric label.
func (r DropReason) String() string {
	if int(r) < len(dropNames) {
		return dropNames[r]
	}
	return fmt.Sprintf("drop-%d", uint8(r))
}

// Errors from KeyRing.Open, one per drop reason.
var (
	ErrSize         = errors.New("onion: packet is not 32768 bytes")
	ErrVersion      = errors.New("onion: unknown packet format version")
	ErrUnknownEpoch = errors.New("onion: no onion key for the packet's epoch")
	ErrExpiredEpoch = errors.New("onion: the packet's onion key was rotated out and erased")
	ErrEphemeral    = errors.New("onion: packet's ephemeral key is of small order or not canonical")
	ErrTampered     = errors.New("onion: packet failed authentication (tampered, or not for this relay)")
	ErrReplay       = errors.New("onion: packet was already processed (replay)")
	ErrRouting      = errors.New("onion: packet's routing instructions are invalid")
	ErrRingClosed   = errors.New("onion: key ring is closed")
)

var dropErrors = [...]struct {
	err    error
	reason DropReason
}{
	{ErrSize, DropSize}, {ErrVersion, DropVersion}, {ErrUnknownEpoch, DropUnknownEpoch},
	{ErrExpiredEpoch, DropExpiredEpoch}, {ErrEphemeral, DropWeakKey}, {ErrTampered, DropTampered},
	{ErrReplay, DropReplay}, {ErrRouting, DropRouting}, {ErrRingClosed, DropInternal},
}

// Reason returns the drop reason of an error from KeyRing.Open: DropNone
// for nil, DropInternal for an error that is not a drop.
func Reason(err error) DropReason {
	if err == nil {
		return DropNone
	}
	for _, d := range dropErrors {
		if errors.Is(err, d.err) {
			return d.reason
		}
	}
	return DropInternal
}

// Code is carried by an error response: why a hop could not deliver the
// request or the exit refused it.
type Code uint8

// Response error codes. Zero is never sent.
const (
	CodeUnreachable Code = 1 + iota // the next relay could not be reached
	CodeTimeout                     // the next relay did not answer in time
	CodeRefused                     // the exit refused the request
	CodeOverloaded                  // the hop is over capacity
	CodeInternal                    // the hop failed
)

var codeNames = [...]string{
	CodeUnreachable: "next relay unreachable",
	CodeTimeout:     "next relay timed out",
	CodeRefused:     "exit refused the request",
	CodeOverloaded:  "relay overloaded",
	CodeInternal:    "relay internal error",
}

// String describes the code.
func (c Code) String() string {
	if c != 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code %d", uint8(c))
}

// Errors from ResponseOpener.Open.
var (
	// ErrHopFailed is wrapped by a *HopError.
	ErrHopFailed = errors.New("onion: a hop returned an error response")
	// ErrResponse is returned for a response that neither carries an
	// error from a hop of the path nor opens as the exit's reply.
	ErrResponse = errors.New("onion: response failed authentication")
	// ErrResponseSize is returned for a response that is not PacketSize bytes.
	ErrResponseSize = errors.New("onion: response is not 32768 bytes")
	// ErrUsed is returned by a ResponseOpener or Replier used twice.
	ErrUsed = errors.New("onion: response keys were already used")
	// ErrTooLarge is returned for a request or reply over its capacity.
	ErrTooLarge = errors.New("onion: body is larger than the packet can carry")
	// ErrPath is returned by Wrap for a path it cannot wrap for.
	ErrPath = errors.New("onion: invalid path")
	// ErrNotExit is returned by Replier.Reply at a hop that is not the exit,
	// and ErrExit by Replier.Relay at the exit.
	ErrNotExit = errors.New("onion: only the exit replies")
	ErrExit    = errors.New("onion: the exit has no next hop to relay for")
)

// HopError is an authenticated error response from hop Hop (0 is the
// entry) of the path.
type HopError struct {
	Hop  int
	Code Code
}

func (e *HopError) Error() string {
	return fmt.Sprintf("onion: hop %d of the path failed: %v", e.Hop, e.Code)
}

// Unwrap returns ErrHopFailed.
func (e *HopError) Unwrap() error { return ErrHopFailed }
