// SPDX-License-Identifier: AGPL-3.0-or-later

package media

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/core/media/internal/ogg"
)

// tagsWithComments is an OpusTags packet as a phone's recorder writes one.
func tagsWithComments(vendor string, comments ...string) []byte {
	b := []byte("OpusTags")
	b = binary.LittleEndian.AppendUint32(b, uint32(len(vendor)))
	b = append(b, vendor...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(comments)))
	for _, c := range comments {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(c)))
		b = append(b, c...)
	}
	return b
}

// withTags replaces a clip's comment header page with one holding tags.
func withTags(t *testing.T, clip []byte, tags []byte) []byte {
	t.Helper()
	ps := pages(t, clip)
	page, _, err := ogg.ReadPage(bytes.NewReader(ps[1]), nil)
	if err != nil {
		t.Fatal(err)
	}
	lacing := bytes.Repeat([]byte{255}, len(tags)/255)
	page.Lacing, page.Data = append(lacing, byte(len(tags)%255)), tags
	out := append([]byte{}, ps[0]...)
	out = ogg.AppendPage(out, page)
	for _, p := range ps[2:] {
		out = append(out, p...)
	}
	return out
}

// audioPackets returns a stream's packets after its two headers.
func audioPackets(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	var cur []byte
	for i, p := range pages(t, b) {
		page, _, err := ogg.ReadPage(bytes.NewReader(p), nil)
		if err != nil {
			t.Fatal(err)
		}
		pieces, complete := page.Segments()
		for j, piece := range pieces {
			cur = append(cur, piece...)
			if j < len(pieces)-1 || complete {
				if i >= 2 {
					out = append(out, cur)
				}
				cur = nil
			}
		}
	}
	return out
}

func TestSanitizeOggOpusStripsTags(t *testing.T) {
	orig := withTags(t, clip1500ms.bytes(t), tagsWithComments("libopus 1.3.1 (Pixel 7, Recorder 4.2)",
		"TITLE=Meeting at the station", "LOCATION=48.8584,2.2945", "DATE=2026-11-21"))
	if _, err := ParseOggOpus(bytes.NewReader(orig)); err != nil {
		t.Fatalf("the test clip is not valid: %v", err)
	}
	out, info, err := SanitizeOggOpus(bytes.NewReader(orig))
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"Pixel", "libopus", "LOCATION", "48.8584", "Meeting", "DATE="} {
		if strings.Contains(string(out), leak) {
			t.Errorf("sanitised clip still contains %q", leak)
		}
	}
	if !strings.Contains(string(out), SanitizedVendor) {
		t.Error("sanitised clip lacks the Hush vendor string")
	}
	back, err := ParseOggOpus(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("sanitised clip does not parse: %v", err)
	}
	if back.Duration != 1500*time.Millisecond || back.InputRate != 0 || info != back {
		t.Errorf("sanitised info %+v, parsed back %+v", info, back)
	}
	a, b := audioPackets(t, orig), audioPackets(t, out)
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("%d audio packets became %d", len(a), len(b))
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("audio packet %d changed", i)
		}
	}
	origSerial := binary.LittleEndian.Uint32(orig[14:18])
	if binary.LittleEndian.Uint32(out[14:18]) == origSerial {
		t.Error("the stream serial was kept")
	}
}

func TestSanitizeOggOpusLongTags(t *testing.T) {
	c := clip1500ms
	c.vendor = strings.Repeat("v", 3*ogg.MaxPageData/2) // spans pages
	c.samples = 48000 * 7 / 4
	out, _, err := SanitizeOggOpus(bytes.NewReader(multiPageTags(t, c)))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("vvvv")) {
		t.Fatal("the long vendor string survived")
	}
	if _, err := ParseOggOpus(bytes.NewReader(out)); err != nil {
		t.Fatal(err)
	}
}

func TestSanitizeOggOpusRefusesWhatParseRefuses(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("RIFF....WAVEfmt "), clip1500ms.bytes(t)[:200]} {
		if _, _, err := SanitizeOggOpus(bytes.NewReader(in)); err == nil {
			t.Errorf("sanitised %q…", in[:min(len(in), 8)])
		}
	}
}
