// SPDX-License-Identifier: AGPL-3.0-or-later

package keychain

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hushchat/hush/pkg/internal/secret"
)

// pendingFile holds the parameters of a passphrase change until the store
// has been re-keyed with them.
const pendingFile = ParamsFile + ".new"

// Source says where Resolve found the key.
type Source uint8

// The sources of a store key.
const (
	FromKeychain   Source = 1
	FromPassphrase Source = 2
)

// String names the source, for messages such as the demo's.
func (s Source) String() string {
	switch s {
	case FromKeychain:
		return "OS keychain"
	case FromPassphrase:
		return "passphrase"
	}
	return fmt.Sprintf("source %d", uint8(s))
}

// Request says what Resolve needs to know about a profile.
type Request struct {
	Dir string // the profile directory
	// New is true when the profile's store does not exist yet.
	New bool
	// UsePassphrase makes a new profile take the passphrase path even if
	// a keychain answers (the user asked for it).
	UsePassphrase bool
	// Keychain is the keychain to use; nil means OS{}.
	Keychain Keychain
	// Passphrase returns the passphrase the user gave explicitly; nil if
	// none was given. Resolve calls it only when it needs it.
	Passphrase func() ([]byte, error)
	// Verify reports whether a key opens the store. It is needed only to
	// finish a passphrase change that was interrupted.
	Verify func(ctx context.Context, k *Key) error
}

// Resolve returns the key of the profile's store by the package's policy
// (see the package doc). The key must be kept secret.
func Resolve(ctx context.Context, r Request) (*Key, Source, error) {
	p, err := LoadParams(r.Dir)
	switch {
	case err == nil:
		k, err := r.fromPassphrase(ctx, p)
		return k, FromPassphrase, err
	case !errors.Is(err, fs.ErrNotExist):
		return nil, 0, err
	case r.New && r.UsePassphrase:
		k, err := r.newPassphrase()
		return k, FromPassphrase, err
	case r.New:
		return r.create(ctx)
	}
	k, err := r.keychain().Get(ctx, r.user())
	if errors.Is(err, ErrNotFound) {
		return nil, 0, ErrKeyMissing
	}
	if err != nil {
		return nil, 0, fmt.Errorf("keychain: this profile's store key is in the OS keychain, which did not give it: %w", err)
	}
	return k, FromKeychain, nil
}

func (r Request) keychain() Keychain {
	if r.Keychain == nil {
		return OS{}
	}
	return r.Keychain
}

func (r Request) user() string {
	u, err := ProfileUser(r.Dir)
	if err != nil {
		return userPrefix + "unnamed" // filepath.Abs fails only without a working directory
	}
	return u
}

// create makes the key of a new profile: a random key in the keychain,
// or, if no keychain answers, the passphrase path, but only with a
// passphrase the user gave.
func (r Request) create(ctx context.Context) (*Key, Source, error) {
	k, err := NewKey()
	if err != nil {
		return nil, 0, err
	}
	err = r.keychain().Set(ctx, r.user(), k)
	if err == nil {
		return k, FromKeychain, nil
	}
	k.Destroy()
	if r.Passphrase == nil {
		return nil, 0, fmt.Errorf("%w (%v)", ErrNeedPassphrase, err)
	}
	k, err = r.newPassphrase()
	return k, FromPassphrase, err
}

// newPassphrase starts the passphrase path for a new profile.
func (r Request) newPassphrase() (*Key, error) {
	pass, err := r.passphrase()
	if err != nil {
		return nil, err
	}
	defer secret.Zero(pass)
	p, err := NewParams()
	if err != nil {
		return nil, err
	}
	k, err := DeriveKey(pass, p)
	if err != nil {
		return nil, err
	}
	if err := SaveParams(r.Dir, ParamsFile, p); err != nil {
		k.Destroy()
		return nil, err
	}
	return k, nil
}

func (r Request) passphrase() ([]byte, error) {
	if r.Passphrase == nil {
		return nil, ErrNeedPassphrase
	}
	return r.Passphrase()
}

// fromPassphrase derives the key of a passphrase profile, finishing an
// interrupted ChangePassphrase first.
func (r Request) fromPassphrase(ctx context.Context, p Params) (*Key, error) {
	pass, err := r.passphrase()
	if err != nil {
		return nil, err
	}
	defer secret.Zero(pass)
	pending, err := loadPending(r.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return DeriveKey(pass, p)
	}
	if err != nil {
		return nil, err
	}
	return r.finishChange(ctx, pass, p, pending)
}

func loadPending(dir string) (Params, error) {
	b, err := os.ReadFile(filepath.Join(dir, pendingFile))
	if err != nil {
		return Params{}, err
	}
	return ParseParams(b)
}

// finishChange decides which of the two parameter sets the store is
// keyed with: the change stopped before or after the store was re-keyed.
func (r Request) finishChange(ctx context.Context, pass []byte, old, pending Params) (*Key, error) {
	if r.Verify == nil {
		return nil, errors.New("keychain: a passphrase change was interrupted and cannot be finished here")
	}
	k, err := DeriveKey(pass, pending)
	if err != nil {
		return nil, err
	}
	if r.Verify(ctx, k) == nil {
		if err := os.Rename(filepath.Join(r.Dir, pendingFile), filepath.Join(r.Dir, ParamsFile)); err != nil {
			k.Destroy()
			return nil, fmt.Errorf("keychain: finish passphrase change: %w", err)
		}
		return k, syncDir(r.Dir)
	}
	k.Destroy()
	if k, err = DeriveKey(pass, old); err != nil {
		return nil, err
	}
	if err := r.Verify(ctx, k); err != nil {
		k.Destroy()
		return nil, err
	}
	return k, os.Remove(filepath.Join(r.Dir, pendingFile))
}

// Rekeyer is a store that can change its key (sqlstore.Store).
type Rekeyer interface {
	Rekey(ctx context.Context, k *Key) error
}

// ChangePassphrase re-keys the open store db of the passphrase profile in
// dir with the key of newPass under fresh parameters, and returns the new
// key. The new parameters are written first under a pending name and
// take the place of the old ones once the store is re-keyed; Resolve
// finishes a change a crash interrupted.
func ChangePassphrase(ctx context.Context, dir string, db Rekeyer, newPass []byte) (*Key, error) {
	if _, err := LoadParams(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotPassphrase
	} else if err != nil {
		return nil, err
	}
	p, err := NewParams()
	if err != nil {
		return nil, err
	}
	k, err := DeriveKey(newPass, p)
	if err != nil {
		return nil, err
	}
	if err := SaveParams(dir, pendingFile, p); err != nil {
		k.Destroy()
		return nil, err
	}
	if err := db.Rekey(ctx, k); err != nil {
		os.Remove(filepath.Join(dir, pendingFile))
		k.Destroy()
		return nil, fmt.Errorf("keychain: re-key the store: %w", err)
	}
	if err := os.Rename(filepath.Join(dir, pendingFile), filepath.Join(dir, ParamsFile)); err != nil {
		return k, fmt.Errorf("keychain: the store is re-keyed but the parameters were not replaced (opening with the new passphrase finishes it): %w", err)
	}
	return k, syncDir(dir)
}
