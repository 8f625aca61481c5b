// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/hushchat/hush/pkg/core/keychain"
)

// EnvNewPassphrase gives `hush passphrase` the new passphrase.
const EnvNewPassphrase = "HUSH_NEW_PASSPHRASE"

var errMismatch = errors.New("the passphrases do not match")

// passphraseSource says where a passphrase comes from: a file
// descriptor, an environment variable, or a prompt on the terminal.
type passphraseSource struct {
	fd      int    // -1: none
	envVar  string // "": none
	prompt  string // what to ask at the terminal
	confirm bool   // ask twice at the terminal (a new passphrase)
}

// passphrase returns the function the core calls when it needs the
// profile's passphrase (ProfileOptions.Passphrase), or nil if none can
// be had: no --passphrase-fd, no $HUSH_PASSPHRASE and no terminal. The
// core then says it needs one. newProfile: the passphrase of a profile
// being made, asked twice at a prompt.
func (a *app) passphrase(newProfile bool) func() ([]byte, error) {
	src := passphraseSource{fd: a.g.passFD, envVar: keychain.EnvPassphrase,
		prompt: "passphrase for the profile's store"}
	if newProfile {
		src.prompt, src.confirm = "choose a passphrase for the profile's store", true
	}
	return a.secretFunc(src)
}

// secretFunc returns a function that reads the passphrase from src once
// (a descriptor can be read only once, a user asked only once) and
// hands out copies: the core zeroes what it is given. The cached copy is
// zeroed when the program ends. It returns nil if src has nothing.
func (a *app) secretFunc(src passphraseSource) func() ([]byte, error) {
	_, envSet := a.lookupEnv(src.envVar)
	tty := a.stdinFD >= 0 && a.isTerminal(a.stdinFD)
	if src.fd < 0 && !(src.envVar != "" && envSet) && !tty {
		return nil
	}
	var (
		mu     sync.Mutex
		cached []byte
	)
	a.secrets = append(a.secrets, func() {
		mu.Lock()
		defer mu.Unlock()
		clear(cached)
	})
	return func() ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		if cached == nil {
			p, err := a.readPassphrase(src)
			if err != nil {
				return nil, err
			}
			cached = p
		}
		return bytes.Clone(cached), nil
	}
}

// readPassphrase reads the passphrase from the first source src has.
func (a *app) readPassphrase(src passphraseSource) ([]byte, error) {
	if src.fd >= 0 {
		p, err := keychain.ReadPassphraseFD(uintptr(src.fd))
		if err != nil {
			return nil, fmt.Errorf("passphrase from file descriptor %d: %w", src.fd, err)
		}
		return p, nil
	}
	if v, ok := a.lookupEnv(src.envVar); ok && src.envVar != "" {
		if err := keychain.CheckPassphrase([]byte(v)); err != nil {
			return nil, fmt.Errorf("$%s: %w", src.envVar, err)
		}
		return []byte(v), nil
	}
	return a.promptPassphrase(src.prompt, src.confirm)
}

// promptPassphrase asks at the terminal, without echo, once or twice.
func (a *app) promptPassphrase(prompt string, confirm bool) ([]byte, error) {
	p, err := a.ask(prompt)
	if err != nil || !confirm {
		return p, err
	}
	again, err := a.ask("again, to confirm")
	if err != nil {
		clear(p)
		return nil, err
	}
	defer clear(again)
	if !bytes.Equal(p, again) {
		clear(p)
		return nil, errMismatch
	}
	return p, nil
}

func (a *app) ask(prompt string) ([]byte, error) {
	fmt.Fprintf(a.stderr, "hush: %s: ", prompt)
	p, err := a.readSecret(a.stdinFD)
	fmt.Fprintln(a.stderr)
	if err != nil {
		return nil, fmt.Errorf("read the passphrase: %w", err)
	}
	if err := keychain.CheckPassphrase(p); err != nil {
		clear(p)
		return nil, err
	}
	return p, nil
}
