// SPDX-License-Identifier: AGPL-3.0-or-later

package keychain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"time"

	"github.com/hushchat/hush/pkg/internal/secret"
)

// Service is the service name Hush's keys are stored under.
const Service = "hush"

// DefaultTimeout bounds every keychain call when OS.Timeout is zero.
const DefaultTimeout = 3 * time.Second

// userPrefix starts every keychain user name; the rest names the profile.
const userPrefix = "profile-"

// Keychain keeps store keys, one per profile user name. OS is the real
// one; tests of callers use a fake.
type Keychain interface {
	Get(ctx context.Context, user string) (*Key, error)
	Set(ctx context.Context, user string, k *Key) error
	Delete(ctx context.Context, user string) error
}

// OS is the operating system's keychain. Each call runs under Timeout
// (DefaultTimeout if zero) and the context's deadline, whichever ends
// first, and then returns ErrTimeout.
type OS struct {
	Timeout time.Duration
}

var _ Keychain = OS{}

// ProfileUser returns the keychain user name of the profile in dir:
// "profile-" and the first 16 bytes of SHA-256 of the absolute path, in
// hex. It names the profile without putting its path in the keychain.
func ProfileUser(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("keychain: profile directory: %w", err)
	}
	h := sha256.Sum256([]byte(abs))
	return userPrefix + hex.EncodeToString(h[:16]), nil
}

// Get returns the profile's store key, ErrNotFound if the keychain has
// none, or ErrUnavailable / ErrTimeout if no keychain answered. The key
// must be kept secret.
func (o OS) Get(ctx context.Context, user string) (*Key, error) {
	var text string
	err := o.call(ctx, func() (err error) {
		text, err = backendGet(Service, user)
		return err
	})
	if err != nil {
		return nil, err
	}
	raw, err := hex.DecodeString(text)
	if err != nil {
		return nil, fmt.Errorf("%w: not hex", ErrCorrupt)
	}
	defer secret.Zero(raw)
	return keyFromBytes(raw)
}

// Set stores the profile's store key, replacing any earlier one.
func (o OS) Set(ctx context.Context, user string, k *Key) error {
	text := string(k.AppendHex(nil)) // go-keyring takes a string; it cannot be zeroed
	return o.call(ctx, func() error { return backendSet(Service, user, text) })
}

// Delete removes the profile's store key; ErrNotFound if there is none.
func (o OS) Delete(ctx context.Context, user string) error {
	return o.call(ctx, func() error { return backendDelete(Service, user) })
}

// call runs f in a goroutine and waits for it until the deadline. A call
// that times out keeps its goroutine until the keychain answers: the
// library offers no way to cancel it.
func (o OS) call(ctx context.Context, f func() error) error {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w (after %v)", ErrTimeout, timeout)
	}
}
