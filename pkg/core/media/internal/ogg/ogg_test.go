// SPDX-License-Identifier: AGPL-3.0-or-later

package ogg

import (
	"bytes"
	"errors"
	"testing"
)

// TestChecksum checks the CRC against the catalogued CRC-32/CKSUM check
// value (the same polynomial, initial value 0, unreflected), whose final
// XOR with 0xffffffff Ogg leaves out: 0x765e7680 ^ 0xffffffff.
func TestChecksum(t *testing.T) {
	if got, want := checksum([]byte("123456789")), uint32(0x765e7680^0xffffffff); got != want {
		t.Fatalf("checksum = %#08x, want %#08x", got, want)
	}
}

func TestPageRoundTrip(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out, 0xdeadbeef)
	packets := [][]byte{make([]byte, 0), bytes.Repeat([]byte{1}, 255), bytes.Repeat([]byte{2}, 600)}
	for i, p := range packets {
		if err := w.WritePacket(p, int64(i*960)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	page, _, err := ReadPage(bytes.NewReader(out.Bytes()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if page.Flags != FlagBOS|FlagEOS || page.Serial != 0xdeadbeef || page.Granule != 1920 || page.Sequence != 0 {
		t.Fatalf("page %+v", page)
	}
	// 0 → one 0 lacing; 255 → 255, 0; 600 → 255, 255, 90.
	if want := []byte{0, 255, 0, 255, 255, 90}; !bytes.Equal(page.Lacing, want) {
		t.Fatalf("lacing %v, want %v", page.Lacing, want)
	}
	pieces, complete := page.Segments()
	if !complete || len(pieces) != 3 {
		t.Fatalf("%d pieces, complete %v", len(pieces), complete)
	}
	for i := range packets {
		if !bytes.Equal(pieces[i], packets[i]) {
			t.Errorf("packet %d differs", i)
		}
	}
	if err := w.WritePacket(make([]byte, maxPacket+1), 0); !errors.Is(err, ErrPacketTooLarge) {
		t.Errorf("oversized packet: %v", err)
	}
}

func TestOpusHead(t *testing.T) {
	h := OpusHead{Channels: 2, PreSkip: 312, InputRate: 44100, Gain: -256}
	b := AppendOpusHead(nil, h)
	if len(b) != headSize {
		t.Fatalf("%d bytes", len(b))
	}
	got, err := ParseOpusHead(b)
	if err != nil || got != h {
		t.Fatalf("got %+v, %v", got, err)
	}
	b[8] = 0x10 // major version 1
	if _, err := ParseOpusHead(b); !errors.Is(err, ErrOpusHeader) {
		t.Fatalf("version 16: %v", err)
	}
	if err := CheckOpusTags(AppendOpusTags(nil, "v")); err != nil {
		t.Fatal(err)
	}
	bad := AppendOpusTags(nil, "v")
	bad[len(bad)-1] = 0x7f // 2 billion comments
	if err := CheckOpusTags(bad); !errors.Is(err, ErrOpusHeader) {
		t.Fatalf("comment count: %v", err)
	}
}
