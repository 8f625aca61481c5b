// SPDX-License-Identifier: AGPL-3.0-or-later

package directory

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/hushchat/hush/pkg/onion"
)

// Limits of a network file.
const (
	// MaxRelays is how many relays a network file or directory may list.
	MaxRelays = 1024
	// MaxNetworkFileSize bounds a network file before it is parsed.
	MaxNetworkFileSize = 1 << 20
	// MaxNameLength bounds a relay's name in the network file, in bytes.
	MaxNameLength = 64
)

// NetworkFile lists the relays a group of users trusts. It is a TOML file
// operators edit by hand or build with FromDescriptors:
//
//	version = 1
//
//	[[relay]]
//	name = "alpha"                                              # optional
//	identity = "hushrelay:…"
//	address = "alpha.example.org:7443"
//	web = "https://alpha.example.org/"                          # optional
type NetworkFile struct {
	Relays []NetworkRelay
}

// NetworkRelay is one trusted relay.
type NetworkRelay struct {
	ID         onion.RelayID
	Address    string // gRPC host:port, to reach it before any descriptor is known
	WebAddress string // gRPC-Web URL, or ""
	Name       string // for people; optional
}

// networkTOML is the file's TOML shape.
type networkTOML struct {
	Version *int64      `toml:"version"`
	Relay   []relayTOML `toml:"relay"`
}

type relayTOML struct {
	Name     string `toml:"name"`
	Identity string `toml:"identity"`
	Address  string `toml:"address"`
	Web      string `toml:"web"`
}

// ParseNetworkFile reads a network file. Every error wraps
// ErrNetworkFile, and also ErrVersion, ErrUnknownField, ErrDuplicate,
// ErrAddress or onion.ErrRelayID when one of those is the cause.
func ParseNetworkFile(data []byte) (NetworkFile, error) {
	if len(data) > MaxNetworkFileSize {
		return NetworkFile{}, errorf(ErrNetworkFile, "%w (%d bytes, at most %d)", ErrTooLarge, len(data), MaxNetworkFileSize)
	}
	var t networkTOML
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&t)
	if err != nil {
		return NetworkFile{}, errorf(ErrNetworkFile, "%v", err)
	}
	if t.Version == nil {
		return NetworkFile{}, errorf(ErrNetworkFile, "no version (the file must say version = %d)", NetworkFileVersion)
	}
	if *t.Version != NetworkFileVersion {
		got := uint32(min(max(*t.Version, 0), 1<<32-1))
		return NetworkFile{}, errorf(ErrNetworkFile, "%w", &VersionError{Format: "network file", Got: got, Want: NetworkFileVersion})
	}
	if un := md.Undecoded(); len(un) > 0 {
		return NetworkFile{}, errorf(ErrNetworkFile, "%w: %q", ErrUnknownField, un[0].String())
	}
	if len(t.Relay) > MaxRelays {
		return NetworkFile{}, errorf(ErrNetworkFile, "%w (%d relays, at most %d)", ErrTooLarge, len(t.Relay), MaxRelays)
	}
	var n NetworkFile
	for i, r := range t.Relay {
		id, err := onion.ParseRelayID(r.Identity)
		if err != nil {
			return NetworkFile{}, errorf(ErrNetworkFile, "relay %d (%q): identity: %w", i+1, r.Name, err)
		}
		n.Relays = append(n.Relays, NetworkRelay{ID: id, Address: r.Address, WebAddress: r.Web, Name: r.Name})
	}
	if err := n.Validate(); err != nil {
		return NetworkFile{}, err
	}
	return n, nil
}

// Validate checks every relay's fields and that no identity is listed
// twice.
func (n NetworkFile) Validate() error {
	if len(n.Relays) > MaxRelays {
		return errorf(ErrNetworkFile, "%w (%d relays, at most %d)", ErrTooLarge, len(n.Relays), MaxRelays)
	}
	seen := make(map[onion.RelayID]int, len(n.Relays))
	for i, r := range n.Relays {
		if err := r.validate(); err != nil {
			return errorf(ErrNetworkFile, "relay %d (%q): %w", i+1, r.Name, err)
		}
		if j, ok := seen[r.ID]; ok {
			return errorf(ErrNetworkFile, "relay %d (%q): %w (%s, also relay %d)", i+1, r.Name, ErrDuplicate, r.ID, j+1)
		}
		seen[r.ID] = i
	}
	return nil
}

func (r NetworkRelay) validate() error {
	if r.ID.IsZero() {
		return fmt.Errorf("%w: no identity", onion.ErrRelayID)
	}
	if err := CheckAddress(r.Address); err != nil {
		return err
	}
	if err := checkWebAddress(r.WebAddress); err != nil {
		return err
	}
	return checkName(r.Name)
}

func checkName(s string) error {
	if len(s) > MaxNameLength || !utf8.ValidString(s) ||
		strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return fmt.Errorf("name must be at most %d bytes of printable UTF-8", MaxNameLength)
	}
	return nil
}

// Lookup returns the relay with identity id.
func (n NetworkFile) Lookup(id onion.RelayID) (NetworkRelay, bool) {
	for _, r := range n.Relays {
		if r.ID == id {
			return r, true
		}
	}
	return NetworkRelay{}, false
}

// Verify is ParseDescriptor for a relay of this network: it also refuses
// a descriptor whose relay is not in the file, with ErrUnknownRelay. The
// descriptor's own (signed) addresses are the ones to use; the file's are
// for reaching a relay before any descriptor is known.
func (n NetworkFile) Verify(signed []byte, now time.Time) (*Descriptor, error) {
	d, err := parseDescriptor(signed)
	if err != nil {
		return nil, err
	}
	if _, ok := n.Lookup(d.Relay); !ok {
		return nil, fmt.Errorf("%w (%s)", ErrUnknownRelay, d.Relay)
	}
	if err := checkTimes(d, now); err != nil {
		return nil, err
	}
	return d, nil
}

// FromDescriptors builds a network file listing the relays of ds, in
// order, with their descriptors' addresses and no names.
func FromDescriptors(ds []*Descriptor) NetworkFile {
	var n NetworkFile
	for _, d := range ds {
		n.Relays = append(n.Relays, NetworkRelay{ID: d.Relay, Address: d.Address, WebAddress: d.WebAddress})
	}
	return n
}

// Marshal writes the file in the format ParseNetworkFile reads, after
// checking it with Validate.
func (n NetworkFile) Marshal() ([]byte, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString("# Hush network file: the relays this group of users trusts.\n")
	fmt.Fprintf(&b, "version = %d\n", NetworkFileVersion)
	for _, r := range n.Relays {
		b.WriteString("\n[[relay]]\n")
		if r.Name != "" {
			fmt.Fprintf(&b, "name = %s\n", tomlString(r.Name))
		}
		fmt.Fprintf(&b, "identity = %s\n", tomlString(r.ID.String()))
		fmt.Fprintf(&b, "address = %s\n", tomlString(r.Address))
		if r.WebAddress != "" {
			fmt.Fprintf(&b, "web = %s\n", tomlString(r.WebAddress))
		}
	}
	return b.Bytes(), nil
}

// tomlString quotes s as a TOML basic string. Validate has refused
// control characters, so only '"' and '\' need escapes.
func tomlString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
