// SPDX-License-Identifier: AGPL-3.0-or-later

package opusenc

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// FuzzReadWAVHeader checks that the WAV header parser never panics and that
// what it accepts is a format the encoder takes.
func FuzzReadWAVHeader(f *testing.F) {
	le := binary.LittleEndian
	h := []byte("RIFF\x00\x00\x00\x00WAVEfmt ")
	h = le.AppendUint32(h, fmtSize)
	h = le.AppendUint16(h, formatPCM)
	h = le.AppendUint16(h, 1)
	h = le.AppendUint32(h, 16000)
	h = le.AppendUint32(h, 32000)
	h = le.AppendUint16(h, 2)
	h = le.AppendUint16(h, 16)
	h = append(h, "LIST\x03\x00\x00\x00abc\x00data\x10\x00\x00\x00"...)
	f.Add(h)
	for i := range len(h) * 8 {
		b := bytes.Clone(h)
		b[i/8] ^= 1 << (i % 8)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		w, err := readWAVHeader(bytes.NewReader(in))
		if err != nil {
			return
		}
		if !sampleRates[w.rate] || (w.channels != 1 && w.channels != 2) || w.dataSize < -1 || w.dataSize > maxWAVData {
			t.Fatalf("accepted %+v", w)
		}
	})
}
