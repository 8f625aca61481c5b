// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

// Package opusenc turns WAV recordings into Ogg Opus voice clips with
// libopus (cgo; native builds only). The entry point is EncodeWAV; the
// result passes media.ParseOggOpus.
//
// In builds without cgo, and for js/wasm, EncodeWAV returns ErrUnavailable.
package opusenc

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"gopkg.in/hraban/opus.v2"

	"github.com/hushchat/hush/pkg/core/media"
	"github.com/hushchat/hush/pkg/core/media/internal/ogg"
)

// Encoder settings: speech, mono, 20 ms frames, 24 kbit/s.
const (
	Bitrate        = 24000
	frameMillis    = 20
	framesPerSec   = 1000 / frameMillis
	frameGranules  = ogg.GranuleRate / framesPerSec // 960
	packetsPerPage = framesPerSec                   // one page per second of audio
	maxPacketBytes = 1275                           // the largest Opus frame (RFC 6716, 3.2.1)
	// preSkip is libopus's encoder lookahead at 48 kHz for the VoIP and
	// audio applications: 2.5 ms plus the 4 ms delay compensation
	// (Fs/400 + Fs/250). hraban/opus does not expose OPUS_GET_LOOKAHEAD.
	preSkip = ogg.GranuleRate/400 + ogg.GranuleRate/250
	// vendor is the OpusTags vendor string. It is not libopus's version
	// string, which would tell the recipient which build recorded the clip.
	vendor = "Hush"
)

// EncodeWAV reads a 16-bit PCM WAV (mono or stereo, 8, 12, 16, 24 or
// 48 kHz, at most media.MaxVoiceDuration) from r and writes it to w as an
// Ogg Opus file: mono (stereo is mixed down), 24 kbit/s, VoIP mode. The
// OpusHead states no input rate and OpusTags holds only the vendor "Hush".
// Nothing is written to w unless the whole encoding succeeds.
func EncodeWAV(r io.Reader, w io.Writer) (media.VoiceInfo, error) {
	f, err := readWAVHeader(r)
	if err != nil {
		return media.VoiceInfo{}, err
	}
	if f.dataSize >= 0 {
		r = io.LimitReader(r, f.dataSize)
	} else {
		r = io.LimitReader(r, maxWAVData+1)
	}
	var out bytes.Buffer
	samples, err := encode(f, r, &out)
	if err != nil {
		return media.VoiceInfo{}, err
	}
	if _, err := w.Write(out.Bytes()); err != nil {
		return media.VoiceInfo{}, fmt.Errorf("opusenc: writing Ogg Opus: %w", err)
	}
	return media.VoiceInfo{
		Duration: time.Duration(samples) * time.Second / time.Duration(f.rate),
		Channels: 1,
		Size:     int64(out.Len()),
	}, nil
}

// encoder is the state of one encoding: libopus, the Ogg writer, and the
// packet held back until the next one shows it was not the last.
type encoder struct {
	f      wavFormat
	opus   *opus.Encoder
	ogg    *ogg.Writer
	raw    []byte  // one frame of WAV bytes
	pcm    []int16 // one frame, mono
	packet []byte
	held   []byte
	frames int64 // packets encoded so far
}

// encode writes the whole Ogg Opus stream to out and returns the number
// of input samples per channel.
func encode(f wavFormat, r io.Reader, out io.Writer) (int64, error) {
	e, err := newEncoder(f, out)
	if err != nil {
		return 0, err
	}
	var samples, read int64
	for eof := false; ; {
		n := 0
		if !eof {
			n, err = io.ReadFull(r, e.raw)
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				eof = true
			} else if err != nil {
				return 0, fmt.Errorf("opusenc: reading WAV: %w", err)
			}
		}
		read += int64(n)
		samples += int64(n / (f.channels * bytesPerSample))
		if samples > maxSeconds*int64(f.rate) {
			return 0, fmt.Errorf("%w: WAV is longer than %v", media.ErrTooLarge, media.MaxVoiceDuration)
		}
		// The last granule position trims the padding: pre-skip plus the
		// input's length at 48 kHz (every accepted rate divides 48,000).
		final := preSkip + samples*int64(ogg.GranuleRate/f.rate)
		if eof && e.frames*frameGranules >= final {
			return samples, e.finish(f, read, samples, final)
		}
		if err := e.encodeFrame(e.raw[:n]); err != nil {
			return 0, err
		}
	}
}

func newEncoder(f wavFormat, out io.Writer) (*encoder, error) {
	enc, err := opus.NewEncoder(f.rate, 1, opus.AppVoIP)
	if err != nil {
		return nil, fmt.Errorf("opusenc: starting libopus: %v", err)
	}
	if err := enc.SetBitrate(Bitrate); err != nil {
		return nil, fmt.Errorf("opusenc: setting the bitrate: %v", err)
	}
	var serial [4]byte
	rand.Read(serial[:])
	e := &encoder{
		f:      f,
		opus:   enc,
		ogg:    ogg.NewWriter(out, binary.LittleEndian.Uint32(serial[:])),
		raw:    make([]byte, f.rate/framesPerSec*f.channels*bytesPerSample),
		pcm:    make([]int16, f.rate/framesPerSec),
		packet: make([]byte, maxPacketBytes),
	}
	// Each header packet alone on its page (RFC 7845 section 3).
	for _, p := range [][]byte{
		ogg.AppendOpusHead(nil, ogg.OpusHead{Channels: 1, PreSkip: preSkip}),
		ogg.AppendOpusTags(nil, vendor),
	} {
		if err := e.ogg.WritePacket(p, 0); err != nil {
			return nil, err
		}
		if err := e.ogg.Flush(); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// encodeFrame mixes one frame of WAV bytes (short at the end: the rest is
// silence) to mono, encodes it, and writes the packet held before it.
func (e *encoder) encodeFrame(raw []byte) error {
	clear(e.pcm)
	step := e.f.channels * bytesPerSample
	for i := 0; i+step <= len(raw); i += step {
		s := int32(int16(binary.LittleEndian.Uint16(raw[i:])))
		if e.f.channels == 2 {
			s = (s + int32(int16(binary.LittleEndian.Uint16(raw[i+2:])))) / 2
		}
		e.pcm[i/step] = int16(s)
	}
	n, err := e.opus.Encode(e.pcm, e.packet)
	if err != nil {
		return fmt.Errorf("opusenc: libopus: %v", err)
	}
	if e.held != nil {
		if err := e.write(e.held, e.frames*frameGranules); err != nil {
			return err
		}
	}
	e.held = append(e.held[:0], e.packet[:n]...)
	e.frames++
	return nil
}

func (e *encoder) write(packet []byte, granule int64) error {
	if e.ogg.Pending() >= packetsPerPage {
		if err := e.ogg.Flush(); err != nil {
			return err
		}
	}
	return e.ogg.WritePacket(packet, granule)
}

// finish writes the held packet with the end-trimmed final granule
// position on the end-of-stream page.
func (e *encoder) finish(f wavFormat, read, samples, final int64) error {
	switch {
	case f.dataSize >= 0 && read < f.dataSize:
		return fmt.Errorf("%w: WAV data is %d of %d bytes", media.ErrTruncated, read, f.dataSize)
	case samples == 0:
		return fmt.Errorf("%w: WAV holds no audio", media.ErrMalformed)
	}
	if err := e.write(e.held, final); err != nil {
		return err
	}
	return e.ogg.Close()
}
