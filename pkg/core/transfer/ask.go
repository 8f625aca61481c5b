// SPDX-License-Identifier: AGPL-3.0-or-later

package transfer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion"
)

// Asker sends one mailbox request to a relay through a fresh onion path
// and returns the raw response. core.Network and relaynet.Net satisfy it.
// It must be safe for concurrent use.
type Asker interface {
	Ask(ctx context.Context, exit onion.RelayID, request []byte) ([]byte, error)
}

// The operations, as ChunkError.Op names them.
const (
	opPut    = "put"
	opGet    = "get"
	opDelete = "delete"
)

// retryPolicy is how a chunk's request is tried again after a transient
// failure: each Ask is a fresh path (relaynet.Net.Ask itself tries
// DefaultAttempts paths), and the waits between attempts double from
// first to most, with ±25 % jitter so workers do not retry in step.
type retryPolicy struct {
	attempts    int
	first, most time.Duration
}

// retry is the policy of every request. Six attempts wait 0.1 + 0.2 +
// 0.4 + 0.8 + 1.6 s, about 3 s in all: long enough for a relay restart
// or a rate limit to pass, short enough that a relay really down is
// reported while the user still watches.
var retry = retryPolicy{attempts: 6, first: 100 * time.Millisecond, most: 2 * time.Second}

// wait returns the pause after failed attempt a (from 0).
func (p retryPolicy) wait(a int) time.Duration {
	d := p.first << a
	if d > p.most || d <= 0 {
		d = p.most
	}
	return d - d/4 + rand.N(d/2+1)
}

// request is one chunk operation: what to send where, and which answers
// end it well.
type request struct {
	op    string
	index int64
	total int64
	relay onion.RelayID
	body  []byte
	// check returns nil for an answer that ends the operation well, else
	// why not: the Status, or ErrBadResponse.
	check func(*mailbox.Response) error
}

// do sends r.body to r.relay, again on a fresh path after each transient
// failure, and returns the first accepted answer. It returns a
// *ChunkError when the chunk failed for good or retries ran out, and
// ctx's error (bare) as soon as ctx is done.
func do(ctx context.Context, a Asker, r *request) (*mailbox.Response, error) {
	var last error
	for attempt := range retry.attempts {
		if attempt > 0 {
			if err := sleep(ctx, retry.wait(attempt-1)); err != nil {
				return nil, err
			}
		}
		resp, err := askOnce(ctx, a, r)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err == nil {
			return resp, nil
		}
		last = err
		if !transient(err) {
			break
		}
	}
	return nil, &ChunkError{Index: r.index, Total: r.total, Relay: r.relay, Op: r.op, Err: last}
}

// askOnce is one attempt: the Asker's error, ErrBadResponse, what r.check
// refused, or the accepted answer.
func askOnce(ctx context.Context, a Asker, r *request) (*mailbox.Response, error) {
	raw, err := a.Ask(ctx, r.relay, r.body)
	if err != nil {
		return nil, err
	}
	resp, err := mailbox.ParseResponse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadResponse, err)
	}
	if err := r.check(resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// sleep waits d, or returns ctx's error when ctx is done first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
