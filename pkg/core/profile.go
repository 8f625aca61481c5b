// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

package core

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/hushchat/hush/pkg/core/keychain"
	"github.com/hushchat/hush/pkg/core/store/sqlstore"
	"github.com/hushchat/hush/pkg/internal/atomicfile"
	"github.com/hushchat/hush/pkg/onion/directory"
	"github.com/hushchat/hush/pkg/onion/path"
	"github.com/hushchat/hush/pkg/onion/peer"
	"github.com/hushchat/hush/pkg/onion/relaynet"
)

// Files of a profile directory.
const (
	// StoreFile is the encrypted store (SQLCipher).
	StoreFile = "hush.db"
	// NetworkFileName is the profile's copy of the network file: the
	// relays it trusts.
	NetworkFileName = "network.toml"
	// AttachmentDirName is the profile's directory of attachment files,
	// each encrypted under its own attachment's key.
	AttachmentDirName = "attachments"
)

// Errors of opening a profile.
var (
	ErrNoProfile     = errors.New("core: no profile in this directory (run `hush init`)")
	ErrProfileExists = errors.New("core: a profile already exists in this directory")
)

// ProfileOptions say which profile to open and how.
type ProfileOptions struct {
	// Dir is the profile directory (InitProfile creates it, mode 0700).
	Dir string
	// Network is a network file's contents; nil means the profile's own
	// copy. InitProfile requires it and keeps a copy.
	Network []byte
	// Passphrase returns a passphrase the user gave explicitly; it is
	// asked only when needed. Nil: none given.
	Passphrase func() ([]byte, error)
	// UsePassphrase makes InitProfile take the passphrase path even if a
	// keychain answers.
	UsePassphrase bool
	// Keychain is the keychain to use; nil means the OS keychain.
	Keychain keychain.Keychain
	// Transport carries packets to relays; nil means native gRPC.
	Transport relaynet.Transport
	// Options are the client's; its Network is filled in.
	Options

	wrapNetwork func(Network) Network // tests: stand between the client and the network
}

// InitProfile makes a new profile in o.Dir: the store key (in the OS
// keychain, or from an explicit passphrase), the encrypted store, a new
// identity with displayName, and a copy of the network file. It refuses
// a directory that has a profile.
func InitProfile(ctx context.Context, o ProfileOptions, displayName string) (*Client, keychain.Source, error) {
	if o.Network == nil {
		return nil, 0, errors.New("core: a network file is needed to make a profile")
	}
	if _, err := directory.ParseNetworkFile(o.Network); err != nil {
		return nil, 0, fmt.Errorf("network file: %w", err)
	}
	if _, err := os.Stat(filepath.Join(o.Dir, StoreFile)); err == nil {
		return nil, 0, fmt.Errorf("%w (%s)", ErrProfileExists, o.Dir)
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, 0, fmt.Errorf("make the profile directory: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(o.Dir, NetworkFileName), o.Network); err != nil {
		return nil, 0, fmt.Errorf("keep the network file: %w", err)
	}
	key, src, err := keychain.Resolve(ctx, keychain.Request{Dir: o.Dir, New: true, UsePassphrase: o.UsePassphrase,
		Keychain: o.Keychain, Passphrase: o.Passphrase})
	if err != nil {
		return nil, 0, err
	}
	st, err := sqlstore.Open(ctx, filepath.Join(o.Dir, StoreFile), key)
	key.Destroy()
	releaseKDFMemory(src)
	if err != nil {
		return nil, 0, err
	}
	if _, err := Init(ctx, st, displayName); err != nil {
		st.Close()
		return nil, 0, err
	}
	c, err := newOnStore(ctx, o, st)
	return c, src, err
}

// OpenProfile opens the profile in o.Dir. It returns ErrNoProfile for a
// directory without one, an error wrapping sqlstore.ErrLocked while
// another process has it open, sqlstore.ErrWrongKey for a wrong
// passphrase, and the keychain's errors (ErrNeedPassphrase, ErrTimeout…).
func OpenProfile(ctx context.Context, o ProfileOptions) (*Client, keychain.Source, error) {
	path := filepath.Join(o.Dir, StoreFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, 0, fmt.Errorf("%w: %s", ErrNoProfile, o.Dir)
	}
	// Verify is called only to finish an interrupted passphrase change;
	// the store it opens with the right key is kept.
	var st *sqlstore.Store
	key, src, err := keychain.Resolve(ctx, keychain.Request{Dir: o.Dir, Keychain: o.Keychain, Passphrase: o.Passphrase,
		Verify: func(ctx context.Context, k *keychain.Key) error {
			s, err := sqlstore.Open(ctx, path, k)
			if err == nil {
				st = s
			}
			return err
		}})
	if err != nil {
		if st != nil {
			st.Close()
		}
		return nil, 0, err
	}
	if st == nil {
		st, err = sqlstore.Open(ctx, path, key)
	}
	key.Destroy()
	releaseKDFMemory(src)
	if err != nil {
		return nil, 0, err
	}
	c, err := newOnStore(ctx, o, st)
	return c, src, err
}

// newOnStore opens a Client on an open store, with the network from o;
// the Client owns the store (and the transport it made) from then on.
func newOnStore(ctx context.Context, o ProfileOptions, st *sqlstore.Store) (*Client, error) {
	nfData := o.Network
	if nfData == nil {
		var err error
		if nfData, err = os.ReadFile(filepath.Join(o.Dir, NetworkFileName)); err != nil {
			st.Close()
			return nil, fmt.Errorf("read the profile's network file: %w", err)
		}
	}
	nf, err := directory.ParseNetworkFile(nfData)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("network file: %w", err)
	}
	cfg := relaynet.Config{Network: nf, Transport: o.Transport, Guards: &path.CachedGuards{Store: st}, Now: o.Now, Log: o.Log}
	var pool *peer.Pool
	if cfg.Transport == nil {
		pool = peer.NewPool()
		cfg.Transport, cfg.Classify = pool, peer.FailCode
	}
	n, err := relaynet.New(cfg)
	if err == nil {
		o.Options.Network = n
		if o.wrapNetwork != nil {
			o.Options.Network = o.wrapNetwork(n)
		}
	}
	if o.AttachmentDir == "" {
		o.AttachmentDir = filepath.Join(o.Dir, AttachmentDirName)
	}
	var c *Client
	if err == nil {
		c, err = New(ctx, st, o.Options)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		st.Close()
		return nil, err
	}
	c.dir, c.rekeyer = o.Dir, st
	c.onClose = func() error {
		var errs []error
		if pool != nil {
			errs = append(errs, pool.Close())
		}
		errs = append(errs, st.Close())
		return errors.Join(errs...)
	}
	return c, nil
}

// ChangePassphrase re-keys the profile's store with a new passphrase
// (keychain.ErrNotPassphrase for a profile whose key is in the OS
// keychain).
func (c *Client) ChangePassphrase(ctx context.Context, newPass []byte) error {
	if c.rekeyer == nil {
		return errors.New("core: this client was not opened on a profile directory")
	}
	c.txMu.Lock()
	defer c.txMu.Unlock()
	k, err := keychain.ChangePassphrase(ctx, c.dir, c.rekeyer, newPass)
	if k != nil {
		k.Destroy()
	}
	return err
}

// releaseKDFMemory gives the 64 MiB Argon2id just used back to the
// system at once: a long-running client (hush listen) would otherwise
// keep it until the runtime's scavenger gets to it.
func releaseKDFMemory(src keychain.Source) {
	if src == keychain.FromPassphrase {
		debug.FreeOSMemory()
	}
}
