// SPDX-License-Identifier: AGPL-3.0-or-later

package media

import (
	"bytes"
	"encoding/binary"
	"image"
	"os"
	"testing"
)

// fuzzMaxPixels keeps fuzz inputs small: bigger ones are skipped, their
// bounds are tested elsewhere.
const fuzzMaxPixels = 1 << 16

// bitFlips returns in with one bit flipped, at up to n positions spread
// over it.
func bitFlips(in []byte, n int) [][]byte {
	var out [][]byte
	step := max(1, len(in)*8/n)
	for i := 0; i < len(in)*8; i += step {
		b := bytes.Clone(in)
		b[i/8] ^= 1 << (i % 8)
		out = append(out, b)
	}
	return out
}

// FuzzSanitizeImage checks that SanitizeImage never panics, returns only
// its sentinels, and that what it accepts is a clean image of the stated
// size with a thumbnail that fits.
func FuzzSanitizeImage(f *testing.F) {
	seeds := [][]byte{
		withAPP1(encodeJPEG(f, markedImage(12, 8, 2)), exifTIFF(binary.BigEndian, 6, true)),
		encodePNG(f, markedImage(9, 5, 1)),
		pngHeader(3, 2),
	}
	for _, name := range []string{"lossy.webp", "lossless.webp", "lossy_alpha.webp"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	for _, s := range seeds {
		f.Add(s)
		for _, b := range bitFlips(s, 16) {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if f := sniffImage(in); f != formatUnknown {
			if cfg, err := decoders[f].config(bytes.NewReader(in)); err == nil && cfg.Width*cfg.Height > fuzzMaxPixels {
				return
			}
		}
		img, err := SanitizeImage(bytes.NewReader(in))
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("error %v is no sentinel", err)
			}
			return
		}
		dec, format, err := image.Decode(bytes.NewReader(img.Data))
		if err != nil || "image/"+format != img.MIMEType {
			t.Fatalf("output %s does not decode: %v (%s)", img.MIMEType, err, format)
		}
		if b := dec.Bounds(); b.Dx() != img.Width || b.Dy() != img.Height {
			t.Fatalf("output is %v, says %dx%d", b, img.Width, img.Height)
		}
		if len(img.Thumbnail) > MaxThumbnailBytes || len(img.Thumbnail) == 0 {
			t.Fatalf("thumbnail of %d bytes", len(img.Thumbnail))
		}
	})
}

// FuzzParseOggOpus checks that ParseOggOpus never panics, returns only its
// sentinels, and that what it accepts is within the bounds.
func FuzzParseOggOpus(f *testing.F) {
	good := clip1500ms.bytes(f)
	long := clip1500ms
	long.vendor = string(make([]byte, 70000))
	seeds := [][]byte{good, multiPageTags(f, long), {}, []byte("OggS")}
	for _, s := range seeds[:2] {
		f.Add(s)
		for _, b := range bitFlips(s, 32) {
			f.Add(b)
		}
	}
	f.Add(seeds[2])
	f.Add(seeds[3])
	f.Fuzz(func(t *testing.T, in []byte) {
		info, err := ParseOggOpus(bytes.NewReader(in))
		if err != nil {
			if !isSentinel(err) {
				t.Fatalf("error %v is no sentinel", err)
			}
			return
		}
		if info.Duration <= 0 || info.Duration > MaxVoiceDuration || info.Channels < 1 || info.Size != int64(len(in)) {
			t.Fatalf("accepted %+v", info)
		}
	})
}
