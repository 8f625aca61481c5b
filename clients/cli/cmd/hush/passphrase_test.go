// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"errors"
	"os"
	"testing"

	"github.com/hushchat/hush/pkg/core/keychain"
)

func TestPassphraseNoSource(t *testing.T) {
	a, _, _ := testApp(t, nil)
	a.g.passFD = -1
	if f := a.passphrase(false); f != nil {
		t.Error("a passphrase function without any source: the core would not say one is needed")
	}
}

func TestPassphraseFromEnv(t *testing.T) {
	a, _, _ := testApp(t, map[string]string{keychain.EnvPassphrase: "s3cret"})
	a.g.passFD = -1
	f := a.passphrase(false)
	for range 2 { // asked twice (an interrupted passphrase change), same answer
		p, err := f()
		if err != nil || string(p) != "s3cret" {
			t.Fatalf("got %q, %v", p, err)
		}
		clear(p) // the core zeroes what it gets; the cache must not be that slice
	}
	a, _, _ = testApp(t, map[string]string{keychain.EnvPassphrase: ""})
	a.g.passFD = -1
	if _, err := a.passphrase(false)(); !errors.Is(err, keychain.ErrEmptyPassphrase) {
		t.Errorf("empty $HUSH_PASSPHRASE: %v", err)
	}
}

func TestPassphraseFromFD(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString("from fd\nrest\n")
	w.Close()
	// The descriptor comes before the environment variable.
	a, _, _ := testApp(t, map[string]string{keychain.EnvPassphrase: "from env"})
	a.g.passFD = giveFD(t, r)
	f := a.passphrase(false)
	for range 2 { // the descriptor is read once
		if p, err := f(); err != nil || string(p) != "from fd" {
			t.Fatalf("got %q, %v", p, err)
		}
	}
}

func TestPassphrasePrompt(t *testing.T) {
	answers := func(list ...string) func(int) ([]byte, error) {
		return func(int) ([]byte, error) {
			if len(list) == 0 {
				return nil, errors.New("no more answers")
			}
			s := list[0]
			list = list[1:]
			return []byte(s), nil
		}
	}
	for _, tc := range []struct {
		name    string
		newProf bool
		answers []string
		want    string
		err     error
	}{
		{"open asks once", false, []string{"pw"}, "pw", nil},
		{"init asks twice", true, []string{"pw", "pw"}, "pw", nil},
		{"init mismatch", true, []string{"pw", "wp"}, "", errMismatch},
		{"empty", false, []string{""}, "", keychain.ErrEmptyPassphrase},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, _, stderr := testApp(t, nil)
			a.g.passFD, a.stdinFD = -1, 0
			a.isTerminal = func(int) bool { return true }
			a.readSecret = answers(tc.answers...)
			p, err := a.passphrase(tc.newProf)()
			if !errors.Is(err, tc.err) || string(p) != tc.want {
				t.Errorf("got %q, %v; want %q, %v", p, err, tc.want, tc.err)
			}
			if stderr.Len() == 0 {
				t.Error("no prompt on stderr")
			}
		})
	}
}

func TestNewPassphraseSource(t *testing.T) {
	a, _, _ := testApp(t, map[string]string{keychain.EnvPassphrase: "old", EnvNewPassphrase: "new"})
	f := a.secretFunc(passphraseSource{fd: -1, envVar: EnvNewPassphrase, prompt: "new passphrase", confirm: true})
	if p, err := f(); err != nil || string(p) != "new" {
		t.Errorf("got %q, %v", p, err)
	}
}
