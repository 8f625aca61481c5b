// SPDX-License-Identifier: AGPL-3.0-or-later

// Package metrics holds a relay's Prometheus metrics, on a registry of its
// own (several relays can run in one process, as in the devnet), and the
// admin listener's handler (Handler: /metrics and /healthz).
//
// No metric has a label that names a queue, a chunk, a client or a peer
// address: labels are drop reasons, error codes and RPC names only.
package metrics

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hushchat/hush/pkg/onion"
)

const namespace = "hush_relay"

// Relay is one relay's metrics. The zero value is not usable: call New.
type Relay struct {
	Registry *prometheus.Registry

	forwarded prometheus.Counter
	exits     prometheus.Counter
	dropped   *prometheus.CounterVec
	failed    *prometheus.CounterVec
	latency   prometheus.Histogram
	rotations prometheus.Counter
	published prometheus.Counter
}

// New makes a relay's metrics on a fresh registry, with the Go runtime and
// process collectors when process is true (one relay per process).
func New(process bool) *Relay {
	reg := prometheus.NewRegistry()
	if process {
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := &Relay{
		Registry: reg,
		forwarded: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "packets_forwarded_total",
			Help: "Onion packets this relay opened and sent on to the next relay.",
		}),
		exits: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "exits_handled_total",
			Help: "Onion packets for which this relay was the exit and answered the request.",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "packets_dropped_total",
			Help: "Onion packets this relay could not open, by reason.",
		}, []string{"reason"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "forward_failures_total",
			Help: "Packets answered with an onion error response, by code.",
		}, []string{"code"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "forward_seconds",
			Help:    "Time from receiving a packet to sending its response, at this hop.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 18), // 0.2 ms … 26 s
		}),
		rotations: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "onion_key_changes_total",
			Help: "Times the set of published onion keys changed.",
		}),
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "descriptors_published_total",
			Help: "Descriptors this relay signed.",
		}),
	}
	reg.MustRegister(m.forwarded, m.exits, m.dropped, m.failed, m.latency, m.rotations, m.published)
	return m
}

// Forwarded counts a packet sent on to the next relay.
func (m *Relay) Forwarded() { m.forwarded.Inc() }

// Exit counts a request answered as the exit.
func (m *Relay) Exit() { m.exits.Inc() }

// Dropped counts a packet dropped for reason r.
func (m *Relay) Dropped(r onion.DropReason) { m.dropped.WithLabelValues(r.String()).Inc() }

// Failed counts an onion error response with code c.
func (m *Relay) Failed(c onion.Code) { m.failed.WithLabelValues(codeLabel(c)).Inc() }

// Observe records how long one packet took at this hop.
func (m *Relay) Observe(d time.Duration) { m.latency.Observe(d.Seconds()) }

// KeysChanged counts a change of the published onion keys.
func (m *Relay) KeysChanged() { m.rotations.Inc() }

// Published counts a signed descriptor.
func (m *Relay) Published() { m.published.Inc() }

func codeLabel(c onion.Code) string {
	switch c {
	case onion.CodeUnreachable:
		return "unreachable"
	case onion.CodeTimeout:
		return "timeout"
	case onion.CodeRefused:
		return "refused"
	case onion.CodeOverloaded:
		return "overloaded"
	default:
		return "internal"
	}
}

// Backup writes a consistent copy of the relay's store to w while it runs
// (store.Store.Backup).
type Backup func(ctx context.Context, w io.Writer) (int64, error)

// loopbackHost refuses a request whose Host header does not name the
// loopback interface. A web page on the relay's host could otherwise reach
// the listener through DNS rebinding (a name of theirs resolving to
// 127.0.0.1) and read what it serves.
func loopbackHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		ip := net.ParseIP(strings.Trim(host, "[]"))
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			http.Error(w, "admin: served to a loopback Host only", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Handler serves the admin listener: /metrics in the Prometheus format;
// /healthz, which answers 200 "ok" while healthy() is nil and 503 with the
// error otherwise; and, if backup is not nil, /backup, which streams a
// copy of the store. That copy holds the relay's onion keys and every
// queue's mail: the admin listener must never be reachable by others.
func Handler(m *Relay, healthy func() error, backup Backup) http.Handler {
	mux := http.NewServeMux()
	if backup != nil {
		mux.Handle("GET /backup", loopbackHost(backupHandler(backup)))
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := healthy(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(err.Error() + "\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}
