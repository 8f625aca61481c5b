// SPDX-License-Identifier: AGPL-3.0-or-later

// Package transfer moves an attachment's encrypted chunks (package attach)
// to and from relays' chunk stores, each request through its own onion
// path (ARCHITECTURE.md, "Attachment chunk placement"). The entry points
// are NewLayout, then Upload on the sender's side, and Download, Delete
// and Open on the recipient's.
//
// # Layout (format version 1)
//
// A message pointer carries the attachment Key, its size, its digest and
// a list of 1 to 16 distinct relays; never a list of chunks (a 1 GiB file
// has about 35,000). Everything else follows from them. With
// n = attach.ChunkCount(size) real chunks and N = PaddedCount(n),
// for 0 ≤ i < N:
//
//	chunk ID_i     = HKDF-SHA256(Key, salt empty, info "hush attachment v1 chunk id" ‖ uint64be(i), 32)
//	delete token_i = HKDF-SHA256(Key, salt empty, info "hush attachment v1 delete token" ‖ uint64be(i), 32)
//	relay_i        = relays[i mod len(relays)]
//	PaddedCount(n) = max(8, Padmé(n))
//	Padmé(L)       = L rounded up to a multiple of 2^(E−S), E = ⌊log₂ L⌋, S = ⌊log₂ E⌋ + 1   (L ≥ 2)
//
// Chunk i < n is chunk i of the ciphertext (attach's format); chunks
// n..N−1 are padding: 30,720 random bytes each, put, fetched and deleted
// exactly like real ones, their content discarded. The relay of chunk i
// stores it under ID_i with SHA-256(token_i) and gives it back to
// whoever asks for ID_i; the recipient deletes it with token_i once the
// whole attachment verified.
//
// Why these choices:
//
//   - IDs and tokens come from the Key, so only the two ends of the
//     conversation know them, and a retried put of the same chunk finds
//     its own ID (StatusExists counts as stored). The chunk key is
//     derived with other labels, so IDs reveal nothing about it.
//   - Relays of one attachment see its chunks put and fetched; together
//     they know the count, and the count is the size. Padded with Padmé
//     (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and
//     Communication with PURBs", PETS 2019), they learn only O(log log n)
//     bits of it, for at most 11.6 % more chunks (at n = 129; 4 % at 100,
//     2.4 % at 1,000); the floor of 8 chunks makes every attachment up to
//     245,632 bytes look alike, the common photo and voice clip among
//     them.
//   - Round robin spreads the load and the risk evenly: one relay gone
//     costs the chunks it held, and every relay holds at most ⌈N / k⌉.
//
// # Transfers
//
// Upload, Download and Delete send one request per chunk through an
// Asker (relaynet.Net), Parallel at a time, each on a fresh path. A
// network failure, or a relay asking to slow down, is tried again on
// another path after a short backoff; a refusal is final. Errors about a
// chunk are *ChunkError, naming it and its relay; Temporary says whether
// trying again later may work. Both directions resume: Upload from a
// prefix of chunks known stored (UploadOptions.Stored), Download from
// the verified prefix of its file. Memory stays flat whatever the size:
// one chunk buffer per request, and at most Window chunks waiting to be
// written in order.
//
// The downloaded file holds the ciphertext, encrypted at rest under the
// attachment's own key, verified chunk by chunk and by the digest; Open
// reads its plaintext back, again in constant memory.
package transfer
