// SPDX-License-Identifier: AGPL-3.0-or-later

package media

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/core/media/internal/ogg"
)

// oggClip describes a synthetic Ogg Opus file. The audio packets are fake
// (the parser does not decode Opus), but every page is real.
type oggClip struct {
	preSkip  int
	samples  int64 // after pre-skip, at 48 kHz
	vendor   string
	first    []byte // replaces OpusHead if set
	serial   uint32
	noEOS    bool
	perPage  int
	packetSz int
}

func (c oggClip) bytes(t testing.TB) []byte {
	t.Helper()
	var out bytes.Buffer
	w := ogg.NewWriter(&out, c.serial)
	head := c.first
	if head == nil {
		head = ogg.AppendOpusHead(nil, ogg.OpusHead{Channels: 1, PreSkip: c.preSkip, InputRate: 16000})
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.WritePacket(head, 0))
	must(w.Flush())
	must(w.WritePacket(ogg.AppendOpusTags(nil, c.vendor), 0))
	must(w.Flush())
	final := int64(c.preSkip) + c.samples
	packet := bytes.Repeat([]byte{0x78}, max(1, c.packetSz))
	for g := int64(960); ; g += 960 {
		if w.Pending() >= max(1, c.perPage) {
			must(w.Flush())
		}
		last := g >= final
		must(w.WritePacket(packet, min(g, final)))
		if last {
			break
		}
	}
	if c.noEOS {
		must(w.Flush())
	} else {
		must(w.Close())
	}
	return out.Bytes()
}

var clip1500ms = oggClip{preSkip: 312, samples: 72000, vendor: "test", serial: 7, perPage: 10, packetSz: 60}

// pages splits a stream into its encoded pages.
func pages(t testing.TB, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for r := bytes.NewReader(b); r.Len() > 0; {
		before := r.Len()
		if _, _, err := ogg.ReadPage(r, nil); err != nil {
			t.Fatal(err)
		}
		out = append(out, b[len(b)-before:len(b)-r.Len()])
	}
	return out
}

func TestParseOggOpus(t *testing.T) {
	in := clip1500ms.bytes(t)
	info, err := ParseOggOpus(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := VoiceInfo{Duration: 1500 * time.Millisecond, Channels: 1, InputRate: 16000, Size: int64(len(in))}
	if info != want {
		t.Fatalf("got %+v, want %+v", info, want)
	}
}

func TestParseOggOpusLongCommentHeader(t *testing.T) {
	c := clip1500ms
	c.vendor = strings.Repeat("v", 3*ogg.MaxPageData/2) // does not fit one page
	c.samples = 48000 * 7 / 4
	in := multiPageTags(t, c)
	info, err := ParseOggOpus(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if info.Duration != 1750*time.Millisecond {
		t.Fatalf("duration %v", info.Duration)
	}
}

// multiPageTags builds a stream whose comment header spans two pages, by
// hand: the Writer never splits packets.
func multiPageTags(t testing.TB, c oggClip) []byte {
	t.Helper()
	tags := ogg.AppendOpusTags(nil, c.vendor)
	split := ogg.MaxPageData
	var out []byte
	out = ogg.AppendPage(out, &ogg.Page{Flags: ogg.FlagBOS, Serial: 1, Lacing: []byte{19},
		Data: ogg.AppendOpusHead(nil, ogg.OpusHead{Channels: 2, PreSkip: c.preSkip})})
	out = ogg.AppendPage(out, &ogg.Page{Granule: ogg.NoGranule, Serial: 1, Sequence: 1,
		Lacing: bytes.Repeat([]byte{255}, 255), Data: tags[:split]})
	rest := tags[split:]
	lacing := bytes.Repeat([]byte{255}, len(rest)/255)
	lacing = append(lacing, byte(len(rest)%255))
	out = ogg.AppendPage(out, &ogg.Page{Flags: ogg.FlagContinued, Serial: 1, Sequence: 2, Lacing: lacing, Data: rest})
	final := int64(c.preSkip) + c.samples
	out = ogg.AppendPage(out, &ogg.Page{Flags: ogg.FlagEOS, Granule: final, Serial: 1, Sequence: 3,
		Lacing: []byte{3, 3}, Data: []byte("abcdef")})
	return out
}

func TestParseOggOpusBitFlips(t *testing.T) {
	in := clip1500ms.bytes(t)
	for i := range len(in) * 8 {
		b := bytes.Clone(in)
		b[i/8] ^= 1 << (i % 8)
		info, err := ParseOggOpus(bytes.NewReader(b))
		if err == nil {
			t.Fatalf("flip of bit %d accepted: %+v", i, info)
		}
		if !isSentinel(err) {
			t.Fatalf("flip of bit %d: %v is no sentinel", i, err)
		}
	}
	// A flip in the audio data is caught by the CRC.
	ps := pages(t, in)
	off := len(ps[0]) + len(ps[1]) + len(ps[2]) - 5
	b := bytes.Clone(in)
	b[off] ^= 0x10
	if _, err := ParseOggOpus(bytes.NewReader(b)); !errors.Is(err, ErrChecksum) {
		t.Fatalf("flip in page 2's data: %v, want ErrChecksum", err)
	}
}

func TestParseOggOpusTruncated(t *testing.T) {
	in := clip1500ms.bytes(t)
	for n := range len(in) {
		_, err := ParseOggOpus(bytes.NewReader(in[:n]))
		if !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut to %d of %d bytes: %v, want ErrTruncated", n, len(in), err)
		}
	}
	c := clip1500ms
	c.noEOS = true
	if _, err := ParseOggOpus(bytes.NewReader(c.bytes(t))); !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "end-of-stream") {
		t.Fatalf("no EOS page: %v", err)
	}
}

func TestParseOggOpusRefuses(t *testing.T) {
	vorbis := clip1500ms
	vorbis.first = append([]byte("\x01vorbis"), make([]byte, 22)...)
	good := clip1500ms.bytes(t)
	ps := pages(t, good)
	other := clip1500ms
	other.serial = 99
	otherPages := pages(t, other.bytes(t))
	long := clip1500ms
	long.samples = int64(MaxVoiceDuration/time.Second)*48000 + 960
	long.perPage = 200
	long.packetSz = 1
	empty := clip1500ms
	empty.samples = 0

	join := func(p ...[]byte) []byte { return bytes.Join(p, nil) }
	for _, tc := range []struct {
		name string
		in   []byte
		want error
		text string
	}{
		{"garbage", []byte("this is not an audio file at all"), ErrUnsupported, "not an Ogg file"},
		{"WAV", []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00"), ErrUnsupported, "WAV"},
		{"Vorbis", vorbis.bytes(t), ErrUnsupported, "Vorbis"},
		{"multiplexed", join(ps[0], otherPages[0], ps[1]), ErrUnsupported, "more than one logical stream"},
		{"chained", join(good, otherPages[0]), ErrUnsupported, "more than one logical stream"},
		{"page missing", join(ps[0], ps[1], ps[3]), ErrMalformed, "missing"},
		{"too long", long.bytes(t), ErrTooLarge, "longer than"},
		{"no audio", empty.bytes(t), ErrMalformed, "no audio"},
	} {
		_, err := ParseOggOpus(bytes.NewReader(tc.in))
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: %v, want %v naming %q", tc.name, err, tc.want, tc.text)
		}
	}
}

func TestParseOggOpusTooManyBytes(t *testing.T) {
	c := clip1500ms
	c.packetSz = 4000
	c.perPage = 16
	c.samples = int64(MaxVoiceBytes/4000+10) * 960
	in := c.bytes(t)
	if _, err := ParseOggOpus(bytes.NewReader(in)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("%d bytes: %v, want ErrTooLarge", len(in), err)
	}
}
