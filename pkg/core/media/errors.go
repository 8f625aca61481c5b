// SPDX-License-Identifier: AGPL-3.0-or-later

package media

import "errors"

// Errors returned by SanitizeImage and ParseOggOpus (and by opusenc). Each
// is wrapped with a message that names what was found; callers branch on
// them with errors.Is.
var (
	// ErrUnsupported: the input is of a kind this package does not take
	// (not JPEG, PNG or WebP; not Ogg; Ogg but not Opus; several streams).
	ErrUnsupported = errors.New("media: unsupported format")
	// ErrTooLarge: too many bytes, pixels or seconds.
	ErrTooLarge = errors.New("media: too large")
	// ErrTruncated: the input ends early.
	ErrTruncated = errors.New("media: file is truncated")
	// ErrChecksum: a voice clip page fails its CRC (the file is damaged).
	ErrChecksum = errors.New("media: checksum mismatch, the file is damaged")
	// ErrMalformed: the input claims a supported format but breaks its rules.
	ErrMalformed = errors.New("media: malformed file")
)
