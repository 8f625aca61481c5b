// SPDX-License-Identifier: AGPL-3.0-or-later

package attach

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"
)

// TestFormatByHand rebuilds an attachment from the package documentation's
// layout with the primitives alone and compares it with the Encryptor's.
func TestFormatByHand(t *testing.T) {
	k := newTestKey(t)
	size := 2*PlainChunkSize + 500
	plain := patterned(size)
	chunks, digest := encryptAll(t, k, plain)

	ad := binary.BigEndian.AppendUint64(nil, uint64(size))
	ck, _ := hkdf.Key(sha256.New, k.Bytes(), nil, "hush attachment v1 chunk key"+string(ad), 32)
	commit, _ := hkdf.Key(sha256.New, k.Bytes(), nil, "hush attachment v1 key commitment", 32)
	aead, _ := chacha20poly1305.New(ck)
	h := sha256.New()
	h.Write([]byte("hush attachment v1 digest"))
	h.Write(commit)
	h.Write(ad)
	for i := range 3 {
		piece := make([]byte, PlainChunkSize)
		copy(piece, plain[i*PlainChunkSize:min((i+1)*PlainChunkSize, size)])
		nonce := binary.BigEndian.AppendUint64(nil, uint64(i))
		nonce = append(nonce, 0, 0, 0, 0)
		if i == 2 {
			nonce[11] = 1
		}
		want := aead.Seal(nil, nonce, piece, ad)
		if !bytes.Equal(chunks[i], want) {
			t.Errorf("chunk %d differs from the documented layout", i)
		}
		h.Write(want[PlainChunkSize:])
	}
	if !bytes.Equal(h.Sum(nil), digest[:]) {
		t.Error("digest differs from the documented construction")
	}
}
