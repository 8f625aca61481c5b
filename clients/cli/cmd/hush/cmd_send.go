// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hushchat/hush/pkg/core"
	"github.com/hushchat/hush/pkg/core/content"
)

// sendWait is how long hush send waits for a relay to take the message.
const sendWait = 30 * time.Second

type sendOpts struct {
	noWait bool
	wait   time.Duration
	name   string
	text   string
}

// parseSend takes flags before NAME only: everything after NAME is the
// message, dashes included.
func parseSend(cmd *command, args []string) (action, error) {
	o, err := parseSendOpts(cmd, args)
	if err != nil {
		return nil, err
	}
	return o.run, nil
}

func parseSendOpts(cmd *command, args []string) (sendOpts, error) {
	o := sendOpts{wait: sendWait}
	fs := flagSet(cmd)
	fs.BoolVar(&o.noWait, "no-wait", false, "return once the message is queued")
	if err := fs.Parse(args); err != nil {
		return o, flagError(cmd, err)
	}
	pos := fs.Args()
	if err := positional(cmd, pos, 2, -1); err != nil {
		return o, err
	}
	o.name, o.text = pos[0], strings.Join(pos[1:], " ")
	if strings.TrimSpace(o.text) == "" {
		return o, usageErrorf(cmd, "send: the message is empty")
	}
	return o, nil
}

// run queues the message and waits until a relay acknowledged it
// (EventSent), the send failed for good (EventFailed), or o.wait passed.
// The client's loops must be running: hush listen's, or the ones
// dispatch starts for this command.
func (o sendOpts) run(ctx context.Context, e *env) error {
	ct, err := findContact(ctx, e.client, o.name)
	if err != nil {
		return err
	}
	// Subscribe first, so the acknowledgement cannot come before we look.
	events, unsubscribe := e.client.Subscribe()
	defer unsubscribe()
	id, err := e.client.SendText(ctx, ct.ID, o.text)
	if err != nil {
		return err
	}
	name := clean(ct.Name)
	var sent bool
	if !o.noWait {
		if sent, err = waitSent(ctx, events, id, o.wait); err != nil {
			return fmt.Errorf("sending to %s: %w", name, err)
		}
	}
	switch {
	case sent:
		fmt.Fprintf(e.stdout, "sent to %s\n", name)
	case e.remote:
		fmt.Fprintf(e.stdout, "queued for %s; the running hush listen will send it when a relay answers\n", name)
	default:
		fmt.Fprintf(e.stdout, "queued for %s; will be sent by \"hush listen\"\n", name)
	}
	return nil
}

// waitSent waits for the outcome of message id: true once a relay took
// it, an error if it failed for good, false if wait passed first or the
// wait was interrupted (the message stays queued either way).
func waitSent(ctx context.Context, events <-chan core.Event, id content.ID, wait time.Duration) (bool, error) {
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, nil
		case <-t.C:
			return false, nil
		case ev, ok := <-events:
			if !ok {
				return false, nil
			}
			if !slices.Contains(ev.MessageIDs, id) {
				continue
			}
			switch ev.Kind {
			case core.EventSent, core.EventDelivered, core.EventRead:
				return true, nil
			case core.EventFailed:
				return false, ev.Err
			}
		}
	}
}
