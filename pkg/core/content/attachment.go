// SPDX-License-Identifier: AGPL-3.0-or-later

package content

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/mailbox"
)

// Limits on what attachment messages carry.
const (
	// MaxAttachmentSize bounds the size a pointer may claim. The client's
	// configurable limit (1 GiB by default) is lower.
	MaxAttachmentSize = 1 << 40
	// MaxFileName is the longest file name, in bytes of UTF-8.
	MaxFileName = 255
	// MaxMIMEType is the longest MIME type.
	MaxMIMEType = 127
	// MaxRelays bounds the relays one attachment is spread over.
	MaxRelays = 16
	// MaxCaption is the longest caption, in bytes of UTF-8.
	MaxCaption = 2048
	// MaxThumbnail is the largest inline thumbnail.
	MaxThumbnail = 8 << 10
	// MaxImageSide bounds an image's declared width and height.
	MaxImageSide = 1 << 16
	// MaxVoiceDuration bounds a voice clip's declared duration.
	MaxVoiceDuration = time.Hour
)

// Attachment points to an encrypted attachment: how to fetch, decrypt and
// check it.
type Attachment struct {
	Key      attach.Key    // must be kept secret
	Digest   attach.Digest // checked after the last chunk
	Size     int64         // plaintext bytes
	MIMEType string
	FileName string            // a bare name, no directories; may be empty
	Relays   []mailbox.RelayID // where the chunks are; empty until uploaded
}

// Image is a picture: its attachment is the re-encoded image, without
// metadata; the thumbnail travels inline.
type Image struct {
	Attachment    Attachment
	Width, Height int
	Thumbnail     []byte // JPEG
	Caption       string
}

// File is any file.
type File struct {
	Attachment Attachment
	Caption    string
}

// VoiceClip is an Ogg/Opus recording.
type VoiceClip struct {
	Attachment Attachment
	Duration   time.Duration // millisecond precision
}

func (Image) body()     {}
func (File) body()      {}
func (VoiceClip) body() {}

func (a *Attachment) check() error {
	if _, err := attach.KeyFromBytes(a.Key.Bytes()); err != nil {
		return malformed("attachment key: %v", err)
	}
	if a.Size < 0 || a.Size > MaxAttachmentSize {
		return malformed("attachment size %d out of range", a.Size)
	}
	if err := checkMIMEType(a.MIMEType); err != nil {
		return err
	}
	if err := CheckFileName(a.FileName); err != nil {
		return err
	}
	if len(a.Relays) > MaxRelays {
		return malformed("attachment on %d relays, at most %d", len(a.Relays), MaxRelays)
	}
	for _, r := range a.Relays {
		if r.IsZero() {
			return malformed("attachment relay is zero")
		}
	}
	return nil
}

// CheckFileName refuses a file name that could escape the directory it is
// saved in or disguise itself: path separators, "." and "..", control and
// bidirectional-override characters, invalid UTF-8, over MaxFileName
// bytes. The empty name is allowed (the client picks one).
func CheckFileName(name string) error {
	switch {
	case len(name) > MaxFileName:
		return malformed("file name is %d bytes, at most %d", len(name), MaxFileName)
	case !utf8.ValidString(name):
		return malformed("file name is not UTF-8")
	case name == "." || name == "..":
		return malformed("file name %q", name)
	case strings.ContainsAny(name, `/\`):
		return malformed("file name contains a path separator")
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return malformed("file name contains control character %U", r)
		}
	}
	return nil
}

// checkMIMEType accepts "type/subtype" with an optional parameter list, in
// printable ASCII.
func checkMIMEType(t string) error {
	if t == "" {
		return nil
	}
	if len(t) > MaxMIMEType {
		return malformed("MIME type is %d bytes, at most %d", len(t), MaxMIMEType)
	}
	main, _, _ := strings.Cut(t, ";")
	typ, sub, ok := strings.Cut(strings.TrimSpace(main), "/")
	if !ok || typ == "" || sub == "" {
		return malformed("MIME type %q is not type/subtype", t)
	}
	for _, c := range []byte(t) {
		if c < 0x20 || c > 0x7e {
			return malformed("MIME type contains byte %#x", c)
		}
	}
	return nil
}

func checkCaption(s string) error {
	if len(s) > MaxCaption {
		return malformed("caption is %d bytes, at most %d", len(s), MaxCaption)
	}
	if !utf8.ValidString(s) {
		return malformed("caption is not UTF-8")
	}
	return nil
}

func (m *Image) check() error {
	if err := m.Attachment.check(); err != nil {
		return err
	}
	if m.Width <= 0 || m.Height <= 0 || m.Width > MaxImageSide || m.Height > MaxImageSide {
		return malformed("image size %dx%d out of range", m.Width, m.Height)
	}
	if len(m.Thumbnail) > MaxThumbnail {
		return malformed("thumbnail is %d bytes, at most %d", len(m.Thumbnail), MaxThumbnail)
	}
	return checkCaption(m.Caption)
}

func (m *File) check() error {
	if err := m.Attachment.check(); err != nil {
		return err
	}
	return checkCaption(m.Caption)
}

func (m *VoiceClip) check() error {
	if err := m.Attachment.check(); err != nil {
		return err
	}
	if m.Duration <= 0 || m.Duration > MaxVoiceDuration {
		return malformed("voice clip duration %v out of range", m.Duration)
	}
	return nil
}
