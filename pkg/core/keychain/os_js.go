// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build js

package keychain

// A browser has no OS keychain: the web client's store takes the
// passphrase path.

func backendGet(string, string) (string, error) { return "", ErrUnavailable }

func backendSet(string, string, string) error { return ErrUnavailable }

func backendDelete(string, string) error { return ErrUnavailable }
