// SPDX-License-Identifier: AGPL-3.0-or-later

package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rwcarlsen/goexif/exif"
)

func TestSanitizeJPEGRemovesEXIFAndGPS(t *testing.T) {
	in := withAPP1(encodeJPEG(t, markedImage(40, 20, 6)), exifTIFF(binary.LittleEndian, 1, true))
	x, err := exif.Decode(bytes.NewReader(in))
	if err != nil {
		t.Fatalf("test input: goexif: %v", err)
	}
	lat, long, err := x.LatLong()
	if err != nil || lat < 52.5 || lat > 52.6 || long < 13.3 || long > 13.5 {
		t.Fatalf("test input: GPS %v, %v, %v; want 52.52, 13.4", lat, long, err)
	}

	img, err := SanitizeImage(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if img.MIMEType != MIMEJPEG || img.Width != 40 || img.Height != 20 {
		t.Fatalf("got %s %dx%d, want image/jpeg 40x20", img.MIMEType, img.Width, img.Height)
	}
	for _, m := range jpegMarkers(t, img.Data) {
		if m >= 0xE0 && m <= 0xEF || m == 0xFE {
			t.Errorf("output has marker %#02x (an APPn or comment segment)", m)
		}
	}
	if bytes.Contains(img.Data, []byte("Exif")) {
		t.Error("output contains an Exif header")
	}
	if _, err := exif.Decode(bytes.NewReader(img.Data)); err == nil {
		t.Error("goexif finds EXIF in the output")
	}
	if _, err := exif.Decode(bytes.NewReader(img.Thumbnail)); err == nil {
		t.Error("goexif finds EXIF in the thumbnail")
	}
	t.Logf("40x20 JPEG with EXIF: %d bytes in, %d out, thumbnail %d", len(in), len(img.Data), len(img.Thumbnail))
}

func TestSanitizeJPEGOrientation(t *testing.T) {
	type corner int
	const (
		topLeft corner = iota
		topRight
		bottomLeft
		bottomRight
	)
	// Where the stored top-left (red) and top-right (blue) corners end up
	// in the upright picture, by EXIF orientation.
	want := map[int][2]corner{
		1: {topLeft, topRight},
		2: {topRight, topLeft},
		3: {bottomRight, bottomLeft},
		4: {bottomLeft, bottomRight},
		5: {topLeft, bottomLeft},
		6: {topRight, bottomRight},
		7: {bottomRight, topRight},
		8: {bottomLeft, topLeft},
	}
	const w, h, mark = 40, 20, 6
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		for o := 1; o <= 8; o++ {
			in := withAPP1(encodeJPEG(t, markedImage(w, h, mark)), exifTIFF(order, uint16(o), o%2 == 0))
			out, err := SanitizeImage(bytes.NewReader(in))
			if err != nil {
				t.Fatalf("orientation %d: %v", o, err)
			}
			ww, wh := w, h
			if o >= 5 {
				ww, wh = h, w
			}
			if out.Width != ww || out.Height != wh {
				t.Fatalf("orientation %d: %dx%d, want %dx%d", o, out.Width, out.Height, ww, wh)
			}
			dec, err := jpeg.Decode(bytes.NewReader(out.Data))
			if err != nil {
				t.Fatal(err)
			}
			at := func(c corner) color.Color {
				x, y := mark/2, mark/2
				if c == topRight || c == bottomRight {
					x = ww - 1 - mark/2
				}
				if c == bottomLeft || c == bottomRight {
					y = wh - 1 - mark/2
				}
				return dec.At(x, y)
			}
			if c := at(want[o][0]); !near(c, markRed) {
				t.Errorf("%v orientation %d: red corner holds %v", order, o, c)
			}
			if c := at(want[o][1]); !near(c, markBlue) {
				t.Errorf("%v orientation %d: blue corner holds %v", order, o, c)
			}
		}
	}
}

// near reports whether c is within JPEG noise of want.
func near(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, b uint8) bool { return max(int(a>>8), int(b))-min(int(a>>8), int(b)) < 48 }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

// TestOrientationMatchesGoexif checks the hand-written IFD0 reader against
// goexif on well-formed blocks of both byte orders.
func TestOrientationMatchesGoexif(t *testing.T) {
	base := encodeJPEG(t, markedImage(8, 8, 2))
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		for o := uint16(0); o <= 9; o++ {
			in := withAPP1(base, exifTIFF(order, o, true))
			x, err := exif.Decode(bytes.NewReader(in))
			if err != nil {
				t.Fatal(err)
			}
			tag, err := x.Get(exif.Orientation)
			if err != nil {
				t.Fatal(err)
			}
			theirs, _ := tag.Int(0)
			want := theirs
			if want < 1 || want > 8 {
				want = 1
			}
			if got := jpegOrientation(in); got != want {
				t.Errorf("%v value %d: got %d, goexif read %d", order, o, got, theirs)
			}
		}
	}
}

func TestOrientationBrokenEXIF(t *testing.T) {
	good := exifTIFF(binary.LittleEndian, 6, false)
	base := encodeJPEG(t, markedImage(40, 20, 6))
	for _, tc := range []struct {
		name string
		tiff []byte
	}{
		{"empty", nil},
		{"bad byte order", append([]byte("XX"), good[2:]...)},
		{"bad magic", append([]byte("II\x2b\x00"), good[4:]...)},
		{"IFD offset past end", append([]byte("II\x2a\x00\xff\xff\xff\xff"), good[8:]...)},
		{"cut inside IFD", good[:14]},
		{"entry count overruns", append(append([]byte{}, good[:8]...), 0xff, 0xff)},
	} {
		in := withAPP1(base, tc.tiff)
		if got := jpegOrientation(in); got != 1 {
			t.Errorf("%s: orientation %d, want 1", tc.name, got)
		}
		out, err := SanitizeImage(bytes.NewReader(in))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if out.Width != 40 || out.Height != 20 {
			t.Errorf("%s: %dx%d, want 40x20", tc.name, out.Width, out.Height)
		}
	}
}

func TestSanitizePNGDropsTextChunks(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 30, 10))
	for i := range src.Pix {
		src.Pix[i] = byte(i * 7)
	}
	in := withPNGChunk(encodePNG(t, src), "tEXt", []byte("GPS\x0052.52N 13.40E"))
	in = withPNGChunk(in, "iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00<x:xmpmeta/>"))
	if got := pngChunks(t, in); !strings.Contains(strings.Join(got, " "), "tEXt") {
		t.Fatalf("test input chunks %v", got)
	}
	out, err := SanitizeImage(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if out.MIMEType != MIMEPNG || out.Width != 30 || out.Height != 10 {
		t.Fatalf("got %s %dx%d", out.MIMEType, out.Width, out.Height)
	}
	if got := strings.Join(pngChunks(t, out.Data), " "); got != "IHDR IDAT IEND" {
		t.Errorf("output chunks %q, want only IHDR IDAT IEND", got)
	}
	dec, err := png.Decode(bytes.NewReader(out.Data))
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := dec.(*image.NRGBA); !ok || !bytes.Equal(n.Pix, src.Pix) {
		t.Error("PNG pixels changed")
	}
}

func TestSanitizeWebP(t *testing.T) {
	for _, tc := range []struct {
		file, mime string
		alpha      bool
	}{
		{"lossy.webp", MIMEJPEG, false},
		{"lossless.webp", MIMEPNG, false},
		{"lossy_alpha.webp", MIMEPNG, true},
	} {
		in, err := os.ReadFile("testdata/" + tc.file)
		if err != nil {
			t.Fatal(err)
		}
		out, err := SanitizeImage(bytes.NewReader(in))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if out.MIMEType != tc.mime || out.Width != 24 || out.Height != 16 {
			t.Fatalf("%s: %s %dx%d, want %s 24x16", tc.file, out.MIMEType, out.Width, out.Height, tc.mime)
		}
		dec, _, err := image.Decode(bytes.NewReader(out.Data))
		if err != nil {
			t.Fatalf("%s: output does not decode: %v", tc.file, err)
		}
		// The source has 64/255 alpha on its left half when tc.alpha.
		_, _, _, a := dec.At(2, 8).RGBA()
		if gotAlpha := a < 0x8000; gotAlpha != tc.alpha {
			t.Errorf("%s: alpha at left %#x", tc.file, a)
		}
		t.Logf("%s: %d bytes in, %s %d bytes out, thumbnail %d", tc.file, len(in), out.MIMEType, len(out.Data), len(out.Thumbnail))
	}
}

func TestSanitizeRefusesBombsBeforeDecoding(t *testing.T) {
	jpegSOF := func(w, h uint16) []byte {
		j := []byte("\xff\xd8\xff\xc0\x00\x11\x08")
		j = binary.BigEndian.AppendUint16(j, h)
		j = binary.BigEndian.AppendUint16(j, w)
		j = append(j, 3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1)
		return append(j, "\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00\xff\xd9"...)
	}
	for _, tc := range []struct {
		name, dims string
		in         []byte
	}{
		{"PNG 100000x100000", "100000x100000", pngHeader(100000, 100000)},
		{"PNG 40000x1 (side)", "40000x1", pngHeader(40000, 1)},
		{"PNG 7000x7000 (pixels)", "7000x7000", pngHeader(7000, 7000)},
		{"JPEG 65000x65000", "65000x65000", jpegSOF(65000, 65000)},
	} {
		start := time.Now()
		_, err := SanitizeImage(bytes.NewReader(tc.in))
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), tc.dims) {
			t.Errorf("%s (%d bytes): %v, want ErrTooLarge naming %s", tc.name, len(tc.in), err, tc.dims)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s took %v: pixels were decoded", tc.name, d)
		}
	}
}

func TestSanitizeRefusesOversizedInput(t *testing.T) {
	r := io.MultiReader(strings.NewReader(jpegMagic), io.LimitReader(zeros{}, MaxImageBytes))
	if _, err := SanitizeImage(r); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestSanitizeRefusesOtherFormats(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"", "empty input"},
		{"GIF89a\x01\x00\x01\x00", "GIF"},
		{"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "HEIF"},
		{"%PDF-1.7\n", "PDF"},
		{"RIFF\x24\x00\x00\x00WAVEfmt ", "WAV"},
		{"hello, world", "unrecognised data starting 68656c6c6f2c2077"},
	} {
		_, err := SanitizeImage(strings.NewReader(tc.in))
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want ErrUnsupported naming %q", tc.in, err, tc.want)
		}
	}
}

func TestSanitizeTruncatedAndDamaged(t *testing.T) {
	webp, err := os.ReadFile("testdata/lossy_alpha.webp")
	if err != nil {
		t.Fatal(err)
	}
	inputs := map[string][]byte{
		"jpeg": withAPP1(encodeJPEG(t, markedImage(40, 20, 6)), exifTIFF(binary.BigEndian, 6, true)),
		"png":  encodePNG(t, markedImage(20, 10, 3)),
		"webp": webp,
	}
	for name, in := range inputs {
		for n := range len(in) {
			_, err := SanitizeImage(bytes.NewReader(in[:n]))
			if err == nil {
				t.Errorf("%s cut to %d of %d bytes: accepted", name, n, len(in))
				continue
			}
			if !isSentinel(err) {
				t.Errorf("%s cut to %d bytes: %v is no sentinel", name, n, err)
			}
		}
		cut := len(in) * 2 / 3
		if _, err := SanitizeImage(bytes.NewReader(in[:cut])); !errors.Is(err, ErrTruncated) {
			t.Errorf("%s cut to %d bytes: %v, want ErrTruncated", name, cut, err)
		}
	}
}

func isSentinel(err error) bool {
	for _, s := range []error{ErrUnsupported, ErrTooLarge, ErrTruncated, ErrChecksum, ErrMalformed} {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

func TestThumbnailFits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	noise := image.NewRGBA(image.Rect(0, 0, 600, 600))
	for i := range noise.Pix {
		noise.Pix[i] = byte(rng.Uint32())
	}
	tall := markedImage(50, 700, 10)
	tiny := markedImage(5, 3, 1)
	for _, tc := range []struct {
		name string
		in   []byte
		w, h int
	}{
		{"noise 600x600 PNG", encodePNG(t, noise), 96, 96},
		{"noise 600x600 JPEG", encodeJPEG(t, noise), 96, 96},
		{"tall 50x700", encodeJPEG(t, tall), 6, 96},
		{"tiny 5x3", encodePNG(t, tiny), 5, 3},
	} {
		out, err := SanitizeImage(bytes.NewReader(tc.in))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(out.Thumbnail) > MaxThumbnailBytes {
			t.Errorf("%s: thumbnail %d bytes", tc.name, len(out.Thumbnail))
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(out.Thumbnail))
		if err != nil {
			t.Fatalf("%s: thumbnail: %v", tc.name, err)
		}
		// Noise may not fit at 96 px: the thumbnail may step down in size,
		// never in shape.
		if tc.name[:5] == "noise" {
			if cfg.Width > tc.w || cfg.Width*tc.h != cfg.Height*tc.w {
				t.Errorf("%s: thumbnail %dx%d, want at most %dx%d in the same shape", tc.name, cfg.Width, cfg.Height, tc.w, tc.h)
			}
		} else if cfg.Width != tc.w || cfg.Height != tc.h {
			t.Errorf("%s: thumbnail %dx%d, want %dx%d", tc.name, cfg.Width, cfg.Height, tc.w, tc.h)
		}
		t.Logf("%s: %s %d bytes, thumbnail %dx%d %d bytes", tc.name, out.MIMEType, len(out.Data), cfg.Width, cfg.Height, len(out.Thumbnail))
	}
}

// TestThumbnailLadder feeds pure noise at thumbnail size, which no quality
// setting fits at 96 px: the thumbnail must step down in size and still fit.
func TestThumbnailLadder(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	noise := image.NewRGBA(image.Rect(0, 0, ThumbnailSide, ThumbnailSide))
	for i := range noise.Pix {
		noise.Pix[i] = byte(rng.Uint32())
	}
	var first bytes.Buffer
	if err := jpeg.Encode(&first, noise, &jpeg.Options{Quality: thumbnailQualities[0]}); err != nil {
		t.Fatal(err)
	}
	if first.Len() <= MaxThumbnailBytes {
		t.Fatalf("test input fits at once (%d bytes)", first.Len())
	}
	th, err := thumbnail(noise)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(th))
	if err != nil || len(th) > MaxThumbnailBytes || cfg.Width != cfg.Height {
		t.Fatalf("thumbnail %d bytes %dx%d, %v", len(th), cfg.Width, cfg.Height, err)
	}
	t.Logf("noise %d px at quality %d: %d bytes; thumbnail %dx%d, %d bytes", ThumbnailSide, thumbnailQualities[0], first.Len(), cfg.Width, cfg.Height, len(th))
}
