// SPDX-License-Identifier: AGPL-3.0-or-later

package transfer

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"

	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/internal/secret"
	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion"
)

const (
	// MaxRelays is the most relays one attachment is spread over.
	MaxRelays = 16
	// MinPaddedCount is the fewest chunks an attachment puts on relays:
	// every attachment of up to 8 chunks (245,632 bytes) looks the same.
	MinPaddedCount = 8
)

// KDF labels (HKDF-SHA256 info strings, salt empty, input the attachment
// key), each followed by uint64be(chunk index). One label per use.
const (
	labelChunkID     = "hush attachment v1 chunk id"
	labelDeleteToken = "hush attachment v1 delete token"
)

// Errors of NewLayout.
var (
	// ErrRelays: the relay list is empty, too long, or has a zero or
	// repeated relay.
	ErrRelays = errors.New("transfer: an attachment needs 1 to 16 distinct relays")
)

// Layout is where an attachment's chunks go: each chunk's relay, chunk
// ID and delete token, all following from the attachment key, the size
// and the relay list (the message pointer carries those, never a list of
// chunks). It holds secret material: whoever has a Layout can fetch and
// delete the chunks. It never prints.
type Layout struct {
	key    attach.Key
	prk    []byte // HKDF-Extract(salt empty, key): the input of every Place
	size   int64
	chunks int64
	total  int64
	relays []onion.RelayID
}

// NewLayout returns the chunk placement of an attachment of size
// plaintext bytes under key, spread over relays (1 to MaxRelays distinct
// relays, in the order the pointer lists them).
func NewLayout(key attach.Key, size int64, relays []onion.RelayID) (*Layout, error) {
	n := attach.ChunkCount(size)
	if n == 0 {
		return nil, fmt.Errorf("%w: %d bytes is outside 0..%d", attach.ErrSize, size, int64(attach.MaxSize))
	}
	if err := checkRelays(relays); err != nil {
		return nil, err
	}
	kb := key.Bytes()
	defer secret.Zero(kb)
	if secret.IsZero(kb) {
		return nil, attach.ErrZeroKey
	}
	// HKDF(key, salt empty, info, 32) is Expand(Extract(salt empty, key),
	// info, 32): extracting once leaves one HMAC per Place.
	prk, err := hkdf.Extract(sha256.New, kb, nil)
	if err != nil {
		return nil, fmt.Errorf("transfer: derive the layout: %w", err)
	}
	return &Layout{key: key, prk: prk, size: size, chunks: n, total: PaddedCount(n),
		relays: append([]onion.RelayID(nil), relays...)}, nil
}

func checkRelays(relays []onion.RelayID) error {
	if len(relays) == 0 || len(relays) > MaxRelays {
		return fmt.Errorf("%w (got %d)", ErrRelays, len(relays))
	}
	for i, r := range relays {
		if r.IsZero() {
			return fmt.Errorf("%w (relay %d is zero)", ErrRelays, i)
		}
		for _, o := range relays[:i] {
			if o == r {
				return fmt.Errorf("%w (%s is listed twice)", ErrRelays, r)
			}
		}
	}
	return nil
}

// Chunks returns the attachment's real chunks, attach.ChunkCount(size).
func (l *Layout) Chunks() int64 { return l.chunks }

// Total returns the chunks put on relays, real and padding:
// PaddedCount(Chunks()).
func (l *Layout) Total() int64 { return l.total }

// Size returns the attachment's plaintext size.
func (l *Layout) Size() int64 { return l.size }

// Relays returns a copy of the relay list.
func (l *Layout) Relays() []onion.RelayID { return append([]onion.RelayID(nil), l.relays...) }

// Place returns chunk i's relay, chunk ID and delete token, for
// 0 <= i < Total(); it panics for any other i. The ID and the token must
// be kept secret (the ID fetches the chunk, the token deletes it).
func (l *Layout) Place(i int64) (relay onion.RelayID, id mailbox.ChunkID, token mailbox.DeleteToken) {
	if i < 0 || i >= l.total {
		panic(fmt.Sprintf("transfer: chunk %d of a layout of %d", i, l.total))
	}
	raw := l.derive(labelChunkID, i)
	copy(id[:], raw)
	secret.Zero(raw)
	raw = l.derive(labelDeleteToken, i)
	token, err := mailbox.ParseDeleteToken(raw)
	secret.Zero(raw)
	if err != nil {
		// Only an all-zero HKDF output, probability 2⁻²⁵⁶.
		panic("transfer: internal error: derived delete token refused: " + err.Error())
	}
	return l.relays[i%int64(len(l.relays))], id, token
}

// derive returns HKDF-Expand(prk, label ‖ uint64be(i), 32).
func (l *Layout) derive(label string, i int64) []byte {
	var be [8]byte
	binary.BigEndian.PutUint64(be[:], uint64(i))
	out, err := hkdf.Expand(sha256.New, l.prk, label+string(be[:]), mailbox.IDSize)
	if err != nil {
		panic("transfer: internal error: HKDF-Expand: " + err.Error())
	}
	return out
}

// String describes the layout without any secret: its counts.
func (l *Layout) String() string {
	return fmt.Sprintf("transfer.Layout(%d chunks padded to %d, %d relays)", l.chunks, l.total, len(l.relays))
}

// GoString returns the same as String.
func (l *Layout) GoString() string { return l.String() }

// Format makes every fmt verb print String, never the key.
func (l *Layout) Format(f fmt.State, _ rune) { io.WriteString(f, l.String()) }

// PaddedCount returns how many chunks an attachment of n real chunks puts
// on relays: max(MinPaddedCount, Padmé(n)). Padmé (Nikitin et al.,
// "Reducing Metadata Leakage from Encrypted Files and Communication with
// PURBs", PETS 2019) rounds L up so that only the top S = ⌊log₂ E⌋ + 1
// bits of its E+1 = ⌊log₂ L⌋ + 1 bits may be non-zero: at most 11.6 %
// overhead (129 → 144 is the worst case; the paper's bound is 12 %), and
// only O(log log L) bits of L remain for whoever counts the chunks.
//
// Why: each relay sees the chunks put on it and, since the relays of an
// attachment are round-robin, together they know the count. Padded, they
// learn a coarse size only. n must be in 0..attach.MaxChunkCount; any
// other n is a programmer's error and panics.
func PaddedCount(n int64) int64 {
	if n < 0 || n > attach.MaxChunkCount {
		panic(fmt.Sprintf("transfer: PaddedCount(%d) is out of range", n))
	}
	return max(MinPaddedCount, padme(n))
}

// padme is Padmé for 0 <= L < 2⁶²: with E = ⌊log₂ L⌋ and
// S = ⌊log₂ E⌋ + 1, L rounded up to a multiple of 2^(E−S). L < 2 is
// returned as is (the paper defines it for L ≥ 2).
func padme(L int64) int64 {
	if L < 2 {
		return L
	}
	e := bits.Len64(uint64(L)) - 1 // ⌊log₂ L⌋ ≥ 1
	s := bits.Len64(uint64(e))     // ⌊log₂ E⌋ + 1
	mask := int64(1)<<(e-s) - 1
	return (L + mask) &^ mask
}
