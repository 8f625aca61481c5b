// SPDX-License-Identifier: AGPL-3.0-or-later

package keychain

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/hushchat/hush/pkg/internal/secret"
)

// KeySize is the size of a store key: SQLCipher's raw AES-256 key.
const KeySize = 32

// Key is the raw 256-bit key of a profile's encrypted store. It must be
// kept secret: it never prints through fmt, is not comparable with ==
// (use Equal) and can be zeroed with Destroy.
type Key struct {
	_ [0]func() // incomparable: == would not be constant time
	k [KeySize]byte
}

// NewKey returns a fresh random key, for a new profile whose key goes
// into the OS keychain.
func NewKey() (*Key, error) {
	k := new(Key)
	if _, err := io.ReadFull(rand.Reader, k.k[:]); err != nil {
		return nil, fmt.Errorf("keychain: read randomness: %w", err)
	}
	return k, nil
}

// keyFromBytes copies raw (KeySize bytes) into a new Key.
func keyFromBytes(raw []byte) (*Key, error) {
	if len(raw) != KeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrCorrupt, len(raw), KeySize)
	}
	k := new(Key)
	copy(k.k[:], raw)
	if secret.IsZero(k.k[:]) {
		return nil, fmt.Errorf("%w: the key is all zeros", ErrCorrupt)
	}
	return k, nil
}

// AppendHex appends the key in lower-case hex to dst, for SQLCipher's
// raw-key syntax x'…'. The result must be kept secret; zero it with
// secret.Zero when done.
func (k *Key) AppendHex(dst []byte) []byte {
	return hex.AppendEncode(dst, k.k[:])
}

// Equal reports whether k and o are the same key, in constant time.
func (k *Key) Equal(o *Key) bool { return secret.Equal(k.k[:], o.k[:]) }

// Destroy zeroes the key. k must not be used afterwards.
func (k *Key) Destroy() { secret.Zero32(&k.k) }

// String returns a fixed placeholder: the key is never printed.
func (k Key) String() string { return "keychain.Key(redacted)" }

// GoString returns the same placeholder as String, for %#v.
func (k Key) GoString() string { return k.String() }

// Format makes every fmt verb print the placeholder.
func (k Key) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }
