// SPDX-License-Identifier: AGPL-3.0-or-later

package media

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/hushchat/hush/pkg/core/media/internal/ogg"
)

// SanitizedVendor is the vendor string of every voice clip Hush sends.
const SanitizedVendor = "Hush"

// SanitizeOggOpus checks a voice clip as ParseOggOpus does and rewrites it
// so that only the audio is left: a fresh random stream serial, an
// OpusHead that states no input sample rate, an OpusTags with vendor
// "Hush" and no comments, and the audio pages as they were (renumbered,
// with new checksums). The original's encoder and version, its comments
// (titles, dates, places, pictures), its input rate and its serial never
// leave the device.
func SanitizeOggOpus(r io.Reader) ([]byte, VoiceInfo, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxVoiceBytes+1))
	if err != nil {
		return nil, VoiceInfo{}, fmt.Errorf("media: read voice clip: %w", err)
	}
	info, err := ParseOggOpus(bytes.NewReader(data))
	if err != nil {
		return nil, VoiceInfo{}, err
	}
	var serialBytes [4]byte
	if _, err := rand.Read(serialBytes[:]); err != nil {
		return nil, VoiceInfo{}, fmt.Errorf("media: read randomness: %w", err)
	}
	out, err := remux(data, binary.BigEndian.Uint32(serialBytes[:]))
	if err != nil {
		return nil, VoiceInfo{}, err
	}
	info.InputRate, info.Size = 0, int64(len(out))
	return out, info, nil
}

// remux rewrites a stream ParseOggOpus accepted.
func remux(data []byte, serial uint32) ([]byte, error) {
	var out, buf []byte
	r := bytes.NewReader(data)
	seq := uint32(0)
	inTags := true
	for i := 0; ; i++ {
		page, b, err := ogg.ReadPage(r, buf)
		buf = b
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		switch {
		case i == 0:
			pieces, _ := page.Segments()
			head, err := ogg.ParseOpusHead(pieces[0])
			if err != nil {
				return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
			}
			head.InputRate = 0
			out = appendPacketPage(out, ogg.FlagBOS, 0, serial, seq, ogg.AppendOpusHead(nil, head))
			seq++
		case inTags:
			// The comment header may span pages; its last page ends it.
			if _, complete := page.Segments(); complete {
				out = appendPacketPage(out, 0, 0, serial, seq, ogg.AppendOpusTags(nil, SanitizedVendor))
				seq++
				inTags = false
			}
		default:
			p := *page
			p.Serial, p.Sequence = serial, seq
			p.Flags &^= ogg.FlagBOS
			out = ogg.AppendPage(out, &p)
			seq++
		}
	}
}

// appendPacketPage appends a page holding exactly one packet.
func appendPacketPage(dst []byte, flags byte, granule int64, serial, seq uint32, packet []byte) []byte {
	lacing := bytes.Repeat([]byte{255}, len(packet)/255)
	lacing = append(lacing, byte(len(packet)%255))
	return ogg.AppendPage(dst, &ogg.Page{Flags: flags, Granule: granule, Serial: serial, Sequence: seq, Lacing: lacing, Data: packet})
}
