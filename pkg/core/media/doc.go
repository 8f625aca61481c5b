// SPDX-License-Identifier: AGPL-3.0-or-later

// Package media prepares what a user attaches before it is encrypted:
// images are stripped of every piece of metadata and given an inline
// thumbnail; voice clips are checked to be well-formed Ogg Opus.
//
// SanitizeImage is the entry point for pictures: it takes JPEG, PNG or
// WebP, refuses decompression bombs from the header alone (MaxPixels,
// MaxSide), turns a JPEG upright by its EXIF orientation and re-encodes the
// pixels, so no EXIF, GPS, XMP, ICC or comment ever leaves the device.
//
// ParseOggOpus is the entry point for voice clips (RFC 3533 pages, RFC 7845
// Opus mapping): it validates a whole file in pure Go and returns its
// duration. Native builds turn WAV recordings into Ogg Opus with
// pkg/core/media/opusenc (libopus through cgo); the browser records Ogg
// Opus itself.
//
// Both bound their input (MaxImageBytes, MaxVoiceBytes, MaxVoiceDuration)
// and report bad input with ErrUnsupported, ErrTooLarge, ErrTruncated,
// ErrChecksum or ErrMalformed, wrapped in a message naming the problem.
package media
