// SPDX-License-Identifier: AGPL-3.0-or-later

// Package rpc is the relay's hush.relay.v1 service (ARCHITECTURE.md, "The
// relay"): Forward opens an onion packet with the relay's key ring and
// either sends it on to the next relay or, at the exit, hands the request
// to an ExitHandler; Directory and Descriptor serve what the publisher
// signed and collected. Handler mounts it with gRPC health checking and
// server reflection as one http.Handler (gRPC, gRPC-Web and Connect).
//
// Forwarding rules:
//   - The call to the next relay gets a fresh context with the fixed
//     ForwardTimeout, never the incoming deadline: a deadline that shrinks
//     hop by hop would tell each hop its position.
//   - Every failure after the packet opened (next relay unreachable, slow,
//     over capacity, refusing) is answered inside the onion with
//     Replier.Fail, so the client gets a fixed-size response naming the hop.
//   - A packet that does not open has no response keys, so it cannot be
//     answered inside the onion: it is dropped, counted by reason, and the
//     call fails with a gRPC status. The previous hop turns that status into
//     its own onion error response (CodeRefused).
package rpc

import (
	"context"
	"time"

	"github.com/hushchat/hush/pkg/onion"
)

// MaxExitWait is the longest an ExitHandler may block (a long-poll).
const MaxExitWait = 30 * time.Second

const (
	// exitMargin is what HandleExit gets beyond MaxExitWait before its
	// context is cancelled.
	exitMargin = 2 * time.Second
	// forwardMargin covers the hops after this one and the network on top
	// of the exit's wait.
	forwardMargin = 15 * time.Second
	// ForwardTimeout is the fixed relay-side bound on a call to the next
	// relay, the same at every hop.
	ForwardTimeout = MaxExitWait + forwardMargin // 45 s
)

// maxRequestBytes bounds a request message: a packet plus its envelope
// (two tags, two lengths, a version).
const maxRequestBytes = onion.PacketSize + 64

// ExitHandler is what the relay does with a request when it is the exit.
type ExitHandler interface {
	// HandleExit answers one mailbox request (the onion exit payload).
	// It may block for a long-poll, at most MaxExitWait, and must return a
	// reply of at most onion.ResponseCapacity bytes. ctx is the relay's
	// own, cancelled MaxExitWait plus a margin after the call or at
	// shutdown; it never carries the client's deadline.
	HandleExit(ctx context.Context, request []byte) []byte
}

// Opener opens packets: the relay's *onion.KeyRing.
type Opener interface {
	Open(packet []byte) (*onion.Opened, error)
}

// Forwarder sends a packet to the next relay: a *peer.Pool.
type Forwarder interface {
	Forward(ctx context.Context, id onion.RelayID, addr string, packet []byte) ([]byte, error)
}

// Publisher is where the relay's descriptors come from: a
// *publish.Publisher. Address says where relay id is reached.
type Publisher interface {
	Descriptor() []byte
	Directory() []byte
	Address(id onion.RelayID) (string, bool)
}
