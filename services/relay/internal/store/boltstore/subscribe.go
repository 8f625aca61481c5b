// SPDX-License-Identifier: AGPL-3.0-or-later

package boltstore

import (
	"sync"

	"github.com/hushchat/hush/services/relay/internal/store"
)

// subscribers wakes long-polls. It lives in memory only: after a restart
// a client's long-poll is simply renewed.
type subscribers struct {
	mu     sync.Mutex
	byQ    map[store.QueueID]map[*subscription]struct{}
	closed bool
}

type subscription struct{ ch chan struct{} }

// Subscribe returns a channel that receives after each commit that stored
// an envelope for recipient (coalesced: it holds at most one wake-up).
// It is closed when the store closes. cancel releases it; it may be
// called more than once.
func (s *Store) Subscribe(recipient store.QueueID) (<-chan struct{}, func()) {
	return s.subs.add(recipient)
}

func (ss *subscribers) add(q store.QueueID) (<-chan struct{}, func()) {
	sub := &subscription{ch: make(chan struct{}, 1)}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		close(sub.ch)
		return sub.ch, func() {}
	}
	if ss.byQ == nil {
		ss.byQ = make(map[store.QueueID]map[*subscription]struct{})
	}
	if ss.byQ[q] == nil {
		ss.byQ[q] = make(map[*subscription]struct{})
	}
	ss.byQ[q][sub] = struct{}{}
	return sub.ch, func() { ss.remove(q, sub) }
}

func (ss *subscribers) remove(q store.QueueID, sub *subscription) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.byQ[q], sub)
	if len(ss.byQ[q]) == 0 {
		delete(ss.byQ, q)
	}
}

func (ss *subscribers) notify(q store.QueueID) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for sub := range ss.byQ[q] {
		select {
		case sub.ch <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

func (ss *subscribers) closeAll() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.closed = true
	for _, subs := range ss.byQ {
		for sub := range subs {
			close(sub.ch)
		}
	}
	ss.byQ = nil
}
