// SPDX-License-Identifier: AGPL-3.0-or-later

package path

import (
	"context"
	"testing"
)

// BenchmarkSelect100 chooses a 3-hop path over 100 relays.
func BenchmarkSelect100(b *testing.B) {
	n := newNet(b, 100)
	s := NewSelector(&MemGuards{}, Config{})
	req := n.req(n.ids[50])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Select(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
