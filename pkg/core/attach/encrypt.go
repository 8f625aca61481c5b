// SPDX-License-Identifier: AGPL-3.0-or-later

package attach

import (
	"errors"
	"fmt"
	"io"
)

// Encryptor turns a plaintext stream into ciphertext chunks, one at a time,
// in constant memory. It is not safe for concurrent use.
type Encryptor struct {
	s   *suite
	r   io.Reader
	p   *progress
	buf []byte // ChunkSize bytes, reused for every chunk
	err error  // sticky: a read failed part-way through a chunk
}

// NewEncryptor returns an Encryptor for an attachment of size bytes read
// from r. The size goes into the message pointer with the key and digest;
// r must hold exactly size bytes.
func NewEncryptor(k Key, size int64, r io.Reader) (*Encryptor, error) {
	s, err := newSuite(&k, size)
	if err != nil {
		return nil, err
	}
	return &Encryptor{s: s, r: r, p: &progress{digest: s.newDigest()}, buf: make([]byte, ChunkSize)}, nil
}

// ResumeEncryptor continues an upload from a state returned by State. It
// seeks r to the first plaintext byte of the next chunk.
func ResumeEncryptor(k Key, size int64, state []byte, r io.ReadSeeker) (*Encryptor, error) {
	s, err := newSuite(&k, size)
	if err != nil {
		return nil, err
	}
	p, err := s.unmarshalState(state)
	if err != nil {
		return nil, err
	}
	if _, err := r.Seek(p.done*PlainChunkSize, io.SeekStart); err != nil {
		return nil, fmt.Errorf("attach: seek to chunk %d: %w", p.done, err)
	}
	return &Encryptor{s: s, r: r, p: p, buf: make([]byte, ChunkSize)}, nil
}

// Next reads the next chunk's plaintext and returns its index and its
// ciphertext, exactly ChunkSize bytes. The slice is reused by the next
// call: upload or copy it first. After the last chunk Next returns io.EOF.
// A reader that ends early or holds more than the size gives ErrSize.
func (e *Encryptor) Next() (int64, []byte, error) {
	if e.err != nil {
		return 0, nil, e.err
	}
	i := e.p.done
	if i == e.s.count {
		return 0, nil, io.EOF
	}
	if err := e.read(i); err != nil {
		e.err = err
		return 0, nil, err
	}
	c := e.s.seal(e.buf, i)
	e.p.digest.Write(tag(c))
	e.p.done++
	return i, c, nil
}

// read fills e.buf with chunk i's plaintext and padding.
func (e *Encryptor) read(i int64) error {
	n := e.s.plainLen(i)
	if got, err := io.ReadFull(e.r, e.buf[:n]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: the reader ended after %d bytes, want %d", ErrSize, i*PlainChunkSize+int64(got), e.s.size)
		}
		return fmt.Errorf("attach: read chunk %d: %w", i, err)
	}
	clear(e.buf[n:PlainChunkSize])
	if i < e.s.count-1 {
		return nil
	}
	var one [1]byte
	switch _, err := io.ReadFull(e.r, one[:]); {
	case err == nil:
		return fmt.Errorf("%w: the reader holds more than %d bytes", ErrSize, e.s.size)
	case !errors.Is(err, io.EOF):
		return fmt.Errorf("attach: read past the end: %w", err)
	}
	return nil
}

// Digest returns the attachment's digest once every chunk has been
// produced; before that it returns ErrNotFinished.
func (e *Encryptor) Digest() (Digest, error) {
	if e.p.done != e.s.count {
		return Digest{}, ErrNotFinished
	}
	var d Digest
	e.p.digest.Sum(d[:0])
	return d, nil
}

// State returns where the upload stands: the chunks produced so far and
// the digest up to them. Persist it once those chunks are stored, and give
// it to ResumeEncryptor after a restart.
func (e *Encryptor) State() []byte { return e.s.marshalState(e.p) }

// EncryptChunk returns chunk i of the attachment again, byte for byte as
// the Encryptor made it, from that chunk's plaintext: PlainChunkSize bytes,
// or the remainder for the last chunk (no padding). Use it to upload one
// chunk again, to another relay or after a failure.
func EncryptChunk(k Key, size int64, i int64, plain []byte) ([]byte, error) {
	s, err := newSuite(&k, size)
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= s.count {
		return nil, fmt.Errorf("%w: chunk %d of %d", ErrChunkIndex, i, s.count)
	}
	if n := s.plainLen(i); len(plain) != n {
		return nil, fmt.Errorf("%w: chunk %d has %d plaintext bytes, want %d", ErrSize, i, len(plain), n)
	}
	buf := make([]byte, ChunkSize)
	copy(buf, plain)
	return s.seal(buf, i), nil
}
