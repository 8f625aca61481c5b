// SPDX-License-Identifier: AGPL-3.0-or-later

package relay_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/onion"
)

// BenchmarkRoundTrip3Hop is one client request through 3 relays on
// loopback gRPC with TLS: wrapped, forwarded, answered by an exit that
// replies at once (an echo, standing in for a fetch with zero wait on an
// empty queue), and unwrapped. It reports the p50 and p99 latency.
func BenchmarkRoundTrip3Hop(b *testing.B) {
	tn := startNet(b, 3, false)
	hops := tn.path(b, 0, 1, 2)
	entry := tn.Relays[0]
	ctx := context.Background()
	request := make([]byte, 128)
	// Warm the connections up.
	if _, err := tn.roundTrip(b, request, 0, 1, 2); err != nil {
		b.Fatal(err)
	}
	var durations []time.Duration
	b.SetBytes(onion.PacketSize)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		packet, opener, err := onion.Wrap(hops, request)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := tn.client.Forward(ctx, entry.ID(), entry.Addr(), packet)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := opener.Open(resp); err != nil {
			b.Fatal(err)
		}
		durations = append(durations, time.Since(start))
	}
	slices.Sort(durations)
	pct := func(p float64) float64 {
		return float64(durations[int(p*float64(len(durations)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
