// SPDX-License-Identifier: AGPL-3.0-or-later

package config

import (
	"math"
	"time"

	"github.com/hushchat/hush/services/relay/internal/exit"
	"github.com/hushchat/hush/services/relay/internal/store"
)

// Store is the [store] section: the store's TTLs and quotas
// (store.Limits). Every field is set: Load refuses zeros rather than read
// them as "the default".
type Store struct {
	EnvelopeTTL       Duration `toml:"envelope_ttl"`
	MaxChunkTTL       Duration `toml:"max_chunk_ttl"`
	MaxQueueEnvelopes int64    `toml:"max_queue_envelopes"`
	MaxQueueBytes     int64    `toml:"max_queue_bytes"`
	MaxQueues         int64    `toml:"max_queues"`
	MaxChunks         int64    `toml:"max_chunks"`
	MaxBytes          int64    `toml:"max_bytes"`
	QueueIdleTTL      Duration `toml:"queue_idle_ttl"`
}

// Limits is the [limits] section: the exit's relay-wide rate limits
// (exit.Limits).
type Limits struct {
	CreatesPerSecond float64  `toml:"creates_per_second"`
	SendsPerSecond   float64  `toml:"sends_per_second"`
	ChunksPerSecond  float64  `toml:"chunks_per_second"`
	Burst            Duration `toml:"burst"`
}

// minTTL is the shortest envelope_ttl and max_chunk_ttl: a message ID is
// remembered for the envelope TTL, and a shorter memory would let a
// client's retry store its envelope twice.
const minTTL = time.Hour

func defaultStore() Store {
	return Store{
		EnvelopeTTL:       Duration{store.DefaultEnvelopeTTL},
		MaxChunkTTL:       Duration{store.DefaultMaxChunkTTL},
		MaxQueueEnvelopes: store.DefaultMaxQueueEnvelopes,
		MaxQueueBytes:     store.DefaultMaxQueueBytes,
		MaxQueues:         store.DefaultMaxQueues,
		MaxChunks:         store.DefaultMaxChunks,
		MaxBytes:          store.DefaultMaxBytes,
		QueueIdleTTL:      Duration{store.DefaultQueueIdleTTL},
	}
}

func defaultLimits() Limits {
	return Limits{
		CreatesPerSecond: exit.DefaultCreatesPerSecond,
		SendsPerSecond:   exit.DefaultSendsPerSecond,
		ChunksPerSecond:  exit.DefaultChunksPerSecond,
		Burst:            Duration{exit.DefaultBurst},
	}
}

// StoreLimits is the [store] section as the store takes it.
func (s Store) StoreLimits() store.Limits {
	return store.Limits{
		EnvelopeTTL:       s.EnvelopeTTL.Duration,
		MaxChunkTTL:       s.MaxChunkTTL.Duration,
		QueueIdleTTL:      s.QueueIdleTTL.Duration,
		MaxQueueEnvelopes: s.MaxQueueEnvelopes,
		MaxQueueBytes:     s.MaxQueueBytes,
		MaxQueues:         s.MaxQueues,
		MaxChunks:         s.MaxChunks,
		MaxBytes:          s.MaxBytes,
	}
}

// ExitLimits is the [limits] section as the exit takes it.
func (l Limits) ExitLimits() exit.Limits {
	return exit.Limits{
		CreatesPerSecond: l.CreatesPerSecond,
		SendsPerSecond:   l.SendsPerSecond,
		ChunksPerSecond:  l.ChunksPerSecond,
		Burst:            l.Burst.Duration,
	}
}

func (c *Config) validateStore(bad func(string, string, ...any)) {
	s := c.Store
	if s.EnvelopeTTL.Duration < minTTL {
		bad("store.envelope_ttl", "%v is under %v", s.EnvelopeTTL, minTTL)
	}
	if s.MaxChunkTTL.Duration < minTTL {
		bad("store.max_chunk_ttl", "%v is under %v", s.MaxChunkTTL, minTTL)
	}
	// A queue named in an invitation must outlive the invitation, and an
	// owner away for less than the envelope TTL must still find its mail.
	switch idle := s.QueueIdleTTL.Duration; {
	case idle <= store.MinQueueIdleTTL:
		bad("store.queue_idle_ttl", "%v is not above %v, the longest an invitation (and the queue it names) is valid",
			s.QueueIdleTTL, Duration{store.MinQueueIdleTTL})
	case idle <= s.EnvelopeTTL.Duration:
		bad("store.queue_idle_ttl", "%v is not above envelope_ttl (%v): a queue would be deleted while its envelopes are kept",
			s.QueueIdleTTL, s.EnvelopeTTL)
	}
	atLeast := func(key string, v, least int64, what string) {
		if v < least {
			bad(key, "%d is under %d (%s)", v, least, what)
		}
	}
	atLeast("store.max_queue_envelopes", s.MaxQueueEnvelopes, 1, "one envelope")
	atLeast("store.max_queue_bytes", s.MaxQueueBytes, store.EnvelopeSize, "one envelope")
	atLeast("store.max_queues", s.MaxQueues, 1, "one queue")
	atLeast("store.max_chunks", s.MaxChunks, 1, "one chunk; to offer no chunks, drop the \"chunks\" capability")
	atLeast("store.max_bytes", s.MaxBytes, store.ChunkSize, "one chunk")
}

func (c *Config) validateLimits(bad func(string, string, ...any)) {
	l := c.Limits
	if l.Burst.Duration <= 0 {
		bad("limits.burst", "must be positive")
		return
	}
	for _, r := range []struct {
		key  string
		rate float64
	}{
		{"limits.creates_per_second", l.CreatesPerSecond},
		{"limits.sends_per_second", l.SendsPerSecond},
		{"limits.chunks_per_second", l.ChunksPerSecond},
	} {
		// The limiter's bucket holds rate × burst requests; under one, it
		// would refuse every request.
		if !(r.rate > 0) || math.IsInf(r.rate, 1) || r.rate*l.Burst.Seconds() < 1 {
			bad(r.key, "%g must be positive, finite, and allow at least one request per burst (%v)", r.rate, l.Burst)
		}
	}
}
