// SPDX-License-Identifier: AGPL-3.0-or-later

package onion

import (
	"crypto/ecdh"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/hushchat/hush/pkg/internal/secret"
)

// ResponseOpener opens the response to one packet. It holds the secrets the
// client shares with every hop of the path; only it can read the response.
// It is used once: Open erases the secrets.
type ResponseOpener struct {
	hops []*hopSecrets
	used bool
}

// Wrap makes the packet that carries request across path (entry first, exit
// last) and returns it with the opener of its response. It reads 32 bytes
// of rand per hop (the ephemeral keys, in path order) and then the padding
// of the exit's routing block; rand is crypto/rand if nil.
func Wrap(path []Hop, request []byte) ([]byte, *ResponseOpener, error) {
	return wrap(rand.Reader, path, request)
}

// wrap is Wrap with its randomness (ephemeral keys, padding) read from r.
// Only the known-answer tests pass anything but crypto/rand: a reader that
// repeats would repeat ephemeral keys, and with them every key of a layer.
func wrap(r io.Reader, path []Hop, request []byte) ([]byte, *ResponseOpener, error) {
	if err := checkPath(path); err != nil {
		return nil, nil, err
	}
	if len(request) > RequestCapacity {
		return nil, nil, fmt.Errorf("%w: request of %d bytes (at most %d)", ErrTooLarge, len(request), RequestCapacity)
	}
	n := len(path)
	eph := make([][KeySize]byte, n)
	hops := make([]*hopSecrets, n)
	for i, h := range path {
		s, err := handshake(r, h.Key, &eph[i])
		if err != nil {
			zeroAll(hops)
			return nil, nil, err
		}
		hops[i] = s
	}
	pad := make([]byte, RoutingSize-n*SlotSize)
	if _, err := io.ReadFull(r, pad); err != nil {
		zeroAll(hops)
		return nil, nil, fmt.Errorf("onion: read randomness: %w", err)
	}
	streams := make([][]byte, n)
	for i, s := range hops {
		streams[i] = make([]byte, RoutingSize+SlotSize)
		s.ctr(LabelRouting).XORKeyStream(streams[i], streams[i])
	}
	defer func() {
		for _, st := range streams {
			secret.Zero(st)
		}
	}()

	pkt := make([]byte, PacketSize)
	payload := pkt[offPayload : offPayload+PayloadSize]
	binary.BigEndian.PutUint16(payload, uint16(len(request)))
	copy(payload[lengthSize:], request)

	// The exit's routing block: its slot and padding, encrypted, then the
	// filler that the hops before it will have shifted in.
	filler := makeFiller(streams[:n-1])
	routing := make([]byte, RoutingSize)
	routing[0] = kindExit
	plainLen := RoutingSize - len(filler)
	copy(routing[SlotSize:plainLen], pad)
	xorInto(routing[:plainLen], streams[n-1][:plainLen])
	copy(routing[plainLen:], filler)

	aad := make([]byte, aadSize)
	seal(hops[n-1], aad, path[n-1].Epoch, &eph[n-1], routing, pkt)
	for i := n - 2; i >= 0; i-- {
		next := make([]byte, RoutingSize)
		slot := next[:SlotSize]
		slot[slotKind] = kindForward
		copy(slot[slotNext:], path[i+1].ID.k[:])
		binary.BigEndian.PutUint32(slot[slotEpoch:], uint32(path[i+1].Epoch))
		copy(slot[slotEphemeral:], eph[i+1][:])
		copy(slot[slotTag:slotEnd], pkt[offTag:])
		copy(next[SlotSize:], routing[:RoutingSize-SlotSize])
		xorInto(next, streams[i][:RoutingSize])
		routing = next
		seal(hops[i], aad, path[i].Epoch, &eph[i], routing, pkt)
	}
	copy(pkt, aad)
	return pkt, &ResponseOpener{hops: hops}, nil
}

// checkPath refuses an empty or too long path, a hop without identity or
// key, and a relay that appears twice.
func checkPath(path []Hop) error {
	if len(path) == 0 || len(path) > MaxHops {
		return fmt.Errorf("%w: %d hops (1 to %d)", ErrPath, len(path), MaxHops)
	}
	seen := make(map[RelayID]bool, len(path))
	for i, h := range path {
		if h.ID.IsZero() || h.Key.IsZero() {
			return fmt.Errorf("%w: hop %d has no relay identity or onion key", ErrPath, i)
		}
		if seen[h.ID] {
			return fmt.Errorf("%w: relay %v appears twice", ErrPath, h.ID)
		}
		seen[h.ID] = true
	}
	return nil
}

// handshake makes a fresh ephemeral key from 32 bytes of r, writes its
// public half to eph and returns the secrets it shares with relayKey.
func handshake(r io.Reader, relayKey PublicKey, eph *[KeySize]byte) (*hopSecrets, error) {
	var seed [KeySize]byte
	defer secret.Zero32(&seed)
	if _, err := io.ReadFull(r, seed[:]); err != nil {
		return nil, fmt.Errorf("onion: read randomness: %w", err)
	}
	e, err := ecdh.X25519().NewPrivateKey(seed[:])
	if err != nil {
		return nil, fmt.Errorf("onion: ephemeral key: %w", err)
	}
	copy(eph[:], e.PublicKey().Bytes())
	pub, err := ecdh.X25519().NewPublicKey(relayKey.k[:])
	if err != nil {
		return nil, fmt.Errorf("%w: onion key: %v", ErrPath, err)
	}
	shared, err := e.ECDH(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: onion key: %v", ErrPath, err)
	}
	defer secret.Zero(shared)
	return newHopSecrets(shared, eph[:], relayKey.k[:])
}

// makeFiller returns the filler of Sphinx: what the hops whose routing
// streams are given shift into the end of the routing block, so the last
// hop's block can be made to match.
func makeFiller(streams [][]byte) []byte {
	filler := make([]byte, 0, len(streams)*SlotSize)
	for _, st := range streams {
		filler = append(filler, make([]byte, SlotSize)...)
		xorInto(filler, st[len(st)-len(filler):])
	}
	return filler
}

// seal writes a hop's header fields into aad and seals pkt's payload in
// place with the hop's GCM key, which writes the tag at the end of pkt.
func seal(s *hopSecrets, aad []byte, epoch Epoch, eph *[KeySize]byte, routing, pkt []byte) {
	aad[0] = Version
	binary.BigEndian.PutUint32(aad[offEpoch:], uint32(epoch))
	copy(aad[offEphemeral:], eph[:])
	copy(aad[offRouting:], routing)
	payload := pkt[offPayload:offTag]
	s.gcm(LabelPayload).Seal(payload[:0], zeroNonce[:], payload, aad)
}

// Open reads the response to the packet. It returns the exit's reply, a
// *HopError (wrapping ErrHopFailed) with the code a hop sent, or
// ErrResponse if the response is neither. Open erases the opener's
// secrets: it works once.
func (o *ResponseOpener) Open(response []byte) ([]byte, error) {
	if o.used {
		return nil, ErrUsed
	}
	if len(response) != PacketSize {
		return nil, fmt.Errorf("%w (%d bytes)", ErrResponseSize, len(response))
	}
	o.used = true
	defer zeroAll(o.hops)
	buf := make([]byte, PacketSize)
	copy(buf, response)
	for i, s := range o.hops {
		s.ctr(LabelResponse).XORKeyStream(buf, buf)
		if code, ok := s.errorCode(buf); ok {
			return nil, &HopError{Hop: i, Code: code}
		}
	}
	exit := o.hops[len(o.hops)-1]
	plain, err := exit.gcm(LabelReply).Open(buf[:0], zeroNonce[:], buf, nil)
	if err != nil {
		return nil, ErrResponse
	}
	n := int(binary.BigEndian.Uint16(plain))
	if n > ResponseCapacity {
		return nil, ErrResponse
	}
	return append([]byte(nil), plain[lengthSize:lengthSize+n]...), nil
}

// errorMAC authenticates an error response's code.
func (h *hopSecrets) errorMAC(code byte) []byte {
	k := h.key(LabelError, 32)
	defer secret.Zero(k)
	return errorMACWith(k, code)
}

func errorMACWith(key []byte, code byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte{code})
	return m.Sum(nil)[:errorMACSize]
}

// errorCode reports whether buf, with this hop's response layer removed,
// is an error response made by this hop, and its code.
func (h *hopSecrets) errorCode(buf []byte) (Code, bool) {
	if buf[0] == 0 || !secret.Equal(buf[1:1+errorMACSize], h.errorMAC(buf[0])) {
		return 0, false
	}
	return Code(buf[0]), true
}

func xorInto(dst, src []byte) { subtle.XORBytes(dst, dst, src[:len(dst)]) }

func zeroAll(hops []*hopSecrets) {
	for _, h := range hops {
		if h != nil {
			h.zero()
		}
	}
}
