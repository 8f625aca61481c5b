// SPDX-License-Identifier: AGPL-3.0-or-later

package opusenc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hushchat/hush/pkg/core/media"
)

// WAV input: RIFF/WAVE with a "fmt " chunk before the "data" chunk.
//
//	"RIFF" size(4 LE) "WAVE" { id(4) size(4 LE) body [pad to even] }...
//	fmt body: format(2) channels(2) rate(4) byte_rate(4) block_align(2) bits(2)
//	          [cb_size(2) valid_bits(2) channel_mask(4) sub_format(16)]
const (
	riffHeaderSize   = /* "RIFF" */ 4 + /* size */ 4 + /* "WAVE" */ 4
	chunkHeaderSize  = /* id */ 4 + /* size */ 4
	fmtSize          = 2 + 2 + 4 + 4 + 2 + 2
	fmtExtensible    = fmtSize + /* cb_size */ 2 + /* valid bits */ 2 + /* channel mask */ 4 + /* sub-format */ 16
	maxFmtSize       = 1 << 10
	formatPCM        = 0x0001
	formatExtensible = 0xFFFE
	bytesPerSample   = 2 // 16-bit PCM only
	// dataToEnd is the data size streaming recorders write when they do not
	// know it yet: the data runs to the end of the file.
	dataToEnd  = 0xFFFFFFFF
	maxSeconds = int64(media.MaxVoiceDuration / time.Second)
	// maxWAVData bounds the audio read: MaxVoiceDuration of 48 kHz stereo.
	maxWAVData = maxSeconds * 48000 * 2 * bytesPerSample
)

// pcmSubFormat is the WAVE_FORMAT_EXTENSIBLE sub-format GUID of integer PCM
// (KSDATAFORMAT_SUBTYPE_PCM) in its on-disk byte order.
const pcmSubFormat = "\x01\x00\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"

// sampleRates are the input rates libopus encodes without resampling.
var sampleRates = map[int]bool{8000: true, 12000: true, 16000: true, 24000: true, 48000: true}

// ErrUnavailable is returned by EncodeWAV in builds without cgo (and in the
// browser, which records Ogg Opus itself).
var ErrUnavailable = errors.New("opusenc: WAV encoding is not available in this build (it needs cgo and libopus)")

// wavFormat is what the header says about the samples that follow.
type wavFormat struct {
	channels int
	rate     int
	dataSize int64 // bytes of sample data; -1 if it runs to the end
}

// readWAVHeader reads up to the start of the sample data.
func readWAVHeader(r io.Reader) (wavFormat, error) {
	var hdr [riffHeaderSize]byte
	if n, err := io.ReadFull(r, hdr[:]); err != nil {
		if n >= 4 && string(hdr[:4]) != "RIFF" {
			return wavFormat{}, fmt.Errorf("%w: not a WAV file", media.ErrUnsupported)
		}
		return wavFormat{}, fmt.Errorf("%w: WAV header is cut short", media.ErrTruncated)
	}
	if string(hdr[:4]) != "RIFF" || string(hdr[8:]) != "WAVE" {
		return wavFormat{}, fmt.Errorf("%w: not a WAV file (no RIFF/WAVE header)", media.ErrUnsupported)
	}
	var f wavFormat
	for {
		id, size, err := readChunkHeader(r)
		if err != nil {
			return wavFormat{}, err
		}
		switch {
		case id == "fmt ":
			if f, err = readFmt(r, size); err != nil {
				return wavFormat{}, err
			}
		case id == "data" && f.rate == 0:
			return wavFormat{}, fmt.Errorf("%w: WAV data chunk before its fmt chunk", media.ErrMalformed)
		case id == "data":
			return f.withData(size)
		default:
			if err := skip(r, int64(size)+int64(size&1)); err != nil {
				return wavFormat{}, err
			}
		}
	}
}

func readChunkHeader(r io.Reader) (string, uint32, error) {
	var ch [chunkHeaderSize]byte
	if _, err := io.ReadFull(r, ch[:]); err != nil {
		return "", 0, fmt.Errorf("%w: WAV file ends before its data chunk", media.ErrTruncated)
	}
	return string(ch[:4]), binary.LittleEndian.Uint32(ch[4:]), nil
}

func skip(r io.Reader, n int64) error {
	if m, _ := io.CopyN(io.Discard, r, n); m != n {
		return fmt.Errorf("%w: WAV chunk is cut short", media.ErrTruncated)
	}
	return nil
}

// readFmt reads and checks the fmt chunk body.
func readFmt(r io.Reader, size uint32) (wavFormat, error) {
	if size < fmtSize || size > maxFmtSize {
		return wavFormat{}, fmt.Errorf("%w: WAV fmt chunk of %d bytes", media.ErrMalformed, size)
	}
	b := make([]byte, size+size&1)
	if _, err := io.ReadFull(r, b); err != nil {
		return wavFormat{}, fmt.Errorf("%w: WAV fmt chunk is cut short", media.ErrTruncated)
	}
	le := binary.LittleEndian
	tag, channels, rate := le.Uint16(b), int(le.Uint16(b[2:])), int(le.Uint32(b[4:]))
	byteRate, align, bits := le.Uint32(b[8:]), int(le.Uint16(b[12:])), le.Uint16(b[14:])
	if tag == formatExtensible && size >= fmtExtensible && string(b[24:40]) == pcmSubFormat {
		tag = formatPCM
	}
	switch {
	case tag != formatPCM:
		return wavFormat{}, fmt.Errorf("%w: WAV sample format %#04x (only integer PCM)", media.ErrUnsupported, tag)
	case bits != 8*bytesPerSample:
		return wavFormat{}, fmt.Errorf("%w: %d-bit WAV (only 16-bit)", media.ErrUnsupported, bits)
	case channels != 1 && channels != 2:
		return wavFormat{}, fmt.Errorf("%w: WAV with %d channels (only 1 or 2)", media.ErrUnsupported, channels)
	case !sampleRates[rate]:
		return wavFormat{}, fmt.Errorf("%w: WAV sample rate %d Hz (only 8, 12, 16, 24 or 48 kHz)", media.ErrUnsupported, rate)
	case align != channels*bytesPerSample || int(byteRate) != rate*align:
		return wavFormat{}, fmt.Errorf("%w: WAV block align %d or byte rate %d do not match the format", media.ErrMalformed, align, byteRate)
	}
	return wavFormat{channels: channels, rate: rate}, nil
}

// withData checks the data chunk's size against the format and the bounds.
func (f wavFormat) withData(size uint32) (wavFormat, error) {
	f.dataSize = int64(size)
	if size == dataToEnd {
		f.dataSize = -1
		return f, nil
	}
	if f.dataSize > maxWAVData || f.dataSize/int64(f.channels*bytesPerSample) > maxSeconds*int64(f.rate) {
		return wavFormat{}, fmt.Errorf("%w: WAV is longer than %v", media.ErrTooLarge, media.MaxVoiceDuration)
	}
	return f, nil
}
