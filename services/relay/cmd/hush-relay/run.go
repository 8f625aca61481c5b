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
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if err := runRelay(ctx, *dir, opts, hup, stdout); err != nil {
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

// networkPath is where relay dir's network file is: name (the
// configuration's network_file) relative to dir.
func networkPath(dir, name string) string {
	if !filepath.IsAbs(name) {
		return filepath.Join(dir, name)
	}
	return name
}

// loadNetwork reads the network file at startup; a missing one is an
// empty network.
func loadNetwork(dir, name string) (directory.NetworkFile, error) {
	nf, err := readNetwork(networkPath(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return directory.NetworkFile{}, nil
	}
	return nf, err
}

// readNetwork reads and verifies the network file at path.
func readNetwork(path string) (directory.NetworkFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return directory.NetworkFile{}, err
	}
	nf, err := directory.ParseNetworkFile(data)
	if err != nil {
		return directory.NetworkFile{}, fmt.Errorf("%s: %w", path, err)
	}
	return nf, nil
}

// networkSetter is what a reload changes: a *relay.Relay.
type networkSetter interface {
	SetNetwork(directory.NetworkFile)
}

// reloadNetwork re-reads the network file at path and, if it is valid,
// gives it to r. A file that cannot be read or does not verify (a missing
// one included: at a reload it is a mistake, not a new relay) is logged
// at Error with the reason, and r keeps the network it had.
func reloadNetwork(path string, r networkSetter, log *slog.Logger) error {
	nf, err := readNetwork(path)
	if err != nil {
		log.Error("network file not reloaded: keeping the previous one", "file", path, "err", err)
		return err
	}
	r.SetNetwork(nf)
	log.Info("network file reloaded", "file", path, "relays", len(nf.Relays))
	return nil
}

// watchReload calls reloadNetwork for every signal on hup until ctx is
// done.
func watchReload(ctx context.Context, hup <-chan os.Signal, path string, r networkSetter, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			_ = reloadNetwork(path, r, log) // logged
		}
	}
}

// runRelay runs the relay until ctx is done or a listener fails, then
// shuts it down within the configured timeout and closes its backend.
// Each signal on hup (SIGHUP) reloads the network file (reloadNetwork).
func runRelay(ctx context.Context, dir string, opts relay.Options, hup <-chan os.Signal, stdout io.Writer) error {
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
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	wctx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		watchReload(wctx, hup, networkPath(dir, opts.Config.NetworkFile), r, log)
	}()
	fmt.Fprintf(stdout, "relay %s serving gRPC on %s\n", r.ID(), r.Addr())
	if a := r.AdminAddr(); a != "" {
		fmt.Fprintf(stdout, "admin on http://%s/ (/metrics, /healthz)\n", a)
	}
	var fatal error
	select {
	case <-ctx.Done():
	case fatal = <-r.Fatal():
	}
	stopWatch() // no reload while the relay shuts down
	<-watched
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
