// SPDX-License-Identifier: AGPL-3.0-or-later

package verify

import (
	"slices"
	"strings"

	"github.com/hushchat/hush/pkg/core/identity"
)

// SafetyNumber is the safety number between the local user's identity key
// and a remote user's, as seen from the local side. Both users get the same
// String and Groups; their Scannable payloads are mirror images, and each
// accepts the other's in CompareScanned.
//
// A SafetyNumber holds digests of public keys only; it is not secret.
type SafetyNumber struct {
	local, remote digest
}

// New computes the safety number between the local user's identity key and
// the remote user's. It costs 2 × 5,200 SHA-512 calls, a few milliseconds.
// It panics if either key is the zero PublicKey, which is never a valid key.
func New(local, remote identity.PublicKey) SafetyNumber {
	if local.IsZero() || remote.IsZero() {
		panic("verify: zero identity key")
	}
	return SafetyNumber{local: keyDigest(local), remote: keyDigest(remote)}
}

// keyDigest hashes libsignal's serialization of k (0x05 ‖ key) with k's
// text form as the stable identifier.
func keyDigest(k identity.PublicKey) digest {
	return sideDigest(k.Signal().Serialize(), []byte(k.String()))
}

// String returns the 60 digits, with no separators.
func (s SafetyNumber) String() string { return strings.Join(s.Groups(), "") }

// Groups returns the 60 digits as 12 groups of 5, the form to show users
// (Signal lays them out in three rows of four).
//
// Each side contributes six groups; the side whose digits sort first comes
// first, so the order does not depend on who is local.
func (s SafetyNumber) Groups() []string {
	a, b := s.local.groups(), s.remote.groups()
	if slices.Compare(b[:], a[:]) < 0 { // groups have a fixed width: same order as the digit strings
		a, b = b, a
	}
	return slices.Concat(a[:], b[:])
}
