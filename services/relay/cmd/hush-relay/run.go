// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/hushchat/hush/pkg/onion/directory"
	"github.com/hushchat/hush/services/relay"
	"github.com/hushchat/hush/services/relay/backend"
	"github.com/hushchat/hush/services/relay/config"
	"github.com/hushchat/hush/services/relay/internal/keyfile"
)

func cmdRun(args []string, stdout, stderr io.Writer) int {
	set := flags("run", stderr)
	dir := set.String("dir", "", "the relay's directory (from hush-relay init)")
	validate := set.Bool("validate-only", false, "check the configuration, key and network file, then exit")
	if err := set.Parse(args); err != nil || *dir == "" || set.NArg() != 0 {
		fmt.Fprint(stderr, "hush-relay: run needs --dir DIR\n")
		return 2
	}
	opts, err := loadRelay(*dir)
	if err != nil {
		return fail(stderr, "%v", err)
	}
	if *validate {
		fmt.Fprintf(stdout, "relay %s: configuration, identity key and network file (%d relays) are valid\n", opts.Key.Relay(), len(opts.Network.Relays))
		return 0
	}
	opts.Log = newLogger(opts.Config.Log, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := runRelay(ctx, *dir, opts, stdout); err != nil {
		return fail(stderr, "%v", err)
	}
	return 0
}

// loadRelay reads everything a relay of dir is made of but its backend.
func loadRelay(dir string) (relay.Options, error) {
	c, err := config.LoadFile(filepath.Join(dir, config.FileName))
	if errors.Is(err, fs.ErrNotExist) {
		return relay.Options{}, fmt.Errorf("%w (hint: hush-relay init --dir %s makes one)", err, dir)
	}
	if err != nil {
		return relay.Options{}, err
	}
	key, err := keyfile.Load(filepath.Join(dir, keyfile.FileName))
	if err != nil {
		return relay.Options{}, err
	}
	nf, err := loadNetwork(dir, c.NetworkFile)
	if err != nil {
		return relay.Options{}, err
	}
	return relay.Options{Config: c, Key: key, Network: nf, ProcessMetrics: true}, nil
}

// loadNetwork reads the network file; a missing one is an empty network.
func loadNetwork(dir, name string) (directory.NetworkFile, error) {
	if !filepath.IsAbs(name) {
		name = filepath.Join(dir, name)
	}
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return directory.NetworkFile{}, nil
	}
	if err != nil {
		return directory.NetworkFile{}, err
	}
	nf, err := directory.ParseNetworkFile(data)
	if err != nil {
		return directory.NetworkFile{}, fmt.Errorf("%s: %w", name, err)
	}
	return nf, nil
}

// runRelay runs the relay until ctx is done or a listener fails, then
// shuts it down within the configured timeout and closes its backend.
func runRelay(ctx context.Context, dir string, opts relay.Options, stdout io.Writer) error {
	b, err := backend.Open(dir, opts.Config, opts.Log)
	if err != nil {
		return err
	}
	opts.Backend = b
	r, err := relay.New(opts)
	if err != nil {
		return errors.Join(err, closeBackend(b))
	}
	r.Start()
	fmt.Fprintf(stdout, "relay %s serving gRPC on %s\n", r.ID(), r.Addr())
	if a := r.AdminAddr(); a != "" {
		fmt.Fprintf(stdout, "admin on http://%s/ (/metrics, /healthz)\n", a)
	}
	var fatal error
	select {
	case <-ctx.Done():
	case fatal = <-r.Fatal():
	}
	sctx, cancel := context.WithTimeout(context.Background(), opts.Config.Relay.ShutdownTimeout.Duration)
	defer cancel()
	return errors.Join(fatal, r.Shutdown(sctx), closeBackend(b))
}

func closeBackend(b relay.Backend) error {
	if b.Close == nil {
		return nil
	}
	return b.Close()
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
