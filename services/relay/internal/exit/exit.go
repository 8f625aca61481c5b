// SPDX-License-Identifier: AGPL-3.0-or-later

// Package exit is what a relay does as the exit of an onion path: it reads
// the mailbox request (pkg/mailbox), checks the queue owner's signature,
// enforces rate limits, runs the operation on the store, and answers with
// a mailbox response. Handler implements rpc.ExitHandler.
//
// Nothing here logs queue IDs, chunk IDs or message contents.
package exit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/services/relay/internal/store"
)

// Store is what the exit needs of the relay's store.
type Store = store.Store

// Limits are the exit's rate limits, per kind of operation, for the whole
// relay: creation and uploads are anonymous, so there is no one else to
// count against. A zero field takes its default.
type Limits struct {
	CreatesPerSecond float64 // queue creations
	SendsPerSecond   float64
	ChunksPerSecond  float64 // chunk puts
	// Burst is how far above the rate a short burst may go, in seconds of
	// the rate.
	Burst time.Duration
}

// MaxWaitingPerQueue bounds the long-polls waiting on one queue at once.
// A queue has one owner, who needs one; more are answered at once without
// waiting, so no one can tie up the relay's streams through one queue.
const MaxWaitingPerQueue = 2

// Default rate limits.
const (
	DefaultCreatesPerSecond = 50
	DefaultSendsPerSecond   = 2000
	DefaultChunksPerSecond  = 500
	DefaultBurst            = 10 * time.Second
)

func (l Limits) withDefaults() Limits {
	set := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	set(&l.CreatesPerSecond, DefaultCreatesPerSecond)
	set(&l.SendsPerSecond, DefaultSendsPerSecond)
	set(&l.ChunksPerSecond, DefaultChunksPerSecond)
	if l.Burst == 0 {
		l.Burst = DefaultBurst
	}
	return l
}

// Handler answers mailbox requests for one relay.
type Handler struct {
	relay   onion.RelayID
	st      Store
	log     *slog.Logger
	now     func() time.Time
	creates *rate.Limiter
	sends   *rate.Limiter
	chunks  *rate.Limiter
	// waiting counts the long-polls waiting on each queue.
	mu      sync.Mutex
	waiting map[store.QueueID]int
	// draining is closed by Drain: the relay is stopping.
	draining  chan struct{}
	drainOnce sync.Once
	// OnResult, if set, is told the kind and outcome of every request,
	// for metrics.
	OnResult func(op string, s mailbox.Status)
}

// New returns a Handler for the relay with identity relay. log may be nil.
func New(relay onion.RelayID, st Store, l Limits, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l = l.withDefaults()
	limiter := func(perSecond float64) *rate.Limiter {
		return rate.NewLimiter(rate.Limit(perSecond), int(perSecond*l.Burst.Seconds()))
	}
	return &Handler{relay: relay, st: st, log: log, now: time.Now,
		creates: limiter(l.CreatesPerSecond), sends: limiter(l.SendsPerSecond), chunks: limiter(l.ChunksPerSecond),
		waiting: map[store.QueueID]int{}, draining: make(chan struct{})}
}

// Drain ends every waiting long-poll now, each answering with what its
// queue holds (nothing), and answers later fetches without waiting, so a
// stopping relay is not held up to MaxWait by its long-polls. Clients
// poll again, through another path if this relay is gone.
func (h *Handler) Drain() { h.drainOnce.Do(func() { close(h.draining) }) }

// HandleExit implements rpc.ExitHandler.
func (h *Handler) HandleExit(ctx context.Context, request []byte) []byte {
	op, resp := h.handle(ctx, request)
	if h.OnResult != nil {
		h.OnResult(op, resp.Status)
	}
	b, err := mailbox.EncodeResponse(resp)
	if err != nil {
		h.log.Error("exit: encode response", "op", op, "err", err)
		b, _ = mailbox.EncodeResponse(&mailbox.Response{Status: mailbox.StatusInternal})
	}
	return b
}

func (h *Handler) handle(ctx context.Context, request []byte) (string, *mailbox.Response) {
	req, err := mailbox.ParseRequest(request)
	if err != nil {
		return "malformed", refused(err)
	}
	switch {
	case req.Create != nil:
		return "create", h.create(ctx, req.Create)
	case req.Send != nil:
		return "send", h.send(ctx, req.Send)
	case req.Owner != nil:
		return h.owner(ctx, req.Owner)
	case req.PutChunk != nil:
		return "put_chunk", h.putChunk(ctx, req.PutChunk)
	case req.GetChunk != nil:
		return "get_chunk", h.getChunk(ctx, *req.GetChunk)
	default:
		return "delete_chunk", h.deleteChunk(ctx, req.DeleteChunk)
	}
}

// refused answers with the Status err carries, StatusInternal if none.
func refused(err error) *mailbox.Response {
	var s mailbox.Status
	if errors.As(err, &s) {
		return &mailbox.Response{Status: s}
	}
	return &mailbox.Response{Status: mailbox.StatusInternal}
}

func ok() *mailbox.Response { return &mailbox.Response{Status: mailbox.StatusOK} }

// statusOf maps a store error to its status code.
func (h *Handler) statusOf(op string, err error) *mailbox.Response {
	for _, m := range storeStatus {
		if errors.Is(err, m.err) {
			return &mailbox.Response{Status: m.status}
		}
	}
	h.log.Warn("exit: store failed", "op", op, "err", err)
	return &mailbox.Response{Status: mailbox.StatusInternal}
}

var storeStatus = []struct {
	err    error
	status mailbox.Status
}{
	{store.ErrNoQueue, mailbox.StatusNoQueue},
	{store.ErrExists, mailbox.StatusExists},
	{store.ErrQueueFull, mailbox.StatusQueueFull},
	{store.ErrContactRequestUsed, mailbox.StatusContactRequestUsed},
	{store.ErrTooManyQueues, mailbox.StatusTooManyQueues},
	{store.ErrTooManyChunks, mailbox.StatusTooManyChunks},
	{store.ErrRelayFull, mailbox.StatusRelayFull},
	{store.ErrCounter, mailbox.StatusCounter},
	{store.ErrNoChunk, mailbox.StatusNoChunk},
	{store.ErrBadToken, mailbox.StatusBadToken},
	{store.ErrBadSize, mailbox.StatusBadSize},
	{store.ErrBadTTL, mailbox.StatusMalformed},
}
