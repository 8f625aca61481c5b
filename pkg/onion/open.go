// SPDX-License-Identifier: AGPL-3.0-or-later

package onion

import (
	"crypto/ecdh"
	"encoding/binary"
	"fmt"
	"sync/atomic"

	"github.com/hushchat/hush/pkg/internal/secret"
)

// Opened is what a relay learns from a packet: either the next relay and
// the packet to send it (a middle hop, Packet non-nil), or the request (the
// exit, Request non-nil). Reply wraps the response on its way back.
type Opened struct {
	Next    RelayID
	Packet  []byte
	Request []byte
	Reply   *Replier
	tag     ReplayTag // what the ring remembered; benchmarks clear it
}

// IsExit reports whether this relay is the packet's exit.
func (o *Opened) IsExit() bool { return o.Packet == nil }

// Open processes a packet for this relay: it picks the key of the packet's
// epoch, checks the header and payload, refuses a replay, and returns what
// to do with it. A dropped packet returns one of the Err values; Reason
// maps it to a DropReason. Open never keeps packet.
func (r *KeyRing) Open(packet []byte) (*Opened, error) {
	if len(packet) != PacketSize {
		return nil, fmt.Errorf("%w (%d bytes)", ErrSize, len(packet))
	}
	if packet[0] != Version {
		return nil, fmt.Errorf("%w %d", ErrVersion, packet[0])
	}
	epoch := Epoch(binary.BigEndian.Uint32(packet[offEpoch:]))
	var eph [KeySize]byte
	copy(eph[:], packet[offEphemeral:offRouting])
	if !validPoint(&eph) {
		return nil, ErrEphemeral
	}
	k, err := r.key(epoch)
	if err != nil {
		return nil, err
	}
	s, err := k.handshake(&eph)
	if err != nil {
		return nil, err
	}
	out := make([]byte, PacketSize)
	if _, err := s.gcm(LabelPayload).Open(out[offPayload:offPayload], zeroNonce[:], packet[offPayload:], packet[:aadSize]); err != nil {
		s.zero()
		return nil, ErrTampered
	}
	var tag ReplayTag
	s.replayTag(&tag)
	if err := r.remember(k, tag); err != nil {
		s.zero()
		return nil, err
	}
	o, err := route(s, packet, out)
	s.zero()
	if err != nil {
		return nil, err
	}
	o.tag = tag
	return o, nil
}

// handshake computes the secrets this key shares with a packet's sender.
func (k *ringKey) handshake(eph *[KeySize]byte) (*hopSecrets, error) {
	pub, err := ecdh.X25519().NewPublicKey(eph[:])
	if err != nil {
		return nil, ErrEphemeral
	}
	shared, err := k.priv.k.ECDH(pub) // refuses an all-zero result
	if err != nil {
		return nil, ErrEphemeral
	}
	defer secret.Zero(shared)
	return newHopSecrets(shared, eph[:], k.pub[:])
}

func (h *hopSecrets) replayTag(t *ReplayTag) {
	k := h.key(LabelReplay, replayTagSize)
	copy(t[:], k)
}

// route decrypts the routing block and finishes out: the next packet of a
// middle hop, or the request of the exit.
func route(s *hopSecrets, packet, out []byte) (*Opened, error) {
	var block [RoutingSize + SlotSize]byte
	copy(block[:], packet[offRouting:offPayload])
	s.ctr(LabelRouting).XORKeyStream(block[:], block[:])
	slot := block[:SlotSize]
	switch slot[slotKind] {
	case kindExit:
		if !secret.IsZero(slot[1:]) {
			return nil, fmt.Errorf("%w: exit slot not zero-padded", ErrRouting)
		}
		payload := out[offPayload:offTag]
		n := int(binary.BigEndian.Uint16(payload))
		if n > RequestCapacity {
			return nil, fmt.Errorf("%w: request length %d", ErrRouting, n)
		}
		req := payload[lengthSize : lengthSize+n : lengthSize+n]
		return &Opened{Request: req, Reply: &Replier{k: s.replyKeys(), exit: true}}, nil
	case kindForward:
		next, err := NewRelayID(slot[slotNext:slotEpoch])
		if err != nil {
			return nil, fmt.Errorf("%w: next relay: %v", ErrRouting, err)
		}
		out[0] = Version
		copy(out[offEpoch:offRouting], slot[slotEpoch:slotTag]) // epoch, ephemeral
		copy(out[offRouting:offPayload], block[SlotSize:])
		copy(out[offTag:], slot[slotTag:slotEnd])
		return &Opened{Next: next, Packet: out, Reply: &Replier{k: s.replyKeys()}}, nil
	default:
		return nil, fmt.Errorf("%w: slot kind %d", ErrRouting, slot[slotKind])
	}
}

// Replier wraps the response to one packet on its way back: the exit's
// Reply, a middle hop's Relay of the next hop's response, or any hop's
// Fail. It is used once and then erases its keys. It is safe for
// concurrent use: when a timeout's Fail races the answer's Relay, exactly
// one wins and the other gets ErrUsed. (Two responses under one key would
// let an observer XOR them and link this hop's input and output.)
type Replier struct {
	k    *replyKeys
	exit bool
	used atomic.Bool
}

func (p *Replier) take() error {
	if !p.used.CompareAndSwap(false, true) {
		return ErrUsed
	}
	return nil
}

// Reply seals the exit's reply (at most ResponseCapacity bytes) into a
// response packet.
func (p *Replier) Reply(body []byte) ([]byte, error) {
	if !p.exit {
		return nil, ErrNotExit
	}
	if len(body) > ResponseCapacity {
		return nil, fmt.Errorf("%w: reply of %d bytes (at most %d)", ErrTooLarge, len(body), ResponseCapacity)
	}
	if err := p.take(); err != nil {
		return nil, err
	}
	defer p.k.zero()
	buf := make([]byte, PacketSize)
	binary.BigEndian.PutUint16(buf, uint16(len(body)))
	copy(buf[lengthSize:], body)
	plain := buf[:PacketSize-tagSize]
	p.k.gcm().Seal(plain[:0], zeroNonce[:], plain, nil)
	p.k.ctr().XORKeyStream(buf, buf)
	return buf, nil
}

// Relay adds this hop's layer to the response that came back from the
// next hop, returning a new slice.
func (p *Replier) Relay(response []byte) ([]byte, error) {
	if p.exit {
		return nil, ErrExit
	}
	if len(response) != PacketSize {
		return nil, fmt.Errorf("%w (%d bytes)", ErrResponseSize, len(response))
	}
	if err := p.take(); err != nil {
		return nil, err
	}
	defer p.k.zero()
	buf := make([]byte, PacketSize)
	p.k.ctr().XORKeyStream(buf, response)
	return buf, nil
}

// Fail makes this hop's error response carrying code (CodeInternal if
// zero). Only the client can read or authenticate it.
func (p *Replier) Fail(code Code) ([]byte, error) {
	if code == 0 {
		code = CodeInternal
	}
	if err := p.take(); err != nil {
		return nil, err
	}
	defer p.k.zero()
	buf := make([]byte, PacketSize)
	buf[0] = byte(code)
	copy(buf[1:], p.k.errorMAC(byte(code)))
	p.k.ctr().XORKeyStream(buf, buf)
	return buf, nil
}
