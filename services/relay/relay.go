// SPDX-License-Identifier: AGPL-3.0-or-later

// Package relay is the Hush relay daemon (ARCHITECTURE.md, "The relay"):
// New binds the listeners and signs the first descriptor, Start serves,
// Shutdown stops gracefully. Its parts are internal: rpc (the
// hush.relay.v1 service and onion forwarding), publish (descriptors and
// the directory), metrics (Prometheus and /healthz); pkg/onion/peer keeps
// pinned, pooled connections to other relays; pkg/onion/tlspin pins
// certificates to relay identities; config is the TOML configuration.
//
// What the relay stores and what it does as the exit come in one Backend,
// made by the caller (package backend's Open): the key ring's onion.Store
// and the ExitHandler.
package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/directory"
	"github.com/hushchat/hush/pkg/onion/peer"
	"github.com/hushchat/hush/services/relay/config"
	"github.com/hushchat/hush/services/relay/internal/metrics"
	"github.com/hushchat/hush/services/relay/internal/publish"
	"github.com/hushchat/hush/services/relay/internal/rpc"
)

// ExitHandler is what the relay does with a request when it is the exit
// (see rpc.ExitHandler).
type ExitHandler = rpc.ExitHandler

// MaxExitWait is the longest an ExitHandler may block.
const MaxExitWait = rpc.MaxExitWait

// drainer is an ExitHandler whose long-polls can be ended at once.
type drainer interface{ Drain() }

// ErrShutdown is what /healthz reports once the relay is stopping.
var ErrShutdown = errors.New("relay: shutting down")

// Backend is the relay's data: the key ring's store and the exit. The
// relay never calls Close; its owner does, after Shutdown (the ring's
// clean state is saved by then).
type Backend struct {
	Ring  onion.Store
	Exit  ExitHandler
	Close func() error // nil: nothing to close
	// Collectors are the backend's metrics, served with the relay's on
	// the admin listener.
	Collectors []prometheus.Collector
	// Backup, if set, is served as GET /backup on the admin listener.
	Backup metrics.Backup
}

// Options is everything a relay is made of.
type Options struct {
	Config  config.Config
	Key     *directory.SigningKey
	Backend Backend
	Network directory.NetworkFile // may be empty; SetNetwork replaces it
	Log     *slog.Logger          // nil: silent
	// ProcessMetrics adds the Go runtime and process collectors (one relay
	// per process).
	ProcessMetrics bool
}

// Relay is one running relay.
type Relay struct {
	cfg     config.Config
	log     *slog.Logger
	key     *directory.SigningKey
	ring    *onion.KeyRing
	metrics *metrics.Relay
	pool    *peer.Pool
	pub     *publish.Publisher
	svc     *rpc.Service
	exit    ExitHandler
	backup  metrics.Backup

	servers   []*server
	grpcAddr  string
	webURL    string
	adminAddr string

	stopping atomic.Bool
	cancel   context.CancelFunc
	loop     sync.WaitGroup
	fatal    chan error
	once     sync.Once
}

// New opens the key ring, binds the listeners and signs the relay's first
// descriptor. On error nothing is left open.
func New(opts Options) (r *Relay, err error) {
	if opts.Key == nil || opts.Backend.Ring == nil || opts.Backend.Exit == nil {
		return nil, errors.New("relay: Options need Key, Backend.Ring and Backend.Exit")
	}
	if err := opts.Config.Validate(); err != nil {
		return nil, err
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := opts.Config
	r = &Relay{cfg: c, log: log, key: opts.Key, metrics: metrics.New(opts.ProcessMetrics), pool: peer.NewPool(), fatal: make(chan error, 3),
		backup: opts.Backend.Backup}
	for _, col := range opts.Backend.Collectors {
		if err := r.metrics.Registry.Register(col); err != nil {
			return nil, fmt.Errorf("relay: backend metrics: %w", err)
		}
	}
	r.ring, err = onion.OpenKeyRing(opts.Backend.Ring, onion.RingConfig{
		Period: c.Onion.RotationPeriod.Duration, Grace: c.Onion.GracePeriod.Duration, CacheLimit: c.Onion.ReplayCacheLimit,
	}, time.Now())
	if err != nil {
		return nil, fmt.Errorf("relay: open the onion key ring: %w", err)
	}
	defer func() {
		if err != nil {
			r.closeAll()
		}
	}()
	if err := r.listen(); err != nil {
		return nil, err
	}
	caps := make([]directory.Capability, len(c.Relay.Capabilities))
	for i, s := range c.Relay.Capabilities {
		caps[i] = directory.Capability(s)
	}
	r.pub, err = publish.New(publish.Config{
		Key: opts.Key, Ring: r.ring, Address: r.grpcAddr, WebAddress: r.webURL, Capabilities: caps,
		Lifetime: c.Directory.DescriptorLifetime.Duration, Refresh: c.Directory.RefreshInterval.Duration,
		Fetch: r.pool, Metrics: r.metrics, Log: log,
	}, time.Now())
	if err != nil {
		return nil, err
	}
	r.pub.SetNetwork(opts.Network)
	r.exit = opts.Backend.Exit
	r.svc = rpc.New(rpc.Config{Ring: r.ring, Exit: opts.Backend.Exit, Peers: r.pool, Publisher: r.pub, Metrics: r.metrics, Log: log})
	if err := r.attachHandlers(); err != nil {
		return nil, err
	}
	return r, nil
}

// ID returns the relay's identity.
func (r *Relay) ID() onion.RelayID { return r.key.Relay() }

// Addr returns the gRPC address in the relay's descriptor.
func (r *Relay) Addr() string { return r.grpcAddr }

// WebURL returns the gRPC-Web URL in the descriptor, "" if there is none.
func (r *Relay) WebURL() string { return r.webURL }

// AdminAddr returns the admin listener's address, "" if there is none.
func (r *Relay) AdminAddr() string { return r.adminAddr }

// Descriptor returns the relay's current signed descriptor.
func (r *Relay) Descriptor() []byte { return r.pub.Descriptor() }

// SetNetwork replaces the network file.
func (r *Relay) SetNetwork(n directory.NetworkFile) { r.pub.SetNetwork(n) }

// Refresh fetches the other relays' descriptors now.
func (r *Relay) Refresh(ctx context.Context) error { return r.pub.Refresh(ctx) }

// Fatal reports a listener that stopped serving on its own.
func (r *Relay) Fatal() <-chan error { return r.fatal }

// Start serves every listener and runs the key schedule and descriptor
// refresh in the background.
func (r *Relay) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	for _, s := range r.servers {
		r.loop.Go(func() {
			if err := s.serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				r.log.Error("listener stopped", "listener", s.name, "err", err)
				r.fatal <- fmt.Errorf("relay: %s listener: %w", s.name, err)
			}
		})
	}
	r.loop.Go(func() { r.pub.Run(ctx) })
	r.log.Info("relay started", "relay", r.ID().String(), "grpc", r.grpcAddr, "web", r.webURL, "admin", r.adminAddr)
}

// Shutdown stops accepting connections, ends the exit's long-polls (if
// the ExitHandler has a Drain method), lets requests in flight finish
// until ctx is done, then cancels what is left and closes the key ring
// cleanly (its store records a clean shutdown). It returns the first
// failure; the ring is closed in every case.
func (r *Relay) Shutdown(ctx context.Context) error {
	var err error
	r.once.Do(func() {
		r.stopping.Store(true)
		if r.cancel != nil {
			r.cancel()
		}
		// Long-polls would hold the graceful stop up to MaxExitWait.
		if d, ok := r.exit.(drainer); ok {
			d.Drain()
		}
		var wg sync.WaitGroup
		errs := make([]error, len(r.servers))
		for i, s := range r.servers {
			wg.Go(func() { errs[i] = s.shutdown(ctx) })
		}
		wg.Wait()
		err = errors.Join(errs...)
		err = errors.Join(err, r.closeAll())
		r.loop.Wait()
		r.log.Info("relay stopped", "relay", r.ID().String())
	})
	return err
}

// closeAll cancels in-flight work and closes the pool and the ring.
func (r *Relay) closeAll() error {
	if r.svc != nil {
		r.svc.Close()
	}
	for _, s := range r.servers {
		s.close()
	}
	perr := r.pool.Close()
	if rerr := r.ring.Close(); rerr != nil {
		return fmt.Errorf("relay: close the onion key ring: %w", rerr)
	}
	return perr
}

func (r *Relay) healthy() error {
	if r.stopping.Load() {
		return ErrShutdown
	}
	return nil
}
