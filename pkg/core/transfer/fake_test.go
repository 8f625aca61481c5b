// SPDX-License-Identifier: AGPL-3.0-or-later

package transfer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/relaynet"
)

// fakeNet is an Asker over in-memory chunk stores, one per relay, that
// parses each request as a relay's exit does and answers as it would. It
// counts what it served, and its hook can fail, alter or block any
// request.
type fakeNet struct {
	mu     sync.Mutex
	stores map[onion.RelayID]map[mailbox.ChunkID]*fakeChunk
	served map[string]int // requests answered, by operation
	// hook, if set, sees every parsed request before the store does. If
	// it returns handled, Ask returns its answer and error instead.
	hook func(ctx context.Context, relay onion.RelayID, op string, req *mailbox.Request) (resp []byte, err error, handled bool)
	// discard makes puts keep only the token hash, not the data; gen
	// then makes the data of a get (flat-memory tests).
	discard bool
	gen     func(id mailbox.ChunkID) []byte
}

type fakeChunk struct {
	data      []byte
	tokenHash [sha256.Size]byte
	ttl       time.Duration
}

var (
	_ Asker = (*fakeNet)(nil)
	// relaynet.Net is the Asker the client gives these functions.
	_ Asker = (*relaynet.Net)(nil)
)

func newFakeNet(relays ...onion.RelayID) *fakeNet {
	f := &fakeNet{stores: map[onion.RelayID]map[mailbox.ChunkID]*fakeChunk{}, served: map[string]int{}}
	for _, r := range relays {
		f.stores[r] = map[mailbox.ChunkID]*fakeChunk{}
	}
	return f
}

var errFakeUnknownRelay = errors.New("fake: no such relay")

func (f *fakeNet) Ask(ctx context.Context, relay onion.RelayID, request []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	req, err := mailbox.ParseRequest(request)
	if err != nil {
		return encode(mailbox.StatusMalformed), nil
	}
	op := opOf(req)
	f.mu.Lock()
	hook := f.hook
	f.mu.Unlock()
	if hook != nil {
		if resp, err, handled := hook(ctx, relay, op, req); handled {
			return resp, err
		}
	}
	return f.serve(relay, req)
}

// serve answers req at relay's store, and counts it.
func (f *fakeNet) serve(relay onion.RelayID, req *mailbox.Request) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	store, ok := f.stores[relay]
	if !ok {
		return nil, fmt.Errorf("%w: %s", errFakeUnknownRelay, relay)
	}
	f.served[opOf(req)]++
	return f.answer(store, req), nil
}

// answer is what a relay's exit would say.
func (f *fakeNet) answer(store map[mailbox.ChunkID]*fakeChunk, req *mailbox.Request) []byte {
	switch {
	case req.PutChunk != nil:
		p := req.PutChunk
		if _, ok := store[p.ID]; ok {
			return encode(mailbox.StatusExists)
		}
		c := &fakeChunk{tokenHash: p.DeleteTokenHash, ttl: p.TTL}
		if !f.discard {
			c.data = bytes.Clone(p.Data)
		}
		store[p.ID] = c
		return encode(mailbox.StatusOK)
	case req.GetChunk != nil:
		c, ok := store[*req.GetChunk]
		if !ok {
			return encode(mailbox.StatusNoChunk)
		}
		data := c.data
		if f.gen != nil {
			data = f.gen(*req.GetChunk)
		}
		b, _ := mailbox.EncodeResponse(&mailbox.Response{Status: mailbox.StatusOK, Chunk: data})
		return b
	case req.DeleteChunk != nil:
		d := req.DeleteChunk
		c, ok := store[d.ID]
		switch {
		case !ok:
			return encode(mailbox.StatusNoChunk)
		case !mailbox.TokenMatches(d.Token, c.tokenHash):
			return encode(mailbox.StatusBadToken)
		}
		delete(store, d.ID)
		return encode(mailbox.StatusOK)
	}
	return encode(mailbox.StatusMalformed)
}

func encode(s mailbox.Status) []byte {
	b, err := mailbox.EncodeResponse(&mailbox.Response{Status: s})
	if err != nil {
		panic(err)
	}
	return b
}

func opOf(req *mailbox.Request) string {
	switch {
	case req.PutChunk != nil:
		return opPut
	case req.GetChunk != nil:
		return opGet
	case req.DeleteChunk != nil:
		return opDelete
	}
	return "other"
}

// chunkOf returns the ID a chunk request names.
func chunkOf(req *mailbox.Request) mailbox.ChunkID {
	switch {
	case req.PutChunk != nil:
		return req.PutChunk.ID
	case req.GetChunk != nil:
		return *req.GetChunk
	case req.DeleteChunk != nil:
		return req.DeleteChunk.ID
	}
	return mailbox.ChunkID{}
}

func (f *fakeNet) setHook(h func(ctx context.Context, relay onion.RelayID, op string, req *mailbox.Request) ([]byte, error, bool)) {
	f.mu.Lock()
	f.hook = h
	f.mu.Unlock()
}

// count returns the requests of op answered by the stores so far.
func (f *fakeNet) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.served[op]
}

func (f *fakeNet) resetCounts() {
	f.mu.Lock()
	f.served = map[string]int{}
	f.mu.Unlock()
}

// chunk returns what relay holds under id.
func (f *fakeNet) chunk(relay onion.RelayID, id mailbox.ChunkID) (*fakeChunk, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.stores[relay][id]
	return c, ok
}

// held returns how many chunks each relay holds.
func (f *fakeNet) held() map[onion.RelayID]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[onion.RelayID]int{}
	for r, s := range f.stores {
		out[r] = len(s)
	}
	return out
}

// alter flips a byte of the chunk relay holds under id.
func (f *fakeNet) alter(relay onion.RelayID, id mailbox.ChunkID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stores[relay][id].data[100] ^= 1
}

// remove drops the chunk relay holds under id (expired).
func (f *fakeNet) remove(relay onion.RelayID, id mailbox.ChunkID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.stores[relay], id)
}
