// SPDX-License-Identifier: AGPL-3.0-or-later

package media

import (
	"bytes"
	"image"
	"math/rand/v2"
	"testing"
)

// photo12MP is a 4000×3000 JPEG with smooth gradients and sensor-like
// noise, at quality 90, roughly what a phone camera writes.
func photo12MP(b *testing.B) []byte {
	rng := rand.New(rand.NewPCG(3, 4))
	img := image.NewRGBA(image.Rect(0, 0, 4000, 3000))
	for y := range 3000 {
		for x := range 4000 {
			i := img.PixOffset(x, y)
			n := byte(rng.IntN(12))
			img.Pix[i+0] = byte(x/16) + n
			img.Pix[i+1] = byte(y/12) + n
			img.Pix[i+2] = byte((x+y)/28) + n
			img.Pix[i+3] = 255
		}
	}
	return encodeJPEG(b, img)
}

func BenchmarkSanitizeImage12MP(b *testing.B) {
	in := photo12MP(b)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	var out *Image
	for b.Loop() {
		var err error
		if out, err = SanitizeImage(bytes.NewReader(in)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(out.Data)), "out-bytes")
	b.ReportMetric(float64(len(out.Thumbnail)), "thumb-bytes")
}

func BenchmarkParseOggOpus(b *testing.B) {
	c := clip1500ms
	c.samples = 60 * 48000 // one minute
	c.perPage = 50
	in := c.bytes(b)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseOggOpus(bytes.NewReader(in)); err != nil {
			b.Fatal(err)
		}
	}
}
