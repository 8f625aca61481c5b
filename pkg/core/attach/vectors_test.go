// SPDX-License-Identifier: AGPL-3.0-or-later

package attach

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"testing"
)

var writeVectors = flag.Bool("write-vectors", false, "rewrite testdata/attachment_v1.json from a fixed key")

const vectorFile = "testdata/attachment_v1.json"

type vectorFileT struct {
	Comment string   `json:"comment"`
	Vectors []vector `json:"vectors"`
}

// vector is one attachment under its own key (a key encrypts one
// attachment). Chunks are 30,720 bytes each, so the file records their
// tags and a hash of the whole ciphertext.
type vector struct {
	Key              string   `json:"key"`
	ChunkKey         string   `json:"chunk_key"`
	Commitment       string   `json:"commitment"`
	Size             int64    `json:"size"`
	PlaintextSHA256  string   `json:"plaintext_sha256"`
	LastNonce        string   `json:"last_nonce"`
	AD               string   `json:"ad"`
	Tags             []string `json:"tags"`
	FirstChunkHead   string   `json:"first_chunk_head"` // first 32 bytes
	CiphertextSHA256 string   `json:"ciphertext_sha256"`
	Digest           string   `json:"digest"`
}

// vectorKey is the key of vector v: bytes 32v+1, 32v+2, … 32v+32.
func vectorKey(t testing.TB, v int) Key {
	b := make([]byte, KeySize)
	for i := range b {
		b[i] = byte(32*v + i + 1)
	}
	k, err := KeyFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var vectorSizes = []int64{0, 1, PlainChunkSize + 1}

func hexSHA256(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// vectorPlain returns n bytes, byte i = i mod 251 + 1 (never zero, so
// plaintext and padding differ).
func vectorPlain(n int64) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i%251 + 1)
	}
	return b
}

func makeVector(t *testing.T, k Key, size int64) vector {
	plain := vectorPlain(size)
	chunks, digest := encryptAll(t, k, plain)
	s, err := newSuite(&k, size)
	if err != nil {
		t.Fatal(err)
	}
	n := s.nonce(s.count - 1)
	v := vector{
		Key:             hex.EncodeToString(k.Bytes()),
		ChunkKey:        derived(t, k, labelChunkKey),
		Commitment:      derived(t, k, labelCommitment),
		Size:            size,
		PlaintextSHA256: hexSHA256(plain),
		LastNonce:       hex.EncodeToString(n[:]),
		AD:              hex.EncodeToString(s.ad[:]),
		FirstChunkHead:  hex.EncodeToString(chunks[0][:32]),
		Digest:          hex.EncodeToString(digest[:]),
	}
	for _, c := range chunks {
		v.Tags = append(v.Tags, hex.EncodeToString(tag(c)))
	}
	v.CiphertextSHA256 = hexSHA256(bytes.Join(chunks, nil))
	return v
}

func derived(t *testing.T, k Key, label string) string {
	b, err := hkdf.Key(sha256.New, k.Bytes(), nil, label, 32)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestWriteVectors regenerates the vector file when run with
// -write-vectors; otherwise it does nothing.
func TestWriteVectors(t *testing.T) {
	if !*writeVectors {
		t.Skip("run with -write-vectors to regenerate " + vectorFile)
	}
	f := vectorFileT{
		Comment: "Attachment format v1. Key of vector v (from 0) = bytes 32v+1 ... 32v+32. Plaintext: byte i = (i mod 251) + 1. " +
			"chunk_key = HKDF-SHA256(key, salt empty, info \"hush attachment v1 chunk key\", 32); " +
			"commitment = same with info \"hush attachment v1 key commitment\". Each chunk is ChaCha20-Poly1305 (RFC 8439) under chunk_key, 30,720 bytes; " +
			"ciphertext_sha256 is over all chunks concatenated; digest = SHA-256(\"hush attachment v1 digest\" || commitment || uint64be(size) || tags).",
	}
	for v, size := range vectorSizes {
		f.Vectors = append(f.Vectors, makeVector(t, vectorKey(t, v), size))
	}
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vectorFile, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVectors(t *testing.T) {
	raw, err := os.ReadFile(vectorFile)
	if err != nil {
		t.Fatal(err)
	}
	var f vectorFileT
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) != len(vectorSizes) {
		t.Fatalf("%d vectors, want %d", len(f.Vectors), len(vectorSizes))
	}
	for _, want := range f.Vectors {
		kb, _ := hex.DecodeString(want.Key)
		k, err := KeyFromBytes(kb)
		if err != nil {
			t.Fatal(err)
		}
		got := makeVector(t, k, want.Size)
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if !bytes.Equal(gj, wj) {
			t.Errorf("size %d:\n got %s\nwant %s", want.Size, gj, wj)
			continue
		}
		d, _ := hex.DecodeString(want.Digest)
		digest, _ := DigestFromBytes(d)
		chunks, _ := encryptAll(t, k, vectorPlain(want.Size))
		out, err := decryptAll(k, want.Size, digest, chunks)
		if err != nil || hexSHA256(out) != want.PlaintextSHA256 {
			t.Errorf("size %d: decrypt: %v", want.Size, err)
		}
	}
}
