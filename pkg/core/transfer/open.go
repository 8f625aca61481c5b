// SPDX-License-Identifier: AGPL-3.0-or-later

package transfer

import (
	"errors"
	"fmt"
	"io"

	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/internal/secret"
)

// Open returns a reader of the plaintext of src, an attachment's
// ciphertext as Download left it (chunk i at offset i × attach.ChunkSize).
// It decrypts one chunk at a time, in constant memory, and checks the
// digest at the end: the Read that would return io.EOF returns an error
// wrapping attach.ErrDigest instead if it does not match. A chunk that
// does not verify gives an *attach.ChunkError. Use the plaintext only
// once Read returned io.EOF.
func Open(key attach.Key, size int64, digest attach.Digest, src io.ReaderAt) (io.Reader, error) {
	r := &plainReader{src: src, chunk: make([]byte, attach.ChunkSize)}
	d, err := attach.NewDecryptor(key, size, digest, &r.plain)
	if err != nil {
		return nil, err
	}
	r.dec = d
	return r, nil
}

// plainReader decrypts src chunk by chunk into plain, and hands it out.
type plainReader struct {
	src     io.ReaderAt
	dec     *attach.Decryptor
	chunk   []byte    // one ciphertext chunk, reused
	plain   lastWrite // the plaintext of the chunk just decrypted
	pending []byte    // what of it Read has not returned yet
	err     error     // sticky: io.EOF, or why reading stopped
}

func (r *plainReader) Read(p []byte) (int, error) {
	for len(r.pending) == 0 && r.err == nil {
		r.err = r.nextChunk()
	}
	if len(r.pending) > 0 {
		n := copy(p, r.pending)
		r.pending = r.pending[n:]
		return n, nil
	}
	return 0, r.err
}

// nextChunk decrypts the next chunk into pending, or, after the last,
// checks the digest and returns io.EOF.
func (r *plainReader) nextChunk() error {
	i := r.dec.Verified()
	if i == r.dec.Count() {
		secret.Zero(r.plain.b)
		if err := r.dec.Finish(); err != nil {
			return fmt.Errorf("transfer: open the attachment: %w", err)
		}
		return io.EOF
	}
	n, err := r.src.ReadAt(r.chunk, i*attach.ChunkSize)
	if n < len(r.chunk) {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("transfer: read chunk %d of %d: %w", i, r.dec.Count(), err)
	}
	if err := r.dec.Decrypt(r.chunk); err != nil {
		return fmt.Errorf("transfer: open the attachment: %w", err)
	}
	r.pending = r.plain.b
	return nil
}

// lastWrite keeps a copy of the last slice written to it, in one buffer
// reused for every chunk.
type lastWrite struct{ b []byte }

func (w *lastWrite) Write(p []byte) (int, error) {
	w.b = append(w.b[:0], p...)
	return len(p), nil
}
