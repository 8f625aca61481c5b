// SPDX-License-Identifier: AGPL-3.0-or-later

package directory

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hushchat/hush/pkg/onion"
	directoryv1 "github.com/hushchat/hush/proto/directory/v1"
)

// SignatureSize is the size of the Ed25519 signature on a descriptor.
const SignatureSize = ed25519.SignatureSize // 64

var deterministic = proto.MarshalOptions{Deterministic: true}

// Sign signs d with the relay's identity key k and returns the signed
// descriptor bytes. d.Relay must be k's identity; times are truncated to
// whole seconds and capabilities sorted.
func Sign(k *SigningKey, d *Descriptor) ([]byte, error) {
	if d.Relay != k.Relay() {
		return nil, errors.New("directory: signing key is not the descriptor's relay identity")
	}
	n := d.normalized()
	if err := n.validate(); err != nil {
		return nil, err
	}
	body, err := deterministic.Marshal(toProto(n))
	if err != nil {
		return nil, fmt.Errorf("directory: encode: %w", err)
	}
	out, err := encodeSigned(k.sign(signedBytes(body)), body)
	if err != nil {
		return nil, err
	}
	if len(out) > MaxDescriptorSize {
		return nil, fmt.Errorf("%w: descriptor of %d bytes (at most %d)", ErrTooLarge, len(out), MaxDescriptorSize)
	}
	return out, nil
}

func encodeSigned(sig, body []byte) ([]byte, error) {
	out, err := deterministic.Marshal(&directoryv1.SignedDescriptor{
		Version: Version, Signature: sig, Body: body})
	if err != nil {
		return nil, fmt.Errorf("directory: encode: %w", err)
	}
	return out, nil
}

func signedBytes(body []byte) []byte {
	return append([]byte(SignatureLabel), body...)
}

// ParseDescriptor reads a signed descriptor and verifies it on its own:
// the signature under the identity it names, every field, and its
// validity at now. It does not know which relays the user trusts;
// NetworkFile.Verify does.
//
// Checks, in order: size, envelope, envelope version, envelope canonical,
// signature length, body, body version, identity, signature, fields,
// body canonical, expiry, publication not in the future.
func ParseDescriptor(signed []byte, now time.Time) (*Descriptor, error) {
	d, err := parseDescriptor(signed)
	if err != nil {
		return nil, err
	}
	if err := checkTimes(d, now); err != nil {
		return nil, err
	}
	return d, nil
}

// parseDescriptor is ParseDescriptor without the time checks.
func parseDescriptor(signed []byte) (*Descriptor, error) {
	if len(signed) > MaxDescriptorSize {
		return nil, fmt.Errorf("%w: descriptor of %d bytes (at most %d)", ErrTooLarge, len(signed), MaxDescriptorSize)
	}
	if len(signed) == 0 {
		return nil, malformed("empty")
	}
	var env directoryv1.SignedDescriptor
	if err := proto.Unmarshal(signed, &env); err != nil {
		return nil, malformed("envelope does not decode")
	}
	if env.GetVersion() != Version {
		return nil, &VersionError{Format: "descriptor", Got: env.GetVersion(), Want: Version}
	}
	sig, body := env.GetSignature(), env.GetBody()
	if again, err := encodeSigned(sig, body); err != nil || !bytes.Equal(again, signed) {
		return nil, malformed("envelope is not in canonical form (unknown, repeated or missing fields)")
	}
	if len(body) == 0 {
		return nil, malformed("no descriptor body")
	}
	if len(sig) != SignatureSize {
		return nil, fmt.Errorf("%w (signature of %d bytes)", ErrSignature, len(sig))
	}
	d, err := verifyBody(sig, body)
	if err != nil {
		return nil, err
	}
	d.raw = bytes.Clone(signed)
	return d, nil
}

// verifyBody decodes the body, checks the signature over it, every field
// and that the body is the one encoding of what it says.
func verifyBody(sig, body []byte) (*Descriptor, error) {
	var p directoryv1.Descriptor
	if err := proto.Unmarshal(body, &p); err != nil {
		return nil, malformed("body does not decode")
	}
	if p.GetVersion() != Version {
		return nil, &VersionError{Format: "descriptor", Got: p.GetVersion(), Want: Version}
	}
	id, err := onion.NewRelayID(p.GetIdentity())
	if err != nil {
		return nil, malformed("relay identity: %w", err)
	}
	if !ed25519.Verify(id.Bytes(), signedBytes(body), sig) {
		return nil, ErrSignature
	}
	d, err := fromProto(&p, id)
	if err != nil {
		return nil, err
	}
	if err := d.validate(); err != nil {
		return nil, err
	}
	again, err := deterministic.Marshal(toProto(d))
	if err != nil || !bytes.Equal(again, body) {
		return nil, malformed("body is not in canonical form (unknown, repeated or unsorted fields)")
	}
	return d, nil
}

func checkTimes(d *Descriptor, now time.Time) error {
	if d.Expired(now) {
		return fmt.Errorf("%w (it expired %s)", ErrExpired, d.Expires.UTC().Format(time.RFC3339))
	}
	if d.Published.After(now.Add(ClockSkew)) {
		return fmt.Errorf("%w (published %s, now %s)", ErrNotYetValid,
			d.Published.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

func toProto(d *Descriptor) *directoryv1.Descriptor {
	p := &directoryv1.Descriptor{
		Version:       Version,
		Identity:      d.Relay.Bytes(),
		GrpcAddress:   d.Address,
		WebAddress:    d.WebAddress,
		PublishedUnix: d.Published.Unix(),
		ExpiresUnix:   d.Expires.Unix(),
	}
	for _, k := range d.Keys {
		p.OnionKeys = append(p.OnionKeys, &directoryv1.OnionKey{
			Epoch: uint32(k.Epoch), PublicKey: k.Key.Bytes(),
			StartUnix: k.Start.Unix(), EndUnix: k.End.Unix()})
	}
	for _, c := range d.Capabilities {
		p.Capabilities = append(p.Capabilities, string(c))
	}
	return p
}

func fromProto(p *directoryv1.Descriptor, id onion.RelayID) (*Descriptor, error) {
	d := &Descriptor{
		Relay:      id,
		Address:    p.GetGrpcAddress(),
		WebAddress: p.GetWebAddress(),
		Published:  time.Unix(p.GetPublishedUnix(), 0),
		Expires:    time.Unix(p.GetExpiresUnix(), 0),
	}
	if len(p.GetOnionKeys()) > MaxKeys {
		return nil, malformed("%d onion keys (at most %d)", len(p.GetOnionKeys()), MaxKeys)
	}
	for i, k := range p.GetOnionKeys() {
		pub, err := onion.NewPublicKey(k.GetPublicKey())
		if err != nil {
			return nil, malformed("onion key %d: %w", i, err)
		}
		d.Keys = append(d.Keys, onion.KeyInfo{Epoch: onion.Epoch(k.GetEpoch()), Key: pub,
			Start: time.Unix(k.GetStartUnix(), 0), End: time.Unix(k.GetEndUnix(), 0)})
	}
	if len(p.GetCapabilities()) > MaxCapabilities {
		return nil, malformed("%d capabilities (at most %d)", len(p.GetCapabilities()), MaxCapabilities)
	}
	for _, c := range p.GetCapabilities() {
		d.Capabilities = append(d.Capabilities, Capability(c))
	}
	return d, nil
}
