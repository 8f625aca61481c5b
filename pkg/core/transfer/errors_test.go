// SPDX-License-Identifier: AGPL-3.0-or-later

package transfer

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/relaynet"
)

func TestTemporary(t *testing.T) {
	relay := testRelays(t, 1)[0]
	chunkErr := func(err error) error {
		return fmt.Errorf("wrapped: %w", &ChunkError{Index: 3, Total: 8, Relay: relay, Op: opGet, Err: err})
	}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"exit unreachable", chunkErr(fmt.Errorf("%w: relay-3 failed on 3 paths", relaynet.ErrExitUnreachable)), true},
		{"no path", chunkErr(relaynet.ErrNoPath), true},
		{"rate limited", chunkErr(mailbox.StatusRateLimited), true},
		{"relay error", chunkErr(mailbox.StatusInternal), true},
		{"cancelled", fmt.Errorf("transfer: stopped: %w", context.Canceled), true},
		{"no chunk", chunkErr(mailbox.StatusNoChunk), false},
		{"relay full", chunkErr(mailbox.StatusRelayFull), false},
		{"too many chunks", chunkErr(mailbox.StatusTooManyChunks), false},
		{"bad answer", chunkErr(fmt.Errorf("%w: x", ErrBadResponse)), false},
		{"altered", chunkErr(&attach.ChunkError{Index: 3, Err: attach.ErrChunkAuth}), false},
		{"digest", fmt.Errorf("transfer: %w", attach.ErrDigest), false},
		{"local", fmt.Errorf("transfer: write chunk 3: %w", errors.New("disk full")), false},
		{"nil", nil, false},
	}
	for _, c := range cases {
		if got := Temporary(c.err); got != c.want {
			t.Errorf("%s: Temporary(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

func TestChunkErrorText(t *testing.T) {
	relay := testRelays(t, 1)[0]
	short := relay.String()[:len(onion.RelayPrefix)+8] + "…"
	cases := []struct {
		e    *ChunkError
		want string
	}{
		{&ChunkError{Index: 17, Total: 2304, Relay: relay, Op: opGet, Err: &attach.ChunkError{Index: 17, Err: attach.ErrChunkAuth}},
			"transfer: chunk 17 of 2304 (get from relay " + short + "): " + attach.ErrChunkAuth.Error()},
		{&ChunkError{Index: 2, Total: 8, Relay: relay, Op: opPut, Err: mailbox.StatusRelayFull},
			"transfer: chunk 2 of 8 (put on relay " + short + "): mailbox: relay's storage budget is used up"},
		{&ChunkError{Index: 0, Total: 8, Relay: relay, Op: opDelete, Err: mailbox.StatusBadToken},
			"transfer: chunk 0 of 8 (delete on relay " + short + "): mailbox: delete token does not match"},
	}
	for _, c := range cases {
		if got := c.e.Error(); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
}
