// SPDX-License-Identifier: AGPL-3.0-or-later

package media

import (
	"encoding/binary"
	"image"
	"image/draw"
)

// EXIF orientation (TIFF tag 0x0112): how the stored pixels must be turned
// to show the picture upright. 1 is "as stored".
const (
	tagOrientation = 0x0112
	tiffShort      = 3
	tiffLong       = 4
	exifHeader     = "Exif\x00\x00"
	ifdEntrySize   = /* tag */ 2 + /* type */ 2 + /* count */ 4 + /* value */ 4
	tiffHeaderSize = /* byte order */ 2 + /* 42 */ 2 + /* IFD0 offset */ 4
)

// jpegOrientation returns the EXIF orientation of a JPEG, or 1 if it has no
// EXIF block, the block is broken, or the value is out of range.
//
// It walks the JPEG's marker segments up to the first scan and reads only
// IFD0 of the first APP1 "Exif" segment, bounds-checking every offset. It
// deliberately does not use goexif here: goexif follows IFD chains without
// cycle detection beyond one step and multiplies a tag's count by its type
// size in 32 bits before allocating, so a 100-byte EXIF block can make it
// loop forever or allocate gigabytes. The tests check that both readers
// agree on well-formed blocks.
func jpegOrientation(data []byte) int {
	i := len(jpegMagic) - 1 // at the 0xFF of the first marker after SOI
	for i+4 <= len(data) {
		if data[i] != 0xFF {
			return 1
		}
		marker := data[i+1]
		switch {
		case marker == 0xFF: // fill byte
			i++
			continue
		case marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7): // no length
			i += 2
			continue
		case marker == 0xDA || marker == 0xD9: // start of scan, end of image
			return 1
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return 1
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xE1 && len(seg) > len(exifHeader) && string(seg[:len(exifHeader)]) == exifHeader {
			return tiffOrientation(seg[len(exifHeader):])
		}
		i += 2 + n
	}
	return 1
}

// tiffOrientation reads the orientation tag of IFD0 of a TIFF structure.
func tiffOrientation(t []byte) int {
	if len(t) < tiffHeaderSize {
		return 1
	}
	var order binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		order = binary.LittleEndian
	case "MM":
		order = binary.BigEndian
	default:
		return 1
	}
	if order.Uint16(t[2:]) != 42 {
		return 1
	}
	off := uint64(order.Uint32(t[4:]))
	if off+2 > uint64(len(t)) {
		return 1
	}
	n := uint64(order.Uint16(t[off:]))
	for e := off + 2; e+ifdEntrySize <= uint64(len(t)) && n > 0; e, n = e+ifdEntrySize, n-1 {
		if order.Uint16(t[e:]) != tagOrientation || order.Uint32(t[e+4:]) != 1 {
			continue
		}
		var v uint32
		switch order.Uint16(t[e+2:]) {
		case tiffShort:
			v = uint32(order.Uint16(t[e+8:]))
		case tiffLong:
			v = order.Uint32(t[e+8:])
		}
		if v >= 1 && v <= 8 {
			return int(v)
		}
		return 1
	}
	return 1
}

// orient returns img turned upright for EXIF orientation o (1 to 8).
func orient(img image.Image, o int) image.Image {
	if o < 2 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	if g, ok := img.(*image.Gray); ok {
		dst := image.NewGray(image.Rect(0, 0, dw, dh))
		remap(dst.Pix, dst.Stride, g.Pix[g.PixOffset(b.Min.X, b.Min.Y):], g.Stride, 1, o, w, h)
		return dst
	}
	src := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(src, src.Rect, img, b.Min, draw.Src)
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	remap(dst.Pix, dst.Stride, src.Pix, src.Stride, 4, o, w, h)
	return dst
}

// remap copies pixels of bpp bytes from the w×h source into the
// destination, which has the oriented size. For each destination row it
// finds the source of its first two pixels; the rest follow at a constant
// step.
func remap(dst []byte, dstStride int, src []byte, srcStride, bpp, o, w, h int) {
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	at := func(x, y int) int {
		sx, sy := sourceOf(o, x, y, w, h)
		return sy*srcStride + sx*bpp
	}
	for y := range dh {
		s := at(0, y)
		step := 0
		if dw > 1 {
			step = at(1, y) - s
		}
		row := dst[y*dstStride : y*dstStride+dw*bpp]
		for d := 0; d < len(row); d, s = d+bpp, s+step {
			copy(row[d:d+bpp], src[s:s+bpp])
		}
	}
}

// sourceOf maps a pixel of the upright picture to the stored pixel, for a
// w×h stored image with orientation o (the EXIF 2.32 table: 2 mirrors
// left-right, 3 turns 180°, 4 mirrors top-bottom, 5 transposes, 6 needs a
// quarter turn clockwise, 7 transverses, 8 needs a quarter turn
// anticlockwise).
func sourceOf(o, x, y, w, h int) (sx, sy int) {
	switch o {
	case 2:
		return w - 1 - x, y
	case 3:
		return w - 1 - x, h - 1 - y
	case 4:
		return x, h - 1 - y
	case 5:
		return y, x
	case 6:
		return y, h - 1 - x
	case 7:
		return w - 1 - y, h - 1 - x
	case 8:
		return w - 1 - y, x
	}
	return x, y
}
