// SPDX-License-Identifier: AGPL-3.0-or-later

package verify

import (
	"errors"
	"fmt"
)

// Errors returned by CompareScanned and ScanQRCode.
var (
	// ErrMismatch is returned by CompareScanned when the scanned code was
	// computed from different keys: this is not the person you think, or
	// one of you has a new identity key.
	ErrMismatch = errors.New("verify: safety numbers do not match")
	// ErrMalformed is returned by CompareScanned for a payload that is not a
	// scannable safety number, and by ScanQRCode for a code whose content
	// cannot be one. The wrapped message names the problem.
	ErrMalformed = errors.New("verify: malformed safety number code")
	// ErrVersion is matched (with errors.Is) by every *VersionError.
	ErrVersion = errors.New("verify: safety number code version differs")
	// ErrNoQRCode is returned by ScanQRCode when the image holds no readable
	// QR code. A camera loop should keep scanning.
	ErrNoQRCode = errors.New("verify: no readable qr code in image")
)

// VersionError is returned by CompareScanned for a payload of another
// scannable version. As in libsignal, it tells which side is newer so the
// user can be told who should update.
type VersionError struct {
	Theirs uint32 // version in the scanned payload
	Ours   uint32 // ScannableVersion
}

// Error implements error.
func (e *VersionError) Error() string {
	if e.Newer() {
		return fmt.Sprintf("verify: scanned code is version %d, newer than ours (%d): update Hush", e.Theirs, e.Ours)
	}
	return fmt.Sprintf("verify: scanned code is version %d, older than ours (%d): the other side should update Hush", e.Theirs, e.Ours)
}

// Unwrap returns ErrVersion.
func (e *VersionError) Unwrap() error { return ErrVersion }

// Newer reports whether the scanned code comes from a newer version.
func (e *VersionError) Newer() bool { return e.Theirs > e.Ours }

func malformed(problem string) error {
	return fmt.Errorf("%w: %s", ErrMalformed, problem)
}
