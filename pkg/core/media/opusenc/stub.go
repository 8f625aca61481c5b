// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build !cgo || js

// Package opusenc turns WAV recordings into Ogg Opus voice clips with
// libopus. This build has no cgo (or is the browser build): EncodeWAV
// returns ErrUnavailable.
package opusenc

import (
	"io"

	"github.com/hushchat/hush/pkg/core/media"
)

// EncodeWAV returns ErrUnavailable: this build cannot run libopus.
func EncodeWAV(r io.Reader, w io.Writer) (media.VoiceInfo, error) {
	return media.VoiceInfo{}, ErrUnavailable
}
