// SPDX-License-Identifier: AGPL-3.0-or-later

package ogg

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The Ogg Opus header packets (RFC 7845 section 5).
//
//	OpusHead: "OpusHead" version(1) channels(1) pre_skip(2 LE)
//	          input_rate(4 LE) output_gain(2 LE, signed) family(1)
//	          [family != 0: streams(1) coupled(1) mapping[channels]]
//	OpusTags: "OpusTags" vendor_len(4 LE) vendor n(4 LE) n × (len(4 LE) comment)
const (
	headMagic     = "OpusHead"
	tagsMagic     = "OpusTags"
	headSize      = /* magic */ 8 + /* version */ 1 + /* channels */ 1 + /* pre-skip */ 2 + /* rate */ 4 + /* gain */ 2 + /* family */ 1
	mappingPrefix = /* streams */ 1 + /* coupled */ 1
	// headVersion is the version this package writes; it reads every
	// version whose major nibble is 0, as RFC 7845 asks.
	headVersion = 1
	// GranuleRate is the rate of Opus granule positions, whatever the input
	// rate was: Opus always decodes at 48 kHz.
	GranuleRate = 48000
)

// Errors from the Opus header parsers.
var (
	ErrNotOpus    = errors.New("ogg: stream is not Opus")
	ErrOpusHeader = errors.New("ogg: malformed Opus header")
)

// OpusHead is the identification header.
type OpusHead struct {
	Channels  int
	PreSkip   int    // samples at 48 kHz to drop at the start
	InputRate uint32 // the original input rate in Hz, informational; 0 if unknown
	Gain      int16  // output gain, Q7.8 dB
	Family    byte   // channel mapping family
}

// ParseOpusHead parses the first packet of an Ogg Opus stream.
func ParseOpusHead(p []byte) (OpusHead, error) {
	if len(p) < len(headMagic) || string(p[:len(headMagic)]) != headMagic {
		return OpusHead{}, ErrNotOpus
	}
	if len(p) < headSize {
		return OpusHead{}, fmt.Errorf("%w: identification header is %d bytes, want at least %d", ErrOpusHeader, len(p), headSize)
	}
	if v := p[8]; v>>4 != 0 {
		return OpusHead{}, fmt.Errorf("%w: version %d is not supported (major version %d)", ErrOpusHeader, v, v>>4)
	}
	h := OpusHead{
		Channels:  int(p[9]),
		PreSkip:   int(binary.LittleEndian.Uint16(p[10:])),
		InputRate: binary.LittleEndian.Uint32(p[12:]),
		Gain:      int16(binary.LittleEndian.Uint16(p[16:])),
		Family:    p[18],
	}
	if h.Channels == 0 {
		return OpusHead{}, fmt.Errorf("%w: zero channels", ErrOpusHeader)
	}
	if h.Family == 0 {
		if h.Channels > 2 {
			return OpusHead{}, fmt.Errorf("%w: %d channels with mapping family 0 (at most 2)", ErrOpusHeader, h.Channels)
		}
		return h, nil
	}
	return h, checkMapping(p[headSize:], h.Channels)
}

// checkMapping checks the channel mapping table of families other than 0.
func checkMapping(t []byte, channels int) error {
	if len(t) < mappingPrefix+channels {
		return fmt.Errorf("%w: channel mapping table is cut short", ErrOpusHeader)
	}
	streams, coupled := int(t[0]), int(t[1])
	if streams == 0 || coupled > streams || streams+coupled > 255 {
		return fmt.Errorf("%w: %d streams of which %d coupled", ErrOpusHeader, streams, coupled)
	}
	for _, m := range t[mappingPrefix : mappingPrefix+channels] {
		if m != 255 && int(m) >= streams+coupled {
			return fmt.Errorf("%w: channel mapped to missing stream %d", ErrOpusHeader, m)
		}
	}
	return nil
}

// AppendOpusHead appends a family-0 identification header (1 or 2 channels).
func AppendOpusHead(dst []byte, h OpusHead) []byte {
	dst = append(dst, headMagic...)
	dst = append(dst, headVersion, byte(h.Channels))
	dst = binary.LittleEndian.AppendUint16(dst, uint16(h.PreSkip))
	dst = binary.LittleEndian.AppendUint32(dst, h.InputRate)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(h.Gain))
	return append(dst, 0)
}

// CheckOpusTags checks the structure of a comment header packet: the
// magic, and every length within the packet. The comments themselves are
// not interpreted.
func CheckOpusTags(p []byte) error {
	if len(p) < len(tagsMagic) || string(p[:len(tagsMagic)]) != tagsMagic {
		return fmt.Errorf("%w: the second packet is not OpusTags", ErrOpusHeader)
	}
	rest := p[len(tagsMagic):]
	var err error
	if rest, err = skipString(rest); err != nil {
		return err
	}
	if len(rest) < 4 {
		return fmt.Errorf("%w: comment count is cut short", ErrOpusHeader)
	}
	n := binary.LittleEndian.Uint32(rest)
	rest = rest[4:]
	if uint64(n)*4 > uint64(len(rest)) {
		return fmt.Errorf("%w: %d comments cannot fit %d bytes", ErrOpusHeader, n, len(rest))
	}
	for range n {
		if rest, err = skipString(rest); err != nil {
			return err
		}
	}
	return nil
}

func skipString(p []byte) ([]byte, error) {
	if len(p) < 4 {
		return nil, fmt.Errorf("%w: comment header is cut short", ErrOpusHeader)
	}
	n := binary.LittleEndian.Uint32(p)
	if uint64(n) > uint64(len(p)-4) {
		return nil, fmt.Errorf("%w: a %d-byte string overruns the comment header", ErrOpusHeader, n)
	}
	return p[4+n:], nil
}

// AppendOpusTags appends a comment header with the vendor string and no
// comments.
func AppendOpusTags(dst []byte, vendor string) []byte {
	dst = append(dst, tagsMagic...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(vendor)))
	dst = append(dst, vendor...)
	return binary.LittleEndian.AppendUint32(dst, 0)
}
