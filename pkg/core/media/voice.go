// SPDX-License-Identifier: AGPL-3.0-or-later

package media

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hushchat/hush/pkg/core/media/internal/ogg"
)

// Bounds on voice clips.
const (
	MaxVoiceBytes    = 16 << 20 // 16 MiB: 15 min at 24 kbit/s is 2.7 MB; leaves room for higher rates
	MaxVoiceDuration = 15 * time.Minute
	// maxTagsBytes bounds the comment header, the one packet held whole in
	// memory; a voice clip has no use for cover art.
	maxTagsBytes = 1 << 20
	// maxGranule is MaxVoiceDuration in 48 kHz samples.
	maxGranule = int64(MaxVoiceDuration/time.Second) * ogg.GranuleRate
)

// VoiceInfo describes a voice clip.
type VoiceInfo struct {
	Duration  time.Duration // playing time, after pre-skip and end trimming
	Channels  int           // 1 or 2 for the clips Hush makes
	InputRate int           // the sample rate the audio was recorded at, Hz; 0 if not stated (Opus plays at 48 kHz)
	Size      int64         // bytes of the Ogg file
}

// ParseOggOpus reads a whole Ogg Opus file (RFC 7845) from r and returns
// what it holds. It checks every page's CRC, that the file is one logical
// stream starting with OpusHead and OpusTags and ending with an
// end-of-stream page, that page sequence numbers have no gaps and granule
// positions do not go back, and the bounds MaxVoiceBytes and
// MaxVoiceDuration. It reads page by page and holds at most one page and
// the comment header.
func ParseOggOpus(r io.Reader) (VoiceInfo, error) {
	cr := &countingReader{r: io.LimitReader(r, MaxVoiceBytes+1)}
	var v voiceParser
	var buf []byte
	for {
		var page *ogg.Page
		var err error
		page, buf, err = ogg.ReadPage(cr, buf)
		if cr.n > MaxVoiceBytes {
			return VoiceInfo{}, fmt.Errorf("%w: voice clip is over %d bytes", ErrTooLarge, MaxVoiceBytes)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return VoiceInfo{}, v.pageError(err, cr.head)
		}
		if err := v.page(page); err != nil {
			return VoiceInfo{}, err
		}
	}
	info, err := v.finish()
	info.Size = cr.n
	return info, err
}

// countingReader counts the bytes read and keeps the first sniffLen of
// them, to name what the input was if it is not Ogg.
type countingReader struct {
	r    io.Reader
	n    int64
	head []byte
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if keep := min(sniffLen-len(c.head), n); keep > 0 {
		c.head = append(c.head, p[:keep]...)
	}
	c.n += int64(n)
	return n, err
}

// voiceParser follows the stream page by page.
type voiceParser struct {
	pages    int
	serial   uint32
	head     ogg.OpusHead
	tags     []byte // the comment header while it is assembled
	tagsDone bool
	open     bool  // the last page ended inside a packet
	granule  int64 // the last granule position seen
	eos      bool
}

func (v *voiceParser) pageError(err error, head []byte) error {
	switch {
	case errors.Is(err, ogg.ErrNotOgg) && v.pages == 0:
		return fmt.Errorf("%w: not an Ogg file: %s", ErrUnsupported, describe(head))
	case errors.Is(err, ogg.ErrNotOgg):
		return fmt.Errorf("%w: page %d does not start with OggS", ErrMalformed, v.pages)
	case errors.Is(err, ogg.ErrTruncated):
		return fmt.Errorf("%w: %v", ErrTruncated, err)
	case errors.Is(err, ogg.ErrCRC):
		return fmt.Errorf("%w (page %d)", ErrChecksum, v.pages)
	default:
		return fmt.Errorf("%w: page %d: %v", ErrMalformed, v.pages, err)
	}
}

func (v *voiceParser) page(p *ogg.Page) error {
	defer func() { v.pages++ }()
	if err := v.checkFraming(p); err != nil {
		return err
	}
	pieces, complete := p.Segments()
	switch {
	case v.pages == 0:
		return v.headPage(p, pieces, complete)
	case !v.tagsDone:
		return v.tagsPage(pieces, complete)
	}
	v.open = !complete
	if p.Granule == ogg.NoGranule {
		return nil
	}
	if p.Granule < v.granule {
		return fmt.Errorf("%w: granule position goes back on page %d", ErrMalformed, v.pages)
	}
	if p.Granule-int64(v.head.PreSkip) > maxGranule {
		return fmt.Errorf("%w: voice clip is longer than %v", ErrTooLarge, MaxVoiceDuration)
	}
	v.granule = p.Granule
	return nil
}

// checkFraming checks what every page must satisfy: one stream, no gaps,
// continuation flags that match, nothing after the end of the stream.
func (v *voiceParser) checkFraming(p *ogg.Page) error {
	if v.pages == 0 {
		if p.Flags&ogg.FlagBOS == 0 {
			return fmt.Errorf("%w: the first page is not a beginning-of-stream page", ErrMalformed)
		}
		v.serial = p.Serial
		return v.checkSequence(p)
	}
	if p.Serial != v.serial || p.Flags&ogg.FlagBOS != 0 {
		return fmt.Errorf("%w: more than one logical stream (a voice clip has exactly one)", ErrUnsupported)
	}
	if v.eos {
		return fmt.Errorf("%w: data after the end-of-stream page", ErrMalformed)
	}
	if continued := p.Flags&ogg.FlagContinued != 0; continued != v.open {
		return fmt.Errorf("%w: page %d continuation flag does not match the previous page", ErrMalformed, v.pages)
	}
	v.eos = p.Flags&ogg.FlagEOS != 0
	return v.checkSequence(p)
}

func (v *voiceParser) checkSequence(p *ogg.Page) error {
	if p.Sequence != uint32(v.pages) {
		return fmt.Errorf("%w: page %d has sequence number %d (a page is missing or out of order)", ErrMalformed, v.pages, p.Sequence)
	}
	return nil
}

// headPage checks the first page: OpusHead alone and complete.
func (v *voiceParser) headPage(p *ogg.Page, pieces [][]byte, complete bool) error {
	if len(pieces) == 0 {
		return fmt.Errorf("%w: the first page is empty", ErrMalformed)
	}
	head, err := ogg.ParseOpusHead(pieces[0])
	if errors.Is(err, ogg.ErrNotOpus) {
		return fmt.Errorf("%w: Ogg file holding %s, not Opus", ErrUnsupported, oggCodec(pieces[0]))
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(pieces) != 1 || !complete || p.Granule != 0 || p.Flags&ogg.FlagEOS != 0 {
		return fmt.Errorf("%w: OpusHead must be alone on the first page", ErrMalformed)
	}
	v.head = head
	return nil
}

// tagsPage collects the comment header, which must end its last page.
func (v *voiceParser) tagsPage(pieces [][]byte, complete bool) error {
	if len(pieces) == 0 {
		return fmt.Errorf("%w: empty page inside the comment header", ErrMalformed)
	}
	if len(pieces) > 1 {
		return fmt.Errorf("%w: audio shares a page with the comment header", ErrMalformed)
	}
	v.tags = append(v.tags, pieces[0]...)
	if len(v.tags) > maxTagsBytes {
		return fmt.Errorf("%w: comment header is over %d bytes", ErrTooLarge, maxTagsBytes)
	}
	v.open = !complete
	if !complete {
		return nil
	}
	if err := ogg.CheckOpusTags(v.tags); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	v.tags, v.tagsDone = nil, true
	return nil
}

// finish checks the stream ended properly and computes the duration.
func (v *voiceParser) finish() (VoiceInfo, error) {
	switch {
	case v.pages == 0:
		return VoiceInfo{}, fmt.Errorf("%w: empty input", ErrTruncated)
	case !v.tagsDone:
		return VoiceInfo{}, fmt.Errorf("%w: the file ends inside its headers", ErrTruncated)
	case !v.eos:
		return VoiceInfo{}, fmt.Errorf("%w: no end-of-stream page", ErrTruncated)
	case v.granule <= int64(v.head.PreSkip):
		return VoiceInfo{}, fmt.Errorf("%w: voice clip holds no audio", ErrMalformed)
	}
	samples := v.granule - int64(v.head.PreSkip)
	return VoiceInfo{
		Duration:  time.Duration(samples) * time.Second / ogg.GranuleRate,
		Channels:  v.head.Channels,
		InputRate: int(v.head.InputRate),
	}, nil
}

// oggCodec names the codec of a first packet that is not OpusHead.
func oggCodec(p []byte) string {
	for _, c := range []struct{ magic, name string }{
		{"\x01vorbis", "Vorbis"}, {"Speex   ", "Speex"}, {"\x7fFLAC", "FLAC"},
		{"\x80theora", "Theora"}, {"OggMIDI", "MIDI"}, {"\x80kate", "Kate"},
	} {
		if bytes.HasPrefix(p, []byte(c.magic)) {
			return c.name
		}
	}
	return "an unknown codec"
}
