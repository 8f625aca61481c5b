// SPDX-License-Identifier: AGPL-3.0-or-later

package attach

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

func TestEncryptChunkMatchesStream(t *testing.T) {
	k := newTestKey(t)
	for _, size := range []int{0, 1, PlainChunkSize, 2*PlainChunkSize + 9} {
		plain := patterned(size)
		chunks, _ := encryptAll(t, k, plain)
		for i, want := range chunks {
			piece := plain[i*PlainChunkSize : min((i+1)*PlainChunkSize, size)]
			got, err := EncryptChunk(k, int64(size), int64(i), piece)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("size %d: EncryptChunk(%d) differs from the stream's chunk", size, i)
			}
		}
		n := int64(len(chunks))
		if _, err := EncryptChunk(k, int64(size), n, nil); !errors.Is(err, ErrChunkIndex) {
			t.Errorf("size %d: chunk %d: err = %v", size, n, err)
		}
		if _, err := EncryptChunk(k, int64(size), -1, nil); !errors.Is(err, ErrChunkIndex) {
			t.Errorf("size %d: chunk -1: err = %v", size, err)
		}
		if _, err := EncryptChunk(k, int64(size), 0, make([]byte, PlainChunkSize+1)); !errors.Is(err, ErrSize) {
			t.Errorf("size %d: oversized piece: err = %v", size, err)
		}
	}
}

func TestResumeEncryptor(t *testing.T) {
	k := newTestKey(t)
	plain := patterned(4*PlainChunkSize + 3) // 5 chunks
	chunks, digest := encryptAll(t, k, plain)
	for stop := range len(chunks) + 1 {
		e, _ := NewEncryptor(k, int64(len(plain)), bytes.NewReader(plain))
		for range stop {
			if _, _, err := e.Next(); err != nil {
				t.Fatal(err)
			}
		}
		state := e.State()
		r, err := ResumeEncryptor(k, int64(len(plain)), state, bytes.NewReader(plain))
		if err != nil {
			t.Fatalf("stop %d: %v", stop, err)
		}
		for want := stop; ; want++ {
			i, c, err := r.Next()
			if err == io.EOF {
				if want != len(chunks) {
					t.Fatalf("stop %d: EOF at %d", stop, want)
				}
				break
			}
			if err != nil || i != int64(want) || !bytes.Equal(c, chunks[want]) {
				t.Fatalf("stop %d: chunk %d (index %d) differs: %v", stop, want, i, err)
			}
		}
		if d, err := r.Digest(); err != nil || d != digest {
			t.Errorf("stop %d: resumed digest %x, %v; want %x", stop, d, err, digest)
		}
	}
}

func TestResumeDecryptor(t *testing.T) {
	k := newTestKey(t)
	plain := patterned(3*PlainChunkSize + 77) // 4 chunks
	size := int64(len(plain))
	chunks, digest := encryptAll(t, k, plain)
	for stop := range len(chunks) + 1 {
		var first bytes.Buffer
		d, _ := NewDecryptor(k, size, digest, &first)
		for _, c := range chunks[:stop] {
			if err := d.Decrypt(c); err != nil {
				t.Fatal(err)
			}
		}
		state := d.State()
		// A restart: the first decryptor is gone, the output file and the
		// state remain.
		out := bytes.NewBuffer(first.Bytes())
		r, err := ResumeDecryptor(k, size, digest, state, out)
		if err != nil {
			t.Fatalf("stop %d: %v", stop, err)
		}
		if r.Verified() != int64(stop) || int64(out.Len()) != min(int64(stop)*PlainChunkSize, size) {
			t.Fatalf("stop %d: resumed at %d with %d bytes", stop, r.Verified(), out.Len())
		}
		if stop > 0 {
			wantChunkError(t, "resumed, old chunk", r.Decrypt(chunks[stop-1]), int64(stop), oldChunkReason(stop, len(chunks)))
		}
		for _, c := range chunks[stop:] {
			if err := r.Decrypt(c); err != nil {
				t.Fatalf("stop %d: %v", stop, err)
			}
		}
		if err := r.Finish(); err != nil || !bytes.Equal(out.Bytes(), plain) {
			t.Fatalf("stop %d: Finish: %v", stop, err)
		}
	}
}

// oldChunkReason is the reason an old chunk is refused at index next.
func oldChunkReason(next, count int) error {
	if next == count {
		return ErrExtraChunk
	}
	return ErrChunkAuth
}

func TestResumeStateRefused(t *testing.T) {
	k := newTestKey(t)
	plain := patterned(2*PlainChunkSize + 1)
	size := int64(len(plain))
	chunks, digest := encryptAll(t, k, plain)
	d, _ := NewDecryptor(k, size, digest, io.Discard)
	if err := d.Decrypt(chunks[0]); err != nil {
		t.Fatal(err)
	}
	state := d.State()

	bad := func(f func(s []byte) []byte) []byte { return f(bytes.Clone(state)) }
	doneAt := 1 + stateCommitSize + 8
	cases := map[string][]byte{
		"empty":         nil,
		"header only":   state[:stateHeaderSize],
		"cut":           state[:len(state)-1],
		"version":       bad(func(s []byte) []byte { s[0] = 2; return s }),
		"commitment":    bad(func(s []byte) []byte { s[1] ^= 1; return s }),
		"size":          bad(func(s []byte) []byte { s[doneAt-1] ^= 1; return s }),
		"done > count":  bad(func(s []byte) []byte { binary.BigEndian.PutUint64(s[doneAt:], 4); return s }),
		"hash state":    bad(func(s []byte) []byte { s[stateHeaderSize] ^= 1; return s }),
		"appended byte": append(bytes.Clone(state), 0),
	}
	for name, s := range cases {
		if _, err := ResumeDecryptor(k, size, digest, s, io.Discard); !errors.Is(err, ErrState) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := ResumeDecryptor(newTestKey(t), size, digest, state, io.Discard); !errors.Is(err, ErrState) {
		t.Errorf("state of another key: err = %v", err)
	}
	if _, err := ResumeDecryptor(k, size+1, digest, state, io.Discard); !errors.Is(err, ErrState) {
		t.Errorf("state of another size: err = %v", err)
	}
	if _, err := ResumeEncryptor(k, size, state[:3], bytes.NewReader(plain)); !errors.Is(err, ErrState) {
		t.Errorf("ResumeEncryptor, cut state: err = %v", err)
	}

	// A state that skips a chunk (done says 2, the hash covers one tag)
	// is refused at once, not after the rest of the download.
	skip := bad(func(s []byte) []byte { binary.BigEndian.PutUint64(s[doneAt:], 2); return s })
	if _, err := ResumeDecryptor(k, size, digest, skip, io.Discard); !errors.Is(err, ErrState) {
		t.Errorf("state that skips a chunk: err = %v, want ErrState", err)
	}
	_ = chunks
}

// failingWriter writes n bytes, then fails.
type failingWriter struct {
	n   int
	buf bytes.Buffer
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n <= 0 {
		return 0, errors.New("disk full")
	}
	k := min(len(p), w.n)
	w.buf.Write(p[:k])
	w.n -= k
	if k < len(p) {
		return k, errors.New("disk full")
	}
	return k, nil
}

// TestFailedWriteIsFinal writes part of a chunk and then fails: the
// Decryptor refuses to go on, so the torn output can never pass Finish.
func TestFailedWriteIsFinal(t *testing.T) {
	k := newTestKey(t)
	plain := patterned(2 * PlainChunkSize)
	chunks, digest := encryptAll(t, k, plain)
	w := &failingWriter{n: 100}
	d, err := NewDecryptor(k, int64(len(plain)), digest, w)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Decrypt(chunks[0]); err == nil {
		t.Fatal("a failed write was not reported")
	}
	w.n = 1 << 30
	for _, c := range chunks {
		if err := d.Decrypt(c); err == nil {
			t.Fatal("Decrypt went on after a failed write")
		}
	}
	if err := d.Finish(); err == nil {
		t.Fatal("Finish accepted an output with a torn chunk")
	}
}

// TestSizeInChunkKey encrypts the same chunk under one key for two sizes:
// the ciphertexts must differ (no (key, nonce) reuse).
func TestSizeInChunkKey(t *testing.T) {
	k := newTestKey(t)
	plain := patterned(PlainChunkSize)
	a, err := EncryptChunk(k, 3*PlainChunkSize, 0, plain)
	if err != nil {
		t.Fatal(err)
	}
	b, err := EncryptChunk(k, 5*PlainChunkSize, 0, plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a[:64], b[:64]) {
		t.Fatal("chunk 0 encrypts to the same keystream for two sizes")
	}
}
