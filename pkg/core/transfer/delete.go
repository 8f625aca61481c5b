// SPDX-License-Identifier: AGPL-3.0-or-later

package transfer

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/hushchat/hush/pkg/mailbox"
)

// Delete removes all Total() chunks, padding included, from their relays
// with their delete tokens, parallel requests at a time (0 means
// DefaultParallel). Call it only after Download returned nil: until then
// the chunks are the only copy.
//
// It is best effort: a chunk that cannot be deleted is left to expire
// with its TTL, and Delete goes on with the others. It returns how many
// chunks are now gone from their relays (deleted now, or already gone:
// StatusNoChunk, so a repeated Delete returns Total() again) and the
// first error, a *ChunkError; or, when ctx is done, an error wrapping
// ctx.Err().
func Delete(ctx context.Context, a Asker, l *Layout, parallel int) (int64, error) {
	if parallel < 0 {
		return 0, fmt.Errorf("transfer: %d parallel requests", parallel)
	}
	if parallel == 0 {
		parallel = DefaultParallel
	}
	var (
		q     = newQueue(0, l.total, parallel)
		gone  atomic.Int64
		once  sync.Once
		first error
	)
	err := run(ctx, parallel, func(ctx context.Context, w int) error {
		for {
			i, ok := q.take(w)
			if !ok {
				return nil
			}
			switch err := deleteChunk(ctx, a, l, i); {
			case err == nil:
				gone.Add(1)
			case ctx.Err() != nil:
				return ctx.Err()
			default:
				once.Do(func() { first = err })
			}
			q.finish(w)
		}
	})
	if err != nil {
		return gone.Load(), fmt.Errorf("transfer: delete stopped: %w", err)
	}
	return gone.Load(), first
}

func deleteChunk(ctx context.Context, a Asker, l *Layout, i int64) error {
	relay, id, token := l.Place(i)
	body, err := mailbox.DeleteChunkRequest(id, token)
	if err != nil {
		return fmt.Errorf("transfer: internal error: %w", err)
	}
	_, err = do(ctx, a, &request{op: opDelete, index: i, total: l.total, relay: relay, body: body, check: deleted})
	return err
}

// deleted accepts OK, and NoChunk: gone already (an earlier Delete, or
// expired).
func deleted(r *mailbox.Response) error {
	if r.Status == mailbox.StatusOK || r.Status == mailbox.StatusNoChunk {
		return nil
	}
	return r.Status
}
