// SPDX-License-Identifier: AGPL-3.0-or-later

package invite

import (
	"errors"
	"fmt"
)

// Errors returned by Parse and Check; each says what was wrong with the
// link. Callers branch on them with errors.Is.
var (
	ErrNotInvitation   = errors.New("invite: not a Hush invitation (it must start with \"hush:\")")
	ErrTooLong         = errors.New("invite: link is too long to be an invitation")
	ErrEncoding        = errors.New("invite: link is not valid base64url; was it copied completely?")
	ErrTruncated       = errors.New("invite: link is truncated; copy the whole link")
	ErrUnsigned        = errors.New("invite: invitation is not signed")
	ErrTampered        = errors.New("invite: invitation was altered after it was signed")
	ErrMalformed       = errors.New("invite: invitation is malformed")
	ErrExpired         = errors.New("invite: invitation has expired; ask for a new one")
	ErrNotYetValid     = errors.New("invite: invitation was made in the future; check your clock or the inviter's")
	ErrAlreadyAccepted = errors.New("invite: invitation was already accepted by this profile")
	ErrOwnInvitation   = errors.New("invite: this is your own invitation")
	// ErrVersion is wrapped by a *VersionError.
	ErrVersion = errors.New("invite: unsupported invitation version")
)

// VersionError reports an invitation in a format version this build does
// not read.
type VersionError struct {
	Got uint32
}

func (e *VersionError) Error() string {
	if e.Got > Version {
		return fmt.Sprintf("invite: invitation format %d is newer than this Hush reads (%d); update Hush", e.Got, Version)
	}
	return fmt.Sprintf("invite: invitation format %d is not supported (this Hush reads %d)", e.Got, Version)
}

// Unwrap returns ErrVersion.
func (e *VersionError) Unwrap() error { return ErrVersion }

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}
