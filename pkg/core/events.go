// SPDX-License-Identifier: AGPL-3.0-or-later

package core

import (
	"fmt"
	"sync"
	"time"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/store"
)

// EventKind says what happened.
type EventKind uint8

// The kinds of event.
const (
	// EventReceived: a message arrived (Message is set).
	EventReceived EventKind = iota + 1
	// EventSent: a relay acknowledged an outgoing message (MessageIDs).
	EventSent
	// EventDelivered: the contact's device received these messages.
	EventDelivered
	// EventRead: the contact read these messages.
	EventRead
	// EventContactAdded: a contact is ready (both queues known).
	EventContactAdded
	// EventIdentityChanged: an envelope on the contact's queue came from
	// another identity key (NewIdentity); it is held until the user calls
	// AcceptIdentityChange or RejectIdentityChange.
	EventIdentityChanged
	// EventFailed: outgoing messages could not be delivered (Err says
	// why); they are marked failed in history.
	EventFailed
	// EventError: something went wrong in the background (Err).
	EventError
	// EventProgress: an attachment moved on (Progress): chunks uploaded
	// or downloaded and verified.
	EventProgress
	// EventAttachment: an attachment's transfer finished (Progress, with
	// Done = Total): uploaded, its message handed to the outbox; or
	// downloaded and verified, ready for OpenAttachment and
	// SaveAttachment.
	EventAttachment
)

// String names the kind.
func (k EventKind) String() string {
	switch k {
	case EventReceived:
		return "received"
	case EventSent:
		return "sent"
	case EventDelivered:
		return "delivered"
	case EventRead:
		return "read"
	case EventContactAdded:
		return "contact added"
	case EventIdentityChanged:
		return "identity changed"
	case EventFailed:
		return "failed"
	case EventError:
		return "error"
	case EventProgress:
		return "progress"
	case EventAttachment:
		return "attachment"
	}
	return fmt.Sprintf("event %d", uint8(k))
}

// Event is one thing the user may want to know.
type Event struct {
	Kind        EventKind
	At          time.Time
	Contact     Contact      // the contact concerned, if any
	Message     *Message     // EventReceived
	MessageIDs  []content.ID // EventSent, EventDelivered, EventRead, EventFailed
	NewIdentity identity.PublicKey
	Err         error     // EventFailed, EventError
	Progress    *Progress // EventProgress, EventAttachment
}

// Progress is where one attachment's transfer stands.
type Progress struct {
	Message   content.ID
	Direction store.Direction // Outgoing: an upload; Incoming: a download
	Done      int64           // bytes of the file moved (downloads: verified)
	Total     int64           // the file's size
}

// events fans events out to subscribers. Each subscriber has its own
// unbounded queue, so a slow reader never blocks the client and never
// loses an event.
type events struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

type subscriber struct {
	mu      sync.Mutex
	pending []Event
	wake    chan struct{} // buffered 1
	out     chan Event
	done    chan struct{}
}

// Subscribe returns a channel of every event from now on, in order, and a
// function that ends the subscription (and closes the channel).
func (c *Client) Subscribe() (<-chan Event, func()) {
	s := &subscriber{wake: make(chan struct{}, 1), out: make(chan Event), done: make(chan struct{})}
	c.ev.mu.Lock()
	if c.ev.subs == nil {
		c.ev.subs = make(map[*subscriber]struct{})
	}
	c.ev.subs[s] = struct{}{}
	c.ev.mu.Unlock()
	go s.run()
	return s.out, func() {
		c.ev.mu.Lock()
		defer c.ev.mu.Unlock()
		if _, ok := c.ev.subs[s]; ok {
			delete(c.ev.subs, s)
			close(s.done)
		}
	}
}

func (s *subscriber) run() {
	defer close(s.out)
	for {
		s.mu.Lock()
		var e Event
		have := len(s.pending) > 0
		if have {
			e = s.pending[0]
			s.pending[0] = Event{}
			s.pending = s.pending[1:]
		}
		s.mu.Unlock()
		if !have {
			select {
			case <-s.wake:
				continue
			case <-s.done:
				return
			}
		}
		select {
		case s.out <- e:
		case <-s.done:
			return
		}
	}
}

// emit queues ev (its At set by Client.emit) for every subscriber.
func (e *events) emit(ev Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for s := range e.subs {
		s.mu.Lock()
		s.pending = append(s.pending, ev)
		s.mu.Unlock()
		wake(s.wake)
	}
}

func (e *events) closeAll() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for s := range e.subs {
		close(s.done)
		delete(e.subs, s)
	}
}

// contactOf converts a stored contact.
func contactOf(sc store.Contact) Contact {
	return Contact{ID: sc.ID, Name: sc.Name, Identity: sc.Identity, Verified: sc.Verified, Blocked: sc.Blocked, Added: sc.Created}
}
