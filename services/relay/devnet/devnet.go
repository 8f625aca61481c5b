// SPDX-License-Identifier: AGPL-3.0-or-later

// Package devnet runs a whole Hush network in one process on loopback
// (`hush-relay devnet`, `make demo`, and integration tests of relays and
// clients): Start makes N relays on ports the OS chooses, each with its own
// data directory, writes the network file, and waits until every relay
// serves every descriptor. Each relay runs on the same store and exit as
// `hush-relay run` (package backend) unless Options.Open says otherwise.
package devnet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/hushchat/hush/pkg/onion/directory"
	"github.com/hushchat/hush/services/relay"
	"github.com/hushchat/hush/services/relay/backend"
	"github.com/hushchat/hush/services/relay/config"
	"github.com/hushchat/hush/services/relay/internal/keyfile"
)

// DefaultRelays is the devnet's size: with 3-hop paths and a fixed exit,
// 5 relays leave a path when one relay is down.
const DefaultRelays = 5

// NetworkFileName is the network file Start writes in the devnet directory.
const NetworkFileName = "network.toml"

// Options says what network to make.
type Options struct {
	Relays int    // 0: DefaultRelays
	Dir    string // one sub-directory per relay, and the network file
	// Open makes relay dir's backend (the store and the exit); nil: the
	// bbolt store and mailbox exit of `hush-relay run` (backend.Open) with
	// the default configuration.
	Open  func(dir string) (relay.Backend, error)
	Admin bool         // give each relay an admin listener
	Log   *slog.Logger // nil: silent
}

// Network is a running devnet.
type Network struct {
	Dir      string
	FilePath string
	File     directory.NetworkFile
	Relays   []*relay.Relay
	backends []relay.Backend
	stopped  []bool
	opts     Options
}

// Start makes and starts the relays.
func Start(ctx context.Context, o Options) (*Network, error) {
	if o.Relays <= 0 {
		o.Relays = DefaultRelays
	}
	n := &Network{Dir: o.Dir, FilePath: filepath.Join(o.Dir, NetworkFileName), opts: o}
	if err := n.start(ctx, o); err != nil {
		n.Shutdown(context.Background())
		return nil, err
	}
	return n, nil
}

func (n *Network) start(ctx context.Context, o Options) error {
	for i := range o.Relays {
		r, b, err := newRelay(o, i, "127.0.0.1:0")
		if err != nil {
			return err
		}
		n.Relays, n.backends = append(n.Relays, r), append(n.backends, b)
		n.stopped = append(n.stopped, false)
		n.File.Relays = append(n.File.Relays, directory.NetworkRelay{
			ID: r.ID(), Address: r.Addr(), WebAddress: r.WebURL(), Name: name(i),
		})
	}
	data, err := n.File.Marshal()
	if err != nil {
		return err
	}
	if err := os.WriteFile(n.FilePath, data, 0o644); err != nil {
		return fmt.Errorf("devnet: %w", err)
	}
	for _, r := range n.Relays {
		r.SetNetwork(n.File)
		r.Start()
	}
	for _, r := range n.Relays {
		if err := r.Refresh(ctx); err != nil {
			return fmt.Errorf("devnet: relays did not exchange descriptors: %w", err)
		}
	}
	return nil
}

func name(i int) string { return fmt.Sprintf("relay-%d", i+1) }

func newRelay(o Options, i int, listen string) (*relay.Relay, relay.Backend, error) {
	dir := filepath.Join(o.Dir, name(i))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, relay.Backend{}, fmt.Errorf("devnet: %w", err)
	}
	key, err := loadOrCreateKey(filepath.Join(dir, keyfile.FileName))
	if err != nil {
		return nil, relay.Backend{}, err
	}
	c := config.Defaults()
	c.Relay.Listen, c.Web.Listen, c.Admin.Listen = listen, "127.0.0.1:0", ""
	if o.Admin {
		c.Admin.Listen = "127.0.0.1:0"
	}
	log := o.Log
	if log != nil {
		log = log.With("relay", name(i))
	}
	open := o.Open
	if open == nil {
		open = func(dir string) (relay.Backend, error) { return backend.Open(dir, config.Defaults(), log) }
	}
	b, err := open(dir)
	if err != nil {
		return nil, relay.Backend{}, err
	}
	r, err := relay.New(relay.Options{Config: c, Key: key, Backend: b, Log: log})
	if err != nil {
		closeBackend(b)
		return nil, relay.Backend{}, err
	}
	return r, b, nil
}

func loadOrCreateKey(path string) (*directory.SigningKey, error) {
	k, err := keyfile.Load(path)
	if !errors.Is(err, os.ErrNotExist) {
		return k, err
	}
	k, err = directory.GenerateSigningKey(nil)
	if err != nil {
		return nil, err
	}
	return k, keyfile.Create(path, k)
}

func closeBackend(b relay.Backend) error {
	if b.Close == nil {
		return nil
	}
	return b.Close()
}

// Stop shuts relay i down (a relay going away in a test) and closes its
// backend.
func (n *Network) Stop(ctx context.Context, i int) error {
	if n.stopped[i] {
		return nil
	}
	n.stopped[i] = true
	return errors.Join(n.Relays[i].Shutdown(ctx), closeBackend(n.backends[i]))
}

// Restart starts stopped relay i again at its address, on its data
// directory (the same key and store): a relay coming back in a test.
func (n *Network) Restart(ctx context.Context, i int) error {
	if !n.stopped[i] {
		return nil
	}
	r, b, err := newRelay(n.opts, i, n.File.Relays[i].Address)
	if err != nil {
		return err
	}
	n.Relays[i], n.backends[i], n.stopped[i] = r, b, false
	r.SetNetwork(n.File)
	r.Start()
	return r.Refresh(ctx)
}

// Shutdown stops every relay still running, all at once: a relay
// finishing a request that another relay forwarded is not held up by the
// others stopping one after the other.
func (n *Network) Shutdown(ctx context.Context) error {
	errs := make([]error, len(n.Relays))
	var wg sync.WaitGroup
	for i := range n.Relays {
		wg.Go(func() { errs[i] = n.Stop(ctx, i) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
