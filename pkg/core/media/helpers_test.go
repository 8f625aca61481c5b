// SPDX-License-Identifier: AGPL-3.0-or-later

package media

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
)

// Colours of the corner markers in the orientation tests.
var (
	markRed  = color.RGBA{255, 0, 0, 255}
	markBlue = color.RGBA{0, 0, 255, 255}
	fillGray = color.RGBA{128, 128, 128, 255}
)

// markedImage is w×h grey with a red block at the top-left corner and a
// blue block at the top-right corner, each mark×mark pixels.
func markedImage(w, h, mark int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := fillGray
			switch {
			case x < mark && y < mark:
				c = markRed
			case x >= w-mark && y < mark:
				c = markBlue
			}
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// withAPP1 inserts an APP1 "Exif" segment holding tiff right after SOI.
func withAPP1(jpg, tiff []byte) []byte {
	payload := append([]byte(exifHeader), tiff...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(2+len(payload)))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// exifTIFF builds a TIFF structure in byte order order with IFD0 holding
// the orientation and, if gps, a GPS IFD with a latitude and longitude
// (52°31'N 13°24'E).
func exifTIFF(order byteOrder, orientation uint16, gps bool) []byte {
	type entry struct {
		tag, typ    uint16
		count, val  uint32
		shortInline bool
	}
	var t []byte
	if order.String() == binary.LittleEndian.String() {
		t = append(t, "II"...)
	} else {
		t = append(t, "MM"...)
	}
	t = order.AppendUint16(t, 42)
	t = order.AppendUint32(t, 8)
	const (
		ifd0Size   = 2 + 2*ifdEntrySize + 4
		gpsOff     = 8 + ifd0Size
		gpsSize    = 2 + 4*ifdEntrySize + 4
		latOff     = gpsOff + gpsSize
		longOff    = latOff + 3*8
		tagGPSInfo = 0x8825
		tiffASCII  = 2
		tiffRat    = 5
	)
	appendIFD := func(entries []entry) {
		t = order.AppendUint16(t, uint16(len(entries)))
		for _, e := range entries {
			t = order.AppendUint16(t, e.tag)
			t = order.AppendUint16(t, e.typ)
			t = order.AppendUint32(t, e.count)
			if e.shortInline {
				t = order.AppendUint16(t, uint16(e.val))
				t = append(t, 0, 0)
			} else if e.typ == tiffASCII {
				t = append(t, byte(e.val), 0, 0, 0)
			} else {
				t = order.AppendUint32(t, e.val)
			}
		}
		t = order.AppendUint32(t, 0)
	}
	gpsPtr := uint32(0)
	if gps {
		gpsPtr = gpsOff
	}
	appendIFD([]entry{
		{tagOrientation, tiffShort, 1, uint32(orientation), true},
		{tagGPSInfo, tiffLong, 1, gpsPtr, false},
	})
	if !gps {
		return t
	}
	appendIFD([]entry{
		{1, tiffASCII, 2, 'N', false},
		{2, tiffRat, 3, latOff, false},
		{3, tiffASCII, 2, 'E', false},
		{4, tiffRat, 3, longOff, false},
	})
	for _, v := range []uint32{52, 1, 31, 1, 0, 1, 13, 1, 24, 1, 0, 1} {
		t = order.AppendUint32(t, v)
	}
	return t
}

// pngChunks lists the chunk types of a PNG file in order.
func pngChunks(t testing.TB, p []byte) []string {
	t.Helper()
	var types []string
	for p = p[len(pngMagic):]; len(p) >= 12; {
		n := binary.BigEndian.Uint32(p)
		types = append(types, string(p[4:8]))
		p = p[12+n:]
	}
	return types
}

// withPNGChunk inserts a chunk after IHDR (which is 8+13+4 bytes long).
func withPNGChunk(p []byte, typ string, data []byte) []byte {
	const afterIHDR = len(pngMagic) + 4 + 4 + 13 + 4
	chunk := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	chunk = append(chunk, typ...)
	chunk = append(chunk, data...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))
	out := append([]byte{}, p[:afterIHDR]...)
	out = append(out, chunk...)
	return append(out, p[afterIHDR:]...)
}

// pngHeader is a PNG whose IHDR claims w×h 8-bit RGBA, with one tiny IDAT.
func pngHeader(w, h uint32) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	p := []byte(pngMagic)
	for _, c := range []struct {
		typ  string
		data []byte
	}{{"IHDR", ihdr}, {"IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}}, {"IEND", nil}} {
		chunk := binary.BigEndian.AppendUint32(nil, uint32(len(c.data)))
		chunk = append(chunk, c.typ...)
		chunk = append(chunk, c.data...)
		p = append(p, binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk[4:]))...)
	}
	return p
}

// jpegMarkers lists the markers of a JPEG up to its first scan.
func jpegMarkers(t testing.TB, j []byte) []byte {
	t.Helper()
	var markers []byte
	for i := 2; i+4 <= len(j); {
		if j[i] != 0xFF {
			t.Fatalf("no marker at offset %d", i)
		}
		m := j[i+1]
		markers = append(markers, m)
		if m == 0xDA {
			break
		}
		i += 2 + int(binary.BigEndian.Uint16(j[i+2:]))
	}
	return markers
}
