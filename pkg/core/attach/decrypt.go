// SPDX-License-Identifier: AGPL-3.0-or-later

package attach

import (
	"fmt"
	"io"

	"github.com/hushchat/hush/pkg/internal/secret"
)

// Decryptor verifies ciphertext chunks in order and writes their plaintext
// to an io.Writer, in constant memory. It is not safe for concurrent use.
//
// A refused chunk changes nothing: fetch it again (from another relay) and
// pass it again. Plaintext is written only from chunks that verified, but
// the attachment as a whole is the sender's only once Finish returns nil.
type Decryptor struct {
	s    *suite
	w    io.Writer
	want Digest
	p    *progress
	buf  []byte // PlainChunkSize bytes, reused for every chunk
	// failed is set by a failed write: the output may hold part of a chunk,
	// so every later call fails too. Resume from the last State instead.
	failed error
}

// NewDecryptor returns a Decryptor for the attachment a pointer describes:
// its key, plaintext size and digest. Plaintext goes to w.
func NewDecryptor(k Key, size int64, want Digest, w io.Writer) (*Decryptor, error) {
	s, err := newSuite(&k, size)
	if err != nil {
		return nil, err
	}
	return &Decryptor{s: s, w: w, want: want, p: &progress{digest: s.newDigest()}, buf: make([]byte, PlainChunkSize)}, nil
}

// ResumeDecryptor continues a download from a state returned by State.
// w must continue the plaintext where the verified chunks ended, at byte
// Verified() × PlainChunkSize (truncate the output file to that length).
func ResumeDecryptor(k Key, size int64, want Digest, state []byte, w io.Writer) (*Decryptor, error) {
	s, err := newSuite(&k, size)
	if err != nil {
		return nil, err
	}
	p, err := s.unmarshalState(state)
	if err != nil {
		return nil, err
	}
	return &Decryptor{s: s, w: w, want: want, p: p, buf: make([]byte, PlainChunkSize)}, nil
}

// Count returns the number of chunks the attachment has.
func (d *Decryptor) Count() int64 { return d.s.count }

// Verified returns how many chunks have verified and been written: the
// index of the chunk Decrypt expects next.
func (d *Decryptor) Verified() int64 { return d.p.done }

// Decrypt verifies chunk as the next chunk of the attachment and writes its
// plaintext. A refused chunk gives a *ChunkError naming its index and
// changes nothing: it can be fetched again and passed again. A failed
// write is final: the output may now hold part of the chunk, so this and
// every later call return the error; resume from the last saved State,
// with the output truncated to Verified() × PlainChunkSize bytes.
func (d *Decryptor) Decrypt(chunk []byte) error {
	if d.failed != nil {
		return d.failed
	}
	i := d.p.done
	switch {
	case i == d.s.count:
		return &ChunkError{Index: i, Err: ErrExtraChunk}
	case len(chunk) != ChunkSize:
		return &ChunkError{Index: i, Err: ErrChunkSize}
	}
	plain, err := d.s.open(d.buf, chunk, i)
	if err != nil {
		return &ChunkError{Index: i, Err: err}
	}
	if _, err := d.w.Write(plain); err != nil {
		d.failed = fmt.Errorf("attach: write chunk %d: %w", i, err)
		return d.failed
	}
	d.p.digest.Write(tag(chunk))
	d.p.done++
	return nil
}

// Finish checks that every chunk arrived and that the digest matches the
// pointer's. Only then is the plaintext written the attachment the sender
// described; on an error the caller discards it.
func (d *Decryptor) Finish() error {
	secret.Zero(d.buf)
	if d.failed != nil {
		return d.failed
	}
	if d.p.done != d.s.count {
		return &ChunkError{Index: d.p.done, Err: ErrTruncated}
	}
	var got Digest
	d.p.digest.Sum(got[:0])
	if !secret.Equal(got[:], d.want[:]) {
		return ErrDigest
	}
	return nil
}

// State returns where the download stands: the chunks verified and
// written so far, and the digest up to them. Persist it together with the
// plaintext written, and give it to ResumeDecryptor after a restart.
func (d *Decryptor) State() []byte { return d.s.marshalState(d.p) }
