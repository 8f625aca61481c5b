// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build !js

package keychain

import (
	"errors"
	"fmt"

	"github.com/zalando/go-keyring"
)

// The native backend is github.com/zalando/go-keyring: the Secret Service
// over D-Bus on Linux and the BSDs, the Keychain on macOS, the Credential
// Manager on Windows.

func backendGet(service, user string) (string, error) {
	s, err := keyring.Get(service, user)
	return s, mapError(err)
}

func backendSet(service, user, value string) error {
	return mapError(keyring.Set(service, user, value))
}

func backendDelete(service, user string) error {
	return mapError(keyring.Delete(service, user))
}

// mapError turns the library's errors into ours. Every error but "not
// found" means no usable keychain: no D-Bus session, no Secret Service,
// a dismissed unlock prompt.
func mapError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotFound
	}
	return fmt.Errorf("%w: %v", ErrUnavailable, err)
}
