// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hushchat/hush/pkg/onion/directory"
	"github.com/hushchat/hush/services/relay/config"
	"github.com/hushchat/hush/services/relay/internal/keyfile"
)

func cmdInit(args []string, stdout, stderr io.Writer) int {
	set := flags("init", stderr)
	dir := set.String("dir", "", "the relay's directory (created)")
	if err := set.Parse(args); err != nil || *dir == "" || set.NArg() != 0 {
		fmt.Fprint(stderr, "hush-relay: init needs --dir DIR\n")
		return 2
	}
	id, err := initDir(*dir)
	if err != nil {
		return fail(stderr, "%v", err)
	}
	fmt.Fprintf(stdout, "relay %s created in %s\n", id, *dir)
	fmt.Fprintf(stdout, "next: edit %s, then run: hush-relay run --dir %s\n", filepath.Join(*dir, config.FileName), *dir)
	return 0
}

// initDir makes dir with a new identity key and the default configuration.
// It refuses a directory that already holds either.
func initDir(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	cfgPath := filepath.Join(dir, config.FileName)
	if _, err := os.Stat(cfgPath); !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s already exists: this directory has a relay (refusing to overwrite it)", cfgPath)
	}
	k, err := directory.GenerateSigningKey(nil)
	if err != nil {
		return "", err
	}
	defer k.Destroy()
	if err := keyfile.Create(filepath.Join(dir, keyfile.FileName), k); err != nil {
		return "", err
	}
	if err := os.WriteFile(cfgPath, []byte(config.Template(config.Defaults())), 0o600); err != nil {
		return "", err
	}
	return k.Relay().String(), nil
}
