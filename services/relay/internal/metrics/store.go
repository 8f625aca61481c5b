// SPDX-License-Identifier: AGPL-3.0-or-later

package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/services/relay/internal/store"
)

// statsTimeout bounds the read of the store's counts at a scrape.
const statsTimeout = 5 * time.Second

// Store is the metrics of a relay's backend: the store's commits, the
// exit's mailbox requests by operation and status, and the store's counts
// against its limits, read from the store at each scrape. It is a
// prometheus.Collector: register it on the relay's registry (relay.Backend
// carries it there).
type Store struct {
	commitSeconds prometheus.Histogram
	commitOps     prometheus.Histogram
	commitFailed  prometheus.Counter
	checkpoint    prometheus.Histogram
	checkpointErr prometheus.Counter
	requests      *prometheus.CounterVec

	limits store.Limits
	stats  func(context.Context) (store.Stats, error)

	queues, envelopes, chunks, bytes, metaBytes, fileBytes *prometheus.Desc
	maxQueues, maxChunks, maxBytes, statsUp                *prometheus.Desc
	collectors                                             []prometheus.Collector
	gaugeDescs                                             []*prometheus.Desc
}

// NewStore makes a backend's metrics. stats is called at each scrape (it
// may be set up after NewStore returns, but before the first scrape);
// limits are the store's, reported beside the counts.
func NewStore(limits store.Limits, stats func(context.Context) (store.Stats, error)) *Store {
	gauge := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "store", name), help, nil, nil)
	}
	m := &Store{
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "store", Name: "commit_seconds",
			Help:    "Time one group commit took: applying its operations, writing their log records and the log's one fdatasync.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16), // 0.1 ms … 3.3 s
		}),
		commitOps: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "store", Name: "commit_batch_ops",
			Help:    "Operations one group commit carried.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11), // 1 … 1024
		}),
		commitFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "store", Name: "commit_failures_total",
			Help: "Group commits that failed (every operation in them was refused as an internal error).",
		}),
		checkpoint: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "store", Name: "checkpoint_seconds",
			Help:    "Time one checkpoint took: the bbolt commit (its writes and two fdatasyncs) of what the log held.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14), // 0.5 ms … 4 s
		}),
		checkpointErr: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "store", Name: "checkpoint_failures_total",
			Help: "Checkpoints that failed (the store rebuilt its transaction from the log).",
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "mailbox_requests_total",
			Help: "Mailbox requests answered as the exit, by operation and status.",
		}, []string{"op", "status"}),
		limits:    limits.WithDefaults(),
		stats:     stats,
		queues:    gauge("queues", "Queues the store holds."),
		envelopes: gauge("envelopes", "Envelopes the store holds."),
		chunks:    gauge("chunks", "Chunks the store holds."),
		bytes:     gauge("bytes", "Bytes of envelopes and chunks held."),
		metaBytes: gauge("meta_bytes", "Bytes charged for per-send metadata (message IDs, expiry index); max_bytes limits bytes + meta_bytes."),
		fileBytes: gauge("file_bytes", "Size of the store's files on disk (database and write-ahead log)."),
		maxQueues: gauge("max_queues", "The store's limit on queues (store.max_queues)."),
		maxChunks: gauge("max_chunks", "The store's limit on chunks (store.max_chunks)."),
		maxBytes:  gauge("max_bytes", "The store's byte budget (store.max_bytes)."),
		statsUp:   gauge("stats_up", "1 if the store's counts could be read at this scrape, else 0."),
	}
	m.collectors = []prometheus.Collector{m.commitSeconds, m.commitOps, m.commitFailed,
		m.checkpoint, m.checkpointErr, m.requests}
	m.gaugeDescs = []*prometheus.Desc{m.queues, m.envelopes, m.chunks, m.bytes, m.metaBytes, m.fileBytes,
		m.maxQueues, m.maxChunks, m.maxBytes, m.statsUp}
	return m
}

// Commit records one group commit (boltstore.Options.OnCommit).
func (m *Store) Commit(ops int, took time.Duration, err error) {
	m.commitSeconds.Observe(took.Seconds())
	m.commitOps.Observe(float64(ops))
	if err != nil {
		m.commitFailed.Inc()
	}
}

// Checkpoint records one checkpoint of the store
// (boltstore.Options.OnCheckpoint).
func (m *Store) Checkpoint(_ int, took time.Duration, err error) {
	m.checkpoint.Observe(took.Seconds())
	if err != nil {
		m.checkpointErr.Inc()
	}
}

// Result counts one mailbox request (exit.Handler.OnResult). op is the
// exit's operation name; the status is labelled by a fixed name.
func (m *Store) Result(op string, s mailbox.Status) {
	m.requests.WithLabelValues(op, StatusLabel(s)).Inc()
}

// Describe implements prometheus.Collector.
func (m *Store) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors {
		c.Describe(ch)
	}
	for _, d := range m.gaugeDescs {
		ch <- d
	}
}

// Collect implements prometheus.Collector: the counters, and the store's
// counts as read now.
func (m *Store) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors {
		c.Collect(ch)
	}
	g := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	g(m.maxQueues, float64(m.limits.MaxQueues))
	g(m.maxChunks, float64(m.limits.MaxChunks))
	g(m.maxBytes, float64(m.limits.MaxBytes))
	ctx, cancel := context.WithTimeout(context.Background(), statsTimeout)
	defer cancel()
	st, err := m.stats(ctx)
	if err != nil {
		g(m.statsUp, 0)
		return
	}
	g(m.statsUp, 1)
	g(m.queues, float64(st.Queues))
	g(m.envelopes, float64(st.Envelopes))
	g(m.chunks, float64(st.Chunks))
	g(m.bytes, float64(st.Bytes))
	g(m.metaBytes, float64(st.MetaBytes))
	g(m.fileBytes, float64(st.FileBytes))
}

// StatusLabel is a status's label value: a fixed lower-case name.
func StatusLabel(s mailbox.Status) string {
	if int(s) < len(statusLabels) {
		return statusLabels[s]
	}
	return "unknown"
}

var statusLabels = [...]string{
	mailbox.StatusOK:                 "ok",
	mailbox.StatusMalformed:          "malformed",
	mailbox.StatusVersion:            "version",
	mailbox.StatusBadSize:            "bad_size",
	mailbox.StatusNoQueue:            "no_queue",
	mailbox.StatusExists:             "exists",
	mailbox.StatusAuth:               "auth",
	mailbox.StatusCounter:            "counter",
	mailbox.StatusQueueFull:          "queue_full",
	mailbox.StatusContactRequestUsed: "contact_request_used",
	mailbox.StatusTooManyQueues:      "too_many_queues",
	mailbox.StatusTooManyChunks:      "too_many_chunks",
	mailbox.StatusRelayFull:          "relay_full",
	mailbox.StatusRateLimited:        "rate_limited",
	mailbox.StatusNoChunk:            "no_chunk",
	mailbox.StatusBadToken:           "bad_token",
	mailbox.StatusInternal:           "internal",
}
