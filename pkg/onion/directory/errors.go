// SPDX-License-Identifier: AGPL-3.0-or-later

package directory

import (
	"errors"
	"fmt"

	"github.com/hushchat/hush/pkg/onion"
)

// Errors returned by ParseDescriptor, NetworkFile.Verify, ParseDirectory
// and ParseNetworkFile; each says what was wrong. Callers branch on them
// with errors.Is.
var (
	ErrMalformed    = errors.New("directory: descriptor is malformed")
	ErrSignature    = errors.New("directory: descriptor signature does not verify")
	ErrExpired      = errors.New("directory: descriptor has expired")
	ErrNotYetValid  = errors.New("directory: descriptor was published in the future; check the clocks")
	ErrUnknownRelay = errors.New("directory: relay is not in the network file")
	ErrTooLarge     = errors.New("directory: input is too large")
	ErrNoKey        = errors.New("directory: relay has no onion key for this time")
	ErrDocument     = errors.New("directory: directory document is malformed")
	ErrDuplicate    = errors.New("directory: relay is listed twice")
	ErrNetworkFile  = errors.New("directory: network file is malformed")
	ErrAddress      = errors.New("directory: bad address")
	ErrUnknownField = errors.New("directory: network file has an unknown setting")
	// ErrVersion is wrapped by a *VersionError.
	ErrVersion = errors.New("directory: unsupported format version")
)

// VersionError reports a descriptor, directory or network file in a format
// version this build does not read.
type VersionError struct {
	Format    string // "descriptor", "directory" or "network file"
	Got, Want uint32
}

func (e *VersionError) Error() string {
	if e.Got > e.Want {
		return fmt.Sprintf("directory: %s format %d is newer than this Hush reads (%d); update Hush", e.Format, e.Got, e.Want)
	}
	return fmt.Sprintf("directory: %s format %d is older than this Hush reads (%d); the relay must update", e.Format, e.Got, e.Want)
}

// Unwrap returns ErrVersion.
func (e *VersionError) Unwrap() error { return ErrVersion }

// DescriptorError says which descriptor of a directory document was
// refused or skipped, and why (Err).
type DescriptorError struct {
	Index int           // position in the document
	Relay onion.RelayID // zero if the descriptor did not name one
	Err   error
}

func (e *DescriptorError) Error() string {
	if e.Relay.IsZero() {
		return fmt.Sprintf("directory: descriptor %d: %v", e.Index, e.Err)
	}
	return fmt.Sprintf("directory: descriptor %d (%s): %v", e.Index, e.Relay, e.Err)
}

// Unwrap returns the cause.
func (e *DescriptorError) Unwrap() error { return e.Err }

// malformed wraps ErrMalformed and any %w among args.
func malformed(format string, args ...any) error {
	return errorf(ErrMalformed, format, args...)
}

// errorf wraps sentinel and any %w among args.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)
}
