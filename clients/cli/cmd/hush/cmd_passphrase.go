// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/hushchat/hush/pkg/core/keychain"
	"github.com/hushchat/hush/pkg/core/store/sqlstore"
)

// runPassphrase changes the passphrase of a passphrase profile. It runs
// in its own process only: the profile is re-keyed while nothing else
// has it open.
func runPassphrase(ctx context.Context, a *app, cmd *command, args []string) error {
	newFD := -1
	fs := flagSet(cmd)
	fs.Func("new-passphrase-fd", "read the new passphrase from this file descriptor", func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return errors.New("not a file descriptor number")
		}
		newFD = n
		return nil
	})
	pos, err := parseFlags(cmd, fs, args)
	if err != nil {
		return err
	}
	if err := positional(cmd, pos, 0, 0); err != nil {
		return err
	}
	if a.listening(ctx) {
		return errWhileListening
	}
	newPass := a.secretFunc(passphraseSource{fd: newFD, envVar: EnvNewPassphrase,
		prompt: "new passphrase", confirm: true})
	if newPass == nil {
		return withHint(errors.New("no new passphrase given"),
			"set "+EnvNewPassphrase+", use --new-passphrase-fd N, or run hush passphrase in a terminal")
	}
	c, src, err := a.open(ctx)
	if errors.Is(err, sqlstore.ErrLocked) && a.listening(ctx) {
		return errWhileListening
	}
	if err != nil {
		return err
	}
	defer c.Close()
	if src != keychain.FromPassphrase {
		return keychain.ErrNotPassphrase
	}
	p, err := newPass()
	if err != nil {
		return err
	}
	defer clear(p)
	if err := c.ChangePassphrase(ctx, p); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "passphrase changed")
	return nil
}

var errWhileListening = withHint(errors.New("hush passphrase cannot run while hush listen runs for this profile"),
	"stop hush listen (Ctrl-C), then run it again")

// listening reports whether a hush listen answers on the profile's
// socket.
func (a *app) listening(ctx context.Context) bool {
	conn, err := dialSocket(ctx, socketPath(a.g.profile))
	if err != nil {
		return false
	}
	conn.Close()
	return true
}
