// SPDX-License-Identifier: AGPL-3.0-or-later

package attach

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

func newTestKey(t testing.TB) Key {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// patterned returns n bytes that differ from chunk to chunk.
func patterned(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// encryptAll runs an Encryptor over plain and returns its chunks (copied)
// and digest.
func encryptAll(t testing.TB, k Key, plain []byte) ([][]byte, Digest) {
	t.Helper()
	e, err := NewEncryptor(k, int64(len(plain)), bytes.NewReader(plain))
	if err != nil {
		t.Fatal(err)
	}
	var chunks [][]byte
	for {
		i, c, err := e.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if i != int64(len(chunks)) {
			t.Fatalf("Next returned index %d, want %d", i, len(chunks))
		}
		chunks = append(chunks, bytes.Clone(c))
	}
	d, err := e.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return chunks, d
}

// decryptAll passes chunks to a Decryptor and returns what it wrote and the
// first error (from Decrypt or Finish).
func decryptAll(k Key, size int64, want Digest, chunks [][]byte) ([]byte, error) {
	var out bytes.Buffer
	d, err := NewDecryptor(k, size, want, &out)
	if err != nil {
		return nil, err
	}
	for _, c := range chunks {
		if err := d.Decrypt(c); err != nil {
			return out.Bytes(), err
		}
	}
	return out.Bytes(), d.Finish()
}

func TestChunkCount(t *testing.T) {
	cases := []struct{ size, want int64 }{
		{0, 1}, {1, 1}, {PlainChunkSize - 1, 1}, {PlainChunkSize, 1},
		{PlainChunkSize + 1, 2}, {2 * PlainChunkSize, 2}, {2*PlainChunkSize + 1, 3},
		{MaxSize, MaxChunkCount}, {MaxSize + 1, 0}, {-1, 0},
	}
	for _, c := range cases {
		if got := ChunkCount(c.size); got != c.want {
			t.Errorf("ChunkCount(%d) = %d, want %d", c.size, got, c.want)
		}
	}
	if PlainChunkSize != 30704 || ChunkSize != 30720 {
		t.Errorf("PlainChunkSize = %d, ChunkSize = %d", PlainChunkSize, ChunkSize)
	}
}

func TestRoundTrip(t *testing.T) {
	sizes := []int{0, 1, PlainChunkSize - 1, PlainChunkSize, PlainChunkSize + 1, 3*PlainChunkSize + 7}
	for range 5 {
		sizes = append(sizes, rand.IntN(6*PlainChunkSize))
	}
	k := newTestKey(t)
	for _, n := range sizes {
		plain := patterned(n)
		chunks, digest := encryptAll(t, k, plain)
		if int64(len(chunks)) != ChunkCount(int64(n)) {
			t.Errorf("size %d: %d chunks, want %d", n, len(chunks), ChunkCount(int64(n)))
		}
		for i, c := range chunks {
			if len(c) != ChunkSize {
				t.Errorf("size %d: chunk %d is %d bytes", n, i, len(c))
			}
		}
		got, err := decryptAll(k, int64(n), digest, chunks)
		if err != nil {
			t.Fatalf("size %d: %v", n, err)
		}
		if !bytes.Equal(got, plain) {
			t.Errorf("size %d: round trip gives %d different bytes", n, len(got))
		}
	}
}

func TestCiphertextHidesPlaintext(t *testing.T) {
	k := newTestKey(t)
	plain := make([]byte, PlainChunkSize) // all zeros
	chunks, _ := encryptAll(t, k, plain)
	if bytes.Contains(chunks[0], make([]byte, 64)) {
		t.Error("ciphertext of zeros contains 64 zero bytes")
	}
	again, _ := encryptAll(t, newTestKey(t), plain)
	if bytes.Equal(chunks[0], again[0]) {
		t.Error("two keys give the same chunk")
	}
}

func wantChunkError(t *testing.T, what string, err error, index int64, reason error) {
	t.Helper()
	var ce *ChunkError
	if !errors.As(err, &ce) {
		t.Fatalf("%s: err = %v, want a *ChunkError", what, err)
	}
	if ce.Index != index || !errors.Is(err, reason) {
		t.Errorf("%s: err = %v (index %d), want chunk %d: %v", what, err, ce.Index, index, reason)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("chunk %d", index)) {
		t.Errorf("%s: message %q does not name chunk %d", what, err, index)
	}
}

func TestTamperingDetected(t *testing.T) {
	k := newTestKey(t)
	size := int64(3*PlainChunkSize + 100) // 4 chunks
	chunks, digest := encryptAll(t, k, patterned(int(size)))
	other, _ := encryptAll(t, newTestKey(t), patterned(int(size)))
	c := func(idx ...int) [][]byte {
		var out [][]byte
		for _, i := range idx {
			out = append(out, chunks[i])
		}
		return out
	}
	cases := []struct {
		name   string
		chunks [][]byte
		index  int64
		reason error
	}{
		{"reordered", c(0, 2, 1, 3), 1, ErrChunkAuth},
		{"truncated", c(0, 1, 2), 3, ErrTruncated},
		{"duplicated", c(0, 1, 1, 2, 3), 2, ErrChunkAuth},
		{"last twice", c(0, 1, 2, 3, 3), 4, ErrExtraChunk},
		{"extra", append(c(0, 1, 2, 3), other[0]), 4, ErrExtraChunk},
		{"other key", [][]byte{chunks[0], chunks[1], other[2], chunks[3]}, 2, ErrChunkAuth},
		{"short", [][]byte{chunks[0], chunks[1][:ChunkSize-1]}, 1, ErrChunkSize},
		{"long", [][]byte{append(bytes.Clone(chunks[0]), 0)}, 0, ErrChunkSize},
		{"empty", [][]byte{nil}, 0, ErrChunkSize},
	}
	for _, tc := range cases {
		out, err := decryptAll(k, size, digest, tc.chunks)
		wantChunkError(t, tc.name, err, tc.index, tc.reason)
		if n := min(tc.index*PlainChunkSize, size); int64(len(out)) != n {
			t.Errorf("%s: %d bytes written, want %d (verified chunks only)", tc.name, len(out), n)
		}
	}
	for i := range chunks {
		for _, bit := range []int{0, 8*ChunkSize/2 + 3, 8*ChunkSize - 1} {
			bad := c(0, 1, 2, 3)
			bad[i] = bytes.Clone(bad[i])
			bad[i][bit/8] ^= 1 << (bit % 8)
			_, err := decryptAll(k, size, digest, bad)
			wantChunkError(t, fmt.Sprintf("bit %d of chunk %d", bit, i), err, int64(i), ErrChunkAuth)
		}
	}
}

func TestRefusedChunkCanBeRetried(t *testing.T) {
	k := newTestKey(t)
	size := int64(PlainChunkSize + 1)
	plain := patterned(int(size))
	chunks, digest := encryptAll(t, k, plain)
	var out bytes.Buffer
	d, _ := NewDecryptor(k, size, digest, &out)
	if err := d.Decrypt(chunks[1]); err == nil {
		t.Fatal("chunk 1 accepted at index 0")
	}
	if d.Verified() != 0 || out.Len() != 0 {
		t.Fatalf("refused chunk advanced the decryptor: verified %d, wrote %d", d.Verified(), out.Len())
	}
	for _, c := range chunks {
		if err := d.Decrypt(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Finish(); err != nil || !bytes.Equal(out.Bytes(), plain) {
		t.Fatalf("after retry: %v", err)
	}
}

func TestWrongDigestAndSize(t *testing.T) {
	k := newTestKey(t)
	size := int64(2*PlainChunkSize + 5)
	chunks, digest := encryptAll(t, k, patterned(int(size)))
	bad := digest
	bad[31] ^= 1
	if _, err := decryptAll(k, size, bad, chunks); !errors.Is(err, ErrDigest) {
		t.Errorf("wrong digest: err = %v", err)
	}
	// Same chunk count, and a different one: the size is in every
	// chunk's associated data, so chunk 0 is already refused.
	for _, wrong := range []int64{size - 1, size + 1, size - PlainChunkSize, size + PlainChunkSize} {
		_, err := decryptAll(k, wrong, digest, chunks)
		wantChunkError(t, fmt.Sprintf("size %d for %d", wrong, size), err, 0, ErrChunkAuth)
	}
	if _, err := decryptAll(newTestKey(t), size, digest, chunks); err == nil {
		t.Error("wrong key accepted")
	}
	for _, s := range []int64{-1, MaxSize + 1} {
		if _, err := NewDecryptor(k, s, digest, io.Discard); !errors.Is(err, ErrSize) {
			t.Errorf("NewDecryptor size %d: err = %v", s, err)
		}
		if _, err := NewEncryptor(k, s, bytes.NewReader(nil)); !errors.Is(err, ErrSize) {
			t.Errorf("NewEncryptor size %d: err = %v", s, err)
		}
	}
	if _, err := NewEncryptor(Key{}, 1, bytes.NewReader(nil)); !errors.Is(err, ErrZeroKey) {
		t.Errorf("zero Key: err = %v", err)
	}
}

func TestReaderSizeMismatch(t *testing.T) {
	k := newTestKey(t)
	for _, tc := range []struct{ have, claim int }{
		{10, 11}, {10, 9}, {0, 1}, {1, 0}, {PlainChunkSize, PlainChunkSize + 1}, {2 * PlainChunkSize, PlainChunkSize},
	} {
		e, err := NewEncryptor(k, int64(tc.claim), bytes.NewReader(patterned(tc.have)))
		if err != nil {
			t.Fatal(err)
		}
		for err == nil {
			_, _, err = e.Next()
		}
		if !errors.Is(err, ErrSize) {
			t.Errorf("%d bytes claimed as %d: err = %v", tc.have, tc.claim, err)
		}
		if _, _, again := e.Next(); again != err {
			t.Errorf("%d bytes claimed as %d: error not sticky: %v", tc.have, tc.claim, again)
		}
		if _, derr := e.Digest(); !errors.Is(derr, ErrNotFinished) {
			t.Errorf("Digest after a failure: %v", derr)
		}
	}
}

func TestNonZeroPaddingRefused(t *testing.T) {
	k := newTestKey(t)
	size := int64(PlainChunkSize + 10)
	s, err := newSuite(&k, size)
	if err != nil {
		t.Fatal(err)
	}
	first, digest := encryptAll(t, k, patterned(int(size)))
	buf := make([]byte, ChunkSize)
	copy(buf, patterned(10))
	buf[PlainChunkSize-1] = 1 // a byte of padding
	last := s.seal(buf, 1)
	_, err = decryptAll(k, size, digest, [][]byte{first[0], last})
	wantChunkError(t, "padding", err, 1, ErrPadding)
}
