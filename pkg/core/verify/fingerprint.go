// SPDX-License-Identifier: AGPL-3.0-or-later

package verify

import (
	"crypto/sha512"
	"encoding/binary"
	"fmt"
)

// Parameters of libsignal's NumericFingerprintGenerator.
const (
	// displayVersion is the fingerprint version hashed into each side's
	// digest. The digits have never changed version.
	displayVersion = 0
	// ScannableVersion is the version written in and required of the QR
	// payload. Version 0 carried the keys and identifiers themselves;
	// version 1 carries digests, as in current libsignal.
	ScannableVersion = 1
	// iterations is the number of SHA-512 invocations per side.
	iterations = 5200
)

// Lengths of the displayed forms.
const (
	Digits     = 2 * sideDigits // 60, the length of SafetyNumber.String
	GroupCount = 2 * sideChunks // 12, the length of SafetyNumber.Groups
)

// Sizes, in bytes unless named otherwise.
const (
	versionSize  = 2                        // big-endian displayVersion
	chunkSize    = 5                        // bytes read per group of digits
	chunkDigits  = 5                        // digits per group
	chunkModulus = 100000                   // 10^chunkDigits
	sideChunks   = 6                        // groups per side
	sideDigits   = sideChunks * chunkDigits // 30 digits per side
	displaySize  = sideChunks * chunkSize   // 30 bytes of digest shown as digits
	contentSize  = 32                       // bytes of digest in the QR payload (≥ displaySize)
)

// digest is the part of one side's iterated hash that is used: the first
// displaySize bytes become digits, all contentSize bytes go in the QR
// payload.
type digest [contentSize]byte

// sideDigest computes one side's digest from libsignal's serialization of
// its identity key (0x05 and the 32-byte key) and its stable identifier.
//
// libsignal hashes version ‖ key ‖ id ‖ key in the first of its iterations
// SHA-512 calls and h ‖ key in each later one. Written here as "start from
// the unhashed buffer version ‖ key ‖ id, then iterations times
// h = SHA-512(h ‖ key)", which is the same computation: the starting buffer
// is not itself a digest.
func sideDigest(key, stableID []byte) digest {
	buf := make([]byte, 0, versionSize+len(key)+len(stableID))
	buf = binary.BigEndian.AppendUint16(buf, displayVersion)
	buf = append(buf, key...)
	buf = append(buf, stableID...)
	h := sha512.New()
	for range iterations {
		h.Reset()
		h.Write(buf)
		h.Write(key)
		buf = h.Sum(buf[:0])
	}
	var d digest
	copy(d[:], buf)
	return d
}

// groups returns the side's six 5-digit groups: each 5-byte big-endian
// chunk of the digest modulo 100000.
func (d *digest) groups() [sideChunks]string {
	var g [sideChunks]string
	for i := range g {
		var v uint64
		for _, b := range d[i*chunkSize : (i+1)*chunkSize] {
			v = v<<8 | uint64(b)
		}
		g[i] = fmt.Sprintf("%0*d", chunkDigits, v%chunkModulus)
	}
	return g
}
