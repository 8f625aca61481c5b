// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/hushchat/hush/pkg/core"
	"github.com/hushchat/hush/pkg/core/content"
)

const (
	retentionHelp = `delete old messages with a contact from this device

Messages with NAME older than DURATION (30d, 12h, 90m; at least 1m) are
deleted from this device, with their attachments; pinned ones are kept
("hush pin"). It is local: the contact is not told, and their copy is
theirs. "off" keeps everything.`

	disappearingHelp = `make messages with a contact disappear

Each message sent or received after this disappears from both devices
DURATION (30d, 12h, 90m; at most 365d) after it was sent or received.
The contact is told, and both sides apply it; either side can change it.
Pinning does not keep a disappearing message. "off" turns it off.`

	pinHelp = `pin a message, so retention keeps it

MSGID is the start (at least 6 characters) of the ID "hush history" shows.
Pinned messages are kept whatever "hush retention" says; a disappearing
timer still removes them. --off unpins.`
)

func parseRetention(cmd *command, args []string) (action, error) {
	name, keep, err := parseTimerArgs(cmd, args)
	if err != nil {
		return nil, err
	}
	if keep != 0 && keep < core.MinRetention {
		return nil, usageErrorf(cmd, "retention: keep messages at least %s, or say off", longDuration(core.MinRetention))
	}
	return func(ctx context.Context, e *env) error {
		ct, err := findContact(ctx, e.client, name)
		if err != nil {
			return err
		}
		if err := e.client.SetRetention(ctx, ct.ID, keep); err != nil {
			return err
		}
		n := clean(ct.Name)
		if keep == 0 {
			fmt.Fprintf(e.stdout, "retention off: messages with %s are kept on this device\n", n)
			return nil
		}
		fmt.Fprintf(e.stdout, "messages with %s older than %s are deleted from this device (pinned ones are kept)\n", n, longDuration(keep))
		return nil
	}, nil
}

func parseDisappearing(cmd *command, args []string) (action, error) {
	name, after, err := parseTimerArgs(cmd, args)
	if err != nil {
		return nil, err
	}
	switch {
	case after != 0 && after < time.Second:
		return nil, usageErrorf(cmd, "disappearing: the timer is at least 1s, or off")
	case after > content.MaxDisappearing:
		return nil, usageErrorf(cmd, "disappearing: the timer is at most %s", shortDuration(content.MaxDisappearing))
	}
	after = after.Round(time.Second)
	return func(ctx context.Context, e *env) error {
		ct, err := findContact(ctx, e.client, name)
		if err != nil {
			return err
		}
		events, unsubscribe := e.client.Subscribe()
		defer unsubscribe()
		id, err := e.client.SetDisappearing(ctx, ct.ID, after)
		if err != nil {
			return err
		}
		n := clean(ct.Name)
		sent, err := waitSent(ctx, events, id, sendWait)
		if err != nil {
			return fmt.Errorf("telling %s: %w", n, err)
		}
		told := n + " is told"
		if !sent {
			told = n + " is told once the message goes (\"hush listen\")"
		}
		if after == 0 {
			fmt.Fprintf(e.stdout, "disappearing messages with %s are off; %s\n", n, told)
			return nil
		}
		fmt.Fprintf(e.stdout, "messages with %s now disappear from both devices %s after they are sent or received; %s, and both sides apply it\n",
			n, longDuration(after), told)
		hintf(e.stderr, "pinning does not keep disappearing messages")
		return nil
	}, nil
}

// parseTimerArgs parses "NAME DURATION|off".
func parseTimerArgs(cmd *command, args []string) (string, time.Duration, error) {
	pos, err := parseFlags(cmd, flagSet(cmd), args)
	if err != nil {
		return "", 0, err
	}
	if err := positional(cmd, pos, 2, 2); err != nil {
		return "", 0, err
	}
	d, err := parseTimer(cmd, pos[1])
	return pos[0], d, err
}

func parsePin(cmd *command, args []string) (action, error) {
	flags := flagSet(cmd)
	off := flags.Bool("off", false, "unpin")
	pos, err := parseFlags(cmd, flags, args)
	if err != nil {
		return nil, err
	}
	if err := positional(cmd, pos, 2, 2); err != nil {
		return nil, err
	}
	prefix, err := parseIDPrefix(cmd, pos[1])
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, e *env) error {
		ct, m, err := findContactMessage(ctx, e.client, pos[0], prefix)
		if err != nil {
			return err
		}
		if err := e.client.Pin(ctx, ct.ID, m.ID, !*off); err != nil {
			return err
		}
		if *off {
			fmt.Fprintf(e.stdout, "unpinned message %s with %s\n", shortID(m.ID), clean(ct.Name))
			return nil
		}
		fmt.Fprintf(e.stdout, "pinned message %s with %s: retention keeps it\n", shortID(m.ID), clean(ct.Name))
		if !m.Expires.IsZero() {
			hintf(e.stderr, "it still disappears %s: pinning does not keep disappearing messages", approx(m.Expires.Sub(e.now())))
		}
		return nil
	}, nil
}
