// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"context"
	"fmt"

	"github.com/hushchat/hush/pkg/core"
)

// contactCommand parses a command whose one argument is a contact and
// returns work on that contact.
func contactCommand(cmd *command, args []string, do func(ctx context.Context, e *env, ct core.Contact) error) (action, error) {
	pos, err := parseFlags(cmd, flagSet(cmd), args)
	if err != nil {
		return nil, err
	}
	if err := positional(cmd, pos, 1, 1); err != nil {
		return nil, err
	}
	return func(ctx context.Context, e *env) error {
		ct, err := findContact(ctx, e.client, pos[0])
		if err != nil {
			return err
		}
		return do(ctx, e, ct)
	}, nil
}

func parseBlock(cmd *command, args []string) (action, error) {
	return contactCommand(cmd, args, func(ctx context.Context, e *env, ct core.Contact) error {
		if err := e.client.Block(ctx, ct.ID); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "blocked %s: its queues are deleted and nothing more is sent to it\n", clean(ct.Name))
		return nil
	})
}

func parseRemove(cmd *command, args []string) (action, error) {
	return contactCommand(cmd, args, func(ctx context.Context, e *env, ct core.Contact) error {
		if err := e.client.Remove(ctx, ct.ID); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "removed %s and the conversation\n", clean(ct.Name))
		return nil
	})
}

// parseIdentity parses "identity accept|reject NAME".
func parseIdentity(cmd *command, args []string) (action, error) {
	if len(args) == 0 || (args[0] != "accept" && args[0] != "reject") {
		return nil, usageErrorf(cmd, "identity: say accept or reject")
	}
	accept := args[0] == "accept"
	return contactCommand(cmd, args[1:], func(ctx context.Context, e *env, ct core.Contact) error {
		name := clean(ct.Name)
		key, pending, err := e.client.PendingIdentityChange(ctx, ct.ID)
		if err != nil {
			return err
		}
		if !pending {
			return fmt.Errorf("%s: %w", name, core.ErrNoIdentityChange)
		}
		if !accept {
			if err := e.client.RejectIdentityChange(ctx, ct.ID); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "rejected the new identity key of %s; the messages it sent were dropped\n", name)
			return nil
		}
		if err := e.client.AcceptIdentityChange(ctx, ct.ID); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "accepted %s's new identity key %s\n", name, key)
		hintf(e.stderr, "%s is no longer verified: compare safety numbers again with \"hush verify %s\"", name, quoteArg(ct.Name))
		return nil
	})
}
