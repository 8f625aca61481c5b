// SPDX-License-Identifier: AGPL-3.0-or-later

// Package fakeexit has stand-in exit handlers for tests, benchmarks and the
// devnet until the mailbox exit is wired in: Echo answers every request
// with its own bytes.
package fakeexit

import (
	"context"
	"sync/atomic"

	"github.com/hushchat/hush/pkg/onion"
)

// Echo answers each request with a copy of it (cut to the response
// capacity) and counts the requests it saw.
type Echo struct {
	n atomic.Int64
}

// HandleExit returns the request.
func (e *Echo) HandleExit(_ context.Context, request []byte) []byte {
	e.n.Add(1)
	return append([]byte(nil), request[:min(len(request), onion.ResponseCapacity)]...)
}

// Count returns how many requests Echo answered.
func (e *Echo) Count() int64 { return e.n.Load() }
