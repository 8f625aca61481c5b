// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/hushchat/hush/pkg/core"
)

func parseContacts(cmd *command, args []string) (action, error) {
	pos, err := parseFlags(cmd, flagSet(cmd), args)
	if err != nil {
		return nil, err
	}
	if err := positional(cmd, pos, 0, 0); err != nil {
		return nil, err
	}
	return func(ctx context.Context, e *env) error {
		list, err := e.client.Contacts(ctx)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			hintf(e.stderr, "no contacts yet: \"hush invite\" makes an invitation, \"hush accept LINK\" takes one")
			return nil
		}
		return writeContacts(e.stdout, list)
	}, nil
}

// writeContacts prints the contacts as a table.
func writeContacts(w io.Writer, list []core.Contact) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tNAME\tIDENTITY\tVERIFIED\tBLOCKED\tPENDING")
	for _, c := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", c.ID, clean(c.Name), c.Identity.ShortString(),
			yesNo(c.Verified), yesNo(c.Blocked), yesNo(c.Pending))
	}
	return tw.Flush()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
