// SPDX-License-Identifier: AGPL-3.0-or-later

package directory

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"

	"github.com/hushchat/hush/pkg/internal/secret"
	"github.com/hushchat/hush/pkg/onion"
)

// SeedSize is the size of a relay identity key's secret seed.
const SeedSize = ed25519.SeedSize // 32

// SigningKey is a relay's Ed25519 identity private key. It signs the
// relay's descriptors; its public half is the relay's onion.RelayID. It
// never prints and is not comparable with ==.
type SigningKey struct {
	_  [0]func()
	k  ed25519.PrivateKey
	id onion.RelayID
}

// GenerateSigningKey makes a new identity key from SeedSize bytes of rand
// (crypto/rand if nil).
func GenerateSigningKey(r io.Reader) (*SigningKey, error) {
	if r == nil {
		r = rand.Reader
	}
	var seed [SeedSize]byte
	if _, err := io.ReadFull(r, seed[:]); err != nil {
		return nil, fmt.Errorf("directory: read randomness: %w", err)
	}
	return NewSigningKey(seed), nil
}

// NewSigningKey builds the identity key of a stored seed, and zeroes the
// caller's copy of the seed passed by value.
func NewSigningKey(seed [SeedSize]byte) *SigningKey {
	defer secret.Zero32(&seed)
	k := ed25519.NewKeyFromSeed(seed[:])
	id, err := onion.NewRelayID(k.Public().(ed25519.PublicKey))
	if err != nil {
		panic("directory: ed25519 public key is not 32 bytes") // cannot happen
	}
	return &SigningKey{k: k, id: id}
}

// Relay returns the relay identity: the public half.
func (k *SigningKey) Relay() onion.RelayID { return k.id }

// Seed returns a copy of the secret seed, for the relay's key store.
func (k *SigningKey) Seed() []byte { return k.k.Seed() }

// Equal reports whether k and o are the same key, in constant time.
func (k *SigningKey) Equal(o *SigningKey) bool { return secret.Equal(k.k.Seed(), o.k.Seed()) }

// Signer returns the key as a crypto.Signer (for the relay's TLS
// certificate, pinned to its identity). It signs whatever it is given:
// never use it for anything that could be mistaken for a descriptor.
func (k *SigningKey) Signer() crypto.Signer { return signer{k} }

// Destroy zeroes the key. It must not be used afterwards.
func (k *SigningKey) Destroy() { secret.Zero(k.k) }

// String returns a placeholder: the key never prints, not even when
// dereferenced.
func (k SigningKey) String() string { return "directory.SigningKey(redacted)" }

// GoString returns the same placeholder as String.
func (k SigningKey) GoString() string { return k.String() }

// Format makes every fmt verb print the placeholder.
func (k SigningKey) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

func (k *SigningKey) sign(msg []byte) []byte { return ed25519.Sign(k.k, msg) }

// signer hides the key bytes behind crypto.Signer.
type signer struct{ k *SigningKey }

func (s signer) Public() crypto.PublicKey { return ed25519.PublicKey(s.k.id.Bytes()) }

func (s signer) Sign(r io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.k.k.Sign(r, msg, opts)
}
