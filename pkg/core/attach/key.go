// SPDX-License-Identifier: AGPL-3.0-or-later

package attach

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"

	"github.com/hushchat/hush/pkg/internal/secret"
)

const (
	// KeySize is the size of an attachment key.
	KeySize = 32
	// DigestSize is the size of an attachment digest (SHA-256).
	DigestSize = 32
)

// Key is an attachment's random key. Each Key encrypts exactly one
// attachment. It must be kept secret: it never prints, compares only with
// Equal (in constant time) and is incomparable with ==.
type Key struct {
	_ [0]func() // incomparable: use Equal
	k [KeySize]byte
}

// NewKey returns a fresh random key read from crypto/rand.
func NewKey() (Key, error) {
	var k Key
	if _, err := io.ReadFull(rand.Reader, k.k[:]); err != nil {
		return Key{}, fmt.Errorf("attach: read randomness: %w", err)
	}
	return k, nil
}

// KeyFromBytes checks b and returns it as a Key. It refuses a key of the
// wrong length and the all-zero key (never the output of NewKey; most
// likely an unset field).
func KeyFromBytes(b []byte) (Key, error) {
	if len(b) != KeySize {
		return Key{}, fmt.Errorf("%w (%d bytes, want %d)", ErrKeyLength, len(b), KeySize)
	}
	if secret.IsZero(b) {
		return Key{}, ErrZeroKey
	}
	var k Key
	copy(k.k[:], b)
	return k, nil
}

// Bytes returns a copy of the key. It must be kept secret.
func (k Key) Bytes() []byte { return bytes.Clone(k.k[:]) }

// Equal reports whether k and o are the same key, in constant time.
func (k Key) Equal(o Key) bool { return secret.Equal(k.k[:], o.k[:]) }

// String returns a placeholder: the key never prints.
func (k Key) String() string { return "attach.Key(redacted)" }

// GoString returns the same placeholder as String.
func (k Key) GoString() string { return k.String() }

// Format makes every fmt verb print the placeholder.
func (k Key) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// isZero reports whether k is the zero Key (never a valid key).
func (k Key) isZero() bool { return secret.IsZero(k.k[:]) }

// Digest authenticates a whole attachment: its size and every chunk, in
// order (see the package documentation). It is not secret.
type Digest [DigestSize]byte

// DigestFromBytes checks b's length and returns it as a Digest.
func DigestFromBytes(b []byte) (Digest, error) {
	var d Digest
	if len(b) != DigestSize {
		return d, fmt.Errorf("%w (%d bytes, want %d)", ErrDigestLength, len(b), DigestSize)
	}
	copy(d[:], b)
	return d, nil
}

// Bytes returns a copy of the digest.
func (d Digest) Bytes() []byte { return bytes.Clone(d[:]) }
