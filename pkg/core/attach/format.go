// SPDX-License-Identifier: AGPL-3.0-or-later

package attach

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/hushchat/hush/pkg/internal/secret"
)

const (
	// ChunkSize is the size of every ciphertext chunk, the last included
	// (DESIGN.md, "Sizes": one chunk per PutChunk request).
	ChunkSize = 30720
	// TagSize is the Poly1305 tag at the end of each chunk.
	TagSize = chacha20poly1305.Overhead
	// PlainChunkSize is the plaintext carried by each chunk:
	// 30,720 − 16 = 30,704 bytes. The last chunk carries the rest of the
	// attachment followed by zero padding up to this size.
	PlainChunkSize = ChunkSize - TagSize
	// MaxChunkCount bounds the chunks of one attachment (2³²), far beyond
	// any real file, so that no size arithmetic can overflow.
	MaxChunkCount = 1 << 32
	// MaxSize is the largest attachment this format describes:
	// 2³² × 30,704 bytes (about 131.9 TB).
	MaxSize = MaxChunkCount * PlainChunkSize

	nonceSize      = chacha20poly1305.NonceSize // 12 bytes
	adSize         = 8                          // the plaintext size, big-endian
	commitmentSize = 32                         // HKDF output bound into the digest
	chunkKeySize   = chacha20poly1305.KeySize   // 32 bytes
)

// KDF labels (HKDF-SHA256 info strings, salt empty, input the Key), and the
// digest's domain-separation prefix. One label per use.
const (
	labelChunkKey   = "hush attachment v1 chunk key"
	labelCommitment = "hush attachment v1 key commitment"
	labelDigest     = "hush attachment v1 digest"
)

// ChunkCount returns how many chunks an attachment of size plaintext bytes
// has: ⌈size / PlainChunkSize⌉, and 1 for an empty attachment. It returns
// 0 for a size out of range (negative or over MaxSize).
func ChunkCount(size int64) int64 {
	if size < 0 || size > MaxSize {
		return 0
	}
	if size == 0 {
		return 1
	}
	return (size + PlainChunkSize - 1) / PlainChunkSize
}

// lastChunkLen returns the plaintext bytes in the last chunk (0 for an
// empty attachment, otherwise 1..PlainChunkSize). size must be in range.
func lastChunkLen(size int64) int {
	return int(size - (ChunkCount(size)-1)*PlainChunkSize)
}

// suite is one attachment's derived keys and geometry.
type suite struct {
	aead   cipher.AEAD
	size   int64
	count  int64
	commit [commitmentSize]byte
	ad     [adSize]byte
}

// newSuite derives the chunk key (ChaCha20-Poly1305) and the key commitment from k for an
// attachment of size bytes.
func newSuite(k *Key, size int64) (*suite, error) {
	if k.isZero() {
		return nil, ErrZeroKey
	}
	count := ChunkCount(size)
	if count == 0 {
		return nil, sizeError(size)
	}
	s := &suite{size: size, count: count}
	binary.BigEndian.PutUint64(s.ad[:], uint64(size))
	// The size is in the chunk key's info as well as in every chunk's
	// associated data: the same key used with two sizes (a wrong size in a
	// pointer, a resumed upload given another size) must not reuse a
	// (key, nonce) pair, which would give away Poly1305's key.
	ck, err := hkdf.Key(sha256.New, k.k[:], nil, labelChunkKey+string(s.ad[:]), chunkKeySize)
	if err != nil {
		return nil, err
	}
	defer secret.Zero(ck)
	cm, err := hkdf.Key(sha256.New, k.k[:], nil, labelCommitment, commitmentSize)
	if err != nil {
		return nil, err
	}
	copy(s.commit[:], cm)
	if s.aead, err = chacha20poly1305.New(ck); err != nil {
		return nil, err
	}
	return s, nil
}

// nonce returns chunk i's nonce: i as 8 bytes big-endian, three zero
// bytes, and 0x01 for the last chunk or 0x00 for any other.
func (s *suite) nonce(i int64) [nonceSize]byte {
	var n [nonceSize]byte
	binary.BigEndian.PutUint64(n[:8], uint64(i))
	if i == s.count-1 {
		n[nonceSize-1] = 1
	}
	return n
}

// plainLen returns the plaintext bytes chunk i carries (before padding).
func (s *suite) plainLen(i int64) int {
	if i == s.count-1 {
		return lastChunkLen(s.size)
	}
	return PlainChunkSize
}

// seal encrypts the PlainChunkSize bytes of buf[:PlainChunkSize] in place
// as chunk i; buf must have room for ChunkSize bytes.
func (s *suite) seal(buf []byte, i int64) []byte {
	n := s.nonce(i)
	return s.aead.Seal(buf[:0], n[:], buf[:PlainChunkSize], s.ad[:])
}

// open decrypts chunk (ChunkSize bytes) as chunk i into dst and checks its
// padding. It returns the plaintext without padding.
func (s *suite) open(dst, chunk []byte, i int64) ([]byte, error) {
	n := s.nonce(i)
	plain, err := s.aead.Open(dst[:0], n[:], chunk, s.ad[:])
	if err != nil {
		return nil, ErrChunkAuth
	}
	keep := s.plainLen(i)
	if !secret.IsZero(plain[keep:]) {
		return nil, ErrPadding
	}
	return plain[:keep], nil
}

// newDigest starts the digest hash: the label, the key commitment and the
// size; the chunks' tags follow in order.
func (s *suite) newDigest() hash.Hash {
	h := sha256.New()
	h.Write([]byte(labelDigest))
	h.Write(s.commit[:])
	h.Write(s.ad[:])
	return h
}

// tag returns the AEAD tag at the end of a sealed chunk.
func tag(chunk []byte) []byte { return chunk[ChunkSize-TagSize : ChunkSize] }
