// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

package opusenc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/core/media"
)

const frame = 20 * time.Millisecond

func TestEncodeWAVSine(t *testing.T) {
	for _, tc := range []struct{ rate, channels int }{{48000, 1}, {16000, 1}, {8000, 2}, {24000, 2}, {12000, 1}} {
		wav := sineWAV(tc.rate, tc.channels, 1500*time.Millisecond)
		var out bytes.Buffer
		info, err := EncodeWAV(bytes.NewReader(wav), &out)
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		parsed, err := media.ParseOggOpus(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("%+v: our own output: %v", tc, err)
		}
		if parsed != info {
			t.Errorf("%+v: EncodeWAV says %+v, ParseOggOpus %+v", tc, info, parsed)
		}
		if d := parsed.Duration - 1500*time.Millisecond; d < -frame || d > frame {
			t.Errorf("%+v: duration %v, want 1.5 s", tc, parsed.Duration)
		}
		if parsed.Channels != 1 || parsed.Size != int64(out.Len()) {
			t.Errorf("%+v: %+v", tc, parsed)
		}
		// 24 kbit/s for 1.5 s is 4.5 kB of audio, plus Ogg framing.
		if out.Len() < 2000 || out.Len() > 8000 {
			t.Errorf("%+v: %d bytes for 1.5 s", tc, out.Len())
		}
		t.Logf("%d Hz × %d: %d bytes of WAV → %d bytes of Ogg Opus, %v", tc.rate, tc.channels, len(wav), out.Len(), parsed.Duration)
	}
}

// TestEncodeWAVInterop has opus-tools check our output: opusinfo validates
// the stream, opusdec decodes it and must give exactly 1.5 s at 48 kHz
// (pre-skip and end trimming honoured).
func TestEncodeWAVInterop(t *testing.T) {
	if _, err := exec.LookPath("opusdec"); err != nil {
		t.Skip("opus-tools not installed (make deps installs it)")
	}
	dir := t.TempDir()
	var out bytes.Buffer
	if _, err := EncodeWAV(bytes.NewReader(sineWAV(16000, 1, 1500*time.Millisecond)), &out); err != nil {
		t.Fatal(err)
	}
	opus := filepath.Join(dir, "clip.opus")
	if err := os.WriteFile(opus, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	info, err := exec.Command("opusinfo", opus).CombinedOutput()
	if err != nil || bytes.Contains(info, []byte("WARNING")) || !bytes.Contains(info, []byte("Playback length: 0m:01.5")) {
		t.Fatalf("opusinfo: %v\n%s", err, info)
	}
	decoded := filepath.Join(dir, "clip.wav")
	if msg, err := exec.Command("opusdec", "--quiet", opus, decoded).CombinedOutput(); err != nil {
		t.Fatalf("opusdec: %v\n%s", err, msg)
	}
	wav, err := os.ReadFile(decoded)
	if err != nil {
		t.Fatal(err)
	}
	f, err := readWAVHeader(bytes.NewReader(wav))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.dataSize / int64(f.channels*bytesPerSample); f.rate != 48000 || got != 72000 {
		t.Fatalf("opusdec gave %d samples at %d Hz, want 72000 at 48000", got, f.rate)
	}
}

// TestParseOpusToolsOutput checks media.ParseOggOpus on a file from an
// independent Ogg writer (opus-tools' opusenc).
func TestParseOpusToolsOutput(t *testing.T) {
	if _, err := exec.LookPath("opusenc"); err != nil {
		t.Skip("opus-tools not installed (make deps installs it)")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.wav")
	if err := os.WriteFile(in, sineWAV(48000, 2, 1500*time.Millisecond), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.opus")
	if msg, err := exec.Command("opusenc", "--quiet", in, out).CombinedOutput(); err != nil {
		t.Fatalf("opusenc: %v\n%s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	info, err := media.ParseOggOpus(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if info.Duration != 1500*time.Millisecond || info.Channels != 2 || info.InputRate != 48000 {
		t.Fatalf("%+v", info)
	}
}

func TestEncodeWAVRefuses(t *testing.T) {
	good := sineWAV(16000, 1, 100*time.Millisecond)
	patch := func(off int, v ...byte) []byte {
		b := bytes.Clone(good)
		copy(b[off:], v)
		return b
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want error
		text string
	}{
		{"not WAV", []byte("OggS\x00\x02 and more bytes"), media.ErrUnsupported, "not a WAV"},
		{"float", patch(20, 3, 0), media.ErrUnsupported, "format 0x0003"},
		{"8-bit", patch(34, 8, 0), media.ErrUnsupported, "8-bit"},
		{"3 channels", patch(22, 3, 0), media.ErrUnsupported, "3 channels"},
		{"44.1 kHz", patch(24, 0x44, 0xac, 0, 0), media.ErrUnsupported, "44100 Hz"},
		{"truncated data", good[:len(good)-100], media.ErrTruncated, "of 3200 bytes"},
		{"truncated header", good[:30], media.ErrTruncated, "cut short"},
		{"no samples", sineWAV(16000, 1, 0), media.ErrMalformed, "no audio"},
	} {
		var out bytes.Buffer
		_, err := EncodeWAV(bytes.NewReader(tc.in), &out)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: %v, want %v naming %q", tc.name, err, tc.want, tc.text)
		}
		if out.Len() != 0 {
			t.Errorf("%s: %d bytes written on error", tc.name, out.Len())
		}
	}
}

func TestEncodeWAVTooLong(t *testing.T) {
	// A header claiming 16 minutes is refused before any sample is read.
	wav := sineWAV(8000, 1, 0)
	binary.LittleEndian.PutUint32(wav[40:], uint32(16*60*8000*bytesPerSample))
	if _, err := EncodeWAV(bytes.NewReader(wav), &bytes.Buffer{}); !errors.Is(err, media.ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
}

// sineWAV is a 440 Hz sine at half scale as a 16-bit PCM WAV.
func sineWAV(rate, channels int, d time.Duration) []byte {
	n := int(d * time.Duration(rate) / time.Second)
	data := make([]byte, 0, n*channels*bytesPerSample)
	for i := range n {
		s := int16(16384 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
		for range channels {
			data = binary.LittleEndian.AppendUint16(data, uint16(s))
		}
	}
	le := binary.LittleEndian
	h := []byte("RIFF")
	h = le.AppendUint32(h, uint32(36+len(data)))
	h = append(h, "WAVEfmt "...)
	h = le.AppendUint32(h, fmtSize)
	h = le.AppendUint16(h, formatPCM)
	h = le.AppendUint16(h, uint16(channels))
	h = le.AppendUint32(h, uint32(rate))
	h = le.AppendUint32(h, uint32(rate*channels*bytesPerSample))
	h = le.AppendUint16(h, uint16(channels*bytesPerSample))
	h = le.AppendUint16(h, 8*bytesPerSample)
	h = append(h, "data"...)
	h = le.AppendUint32(h, uint32(len(data)))
	return append(h, data...)
}
