// SPDX-License-Identifier: AGPL-3.0-or-later

package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/hushchat/hush/pkg/core/store"
	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion"
)

// ask sends a mailbox request to relay and returns its response; a
// refusal comes back as an error wrapping the mailbox.Status.
func (c *Client) ask(ctx context.Context, relay onion.RelayID, request []byte) (*mailbox.Response, error) {
	raw, err := c.net.Ask(ctx, relay, request)
	if err != nil {
		return nil, err
	}
	resp, err := mailbox.ParseResponse(raw)
	if err != nil {
		return nil, fmt.Errorf("relay %s answered: %w", relay, err)
	}
	if err := resp.Err(); err != nil {
		return resp, fmt.Errorf("relay %s: %w", relay, err)
	}
	return resp, nil
}

// newQueue makes a queue on a relay for contact (0: none yet). The queue
// is stored before the relay is asked, so that a queue a relay holds is
// never unknown to the client; if the relay refuses, it is forgotten
// again.
func (c *Client) newQueue(ctx context.Context, contact store.ContactID, contactRequest bool) (store.OwnQueue, error) {
	relay, err := c.net.RandomRelay()
	if err != nil {
		// No directory yet, or a stale one: fetch it.
		if err := c.net.Refresh(ctx); err != nil {
			return store.OwnQueue{}, err
		}
		if relay, err = c.net.RandomRelay(); err != nil {
			return store.OwnQueue{}, fmt.Errorf("choose a relay for a new queue: %w", err)
		}
	}
	q, err := mailbox.NewQueue(relay, contactRequest)
	if err != nil {
		return store.OwnQueue{}, err
	}
	oq := store.OwnQueue{Queue: q, Contact: contact, Created: c.now()}
	c.creatingMu.Lock()
	defer func() { c.created(oq.ID) }()
	err = c.transact(ctx, func(ctx context.Context) error {
		oq.ID, err = c.st.AddQueue(ctx, oq)
		return err
	})
	if c.creating == nil {
		c.creating = make(map[store.QueueID]bool)
	}
	c.creating[oq.ID] = true
	c.creatingMu.Unlock()
	if err != nil {
		return store.OwnQueue{}, fmt.Errorf("store the new queue: %w", err)
	}
	req, err := q.CreateRequest()
	if err == nil {
		_, err = c.ask(ctx, relay, req)
	}
	if err != nil {
		// The relay may have made it if only its answer was lost: it
		// then expires there unused.
		if derr := c.transact(context.WithoutCancel(ctx), func(ctx context.Context) error { return c.st.DeleteQueue(ctx, oq.ID) }); derr != nil {
			c.log.Warn("forget a queue the relay did not make", "err", derr)
		}
		return store.OwnQueue{}, fmt.Errorf("create a queue on relay %s: %w", relay, err)
	}
	c.created(oq.ID)
	wake(c.queuesCh)
	return oq, nil
}

// created ends a queue's creation: pollable from now on.
func (c *Client) created(id store.QueueID) {
	c.creatingMu.Lock()
	delete(c.creating, id)
	c.creatingMu.Unlock()
}

// owner sends a signed owner operation for one of our queues. Its counter
// is durable before the request leaves, so it is never used twice.
func (c *Client) owner(ctx context.Context, id store.QueueID, build func(q *mailbox.Queue) ([]byte, error)) (*mailbox.Response, error) {
	oq, err := c.st.Queue(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("queue %d: %w", id, err)
	}
	ctr, err := c.nextCounter(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("queue %d: %w", id, err)
	}
	q := oq.Queue
	q.Counter = ctr - 1 // the request builder uses the next one
	req, err := build(q)
	if err != nil {
		return nil, err
	}
	return c.ask(ctx, q.Relay, req)
}

// counterBlock is how many counters are reserved at once: one durable
// commit covers this many owner operations (polls and acks). Counters
// reserved but not used before a restart are skipped, which the relay
// allows: it only requires each counter to be above the last.
const counterBlock = 16

// counters are a queue's reserved counters: used up to next, reserved
// up to limit.
type counters struct{ next, limit uint64 }

// nextCounter returns the queue's next counter, reserving a new block
// durably when the last one is used up.
func (c *Client) nextCounter(ctx context.Context, id store.QueueID) (uint64, error) {
	c.ctrMu.Lock()
	defer c.ctrMu.Unlock()
	if b := c.ctrs[id]; b != nil && b.next < b.limit {
		b.next++
		return b.next, nil
	}
	var last uint64
	err := c.transact(ctx, func(ctx context.Context) error {
		var err error
		last, err = c.st.NextCounter(ctx, id, counterBlock)
		return err
	})
	if err != nil {
		return 0, err
	}
	if c.ctrs == nil {
		c.ctrs = make(map[store.QueueID]*counters)
	}
	b := &counters{next: last - counterBlock + 1, limit: last}
	c.ctrs[id] = b
	return b.next, nil
}

// dropQueues takes queues out of use in the current transaction: they
// lose their contact and are deleted on their relays by the upkeep loop
// (and then forgotten). Until then they are not polled.
func (c *Client) dropQueues(ctx context.Context, ids ...store.QueueID) error {
	list, err := c.dropList(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := c.st.SetQueueContact(ctx, id, 0); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if !slices.Contains(list, id) {
			list = append(list, id)
		}
	}
	return c.saveDropList(ctx, list)
}

func (c *Client) dropList(ctx context.Context) ([]store.QueueID, error) {
	b, err := c.st.Setting(ctx, settingDropList)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var list []store.QueueID
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("read the list of queues to delete: %w", err)
	}
	return list, nil
}

func (c *Client) saveDropList(ctx context.Context, list []store.QueueID) error {
	if len(list) == 0 {
		return c.st.DeleteSetting(ctx, settingDropList)
	}
	b, err := json.Marshal(list)
	if err != nil {
		return err
	}
	return c.st.SetSetting(ctx, settingDropList, b)
}

// deleteDropped deletes the dropped queues on their relays and forgets
// those that are gone. A relay that cannot be reached is tried again at
// the next upkeep.
func (c *Client) deleteDropped(ctx context.Context) error {
	list, err := c.dropList(ctx)
	if err != nil || len(list) == 0 {
		return err
	}
	var errs []error
	for _, id := range list {
		_, err := c.owner(ctx, id, (*mailbox.Queue).DeleteRequest)
		if err != nil && !errors.Is(err, mailbox.StatusNoQueue) && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, err)
			continue
		}
		err = c.transact(ctx, func(ctx context.Context) error {
			list, err := c.dropList(ctx)
			if err != nil {
				return err
			}
			if err := c.st.DeleteQueue(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			return c.saveDropList(ctx, slices.DeleteFunc(list, func(q store.QueueID) bool { return q == id }))
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("delete queues no longer used: %w", errors.Join(errs...))
	}
	return nil
}
