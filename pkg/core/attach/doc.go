// SPDX-License-Identifier: AGPL-3.0-or-later

// Package attach encrypts attachments in fixed-size chunks (Hush issue 3;
// the byte layout is "Attachment chunks" in ARCHITECTURE.md). The entry
// points are NewEncryptor and NewDecryptor.
//
// # Format (version 1)
//
// Each attachment has its own random 32-byte Key, which encrypts nothing
// else. From it HKDF-SHA256 (empty salt) derives
//
//	chunk key  = HKDF(Key, info "hush attachment v1 chunk key", 32 bytes)      ; ChaCha20-Poly1305
//	commitment = HKDF(Key, info "hush attachment v1 key commitment", 32 bytes) ; binds the key into the digest
//
// The plaintext (size bytes) is cut into n = ChunkCount(size) pieces of
// PlainChunkSize (30,704) bytes; the last holds the rest followed by zero
// bytes up to 30,704, and an empty attachment is one chunk of zeros. Chunk
// i (from 0) is
//
//	nonce_i = uint64be(i) ‖ 00 00 00 ‖ (01 if i = n−1, else 00)   ; 12 bytes
//	ad      = uint64be(size)                                       ; 8 bytes
//	chunk_i = ChaCha20-Poly1305-Seal(chunk key, nonce_i, piece_i, ad) ; 30,704 + 16-byte tag = 30,720 bytes
//
// and the digest is
//
//	digest = SHA-256("hush attachment v1 digest" ‖ commitment ‖ uint64be(size) ‖ tag_0 ‖ … ‖ tag_{n−1})
//
// where tag_i is the last 16 bytes of chunk_i. The chunks carry no header
// and no length: the size travels in the message pointer with the Key and
// the digest, and is authenticated by every chunk (ad), so a chunk opens
// only at its own index (nonce), in its own attachment (key), under the
// right size, and the final-chunk flag marks the end as in STREAM. The
// decryptor checks that the padding is zero. The digest is computed from
// the tags while encrypting and decrypting: no second pass over the data.
//
// The digest covers the key (through the commitment), the size and every
// tag in order, so no one without the key (a relay, the network) can
// change, drop, reorder or swap a chunk unnoticed, and one set of chunks
// matches one key only. It is exactly as strong as the tags, though:
// Poly1305 is not collision resistant for whoever knows the key, so the
// sender could make a second attachment with the same digest. Stopping
// that would mean hashing all the ciphertext (SHA-256 runs at 1.9 GB/s
// here, slower than the cipher); Hush does not rely on it.
//
// # Cipher
//
// ChaCha20-Poly1305 (golang.org/x/crypto), chosen by measurement on the two
// targets Hush ships, sealing 30,704-byte chunks: on amd64 AES-256-GCM
// (AES-NI) runs at about 5.0 GB/s and ChaCha20-Poly1305 at 2.6 GB/s, both
// far beyond what an upload through onion paths carries; in the browser
// (js/wasm) AES-GCM drops to 54 MB/s against ChaCha20-Poly1305's 172 MB/s,
// and Go's AES and GHASH without hardware support are not constant-time,
// while ChaCha20-Poly1305 always is.
//
// # Nonces
//
// Nonces are derived from the chunk index, not random. That is safe because
// a Key encrypts exactly one attachment: under the one chunk key every
// (index, final flag) pair, hence every nonce, is used for exactly one
// piece of plaintext. Encrypting chunk i again (a resumed or repeated
// upload) uses the same key, nonce, plaintext and ad, so it gives the same
// bytes and reveals nothing new. The one rule for callers follows: the
// plaintext must not change while its chunks are being made, since two
// different pieces under one nonce would reveal their XOR and the Poly1305
// key of that chunk. Encrypt from a copy
// that nothing else writes (the outbox's own copy of the file), never from
// a file the user may still be editing.
//
// # Use (issue 7)
//
// Upload: the sender makes a Key, runs an Encryptor over the file and
// uploads each chunk from Next through its own onion path with PutChunk.
// After each chunk a relay acknowledged, it may persist Encryptor.State; on
// restart ResumeEncryptor picks up at the next chunk. A chunk to upload
// again (another relay, a lost acknowledgement) is re-derived with
// EncryptChunk: nonces are a function of the index, so it is the same bytes.
// When the last chunk is stored, Digest goes into the pointer with the Key,
// the size and the chunk locations.
//
// Download: the recipient runs a Decryptor with the pointer's Key, size and
// digest, fetching chunk 0, 1, … in order and passing each to Decrypt (a
// refused chunk can be fetched again and retried). Verified tells the
// progress; State, persisted with the plaintext written so far, lets
// ResumeDecryptor continue after a restart. Only when Finish returns nil is
// the file complete and the sender's; then the chunks may be deleted from
// the relays.
package attach
