// SPDX-License-Identifier: AGPL-3.0-or-later

package config

import (
	"fmt"
	"strconv"
	"strings"
)

// Template returns the commented configuration file for c (normally
// Defaults()): every setting written out, each with what it does.
func Template(c Config) string {
	return fmt.Sprintf(templateText,
		c.Version, strconv.Quote(c.NetworkFile),
		strconv.Quote(c.Relay.Listen), strconv.Quote(c.Relay.PublicAddress),
		quoteList(c.Relay.Capabilities), strconv.Quote(c.Relay.ShutdownTimeout.String()),
		c.Web.Enabled, strconv.Quote(c.Web.Listen), strconv.Quote(c.Web.PublicURL),
		strconv.Quote(c.Web.CertFile), strconv.Quote(c.Web.KeyFile), quoteList(c.Web.CORSOrigins),
		strconv.Quote(c.Admin.Listen), c.Admin.AllowRemote,
		strconv.Quote(c.Onion.RotationPeriod.String()), strconv.Quote(c.Onion.GracePeriod.String()),
		c.Onion.ReplayCacheLimit,
		strconv.Quote(c.Directory.DescriptorLifetime.String()), strconv.Quote(c.Directory.RefreshInterval.String()),
		strconv.Quote(c.Store.EnvelopeTTL.String()), strconv.Quote(c.Store.MaxChunkTTL.String()),
		c.Store.MaxQueueEnvelopes, c.Store.MaxQueueBytes, c.Store.MaxQueues, c.Store.MaxChunks, c.Store.MaxBytes,
		strconv.Quote(c.Store.QueueIdleTTL.String()),
		tomlFloat(c.Limits.CreatesPerSecond), tomlFloat(c.Limits.SendsPerSecond), tomlFloat(c.Limits.ChunksPerSecond),
		strconv.Quote(c.Limits.Burst.String()),
		strconv.Quote(c.Log.Level), strconv.Quote(c.Log.Format),
	)
}

// tomlFloat writes v as a TOML float (always with a point or exponent).
func tomlFloat(v float64) string {
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") { // n: NaN and Inf never validate, but stay floats
		s += ".0"
	}
	return s
}

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

const templateText = `# hush-relay configuration. Every setting is shown with its default;
# unknown settings are refused. Durations are written like "90s", "2h".

# Format of this file.
version = %d

# The network file (relative to this directory): the relays of this
# network, whose descriptors this relay collects and serves. A missing
# file means a relay that serves only its own descriptor.
network_file = %s

[relay]
# Where the gRPC listener (TLS 1.3, HTTP/2, certificate pinned to the
# relay's identity key) listens.
listen = %s
# host:port clients and relays use to reach it, written in the descriptor.
# Empty: the listen address (which must then be a specific address).
public_address = %s
# What this relay offers ("mailbox", "chunks"); "web" is added when [web]
# is enabled.
capabilities = %s
# On SIGTERM/SIGINT: how long requests in flight may still run.
shutdown_timeout = %s

[web]
# The gRPC-Web listener for browsers: plain HTTP unless cert_file and
# key_file are set (an operator's certificate, e.g. from ACME).
enabled = %t
listen = %s
# URL browsers use, written in the descriptor. Empty: http(s)://<listen>/.
public_url = %s
cert_file = %s
key_file = %s
# Origins allowed by CORS. The relay uses no cookies, so "*" is safe.
cors_origins = %s

[admin]
# Prometheus metrics (/metrics), /healthz and /backup, plain HTTP and
# unauthenticated. /backup serves the whole store: the onion keys and every
# queue's mail. Keep this listener on loopback, never reachable by others.
# Empty: no admin listener.
listen = %s
# A listen address off loopback is refused unless this is true: only set it
# behind access control of your own.
allow_remote = %t

[onion]
# How long each onion key is current, and how long the previous one is
# still accepted after it.
rotation_period = %s
grace_period = %s
# Packets one onion key opens before the relay moves to a new key (each
# replay tag costs about 36 bytes of memory).
replay_cache_limit = %d

[directory]
# How long this relay's signed descriptor is valid (it signs a new one
# after half of it, or at once when its keys change).
descriptor_lifetime = %s
# How often the other relays' descriptors are fetched.
refresh_interval = %s

[store]
# How long an envelope waits to be fetched and acknowledged before it is
# deleted, and how long a message ID is remembered so that a client's
# retried send is not stored twice (at least 1h).
envelope_ttl = %s
# The longest TTL a chunk may ask for; longer ones are shortened.
max_chunk_ttl = %s
# Per queue: envelopes held, and their bytes (each envelope is 15,360 B).
max_queue_envelopes = %d
max_queue_bytes = %d
# For the whole relay: queues, chunks, and the bytes of envelopes and
# chunks together, plus 160 B per send for its message-ID and expiry
# records while they live (the disk budget; the files are larger by their
# pages' slack and indexes).
max_queues = %d
max_chunks = %d
max_bytes = %d
# A queue whose owner neither fetched from it nor acknowledged anything
# for this long is deleted with its envelopes (anyone can create queues,
# so abandoned ones must not fill the relay for ever). It must be above
# 720h, the longest an invitation and the queue it names are valid, and
# above envelope_ttl, so an owner away for less still finds its mail.
# Counted in whole days.
queue_idle_ttl = %s

[limits]
# Requests per second the exit accepts, for the whole relay (creating a
# queue and uploading a chunk are anonymous, so there is no one else to
# count against). A refused request gets the "rate limited" status.
creates_per_second = %s
sends_per_second = %s
chunks_per_second = %s
# How far above the rate a short burst may go, in time at the rate.
burst = %s

[log]
# debug, info, warn or error. Queue IDs, chunk IDs and client addresses are
# never logged at info or above.
level = %s
# text or json
format = %s
`
