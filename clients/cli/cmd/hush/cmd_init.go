// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"context"
	"errors"
	"fmt"
	"os/user"
	"text/tabwriter"

	"github.com/hushchat/hush/pkg/core"
	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/keychain"
)

// runInit makes a profile and prints its identity key and where its
// store key lives.
func runInit(ctx context.Context, a *app, cmd *command, args []string) error {
	var (
		name          string
		usePassphrase bool
	)
	fs := flagSet(cmd)
	fs.StringVar(&name, "name", "", "the name contacts see (default: your login name)")
	fs.BoolVar(&usePassphrase, "passphrase", false, "protect the store with a passphrase, not the OS keychain")
	pos, err := parseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := positional(cmd, pos, 0, 0); err != nil {
		return err
	}
	if a.g.network == "" {
		return usageErrorf(cmd, "init: a network file is needed: hush --network FILE init")
	}
	if name == "" {
		name = loginName(a.getenv)
	}
	if err := identity.CheckDisplayName(name); err != nil || name == "" {
		return usageErrorf(cmd, "init: %q cannot be a display name; choose one with --name", name)
	}
	pass := a.passphrase(true)
	if usePassphrase && pass == nil {
		return withHint(errors.New("init --passphrase: no passphrase given"),
			"set HUSH_PASSPHRASE, use --passphrase-fd N, or run hush init in a terminal")
	}
	o, err := a.profileOptions(pass)
	if err != nil {
		return err
	}
	o.UsePassphrase = usePassphrase
	c, src, err := core.InitProfile(ctx, o, name)
	if err != nil {
		return err
	}
	defer c.Close()
	return writeProfile(a, c, name, src)
}

func writeProfile(a *app, c *core.Client, name string, src keychain.Source) error {
	where := "in the OS keychain"
	if src == keychain.FromPassphrase {
		where = "derived from your passphrase (it cannot be recovered: keep it safe)"
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "profile\t%s\n", a.g.profile)
	fmt.Fprintf(tw, "name\t%s\n", clean(name))
	fmt.Fprintf(tw, "identity\t%s\n", c.Identity())
	fmt.Fprintf(tw, "store key\t%s\n", where)
	if err := tw.Flush(); err != nil {
		return err
	}
	hintf(a.stderr, "run \"hush invite\" to make an invitation, and \"hush listen\" to receive messages")
	return nil
}

// loginName is the user's login name, the default display name.
func loginName(getenv func(string) string) string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return getenv("USER")
}
