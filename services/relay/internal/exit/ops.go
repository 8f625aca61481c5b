// SPDX-License-Identifier: AGPL-3.0-or-later

package exit

import (
	"context"
	"crypto/ed25519"
	"crypto/subtle"
	"errors"
	"time"

	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/services/relay/internal/store"
)

func (h *Handler) create(ctx context.Context, c *mailbox.Create) *mailbox.Response {
	if err := c.Verify(h.relay); err != nil {
		return refused(err)
	}
	if !h.creates.Allow() {
		return &mailbox.Response{Status: mailbox.StatusRateLimited}
	}
	q := store.NewQueue{Recipient: c.Recipient.Array(), Sender: c.Sender.Array(),
		AuthKey: ed25519.PublicKey(c.AuthKey[:]), ContactRequest: c.ContactRequest}
	err := h.st.CreateQueue(ctx, q, h.now())
	if errors.Is(err, store.ErrExists) && h.isRetry(ctx, c) {
		return ok()
	}
	if err != nil {
		return h.statusOf("create", err)
	}
	return ok()
}

// isRetry reports whether the queue c names already exists with c's auth
// key: the client's earlier create went through and its answer was lost.
// Only the holder of that key could have signed c.
func (h *Handler) isRetry(ctx context.Context, c *mailbox.Create) bool {
	key, _, err := h.st.QueueAuth(ctx, c.Recipient.Array())
	return err == nil && subtle.ConstantTimeCompare(key, c.AuthKey[:]) == 1
}

func (h *Handler) send(ctx context.Context, s *mailbox.Send) *mailbox.Response {
	if !h.sends.Allow() {
		return &mailbox.Response{Status: mailbox.StatusRateLimited}
	}
	res, err := h.st.Send(ctx, s.Sender.Array(), store.MessageID(s.Message), s.Envelope, h.now())
	if err != nil {
		return h.statusOf("send", err)
	}
	return &mailbox.Response{Status: mailbox.StatusOK, Duplicate: res.Duplicate}
}

// owner runs a fetch, ack or delete after checking the owner's signature
// with the queue's key. The store checks and records the counter.
func (h *Handler) owner(ctx context.Context, o *mailbox.OwnerOp) (string, *mailbox.Response) {
	op := "ack"
	switch {
	case o.Fetch != nil:
		op = "fetch"
	case o.Delete:
		op = "delete_queue"
	}
	rid := o.Recipient.Array()
	key, last, err := h.st.QueueAuth(ctx, rid)
	if err != nil {
		return op, h.statusOf(op, err)
	}
	if len(key) != ed25519.PublicKeySize {
		return op, &mailbox.Response{Status: mailbox.StatusInternal}
	}
	if err := o.Verify(h.relay, mailbox.AuthPublicKey(key)); err != nil {
		return op, refused(err)
	}
	var resp *mailbox.Response
	switch {
	case o.Fetch != nil:
		resp = h.fetch(ctx, rid, o.Counter, o.Fetch)
	case o.Delete:
		resp = h.result(op, h.st.DeleteQueue(ctx, rid, o.Counter))
	default:
		resp = h.result(op, h.st.Ack(ctx, rid, o.Counter, o.Ack))
	}
	if resp.Status == mailbox.StatusCounter {
		resp.LastCounter = last // only after the signature verified
	}
	return op, resp
}

func (h *Handler) result(op string, err error) *mailbox.Response {
	if err != nil {
		return h.statusOf(op, err)
	}
	return ok()
}

// fetch returns what the queue holds, or waits for the first envelope to
// arrive, up to the request's wait. For a fetch that may wait, the
// subscription is taken before the first look, so an envelope stored in
// between is not missed.
func (h *Handler) fetch(ctx context.Context, rid store.QueueID, counter uint64, f *mailbox.Fetch) *mailbox.Response {
	mayWait := f.Wait > 0 && !h.isDraining()
	var wake <-chan struct{}
	if mayWait {
		var cancel func()
		wake, cancel = h.st.Subscribe(rid)
		defer cancel()
	}
	envs, err := h.st.Fetch(ctx, rid, counter, f.Ack, f.Max)
	if err != nil {
		return h.statusOf("fetch", err)
	}
	if len(envs) == 0 && mayWait && h.startWait(rid) {
		defer h.endWait(rid)
		envs, err = h.wait(ctx, rid, f, wake)
		if err != nil {
			return h.statusOf("fetch", err)
		}
	}
	resp := ok()
	for _, e := range envs {
		resp.Envelopes = append(resp.Envelopes, mailbox.Envelope{Seq: e.Seq, Data: e.Data})
	}
	return resp
}

// startWait reserves one of the queue's waiting long-polls, if one is
// free.
func (h *Handler) startWait(rid store.QueueID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.waiting[rid] >= MaxWaitingPerQueue {
		return false
	}
	h.waiting[rid]++
	return true
}

func (h *Handler) isDraining() bool {
	select {
	case <-h.draining:
		return true
	default:
		return false
	}
}

func (h *Handler) endWait(rid store.QueueID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.waiting[rid]--; h.waiting[rid] == 0 {
		delete(h.waiting, rid)
	}
}

func (h *Handler) wait(ctx context.Context, rid store.QueueID, f *mailbox.Fetch, wake <-chan struct{}) ([]store.Envelope, error) {
	timer := time.NewTimer(min(f.Wait, mailbox.MaxWait))
	defer timer.Stop()
	for {
		select {
		case <-wake:
			envs, err := h.st.Peek(ctx, rid, f.Max)
			if err != nil || len(envs) > 0 {
				return envs, err
			}
		case <-timer.C:
			return nil, nil
		case <-ctx.Done():
			return nil, nil
		case <-h.draining:
			return nil, nil
		}
	}
}

func (h *Handler) putChunk(ctx context.Context, p *mailbox.PutChunk) *mailbox.Response {
	if !h.chunks.Allow() {
		return &mailbox.Response{Status: mailbox.StatusRateLimited}
	}
	return h.result("put_chunk", h.st.PutChunk(ctx, store.ChunkID(p.ID), p.Data, p.TTL, p.DeleteTokenHash, h.now()))
}

func (h *Handler) getChunk(ctx context.Context, id mailbox.ChunkID) *mailbox.Response {
	data, err := h.st.GetChunk(ctx, store.ChunkID(id), h.now())
	if err != nil {
		return h.statusOf("get_chunk", err)
	}
	return &mailbox.Response{Status: mailbox.StatusOK, Chunk: data}
}

func (h *Handler) deleteChunk(ctx context.Context, d *mailbox.DeleteChunk) *mailbox.Response {
	return h.result("delete_chunk", h.st.DeleteChunk(ctx, store.ChunkID(d.ID), d.Token.Array()))
}
