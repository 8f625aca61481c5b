// SPDX-License-Identifier: AGPL-3.0-or-later

package onion

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hushchat/hush/pkg/internal/secret"
	"github.com/hushchat/hush/pkg/internal/x25519"
)

// KeySize is the size of X25519 onion keys and Ed25519 relay identities.
const KeySize = 32

// RelayPrefix starts a relay identity's text form (the same form as
// mailbox.RelayID).
const RelayPrefix = "hushrelay:"

// Errors about keys and identities.
var (
	ErrKeyLength = errors.New("onion: key is not 32 bytes")
	ErrWeakKey   = errors.New("onion: X25519 public key is of small order or not canonical")
	ErrRelayID   = errors.New("onion: not a relay identity (want \"hushrelay:\" and 43 base64url characters)")
)

// Epoch numbers a relay's onion keys: each key has its own, and a new key
// always gets a higher one. A packet names the epoch of the key it was made
// for in cleartext.
type Epoch uint32

// RelayID is a relay's Ed25519 identity public key.
type RelayID struct {
	k [KeySize]byte
}

// NewRelayID checks raw (an Ed25519 public key) and returns it as a RelayID.
func NewRelayID(raw []byte) (RelayID, error) {
	if len(raw) != KeySize {
		return RelayID{}, fmt.Errorf("%w (relay identity of %d bytes)", ErrKeyLength, len(raw))
	}
	var r RelayID
	copy(r.k[:], raw)
	if r.IsZero() {
		return RelayID{}, fmt.Errorf("%w: all zeros", ErrRelayID)
	}
	return r, nil
}

// ParseRelayID reads the text form written by String.
func ParseRelayID(s string) (RelayID, error) {
	rest, ok := strings.CutPrefix(s, RelayPrefix)
	if !ok || len(rest) != base64.RawURLEncoding.EncodedLen(KeySize) {
		return RelayID{}, ErrRelayID
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	if err != nil {
		return RelayID{}, ErrRelayID
	}
	return NewRelayID(raw)
}

// Bytes returns a copy of the 32 key bytes.
func (r RelayID) Bytes() []byte { return bytes.Clone(r.k[:]) }

// IsZero reports whether r is the zero value.
func (r RelayID) IsZero() bool { return r.k == [KeySize]byte{} }

// String returns the text form, "hushrelay:" and unpadded base64url.
func (r RelayID) String() string { return RelayPrefix + base64.RawURLEncoding.EncodeToString(r.k[:]) }

// PublicKey is a relay's X25519 onion public key.
type PublicKey struct {
	k [KeySize]byte
}

// NewPublicKey checks raw and returns it as a PublicKey. It refuses the
// small-order points and non-canonical encodings, so one key has one
// spelling.
func NewPublicKey(raw []byte) (PublicKey, error) {
	if len(raw) != KeySize {
		return PublicKey{}, fmt.Errorf("%w (onion public key of %d bytes)", ErrKeyLength, len(raw))
	}
	var p PublicKey
	copy(p.k[:], raw)
	if !validPoint(&p.k) {
		return PublicKey{}, ErrWeakKey
	}
	return p, nil
}

// Bytes returns a copy of the 32 key bytes.
func (p PublicKey) Bytes() []byte { return bytes.Clone(p.k[:]) }

// IsZero reports whether p is the zero value.
func (p PublicKey) IsZero() bool { return p.k == [KeySize]byte{} }

// String returns the key as "onionkey:" and unpadded base64url, for logs.
func (p PublicKey) String() string {
	return "onionkey:" + base64.RawURLEncoding.EncodeToString(p.k[:])
}

// PrivateKey is a relay's X25519 onion private key. It never prints and is
// not comparable with ==.
type PrivateKey struct {
	_ [0]func()
	k *ecdh.PrivateKey
}

// GenerateKey makes a new onion key from 32 bytes of rand (crypto/rand if
// nil).
func GenerateKey(r io.Reader) (*PrivateKey, error) {
	if r == nil {
		r = rand.Reader
	}
	var seed [KeySize]byte
	defer secret.Zero32(&seed)
	if _, err := io.ReadFull(r, seed[:]); err != nil {
		return nil, fmt.Errorf("onion: read randomness: %w", err)
	}
	return NewPrivateKey(seed)
}

// NewPrivateKey builds an onion key from 32 secret bytes (clamped by
// X25519). Most callers want GenerateKey.
func NewPrivateKey(raw [KeySize]byte) (*PrivateKey, error) {
	defer secret.Zero32(&raw)
	k, err := ecdh.X25519().NewPrivateKey(raw[:])
	if err != nil {
		return nil, fmt.Errorf("onion: private key: %w", err)
	}
	return &PrivateKey{k: k}, nil
}

// Public returns the public half.
func (k *PrivateKey) Public() PublicKey {
	var p PublicKey
	copy(p.k[:], k.k.PublicKey().Bytes())
	return p
}

// Bytes returns a copy of the 32 secret bytes, for the key ring's store.
func (k *PrivateKey) Bytes() []byte { return k.k.Bytes() }

// Equal reports whether k and o are the same key, in constant time.
func (k *PrivateKey) Equal(o *PrivateKey) bool {
	return secret.Equal(k.k.Bytes(), o.k.Bytes())
}

// String returns a placeholder: the key never prints.
func (k *PrivateKey) String() string { return "onion.PrivateKey(redacted)" }

// GoString returns the same placeholder as String.
func (k *PrivateKey) GoString() string { return k.String() }

// Format makes every fmt verb print the placeholder.
func (k *PrivateKey) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// Hop is one relay of a path as the client knows it from the relay's
// descriptor: its identity, and the onion key and epoch to wrap for.
type Hop struct {
	ID    RelayID
	Key   PublicKey
	Epoch Epoch
}

// validPoint refuses a non-canonical or small-order key: the module's one
// check, in pkg/internal/x25519.
func validPoint(k *[KeySize]byte) bool { return x25519.Valid(k) }
