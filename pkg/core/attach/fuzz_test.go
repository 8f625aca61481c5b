// SPDX-License-Identifier: AGPL-3.0-or-later

package attach

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// fuzzSize makes a two-chunk attachment, so both a middle and a last chunk
// are seeds.
const fuzzSize = PlainChunkSize + 100

func fuzzAttachment(t testing.TB) (Key, [][]byte, Digest) {
	k := vectorKey(t, 0)
	chunks, d := encryptAll(t, k, vectorPlain(fuzzSize))
	return k, chunks, d
}

// FuzzDecrypt decrypts fuzzed chunks as chunk 0, or as chunk 1 after a
// valid chunk 0: the raw input, and a valid chunk with the input written
// over it at an offset (Go's fuzzer slows to a crawl on 30 KiB inputs, so
// it mutates a patch rather than a whole chunk). Nothing panics; a patched
// chunk is accepted only if it is still the valid chunk; the valid chunk
// with any one bit flipped is refused, naming the chunk.
func FuzzDecrypt(f *testing.F) {
	k, chunks, digest := fuzzAttachment(f)
	for i, c := range chunks {
		f.Add(c[100:132], uint16(100), uint8(i), uint32(0))
		f.Add(c[ChunkSize-TagSize:], uint16(ChunkSize-TagSize), uint8(i), uint32(8*ChunkSize-1))
		f.Add([]byte{c[7] ^ 0x10}, uint16(7), uint8(i), uint32(12345))
	}
	f.Add([]byte{}, uint16(0), uint8(0), uint32(7))
	f.Fuzz(func(t *testing.T, patch []byte, off uint16, at uint8, bit uint32) {
		idx := int64(at % 2)
		try := func(chunk []byte) error {
			d, err := NewDecryptor(k, fuzzSize, digest, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if idx == 1 {
				if err := d.Decrypt(chunks[0]); err != nil {
					t.Fatal(err)
				}
			}
			if err := d.Decrypt(chunk); err != nil {
				var ce *ChunkError
				if !errors.As(err, &ce) || ce.Index != idx || d.Verified() != idx {
					t.Fatalf("refusal %v does not name chunk %d or advanced to %d", err, idx, d.Verified())
				}
				return err
			}
			return nil
		}
		if err := try(patch); (err == nil) != bytes.Equal(patch, chunks[idx]) {
			t.Fatalf("raw input of %d bytes as chunk %d: err = %v", len(patch), idx, err)
		}
		patched := bytes.Clone(chunks[idx])
		copy(patched[int(off)%ChunkSize:], patch)
		if err := try(patched); (err == nil) != bytes.Equal(patched, chunks[idx]) {
			t.Fatalf("patched chunk %d: err = %v", idx, err)
		}
		flipped := bytes.Clone(chunks[idx])
		b := bit % (8 * ChunkSize)
		flipped[b/8] ^= 1 << (b % 8)
		if err := try(flipped); !errors.Is(err, ErrChunkAuth) {
			t.Fatalf("chunk %d, bit %d flipped: err = %v", idx, b, err)
		}
	})
}

// FuzzResumeState parses arbitrary resume states: nothing panics, and a
// state that is accepted resumes at a chunk in range.
func FuzzResumeState(f *testing.F) {
	k, chunks, digest := fuzzAttachment(f)
	d, _ := NewDecryptor(k, fuzzSize, digest, io.Discard)
	f.Add(d.State())
	if err := d.Decrypt(chunks[0]); err != nil {
		f.Fatal(err)
	}
	valid := d.State()
	f.Add(valid)
	for _, i := range []int{0, 5, stateHeaderSize, len(valid) - 1} {
		flipped := bytes.Clone(valid)
		flipped[i] ^= 1
		f.Add(flipped)
	}
	f.Fuzz(func(t *testing.T, state []byte) {
		r, err := ResumeDecryptor(k, fuzzSize, digest, state, io.Discard)
		if err != nil {
			if !errors.Is(err, ErrState) {
				t.Fatalf("err = %v, want ErrState", err)
			}
			return
		}
		if n := r.Verified(); n < 0 || n > r.Count() {
			t.Fatalf("resumed at chunk %d of %d", n, r.Count())
		}
		for _, c := range chunks[r.Verified():] {
			if err := r.Decrypt(c); err != nil {
				t.Fatal(err)
			}
		}
		if err := r.Finish(); err != nil && !errors.Is(err, ErrDigest) {
			t.Fatalf("Finish: %v", err)
		}
	})
}
