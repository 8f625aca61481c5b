// SPDX-License-Identifier: AGPL-3.0-or-later

package onion

import (
	"bytes"
	"testing"
)

// FuzzOpen feeds a relay arbitrary packets: it must never panic, every
// refusal has a reason, and what it accepts is well formed. With raw the
// input is the packet; otherwise it overwrites the start of a valid packet
// (the header: short inputs keep the fuzzer's minimization fast, while
// the whole payload is one GCM check either way).
func FuzzOpen(f *testing.F) {
	rs := newRelays(f, 2)
	valid := make([][]byte, 2)
	for n := 1; n <= 2; n++ {
		pkt, _, err := wrap(seededRand(byte(n)), pathOf(rs[:n]), []byte("seed"))
		if err != nil {
			f.Fatal(err)
		}
		valid[n-1] = pkt
		f.Add(uint8(n-1), false, bytes.Clone(pkt[:aadSize]))
		for _, i := range []int{0, offEpoch + 3, offEphemeral, offRouting, offRouting + SlotSize, aadSize - 1} {
			bad := bytes.Clone(pkt[:aadSize])
			bad[i] ^= 1
			f.Add(uint8(n-1), false, bad)
		}
	}
	f.Add(uint8(0), true, []byte{})
	f.Add(uint8(0), true, []byte{Version, 0, 0, 0, 1})
	ring := rs[0].ring
	f.Fuzz(func(t *testing.T, which uint8, raw bool, in []byte) {
		pkt := in
		if !raw && len(in) <= PacketSize {
			pkt = bytes.Clone(valid[int(which)%len(valid)])
			copy(pkt, in)
		}
		o, err := ring.Open(pkt)
		if err != nil {
			if Reason(err) == DropNone {
				t.Fatalf("error %v without a reason", err)
			}
			return
		}
		if o.IsExit() && len(o.Request) > RequestCapacity || !o.IsExit() && (len(o.Packet) != PacketSize || o.Next.IsZero()) {
			t.Fatalf("accepted a malformed result")
		}
	})
}
