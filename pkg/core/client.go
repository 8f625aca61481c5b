// SPDX-License-Identifier: AGPL-3.0-or-later

package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/keychain"
	"github.com/hushchat/hush/pkg/core/session"
	"github.com/hushchat/hush/pkg/core/store"
	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion"
)

// Network is how the client reaches relays: every request goes to the
// relay that holds the queue (the exit) through a fresh onion path.
// pkg/onion/relaynet's Net implements it.
type Network interface {
	// Ask sends request to exit and returns its answer.
	Ask(ctx context.Context, exit onion.RelayID, request []byte) ([]byte, error)
	// RandomRelay picks a relay to host a new queue, from the directory
	// the last Refresh (or Ask) fetched.
	RandomRelay(exclude ...onion.RelayID) (onion.RelayID, error)
	// Refresh fetches the network's directory.
	Refresh(ctx context.Context) error
}

// Defaults of Options.
const (
	DefaultPollWait     = 25 * time.Second
	DefaultReceiptDelay = 3 * time.Second
	// DefaultMessageTTL is how long relays keep an envelope (their
	// default envelope TTL): a message neither acknowledged by a relay
	// nor delivered by then is reported failed.
	DefaultMessageTTL = 21 * 24 * time.Hour
	// DefaultInvitationTTL is how long an invitation is valid.
	DefaultInvitationTTL = 7 * 24 * time.Hour
)

// Options configure a Client. Zero fields take their defaults.
type Options struct {
	// Network is required.
	Network Network
	// Log receives the client's diagnostics; nil discards them. Nothing
	// secret (keys, message text, queue IDs) is ever logged.
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// PollWait is the longest long-poll; each poll waits a random time
	// between half of it and all of it, so polls are renewed (on a new
	// path) at jittered times.
	PollWait time.Duration
	// ReceiptDelay is the longest random delay before a delivery
	// receipt goes out.
	ReceiptDelay time.Duration
	// MessageTTL: see DefaultMessageTTL.
	MessageTTL time.Duration
	// AttachmentDir holds the attachment files (OpenProfile: the
	// profile's "attachments" directory); without it, attachments can be
	// neither sent nor received.
	AttachmentDir string
	// MaxAttachment is the largest attachment sent or downloaded
	// (DefaultMaxAttachment).
	MaxAttachment int64
}

// Contact is someone the profile talks to.
type Contact struct {
	ID       store.ContactID
	Name     string
	Identity identity.PublicKey
	Verified bool
	Blocked  bool
	Added    time.Time
	// Pending is true until the contact answered our contact request.
	Pending bool
}

// Message is one message of a conversation.
type Message struct {
	ID         content.ID
	Contact    store.ContactID
	Direction  store.Direction
	SentAt     time.Time
	ReceivedAt time.Time
	State      store.State
	Pinned     bool
	Expires    time.Time // when it disappears (under the timer it was sent with); zero: never
	Body       content.Body
}

// Client is one open profile. It is safe for concurrent use.
type Client struct {
	st   store.Store
	net  Network
	mgr  *session.Manager
	key  *identity.PrivateKey
	opts Options
	log  *slog.Logger

	// txMu serialises store write transactions (see the package doc).
	txMu sync.Mutex
	// answerMu keeps a new contact from being answered twice at once.
	answerMu sync.Mutex
	// creating holds the queues stored but not yet made on their relay:
	// they are not polled until the relay said OK.
	creatingMu sync.Mutex
	creating   map[store.QueueID]bool
	// inflight holds the outbox entries being sent, so the outbox loop
	// and a direct send never attempt one at the same time.
	inflightMu sync.Mutex
	inflight   map[store.OutboxID]bool
	// runCtx is Run's context while Run runs; bg its direct sends.
	runCtx atomic.Pointer[context.Context]
	bg     sync.WaitGroup
	// ctrs are the owner-operation counters reserved per queue.
	ctrMu sync.Mutex
	ctrs  map[store.QueueID]*counters

	ev         events
	outboxCh   chan struct{} // wakes the outbox loop
	queuesCh   chan struct{} // the set of own queues changed
	transferCh chan struct{} // wakes the transfer loop
	expireCh   chan struct{} // wakes the expiry loop
	// moving holds the transfers running, by attachment file, to cancel
	// one whose message is deleted.
	movingMu sync.Mutex
	moving   map[string]context.CancelFunc
	receipts receipts

	closed  atomic.Bool
	onClose func() error     // releases what OpenProfile opened
	dir     string           // the profile directory, if opened by OpenProfile
	rekeyer keychain.Rekeyer // its store, for ChangePassphrase
}

// Settings keys of the client's own records.
const (
	settingName     = "profile.name"
	settingDropList = "queues.drop"    // queues to delete on their relays
	prefixInvite    = "invite.queue."  // + queue ID: the invitation made for it
	prefixAwaiting  = "contact.await." // + contact ID: no answer yet
	prefixHeld      = "contact.held."  // + contact ID: envelopes held on an identity change
)

// Init makes a new profile in st: a fresh identity key and the display
// name contacts will see. It returns ErrInitialized if st has one.
func Init(ctx context.Context, st store.Store, displayName string) (identity.PublicKey, error) {
	if err := identity.CheckDisplayName(displayName); err != nil {
		return identity.PublicKey{}, fmt.Errorf("display name: %w", err)
	}
	_, _, err := st.LocalIdentity(ctx)
	if err == nil {
		return identity.PublicKey{}, ErrInitialized
	}
	if !errors.Is(err, session.ErrNotFound) {
		return identity.PublicKey{}, fmt.Errorf("read the profile: %w", err)
	}
	key, err := identity.Generate(nil)
	if err != nil {
		return identity.PublicKey{}, err
	}
	reg, err := session.NewRegistrationID()
	if err != nil {
		return identity.PublicKey{}, err
	}
	err = st.Transact(ctx, func(ctx context.Context) error {
		if err := st.SetLocalIdentity(ctx, key, reg); err != nil {
			return err
		}
		return st.SetSetting(ctx, settingName, []byte(displayName))
	})
	if err != nil {
		return identity.PublicKey{}, fmt.Errorf("save the new profile: %w", err)
	}
	return key.Public(), nil
}

// New opens a Client on st, a store made by Init. The caller keeps
// ownership of st (Close does not close it).
func New(ctx context.Context, st store.Store, opts Options) (*Client, error) {
	if opts.Network == nil {
		return nil, errors.New("core: Options.Network is required")
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PollWait <= 0 {
		opts.PollWait = DefaultPollWait
	}
	opts.PollWait = min(opts.PollWait, mailbox.MaxWait)
	if opts.ReceiptDelay <= 0 {
		opts.ReceiptDelay = DefaultReceiptDelay
	}
	if opts.MessageTTL <= 0 {
		opts.MessageTTL = DefaultMessageTTL
	}
	if opts.MaxAttachment <= 0 {
		opts.MaxAttachment = DefaultMaxAttachment
	}
	key, _, err := st.LocalIdentity(ctx)
	if errors.Is(err, session.ErrNotFound) {
		return nil, ErrNotInitialized
	}
	if err != nil {
		return nil, fmt.Errorf("read the profile: %w", err)
	}
	mgr, err := session.New(ctx, st)
	if err != nil {
		return nil, err
	}
	return &Client{
		st: st, net: opts.Network, mgr: mgr, key: key, opts: opts, log: opts.Log,
		outboxCh: make(chan struct{}, 1),
		queuesCh: make(chan struct{}, 1), transferCh: make(chan struct{}, 1), expireCh: make(chan struct{}, 1),
		moving: make(map[string]context.CancelFunc),
	}, nil
}

// Identity returns the profile's identity key.
func (c *Client) Identity() identity.PublicKey { return c.key.Public() }

// DisplayName returns the name contacts see.
func (c *Client) DisplayName(ctx context.Context) (string, error) {
	b, err := c.st.Setting(ctx, settingName)
	if err != nil {
		return "", fmt.Errorf("read the display name: %w", err)
	}
	return string(b), nil
}

// Run runs the client's loops (sending the outbox, polling every own
// queue, receipts, upkeep) until ctx ends, then returns ctx's error.
func (c *Client) Run(ctx context.Context) error {
	if c.closed.Load() {
		return ErrClosed
	}
	c.runCtx.Store(&ctx)
	var wg sync.WaitGroup
	for _, loop := range []func(context.Context){c.outboxLoop, c.pollLoop, c.receiptLoop, c.upkeepLoop, c.transferLoop, c.expireLoop} {
		wg.Go(func() { loop(ctx) })
	}
	wg.Wait()
	c.runCtx.Store(nil)
	c.bg.Wait()
	return ctx.Err()
}

// Close releases the client (and what OpenProfile opened for it). Run
// must have returned.
func (c *Client) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.ev.closeAll()
	if c.onClose != nil {
		return c.onClose()
	}
	return nil
}

// transact runs fn in one store transaction, one at a time.
func (c *Client) transact(ctx context.Context, fn func(ctx context.Context) error) error {
	c.txMu.Lock()
	defer c.txMu.Unlock()
	return c.st.Transact(ctx, fn)
}

func (c *Client) now() time.Time { return c.opts.Now() }

// wake signals ch without blocking.
func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// sessionAddr is the session's address for a contact: local only.
func sessionAddr(id store.ContactID) session.Address {
	return session.Address(fmt.Sprintf("contact-%d", id))
}

func (c *Client) emit(e Event) {
	if e.At.IsZero() {
		e.At = c.now()
	}
	c.ev.emit(e)
}

// background reports an error of a background loop as an event.
func (c *Client) background(what string, err error) {
	if err == nil || errors.Is(err, context.Canceled) {
		return
	}
	c.log.Warn("background", "what", what, "err", err)
	c.emit(Event{Kind: EventError, Err: fmt.Errorf("%s: %w", what, err)})
}
