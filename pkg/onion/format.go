// SPDX-License-Identifier: AGPL-3.0-or-later

// Package onion is Hush's onion packet format (ARCHITECTURE.md, "Onion
// packets"): fixed-size packets wrapped by the client for a path of up to
// MaxHops relays (Wrap), opened hop by hop with a relay's KeyRing
// (KeyRing.Open), and fixed-size responses layered back the same way
// (Replier, ResponseOpener).
//
// The header follows Sphinx (Danezis & Goldberg, 2009): a constant-size
// routing block with filler, so a hop cannot tell its position. Each layer
// has a fresh ephemeral X25519 key instead of Sphinx's blinding, and each
// hop authenticates header and payload together with AES-256-GCM, so a
// tampered packet is dropped at the first honest hop after the change.
package onion

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"

	"github.com/hushchat/hush/pkg/internal/secret"
)

// Version is the packet format version, the first byte of every packet.
const Version = 1

// Sizes of the packet format. Every packet is PacketSize bytes on every hop,
// requests and responses alike.
const (
	PacketSize = 32768
	MaxHops    = 5
	// DefaultHops is the usual path length: entry, middle, exit.
	DefaultHops = 3

	epochSize = 4
	tagSize   = 16 // AES-GCM tag
	// SlotSize is one hop's routing instructions: kind, next relay,
	// next epoch, next ephemeral key, next GCM tag.
	SlotSize = 1 + KeySize + epochSize + KeySize + tagSize // 85
	// RoutingSize is the routing block, the same for every path length.
	RoutingSize = MaxHops * SlotSize // 425
	// prefixSize is version, epoch and ephemeral key.
	prefixSize = 1 + epochSize + KeySize // 37
	// aadSize is what each hop's GCM authenticates as associated data.
	aadSize = prefixSize + RoutingSize // 462
	// HeaderSize is every byte of a packet that is not payload.
	HeaderSize = aadSize + tagSize // 478
	// PayloadSize is the layered payload every hop decrypts.
	PayloadSize = PacketSize - HeaderSize // 32290

	lengthSize = 2 // big-endian length of the request or response body
	// RequestCapacity is how many bytes of request the exit receives.
	RequestCapacity = PayloadSize - lengthSize // 32288
	// ResponseCapacity is how many bytes of reply the client receives.
	ResponseCapacity = PacketSize - tagSize - lengthSize // 32750

	// replayTagSize is the per-hop replay tag the key ring remembers.
	replayTagSize = 16
	// errorMACSize is the authenticator of an error response's code.
	errorMACSize = 16
)

// Offsets in a packet.
const (
	offEpoch     = 1
	offEphemeral = offEpoch + epochSize     // 5
	offRouting   = offEphemeral + KeySize   // 37
	offPayload   = offRouting + RoutingSize // 462
	offTag       = offPayload + PayloadSize // 32752
)

// Offsets in a routing slot.
const (
	slotKind      = 0
	slotNext      = 1
	slotEpoch     = slotNext + KeySize       // 33
	slotEphemeral = slotEpoch + epochSize    // 37
	slotTag       = slotEphemeral + KeySize  // 69
	slotEnd       = slotTag + tagSize        // 85
	_             = uint(SlotSize - slotEnd) // SlotSize covers the slot
)

// Slot kinds.
const (
	kindForward = 1
	kindExit    = 2
)

// KDF labels: the HKDF-SHA256 info strings, one per derived value. The
// input key material is the X25519 shared secret, the salt the ephemeral
// public key followed by the relay's onion public key.
const (
	LabelRouting  = "hush onion v1 routing"  // AES-256-CTR key of the routing block
	LabelPayload  = "hush onion v1 payload"  // AES-256-GCM key of the payload and header
	LabelReplay   = "hush onion v1 replay"   // 16-byte replay tag
	LabelResponse = "hush onion v1 response" // AES-256-CTR key of this hop's response layer
	LabelReply    = "hush onion v1 reply"    // AES-256-GCM key of the exit's reply
	LabelError    = "hush onion v1 error"    // HMAC-SHA256 key of an error response's code
)

// zeroNonce is the GCM nonce: every GCM key is used for one message only.
var zeroNonce [12]byte

// zeroIV is the CTR IV: every CTR key is used for one stream only.
var zeroIV [aes.BlockSize]byte

// hopSecrets is what one hop and the client share for one packet.
type hopSecrets struct {
	prk [sha256.Size]byte
}

// newHopSecrets extracts the pseudorandom key from the shared secret and
// the two public keys.
func newHopSecrets(shared, ephemeral, relayKey []byte) (*hopSecrets, error) {
	salt := make([]byte, 0, 2*KeySize)
	salt = append(append(salt, ephemeral...), relayKey...)
	prk, err := hkdf.Extract(sha256.New, shared, salt)
	if err != nil {
		return nil, err
	}
	h := &hopSecrets{}
	copy(h.prk[:], prk)
	secret.Zero(prk)
	return h, nil
}

// replyKeys are the keys of the way back, all a relay keeps of a packet
// after opening it: the payload and routing keys cannot be derived from
// them.
type replyKeys struct {
	response, reply, errKey [32]byte
}

func (h *hopSecrets) replyKeys() *replyKeys {
	k := &replyKeys{}
	for _, d := range []struct {
		dst   *[32]byte
		label string
	}{{&k.response, LabelResponse}, {&k.reply, LabelReply}, {&k.errKey, LabelError}} {
		b := h.key(d.label, 32)
		copy(d.dst[:], b)
		secret.Zero(b)
	}
	return k
}

func (k *replyKeys) zero() {
	secret.Zero32(&k.response)
	secret.Zero32(&k.reply)
	secret.Zero32(&k.errKey)
}

func (k *replyKeys) ctr() cipher.Stream {
	b, _ := aes.NewCipher(k.response[:])
	return cipher.NewCTR(b, zeroIV[:])
}

func (k *replyKeys) gcm() cipher.AEAD {
	b, _ := aes.NewCipher(k.reply[:])
	a, _ := cipher.NewGCM(b)
	return a
}

func (k *replyKeys) errorMAC(code byte) []byte { return errorMACWith(k.errKey[:], code) }

// key derives n bytes for label.
func (h *hopSecrets) key(label string, n int) []byte {
	k, err := hkdf.Expand(sha256.New, h.prk[:], label, n)
	if err != nil {
		panic("onion: hkdf expand: " + err.Error()) // n ≤ 32: cannot fail
	}
	return k
}

// gcm returns the AES-256-GCM AEAD keyed by label.
func (h *hopSecrets) gcm(label string) cipher.AEAD {
	k := h.key(label, 32)
	defer secret.Zero(k)
	b, _ := aes.NewCipher(k)
	a, _ := cipher.NewGCM(b)
	return a
}

// ctr returns the AES-256-CTR stream keyed by label.
func (h *hopSecrets) ctr(label string) cipher.Stream {
	k := h.key(label, 32)
	defer secret.Zero(k)
	b, _ := aes.NewCipher(k)
	return cipher.NewCTR(b, zeroIV[:])
}

func (h *hopSecrets) zero() { secret.Zero32(&h.prk) }
