// SPDX-License-Identifier: AGPL-3.0-or-later

// Package mediatest makes the sample media of the demo and the tests: a
// photo carrying a GPS position in its EXIF block, a WAV recording, and
// reproducible noise for files. It is not for production code.
package mediatest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
)

// Photo returns a 640x480 JPEG carrying an EXIF block with a GPS
// position, the way a phone camera writes one: what the demo and the tests
// show disappearing.
func Photo() ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for y := range 480 {
		for x := range 640 {
			img.Set(x, y, color.RGBA{uint8(x * 255 / 639), uint8(y * 255 / 479), 160, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		return nil, fmt.Errorf("sample photo: %w", err)
	}
	j := buf.Bytes()
	app1 := append([]byte("Exif\x00\x00"), gpsTIFF()...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(2+len(app1)))
	out := append([]byte{}, j[:2]...) // SOI
	out = append(out, seg...)
	out = append(out, app1...)
	return append(out, j[2:]...), nil
}

// gpsTIFF is a big-endian TIFF with IFD0 pointing to a GPS IFD holding
// 48°51'30.24"N 2°17'40.20"E.
func gpsTIFF() []byte {
	const (
		ifd0   = 8
		gpsIFD = ifd0 + 2 + 12 + 4     // after IFD0's one entry and next-IFD link
		data   = gpsIFD + 2 + 4*12 + 4 // after the GPS IFD's four entries
	)
	be := binary.BigEndian
	t := make([]byte, data+2*24)
	copy(t, "MM\x00\x2a")
	be.PutUint32(t[4:], ifd0)
	entry := func(at int, tag, typ uint16, count, value uint32) {
		be.PutUint16(t[at:], tag)
		be.PutUint16(t[at+2:], typ)
		be.PutUint32(t[at+4:], count)
		be.PutUint32(t[at+8:], value)
	}
	be.PutUint16(t[ifd0:], 1)
	entry(ifd0+2, 0x8825, 4, 1, gpsIFD) // GPSInfo, LONG
	be.PutUint16(t[gpsIFD:], 4)
	entry(gpsIFD+2, 1, 2, 2, 'N'<<24)  // GPSLatitudeRef, ASCII "N"
	entry(gpsIFD+14, 2, 5, 3, data)    // GPSLatitude, 3 RATIONAL
	entry(gpsIFD+26, 3, 2, 2, 'E'<<24) // GPSLongitudeRef, ASCII "E"
	entry(gpsIFD+38, 4, 5, 3, data+24) // GPSLongitude, 3 RATIONAL
	for i, r := range [][2]uint32{{48, 1}, {51, 1}, {3024, 100}, {2, 1}, {17, 1}, {4020, 100}} {
		be.PutUint32(t[data+8*i:], r[0])
		be.PutUint32(t[data+8*i+4:], r[1])
	}
	return t
}

// WAV returns a 16-bit mono 48 kHz WAV of a 440 Hz tone with a
// gentle fade, secs seconds long.
func WAV(secs float64) []byte {
	const rate = 48000
	n := int(secs * rate)
	b := make([]byte, 44+2*n)
	le := binary.LittleEndian
	copy(b, "RIFF")
	le.PutUint32(b[4:], uint32(36+2*n))
	copy(b[8:], "WAVEfmt ")
	le.PutUint32(b[16:], 16)
	le.PutUint16(b[20:], 1) // PCM
	le.PutUint16(b[22:], 1) // mono
	le.PutUint32(b[24:], rate)
	le.PutUint32(b[28:], 2*rate)
	le.PutUint16(b[32:], 2)
	le.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	le.PutUint32(b[40:], uint32(2*n))
	for i := range n {
		fade := math.Min(1, math.Min(float64(i), float64(n-i))/2400)
		v := 12000 * fade * math.Sin(2*math.Pi*440*float64(i)/rate)
		le.PutUint16(b[44+2*i:], uint16(int16(v)))
	}
	return b
}

// Noise returns n bytes of reproducible noise.
func Noise(n int) []byte {
	r := rand.NewChaCha8([32]byte{'h', 'u', 's', 'h'})
	b := make([]byte, n)
	r.Read(b)
	return b
}
