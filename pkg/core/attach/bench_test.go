// SPDX-License-Identifier: AGPL-3.0-or-later

package attach

import (
	"bytes"
	"io"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

// benchChunks is the size of the benchmarked attachment, in chunks.
const benchChunks = 64

const benchSize = benchChunks * PlainChunkSize

// BenchmarkEncrypt runs the streaming API over a 64-chunk attachment held
// in memory: key derivation, reading, sealing, the digest.
func BenchmarkEncrypt(b *testing.B) {
	k := newTestKey(b)
	plain := patterned(benchSize)
	r := bytes.NewReader(plain)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(plain)
		e, err := NewEncryptor(k, benchSize, r)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, _, err := e.Next(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
		if _, err := e.Digest(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAEADCeiling is the raw ChaCha20-Poly1305 the format uses, sealing as
// many plaintext bytes in chunk-sized calls, in place in one buffer that
// stays in cache: no reading, no key derivation, no digest.
func BenchmarkAEADCeiling(b *testing.B) {
	aead, _ := chacha20poly1305.New(make([]byte, chunkKeySize))
	buf := patterned(ChunkSize)
	var nonce [nonceSize]byte
	var ad [adSize]byte
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		for i := range benchChunks {
			nonce[0] = byte(i)
			aead.Seal(buf[:0], nonce[:], buf[:PlainChunkSize], ad[:])
		}
	}
}

// BenchmarkDecrypt verifies and decrypts the same attachment to
// io.Discard, with the digest check.
func BenchmarkDecrypt(b *testing.B) {
	k := newTestKey(b)
	chunks, digest := encryptAll(b, k, patterned(benchSize))
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		d, err := NewDecryptor(k, benchSize, digest, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range chunks {
			if err := d.Decrypt(c); err != nil {
				b.Fatal(err)
			}
		}
		if err := d.Finish(); err != nil {
			b.Fatal(err)
		}
	}
}
