// SPDX-License-Identifier: AGPL-3.0-or-later

package attach

import (
	"errors"
	"fmt"
	"strings"
)

// Errors callers can branch on with errors.Is. Those about one chunk come
// wrapped in a *ChunkError that names it.
var (
	// ErrKeyLength: a key of the wrong length.
	ErrKeyLength = errors.New("attach: key has the wrong length")
	// ErrZeroKey: the all-zero key, never a real one (most likely unset).
	ErrZeroKey = errors.New("attach: key is all zeros")
	// ErrDigestLength: a digest of the wrong length.
	ErrDigestLength = errors.New("attach: digest has the wrong length")
	// ErrSize: a size out of range, or a plaintext reader that held more
	// or fewer bytes than the size given.
	ErrSize = errors.New("attach: wrong attachment size")

	// ErrChunkSize: a chunk that is not exactly ChunkSize bytes.
	ErrChunkSize = errors.New("attach: chunk is not 30720 bytes")
	// ErrChunkAuth: a chunk that fails authentication: altered, out of
	// order, repeated, from another attachment, or decrypted with the
	// wrong key or size.
	ErrChunkAuth = errors.New("attach: chunk fails authentication (altered, out of order, from another attachment, or wrong key or size)")
	// ErrPadding: the last chunk authenticated but its padding is not
	// zero (it was made by a faulty or hostile sender).
	ErrPadding = errors.New("attach: last chunk has non-zero padding")
	// ErrTruncated: the stream ended before its last chunk.
	ErrTruncated = errors.New("attach: attachment is truncated (chunks missing at the end)")
	// ErrExtraChunk: a chunk after the last one.
	ErrExtraChunk = errors.New("attach: chunk after the last one")
	// ErrChunkIndex: EncryptChunk asked for a chunk the attachment does
	// not have.
	ErrChunkIndex = errors.New("attach: chunk index out of range")

	// ErrDigest: every chunk verified but the digest differs from the
	// pointer's: the attachment is not the one the sender described.
	ErrDigest = errors.New("attach: digest does not match")
	// ErrNotFinished: the digest was asked for before the last chunk.
	ErrNotFinished = errors.New("attach: not every chunk has been processed")
	// ErrState: a resume state that is malformed or belongs to another
	// attachment.
	ErrState = errors.New("attach: resume state is malformed or from another attachment")
)

// ChunkError names the chunk that was refused. It unwraps to the reason:
// ErrChunkSize, ErrChunkAuth, ErrPadding, ErrTruncated or ErrExtraChunk.
type ChunkError struct {
	Index int64 // the chunk's position in the stream, from 0
	Err   error
}

func (e *ChunkError) Error() string {
	return fmt.Sprintf("attach: chunk %d: %s", e.Index, strings.TrimPrefix(e.Err.Error(), "attach: "))
}

// Unwrap returns the reason the chunk was refused.
func (e *ChunkError) Unwrap() error { return e.Err }

func sizeError(size int64) error {
	return fmt.Errorf("%w: %d bytes is outside 0..%d", ErrSize, size, int64(MaxSize))
}
