// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hushchat/hush/pkg/core"
)

const saveHelp = `save a message's attachment to a file

MSGID is the start (at least 6 characters) of the ID "hush history" shows.
PATH is a new file, or a directory to save into under the sender's file
name (made safe, and unique). An existing file is never overwritten. An
attachment received is saved once it is downloaded ("hush listen"
downloads them; "hush listen --save-dir DIR" saves them too).`

func parseSave(cmd *command, args []string) (action, error) {
	pos, err := parseFlags(cmd, flagSet(cmd), args)
	if err != nil {
		return nil, err
	}
	if err := positional(cmd, pos, 3, 3); err != nil {
		return nil, err
	}
	prefix, err := parseIDPrefix(cmd, pos[1])
	if err != nil {
		return nil, err
	}
	if pos[2] == "" {
		return nil, usageErrorf(cmd, "save: the path is empty")
	}
	return func(ctx context.Context, e *env) error {
		ct, m, err := findContactMessage(ctx, e.client, pos[0], prefix)
		if err != nil {
			return err
		}
		info, err := e.client.Attachment(ctx, ct.ID, m.ID)
		if err != nil {
			return fmt.Errorf("message %s: %w", shortID(m.ID), err)
		}
		path, err := saveAttachment(ctx, e.client, info, m, e.path(pos[2]), pos[2])
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "saved %s (%s)\n", clean(path), size(info.Size))
		return nil
	}, nil
}

// saveAttachment saves an attachment at path, or in it under the
// sender's name if it is a directory; arg is the path as the user gave
// it. It returns the path saved to.
func saveAttachment(ctx context.Context, c *core.Client, info core.AttachmentInfo, m core.Message, path, arg string) (string, error) {
	save := func(p string) error { return c.SaveAttachment(ctx, info.Contact, info.Message, p) }
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		return saveUnique(path, safeName(info.Name, info.MIMEType, m.SentAt, m.ID), save)
	case err == nil:
		return "", withHint(fmt.Errorf("%s exists; hush never overwrites a file", arg),
			"give a new file name, or a directory to save into")
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("%s: %w", arg, err)
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("%s: no such directory", filepath.Dir(arg))
	}
	err = save(path)
	if errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("%s exists; hush never overwrites a file", arg)
	}
	return path, err
}
