// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hushchat/hush/pkg/core"
	"github.com/hushchat/hush/pkg/core/content"
)

// runListen runs the client until interrupted: it prints events as they
// come, marks shown messages read (so read receipts go out), and serves
// the profile's socket so other hush commands can hand it their work.
func runListen(ctx context.Context, a *app, cmd *command, args []string) error {
	pos, err := parseFlags(cmd, flagSet(cmd), args)
	if err != nil {
		return err
	}
	if err := positional(cmd, pos, 0, 0); err != nil {
		return err
	}
	if a.listening(ctx) {
		return errors.New("hush listen is already running for this profile")
	}
	c, _, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	srv, err := listenSocket(ctx, a.g.profile, remoteHandler(c))
	if err != nil {
		return err
	}
	events, unsubscribe := c.Subscribe()
	defer unsubscribe()
	var wg sync.WaitGroup
	wg.Go(func() { c.Run(ctx) })
	wg.Go(func() { srv.serve(ctx) })
	name, err := c.DisplayName(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "hush: listening as %s (%s); Ctrl-C stops\n", clean(name), c.Identity().ShortString())
	p := &printer{client: c, stdout: a.stdout, stderr: a.stderr, loc: time.Local}
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			fmt.Fprintln(a.stderr, "hush: stopped")
			return nil
		case ev, ok := <-events:
			if !ok {
				wg.Wait()
				return core.ErrClosed
			}
			p.print(ctx, ev)
		}
	}
}

// printer shows events, one line each.
type printer struct {
	client         *core.Client
	stdout, stderr io.Writer
	loc            *time.Location
}

func (p *printer) print(ctx context.Context, ev core.Event) {
	at := "[" + ev.At.In(p.loc).Format("15:04:05") + "]"
	name := clean(ev.Contact.Name)
	switch ev.Kind {
	case core.EventReceived:
		m := ev.Message
		if m == nil {
			return
		}
		t := m.ReceivedAt
		if t.IsZero() {
			t = ev.At
		}
		fmt.Fprintln(p.stdout, messageLine(t.In(p.loc), "15:04:05", ev.Contact.Name, *m))
		if err := p.client.MarkRead(ctx, m.Contact, m.ID); err != nil && ctx.Err() == nil {
			warnf(p.stderr, "mark a message read: %s", errorMessage(err))
		}
	case core.EventSent:
		fmt.Fprintf(p.stdout, "%s sent to %s%s\n", at, name, count(ev.MessageIDs))
	case core.EventDelivered:
		fmt.Fprintf(p.stdout, "%s delivered to %s%s\n", at, name, count(ev.MessageIDs))
	case core.EventRead:
		fmt.Fprintf(p.stdout, "%s read by %s%s\n", at, name, count(ev.MessageIDs))
	case core.EventContactAdded:
		fmt.Fprintf(p.stdout, "%s %s is now a contact\n", at, name)
		hintf(p.stderr, "compare safety numbers with \"hush verify %s\"", quoteArg(ev.Contact.Name))
	case core.EventIdentityChanged:
		fmt.Fprintf(p.stdout, "%s WARNING: %s's identity key changed to %s; their messages are held\n", at, name, ev.NewIdentity.ShortString())
		hintf(p.stderr, "ask %s (in person or on a call) whether they reinstalled hush; then \"hush identity accept %s\" or \"hush identity reject %s\"",
			name, quoteArg(ev.Contact.Name), quoteArg(ev.Contact.Name))
	case core.EventFailed:
		fmt.Fprintf(p.stdout, "%s FAILED to send to %s%s: %s\n", at, name, count(ev.MessageIDs), errorMessage(ev.Err))
	case core.EventError:
		warnf(p.stderr, "%s", errorMessage(ev.Err))
	}
}

// count says how many messages an event concerns, if more than one.
func count(ids []content.ID) string {
	if len(ids) > 1 {
		return fmt.Sprintf(" (%d messages)", len(ids))
	}
	return ""
}
