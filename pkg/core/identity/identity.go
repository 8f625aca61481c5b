// SPDX-License-Identifier: AGPL-3.0-or-later

// Package identity defines a Hush user's long-term identity key: a
// Curve25519 key pair in libsignal's format, with XEdDSA signatures.
//
// PublicKey is the value users compare and share; its text form,
// "hushid:" followed by the unpadded base64url of the 32-byte key, is also
// the stable identifier in safety numbers. PrivateKey never prints its
// secret through fmt and has no text marshaller; EncodeSecret is the one
// deliberate way out.
package identity

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.mau.fi/libsignal/ecc"
	sigid "go.mau.fi/libsignal/keys/identity"

	"github.com/hushchat/hush/pkg/core/internal/signalkey"
	_ "github.com/hushchat/hush/pkg/core/internal/signallog"
	"github.com/hushchat/hush/pkg/internal/secret"
	"github.com/hushchat/hush/pkg/internal/x25519"
)

// Sizes of the encodings defined here.
const (
	KeySize       = 32 // raw Curve25519 key
	SignatureSize = 64 // XEdDSA signature
)

// Text prefixes. Each key type has its own so a key pasted in the wrong
// place is refused rather than misread.
const (
	PublicPrefix = "hushid:"
	SecretPrefix = "hushid-secret:"
)

// Errors returned when parsing keys.
var (
	// ErrKeyLength is returned for a key that is not KeySize bytes.
	ErrKeyLength = errors.New("identity: key is not 32 bytes")
	// ErrWeakKey is returned for a public key that is all zero, of small
	// order, or not in canonical form.
	ErrWeakKey = errors.New("identity: key is zero, of small order or not canonical")
	// ErrPrefix is returned for text without the expected type prefix.
	ErrPrefix = errors.New("identity: missing or wrong type prefix")
	// ErrEncoding is returned for text whose base64url body does not decode.
	ErrEncoding = errors.New("identity: malformed base64url")
)

// b64 is strict so every key has exactly one text form.
var b64 = base64.RawURLEncoding.Strict()

// PublicKey is a user's identity public key. The zero value is not a
// valid key; use IsZero to tell.
type PublicKey struct {
	k [KeySize]byte
}

// PrivateKey is a user's identity key pair. It must be kept secret.
// PrivateKey values are not comparable with ==; use Equal.
type PrivateKey struct {
	_    [0]func() // incomparable: == would not be constant time
	priv [KeySize]byte
	ek   *ecdh.PrivateKey // the same key, kept so ECDH does one multiplication
	pub  PublicKey
}

// Generate creates a new identity key pair from rand (crypto/rand if nil).
func Generate(rand io.Reader) (*PrivateKey, error) {
	if rand == nil {
		rand = cryptoRand
	}
	var seed [KeySize]byte
	if _, err := io.ReadFull(rand, seed[:]); err != nil {
		return nil, fmt.Errorf("identity: read randomness: %w", err)
	}
	defer secret.Zero32(&seed)
	return NewPrivateKey(seed)
}

var cryptoRand = rand.Reader

// NewPrivateKey builds a key pair from 32 secret bytes, clamped as X25519
// requires. Most callers want Generate.
func NewPrivateKey(raw [KeySize]byte) (*PrivateKey, error) {
	clamp(&raw)
	defer secret.Zero32(&raw)
	k, err := ecdh.X25519().NewPrivateKey(raw[:])
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	p := &PrivateKey{ek: k}
	copy(p.priv[:], raw[:])
	copy(p.pub.k[:], k.PublicKey().Bytes())
	return p, nil
}

func clamp(k *[KeySize]byte) {
	k[0] &= 248
	k[31] &= 127
	k[31] |= 64
}

// Public returns the public half of k.
func (k *PrivateKey) Public() PublicKey { return k.pub }

// Equal reports whether k and o are the same key, in constant time.
func (k *PrivateKey) Equal(o *PrivateKey) bool {
	return secret.Equal(k.priv[:], o.priv[:])
}

// Sign returns an XEdDSA signature over msg, as libsignal computes it.
// The signature is randomized.
func (k *PrivateKey) Sign(msg []byte) [SignatureSize]byte {
	return ecc.CalculateSignature(ecc.NewDjbECPrivateKey(k.priv), msg)
}

// ErrDH is returned by ECDH when the shared secret is all zeros.
var ErrDH = errors.New("identity: Diffie-Hellman gave an all-zero result")

// ECDH returns the X25519 shared secret of k and pub. The result must be
// kept secret. pub was validated when it was parsed; an all-zero result
// is refused all the same.
func (k *PrivateKey) ECDH(pub PublicKey) ([KeySize]byte, error) {
	var out [KeySize]byte
	if k.ek == nil {
		return out, errors.New("identity: key was destroyed")
	}
	p, err := ecdh.X25519().NewPublicKey(pub.k[:])
	if err != nil {
		return out, fmt.Errorf("identity: %w", err)
	}
	shared, err := k.ek.ECDH(p)
	if err != nil {
		return out, ErrDH
	}
	copy(out[:], shared)
	secret.Zero(shared)
	return out, nil
}

// Destroy zeroes this copy of the secret key. k must not be used
// afterwards. Copies made earlier (a session.Manager keeps libsignal's
// form of the key for its lifetime; Go may have copied the value) are not
// reached: Destroy shortens a key's life in memory, it does not end it.
func (k *PrivateKey) Destroy() {
	secret.Zero32(&k.priv)
	k.ek = nil // crypto/ecdh keys cannot be zeroed; drop ours for the collector
}

// EncodeSecret returns the secret key's text form, "hushid-secret:" and
// base64url. The result must be kept secret.
func (k *PrivateKey) EncodeSecret() string {
	return SecretPrefix + b64.EncodeToString(k.priv[:])
}

// ParseSecret reads the text form written by EncodeSecret.
func ParseSecret(s string) (*PrivateKey, error) {
	raw, err := decodeText(s, SecretPrefix)
	if err != nil {
		return nil, err
	}
	defer secret.Zero32(&raw)
	return NewPrivateKey(raw)
}

// String returns a fixed placeholder: the secret is never printed. The
// value receivers matter: a PrivateKey copied into a struct or
// dereferenced prints the placeholder too.
func (k PrivateKey) String() string { return "identity.PrivateKey(redacted)" }

// GoString returns the same placeholder as String, for %#v.
func (k PrivateKey) GoString() string { return k.String() }

// Format makes every fmt verb print the placeholder.
func (k PrivateKey) Format(f fmt.State, _ rune) { io.WriteString(f, k.String()) }

// signalKeyPair returns the key pair in libsignal's types, for
// pkg/core/session through pkg/core/internal/signalkey. libsignal's types
// print their raw bytes, so this is not exported.
func signalKeyPair(k any) *sigid.KeyPair {
	p := k.(*PrivateKey)
	return sigid.NewKeyPair(p.pub.Signal(), ecc.NewDjbECPrivateKey(p.priv))
}

func init() { signalkey.KeyPair = signalKeyPair }

// NewPublicKey checks raw and returns it as a PublicKey.
func NewPublicKey(raw []byte) (PublicKey, error) {
	if len(raw) != KeySize {
		return PublicKey{}, fmt.Errorf("%w (got %d)", ErrKeyLength, len(raw))
	}
	var p PublicKey
	copy(p.k[:], raw)
	if err := ValidatePoint(p.k); err != nil {
		return PublicKey{}, err
	}
	return p, nil
}

// ParsePublicKey reads the text form "hushid:…".
func ParsePublicKey(s string) (PublicKey, error) {
	raw, err := decodeText(s, PublicPrefix)
	if err != nil {
		return PublicKey{}, err
	}
	return NewPublicKey(raw[:])
}

// FromSignal converts libsignal's identity key.
func FromSignal(k *sigid.Key) (PublicKey, error) {
	if k == nil || k.PublicKey() == nil {
		return PublicKey{}, fmt.Errorf("identity: missing key")
	}
	raw := k.PublicKey().PublicKey()
	return NewPublicKey(raw[:])
}

// Bytes returns a copy of the 32 raw key bytes.
func (p PublicKey) Bytes() []byte { return bytes.Clone(p.k[:]) }

// Array returns the 32 raw key bytes.
func (p PublicKey) Array() [KeySize]byte { return p.k }

// IsZero reports whether p is the zero value.
func (p PublicKey) IsZero() bool { return p.k == [KeySize]byte{} }

// Equal reports whether p and o are the same key, in constant time.
func (p PublicKey) Equal(o PublicKey) bool { return secret.Equal(p.k[:], o.k[:]) }

// String returns the text form, "hushid:" and base64url.
func (p PublicKey) String() string { return PublicPrefix + b64.EncodeToString(p.k[:]) }

// ShortString returns a redacted form for logs: the prefix and the first
// six characters of the key.
func (p PublicKey) ShortString() string { return p.String()[:len(PublicPrefix)+6] + "…" }

// MarshalText implements encoding.TextMarshaler.
func (p PublicKey) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *PublicKey) UnmarshalText(b []byte) error {
	k, err := ParsePublicKey(string(b))
	if err != nil {
		return err
	}
	*p = k
	return nil
}

// Verify reports whether sig is a valid XEdDSA signature of msg by p.
func (p PublicKey) Verify(msg []byte, sig [SignatureSize]byte) bool {
	return ecc.VerifySignature(ecc.NewDjbECPublicKey(p.k), msg, sig)
}

// Signal returns p as libsignal's identity key.
func (p PublicKey) Signal() *sigid.Key {
	return sigid.NewKey(ecc.NewDjbECPublicKey(p.k))
}

// ValidatePoint refuses a Curve25519 public key that is all zero, of small
// order, or not canonical (see pkg/internal/x25519 for why).
func ValidatePoint(k [KeySize]byte) error {
	if !x25519.Valid(&k) {
		return ErrWeakKey
	}
	return nil
}

func decodeText(s, prefix string) ([KeySize]byte, error) {
	var raw [KeySize]byte
	body, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return raw, fmt.Errorf("%w: want %q", ErrPrefix, prefix)
	}
	if b64.DecodedLen(len(body)) != KeySize {
		return raw, fmt.Errorf("%w (got %d characters after the prefix, want 43)", ErrKeyLength, len(body))
	}
	n, err := b64.Decode(raw[:], []byte(body))
	if err != nil || n != KeySize {
		return raw, ErrEncoding
	}
	return raw, nil
}
