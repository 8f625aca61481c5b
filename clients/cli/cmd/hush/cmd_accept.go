// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"context"
	"fmt"
	"strings"
)

func parseAccept(cmd *command, args []string) (action, error) {
	pos, err := parseFlags(cmd, flagSet(cmd), args)
	if err != nil {
		return nil, err
	}
	if err := positional(cmd, pos, 1, 1); err != nil {
		return nil, err
	}
	link := strings.TrimSpace(pos[0])
	return func(ctx context.Context, e *env) error {
		ct, err := e.client.AcceptInvitation(ctx, link)
		if err != nil {
			return err
		}
		name := clean(ct.Name)
		fmt.Fprintf(e.stdout, "added %s; waiting for %s to answer\n", name, name)
		hintf(e.stderr, "keep \"hush listen\" running: messages can be sent once %s's hush has answered", name)
		return nil
	}, nil
}
