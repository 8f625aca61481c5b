// SPDX-License-Identifier: AGPL-3.0-or-later

package media

import (
	"bytes"
	"fmt"
)

// sniffLen is how many leading bytes are looked at to name a format.
const sniffLen = 16

type imageFormat int

const (
	formatUnknown imageFormat = iota
	formatJPEG
	formatPNG
	formatWebP
)

const (
	jpegMagic = "\xff\xd8\xff"
	pngMagic  = "\x89PNG\r\n\x1a\n"
)

// sniffImage recognises the three image formats SanitizeImage takes, from
// the bytes alone.
func sniffImage(head []byte) imageFormat {
	switch {
	case bytes.HasPrefix(head, []byte(jpegMagic)):
		return formatJPEG
	case bytes.HasPrefix(head, []byte(pngMagic)):
		return formatPNG
	case isRIFF(head, "WEBP"):
		return formatWebP
	}
	return formatUnknown
}

// IsWAV reports whether head, the first 12 bytes or more of a file,
// starts a RIFF/WAVE file: a recording to encode, not a clip to check.
func IsWAV(head []byte) bool { return isRIFF(head, "WAVE") }

func isRIFF(head []byte, kind string) bool {
	return len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == kind
}

// describe names what the input looks like, for error messages.
func describe(head []byte) string {
	head = head[:min(len(head), sniffLen)]
	if len(head) == 0 {
		return "empty input"
	}
	for _, m := range magics {
		if bytes.HasPrefix(head, []byte(m.magic)) {
			return m.name
		}
	}
	switch {
	case IsWAV(head):
		return "a WAV file"
	case isRIFF(head, "AVI "):
		return "an AVI video"
	case isRIFF(head, "WEBP"):
		return "a WebP image"
	case len(head) >= 12 && string(head[4:8]) == "ftyp":
		return isoBrand(string(head[8:12]))
	}
	return fmt.Sprintf("unrecognised data starting %x", head[:min(len(head), 8)])
}

var magics = []struct{ magic, name string }{
	{jpegMagic, "a JPEG image"},
	{pngMagic, "a PNG image"},
	{"GIF87a", "a GIF image"},
	{"GIF89a", "a GIF image"},
	{"BM", "a BMP image"},
	{"II*\x00", "a TIFF image"},
	{"MM\x00*", "a TIFF image"},
	{"\x00\x00\x01\x00", "an ICO image"},
	{"8BPS", "a Photoshop file"},
	{"%PDF-", "a PDF document"},
	{"OggS", "an Ogg file"},
	{"ID3", "an MP3 file"},
	{"fLaC", "a FLAC file"},
	{"\x1a\x45\xdf\xa3", "a Matroska/WebM file"},
	{"PK\x03\x04", "a ZIP archive"},
	{"<svg", "an SVG image"},
	{"<?xml", "an XML document"},
}

// isoBrand names an ISO base media file (HEIF, AVIF, MP4) by its brand.
func isoBrand(brand string) string {
	switch brand {
	case "heic", "heix", "heim", "heis", "mif1", "msf1":
		return "a HEIF/HEIC image"
	case "avif", "avis":
		return "an AVIF image"
	}
	return "an MP4/QuickTime file"
}
