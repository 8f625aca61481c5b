// SPDX-License-Identifier: AGPL-3.0-or-later

// Package ogg reads and writes Ogg pages (RFC 3533) and the two Opus header
// packets of the Ogg Opus mapping (RFC 7845). It is the pure-Go half of
// pkg/core/media's voice clips: media.ParseOggOpus reads with it and
// opusenc.EncodeWAV writes with it.
//
// A page is
//
//	"OggS" version(1)=0 header_type(1) granule(8 LE) serial(4 LE)
//	sequence(4 LE) crc(4 LE) n_segments(1) lacing[n_segments] data
//
// where len(data) is the sum of the lacing values and the CRC is Ogg's
// CRC-32 (polynomial 0x04c11db7, not reflected, initial value and final XOR
// 0) over the whole page with the crc field set to zero.
package ogg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Sizes of a page.
const (
	headerSize     = /* "OggS" */ 4 + /* version */ 1 + /* type */ 1 + /* granule */ 8 + /* serial */ 4 + /* sequence */ 4 + /* crc */ 4 + /* segments */ 1
	crcOffset      = headerSize - /* segments */ 1 - /* crc */ 4
	MaxSegments    = 255
	maxLacing      = 255
	MaxPageData    = MaxSegments * maxLacing
	MaxPageSize    = headerSize + MaxSegments + MaxPageData
	capturePattern = "OggS"
)

// Header type flags.
const (
	FlagContinued = 0x01 // the first packet on the page continues one from the previous page
	FlagBOS       = 0x02 // first page of a logical stream
	FlagEOS       = 0x04 // last page of a logical stream
	flagsKnown    = FlagContinued | FlagBOS | FlagEOS
)

// NoGranule is the granule position of a page on which no packet ends.
const NoGranule = -1

// Errors returned by ReadPage.
var (
	ErrNotOgg    = errors.New("ogg: not an Ogg stream")
	ErrTruncated = errors.New("ogg: stream is truncated")
	ErrCRC       = errors.New("ogg: page checksum mismatch (the file is damaged)")
	ErrMalformed = errors.New("ogg: malformed page")
)

// Page is one Ogg page. Packets splits its data at the lacing values.
type Page struct {
	Flags    byte
	Granule  int64
	Serial   uint32
	Sequence uint32
	Lacing   []byte // one value per segment, 0..255
	Data     []byte // len(Data) == sum(Lacing)
}

// Segments returns the data of each packet piece on the page, and whether
// the last piece ends its packet (false when its packet continues on the
// next page).
func (p *Page) Segments() (pieces [][]byte, lastComplete bool) {
	off, start := 0, 0
	lastComplete = true
	for i, l := range p.Lacing {
		off += int(l)
		if l < maxLacing {
			pieces = append(pieces, p.Data[start:off])
			start = off
			continue
		}
		if i == len(p.Lacing)-1 {
			pieces = append(pieces, p.Data[start:off])
			lastComplete = false
		}
	}
	return pieces, lastComplete
}

// ReadPage reads one page from r into buf (which it grows as needed) and
// checks its CRC. At a clean end of input it returns io.EOF. The page's
// slices alias buf.
func ReadPage(r io.Reader, buf []byte) (*Page, []byte, error) {
	if cap(buf) < MaxPageSize {
		buf = make([]byte, MaxPageSize)
	}
	buf = buf[:MaxPageSize]
	hdr := buf[:headerSize]
	if n, err := io.ReadFull(r, hdr); err != nil {
		if n == 0 && err == io.EOF {
			return nil, buf, io.EOF
		}
		if n >= len(capturePattern) && string(hdr[:4]) != capturePattern {
			return nil, buf, ErrNotOgg
		}
		return nil, buf, fmt.Errorf("%w (a page header is cut short)", ErrTruncated)
	}
	if string(hdr[:4]) != capturePattern {
		return nil, buf, ErrNotOgg
	}
	if hdr[4] != 0 {
		return nil, buf, fmt.Errorf("%w: stream structure version %d (only 0 exists)", ErrMalformed, hdr[4])
	}
	if hdr[5]&^flagsKnown != 0 {
		return nil, buf, fmt.Errorf("%w: unknown header type bits %#02x", ErrMalformed, hdr[5])
	}
	nseg := int(hdr[headerSize-1])
	lacing := buf[headerSize : headerSize+nseg]
	if _, err := io.ReadFull(r, lacing); err != nil {
		return nil, buf, fmt.Errorf("%w (a segment table is cut short)", ErrTruncated)
	}
	size := 0
	for _, l := range lacing {
		size += int(l)
	}
	data := buf[headerSize+nseg : headerSize+nseg+size]
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, buf, fmt.Errorf("%w (page data is cut short)", ErrTruncated)
	}
	page := buf[:headerSize+nseg+size]
	want := binary.LittleEndian.Uint32(page[crcOffset:])
	if checksum(page) != want {
		return nil, buf, ErrCRC
	}
	return &Page{
		Flags:    hdr[5],
		Granule:  int64(binary.LittleEndian.Uint64(hdr[6:])),
		Serial:   binary.LittleEndian.Uint32(hdr[14:]),
		Sequence: binary.LittleEndian.Uint32(hdr[18:]),
		Lacing:   lacing,
		Data:     data,
	}, buf, nil
}

// AppendPage appends the encoded page to dst, computing its CRC.
// It panics if the page has more than MaxSegments segments or its data
// does not match its lacing values: both are programmer errors.
func AppendPage(dst []byte, p *Page) []byte {
	size := 0
	for _, l := range p.Lacing {
		size += int(l)
	}
	if len(p.Lacing) > MaxSegments || size != len(p.Data) {
		panic("ogg: internal error: inconsistent page")
	}
	start := len(dst)
	dst = append(dst, capturePattern...)
	dst = append(dst, 0, p.Flags)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(p.Granule))
	dst = binary.LittleEndian.AppendUint32(dst, p.Serial)
	dst = binary.LittleEndian.AppendUint32(dst, p.Sequence)
	dst = append(dst, 0, 0, 0, 0, byte(len(p.Lacing)))
	dst = append(dst, p.Lacing...)
	dst = append(dst, p.Data...)
	binary.LittleEndian.PutUint32(dst[start+crcOffset:], checksum(dst[start:]))
	return dst
}

// checksum is Ogg's CRC-32 of page, with the four CRC bytes taken as zero.
func checksum(page []byte) uint32 {
	var crc uint32
	for i, b := range page {
		if i >= crcOffset && i < crcOffset+4 {
			b = 0
		}
		crc = crc<<8 ^ crcTable[byte(crc>>24)^b]
	}
	return crc
}

// crcPoly is the generator polynomial of Ogg's CRC (the same as Ethernet's,
// but Ogg feeds the bits most significant first and does not invert).
const crcPoly = 0x04c11db7

var crcTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ crcPoly
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()
