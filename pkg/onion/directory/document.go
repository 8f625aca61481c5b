// SPDX-License-Identifier: AGPL-3.0-or-later

package directory

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hushchat/hush/pkg/onion"
	directoryv1 "github.com/hushchat/hush/proto/directory/v1"
)

// MaxDirectorySize bounds a directory document: MaxRelays descriptors,
// each with a one-byte tag and a two-byte length, and the version field.
const MaxDirectorySize = MaxRelays*(1+2+MaxDescriptorSize) + 2 // 2,100,226

// Directory is a verified directory document: the current descriptor of
// every relay of the network that had a usable one.
type Directory struct {
	// Relays are the verified descriptors, in document order.
	Relays []*Descriptor
	// Skipped says, for each descriptor left out, why: each is a
	// *DescriptorError wrapping ErrUnknownRelay, ErrExpired,
	// ErrNotYetValid or a *VersionError.
	Skipped []error
}

// Lookup returns the descriptor of relay id.
func (d *Directory) Lookup(id onion.RelayID) (*Descriptor, bool) {
	for _, r := range d.Relays {
		if r.Relay == id {
			return r, true
		}
	}
	return nil, false
}

// Encode writes the document again from the verified descriptors' signed
// bytes, so a relay serves what it checked without re-signing anything.
func (d *Directory) Encode() ([]byte, error) {
	signed := make([][]byte, 0, len(d.Relays))
	for _, r := range d.Relays {
		signed = append(signed, r.raw)
	}
	return EncodeDirectory(signed)
}

// EncodeDirectory writes a directory document holding signed descriptors
// (as Sign returned them), in the order given.
func EncodeDirectory(signed [][]byte) ([]byte, error) {
	if len(signed) > MaxRelays {
		return nil, fmt.Errorf("%w: %d descriptors (at most %d)", ErrTooLarge, len(signed), MaxRelays)
	}
	for i, s := range signed {
		if len(s) == 0 || len(s) > MaxDescriptorSize {
			return nil, fmt.Errorf("%w: descriptor %d is %d bytes (1 to %d)", ErrTooLarge, i, len(s), MaxDescriptorSize)
		}
	}
	out, err := deterministic.Marshal(&directoryv1.Directory{Version: DirectoryVersion, Descriptors: signed})
	if err != nil {
		return nil, fmt.Errorf("directory: encode: %w", err)
	}
	return out, nil
}

// ParseDirectory reads a directory document and verifies every descriptor
// in it against the network file n at now.
//
// A descriptor of a relay not in n, an expired or not yet valid one, and
// one in another format version are left out and listed in Skipped: they
// happen in a healthy network (a relay of a wider network, a relay that
// went away, a relay that upgraded). Anything that only a broken or
// dishonest serving relay produces refuses the whole document: a document
// that does not decode (ErrDocument, or ErrTooLarge), two descriptors of
// one relay (ErrDuplicate), a bad signature (ErrSignature) or a malformed
// descriptor (ErrMalformed), each inside a *DescriptorError saying which.
func ParseDirectory(doc []byte, n NetworkFile, now time.Time) (*Directory, error) {
	if len(doc) > MaxDirectorySize {
		return nil, fmt.Errorf("%w: directory of %d bytes (at most %d)", ErrTooLarge, len(doc), MaxDirectorySize)
	}
	if len(doc) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrDocument)
	}
	var p directoryv1.Directory
	if err := proto.Unmarshal(doc, &p); err != nil {
		return nil, fmt.Errorf("%w: does not decode", ErrDocument)
	}
	if p.GetVersion() != DirectoryVersion {
		return nil, &VersionError{Format: "directory", Got: p.GetVersion(), Want: DirectoryVersion}
	}
	again, err := EncodeDirectory(p.GetDescriptors())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDocument, err)
	}
	if !bytes.Equal(again, doc) {
		return nil, fmt.Errorf("%w: not in canonical form (unknown or repeated fields)", ErrDocument)
	}
	return verifyAll(p.GetDescriptors(), n, now)
}

func verifyAll(signed [][]byte, n NetworkFile, now time.Time) (*Directory, error) {
	known := make(map[onion.RelayID]bool, len(n.Relays))
	for _, r := range n.Relays {
		known[r.ID] = true
	}
	dir := &Directory{}
	seen := make(map[onion.RelayID]int, len(signed))
	for i, s := range signed {
		d, err := parseDescriptor(s)
		if err != nil {
			de := &DescriptorError{Index: i, Err: err}
			if errors.Is(err, ErrVersion) {
				dir.Skipped = append(dir.Skipped, de)
				continue
			}
			return nil, de
		}
		if j, ok := seen[d.Relay]; ok {
			return nil, &DescriptorError{Index: i, Relay: d.Relay, Err: fmt.Errorf("%w (also descriptor %d)", ErrDuplicate, j)}
		}
		seen[d.Relay] = i
		if !known[d.Relay] {
			err = ErrUnknownRelay
		} else {
			err = checkTimes(d, now)
		}
		if err != nil {
			dir.Skipped = append(dir.Skipped, &DescriptorError{Index: i, Relay: d.Relay, Err: err})
			continue
		}
		dir.Relays = append(dir.Relays, d)
	}
	return dir, nil
}
