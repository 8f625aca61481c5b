// SPDX-License-Identifier: AGPL-3.0-or-later

// Package directory is how Hush relays describe themselves and how clients
// learn them (ARCHITECTURE.md, "Relay descriptors", "Directory document",
// "Network file"): Ed25519-signed relay descriptors (Sign,
// ParseDescriptor), the network file listing the relays a group of users
// trusts (ParseNetworkFile, NetworkFile.Verify), and the directory
// document every relay serves with every relay's current descriptor
// (EncodeDirectory, ParseDirectory).
package directory

import (
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hushchat/hush/pkg/onion"
)

// Format versions.
const (
	Version            = 1 // descriptor format
	DirectoryVersion   = 1 // directory document format
	NetworkFileVersion = 1 // network file format
)

// SignatureLabel is prefixed to the descriptor body before the relay's
// Ed25519 signature, so the signature is valid for nothing else.
const SignatureLabel = "hush relay descriptor v1"

// Limits of a descriptor.
const (
	// MaxKeys is how many onion keys a descriptor may list: previous,
	// current and next, and one more previous key when the relay's grace
	// period outlasts a key retired early.
	MaxKeys = 4
	// MaxCapabilities is how many capabilities a descriptor may list.
	MaxCapabilities = 8
	// MaxCapabilityLength bounds one capability name.
	MaxCapabilityLength = 32
	// MaxAddressLength is a DNS name, a colon and a port.
	MaxAddressLength = 253 + 1 + 5 // 259
	// MaxWebAddressLength bounds the gRPC-Web URL.
	MaxWebAddressLength = 512
	// MaxDescriptorSize bounds a signed descriptor on the wire; the
	// largest valid one is about 1,450 bytes.
	MaxDescriptorSize = 2048
	// MaxLifetime is the longest a descriptor may be valid.
	MaxLifetime = 7 * 24 * time.Hour
	// ClockSkew is how far in the future a descriptor's publication time
	// may be before it is refused as not yet valid.
	ClockSkew = time.Hour
)

// Capability is something a relay offers. Names are lower-case ASCII
// letters, digits and '-'; a client ignores capabilities it does not know.
type Capability string

// Capabilities Hush knows.
const (
	CapMailbox Capability = "mailbox" // hosts queues
	CapChunks  Capability = "chunks"  // hosts attachment chunks
	CapWeb     Capability = "web"     // serves gRPC-Web at WebAddress
)

// Descriptor is what a relay publishes about itself. Times are whole
// seconds: Sign truncates them.
type Descriptor struct {
	Relay        onion.RelayID   // the Ed25519 identity that signs it
	Keys         []onion.KeyInfo // ascending epochs, windows not overlapping
	Address      string          // host:port of the gRPC listener
	WebAddress   string          // http(s) URL of the gRPC-Web listener, or ""
	Capabilities []Capability    // distinct; written sorted
	Published    time.Time
	Expires      time.Time

	raw []byte // the signed bytes it was parsed from
}

// Has reports whether d lists capability c.
func (d *Descriptor) Has(c Capability) bool { return slices.Contains(d.Capabilities, c) }

// Expired reports whether d has expired at now.
func (d *Descriptor) Expired(now time.Time) bool { return !now.Before(d.Expires) }

// Signed returns a copy of the signed bytes d was parsed from (nil if d
// was not parsed), which any relay can serve unchanged.
func (d *Descriptor) Signed() []byte { return slices.Clone(d.raw) }

// HopAt returns the hop to wrap for at time t: the key whose window
// contains t or, if none does (t falls before the first window or in a
// gap), the first key that starts after t, which the relay already
// accepts. It returns ErrNoKey if every key's window ended before t.
func (d *Descriptor) HopAt(t time.Time) (onion.Hop, error) {
	for _, k := range d.Keys {
		if t.Before(k.End) {
			return onion.Hop{ID: d.Relay, Key: k.Key, Epoch: k.Epoch}, nil
		}
	}
	return onion.Hop{}, ErrNoKey
}

// normalized returns a copy of d as Sign writes it: whole seconds, sorted
// capabilities.
func (d *Descriptor) normalized() *Descriptor {
	n := *d
	n.raw = nil
	n.Keys = slices.Clone(d.Keys)
	for i := range n.Keys {
		n.Keys[i].Start = seconds(n.Keys[i].Start)
		n.Keys[i].End = seconds(n.Keys[i].End)
	}
	n.Capabilities = slices.Clone(d.Capabilities)
	slices.Sort(n.Capabilities)
	n.Published, n.Expires = seconds(d.Published), seconds(d.Expires)
	return &n
}

func seconds(t time.Time) time.Time { return time.Unix(t.Unix(), 0) }

// validate checks every field's rules.
func (d *Descriptor) validate() error {
	if d.Relay.IsZero() {
		return malformed("no relay identity")
	}
	if err := d.validateKeys(); err != nil {
		return err
	}
	if err := CheckAddress(d.Address); err != nil {
		return malformed("gRPC address: %w", err)
	}
	if err := checkWebAddress(d.WebAddress); err != nil {
		return malformed("web address: %w", err)
	}
	if err := d.validateCapabilities(); err != nil {
		return err
	}
	if d.Published.Unix() <= 0 {
		return malformed("no publication time")
	}
	if !d.Expires.After(d.Published) || d.Expires.Sub(d.Published) > MaxLifetime {
		return malformed("expiry must be after publication and at most %v later", MaxLifetime)
	}
	return nil
}

func (d *Descriptor) validateKeys() error {
	if len(d.Keys) > MaxKeys {
		return malformed("%d onion keys (at most %d)", len(d.Keys), MaxKeys)
	}
	current := false
	for i, k := range d.Keys {
		switch {
		case k.Epoch == 0:
			return malformed("onion key %d has epoch 0", i)
		case k.Key.IsZero():
			return malformed("onion key %d is missing", i)
		case !k.Start.Before(k.End):
			return malformed("onion key %d (epoch %d) ends before it starts", i, k.Epoch)
		}
		if i > 0 {
			p := d.Keys[i-1]
			if k.Epoch <= p.Epoch || k.Start.Before(p.End) {
				return malformed("onion keys %d and %d overlap (epochs must ascend, windows must not overlap)", i-1, i)
			}
		}
		for _, o := range d.Keys[:i] {
			if o.Key == k.Key {
				return malformed("onion key %d repeats an earlier key", i)
			}
		}
		current = current || (!d.Published.Before(k.Start) && d.Published.Before(k.End))
	}
	if !current {
		return malformed("no current onion key (none valid at publication)")
	}
	return nil
}

func (d *Descriptor) validateCapabilities() error {
	if len(d.Capabilities) > MaxCapabilities {
		return malformed("%d capabilities (at most %d)", len(d.Capabilities), MaxCapabilities)
	}
	for i, c := range d.Capabilities {
		if !validCapability(c) {
			return malformed("capability %q (want 1 to %d of a-z, 0-9, '-')", c, MaxCapabilityLength)
		}
		if i > 0 && c <= d.Capabilities[i-1] {
			return malformed("capabilities must be sorted and distinct (%q after %q)", c, d.Capabilities[i-1])
		}
	}
	if d.Has(CapWeb) != (d.WebAddress != "") {
		return malformed("capability %q and a web address go together", CapWeb)
	}
	return nil
}

func validCapability(c Capability) bool {
	if len(c) == 0 || len(c) > MaxCapabilityLength {
		return false
	}
	for _, r := range []byte(c) {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// CheckAddress checks a gRPC address: host:port, the host a DNS name or
// an IP address (IPv6 in brackets), the port 1 to 65535 in decimal.
func CheckAddress(s string) error {
	if len(s) > MaxAddressLength {
		return errorf(ErrAddress, "%d bytes (at most %d)", len(s), MaxAddressLength)
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return errorf(ErrAddress, "%q is not host:port", s)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		return errorf(ErrAddress, "%q: port must be 1 to 65535", s)
	}
	if strings.Contains(host, ":") {
		if net.ParseIP(host) == nil || !strings.HasPrefix(s, "[") {
			return errorf(ErrAddress, "%q: bad IPv6 address", s)
		}
		return nil
	}
	if !validHostname(host) {
		return errorf(ErrAddress, "%q: host must be a DNS name or IP address", s)
	}
	return nil
}

func validHostname(h string) bool {
	if h == "" || h[0] == '.' || h[0] == '-' || strings.Contains(h, "..") {
		return false
	}
	for _, r := range []byte(h) {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// checkWebAddress checks a gRPC-Web URL: empty, or http(s) with a host and
// no user, query or fragment.
func checkWebAddress(s string) error {
	if s == "" {
		return nil
	}
	if len(s) > MaxWebAddressLength {
		return errorf(ErrAddress, "%d bytes (at most %d)", len(s), MaxWebAddressLength)
	}
	if strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r >= 0x7f }) >= 0 {
		return errorf(ErrAddress, "%q has spaces or non-ASCII characters", s)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" ||
		strings.HasSuffix(s, "?") || strings.HasSuffix(s, "#") {
		return errorf(ErrAddress, "%q is not an http(s) URL with a host and no user, query or fragment", s)
	}
	return nil
}
