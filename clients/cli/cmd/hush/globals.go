// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// EnvProfile names the profile directory when --profile is not given.
const EnvProfile = "HUSH_PROFILE"

// globals are the flags before the command.
type globals struct {
	profile string // the profile directory, resolved
	network string // a network file to use instead of the profile's copy
	passFD  int    // --passphrase-fd; -1 if not given
}

// parseGlobals parses the flags before the command and returns the
// command line that follows them.
func parseGlobals(args []string, getenv func(string) string) (globals, []string, error) {
	g := globals{passFD: -1}
	fs := flag.NewFlagSet("hush", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&g.profile, "profile", "", "profile directory")
	fs.StringVar(&g.network, "network", "", "network file")
	fs.Func("passphrase-fd", "read the passphrase from this file descriptor", func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return errors.New("not a file descriptor number")
		}
		g.passFD = n
		return nil
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return g, []string{"help"}, nil
		}
		return g, nil, usageErrorf(nil, "%v", err)
	}
	if g.profile == "" {
		dir, err := defaultProfile(getenv)
		if err != nil {
			return g, nil, err
		}
		g.profile = dir
	}
	abs, err := filepath.Abs(g.profile)
	if err != nil {
		return g, nil, fmt.Errorf("profile directory: %w", err)
	}
	g.profile = abs
	return g, fs.Args(), nil
}

// defaultProfile is $HUSH_PROFILE, else $XDG_DATA_HOME/hush, else
// ~/.local/share/hush.
func defaultProfile(getenv func(string) string) (string, error) {
	if d := getenv(EnvProfile); d != "" {
		return d, nil
	}
	if d := getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "hush"), nil
	}
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("no profile directory: set --profile or $%s (%v)", EnvProfile, err)
		}
	}
	return filepath.Join(home, ".local", "share", "hush"), nil
}
