// SPDX-License-Identifier: AGPL-3.0-or-later

package verify

import (
	"crypto/subtle"
	"fmt"

	"go.mau.fi/libsignal/serialize"
	"google.golang.org/protobuf/proto"
)

// Scannable returns the QR payload: libsignal's CombinedFingerprints
// protobuf (textsecure.CombinedFingerprints in FingerprintProtocol.proto)
// with version ScannableVersion, our digest as localFingerprint.content and
// theirs as remoteFingerprint.content. It is 74 bytes:
//
//	08 01                  version = 1
//	12 22 0a 20 <32 bytes> localFingerprint { content }
//	1a 22 0a 20 <32 bytes> remoteFingerprint { content }
func (s SafetyNumber) Scannable() []byte {
	return marshalScannable(ScannableVersion, s.local[:], s.remote[:])
}

func marshalScannable(version uint32, local, remote []byte) []byte {
	b, err := proto.Marshal(&serialize.CombinedFingerprints{
		Version:           proto.Uint32(version),
		LocalFingerprint:  &serialize.LogicalFingerprint{Content: local},
		RemoteFingerprint: &serialize.LogicalFingerprint{Content: remote},
	})
	if err != nil {
		panic("verify: internal error: " + err.Error())
	}
	return b
}

// CompareScanned checks a payload scanned from the other user's screen
// (see ScanQRCode). It returns nil if that payload was computed from the
// same two keys, ErrMismatch if not, a *VersionError (matching ErrVersion)
// for another scannable version, and an error wrapping ErrMalformed for
// anything that is not a scannable safety number.
//
// Scanning your own code gives ErrMismatch: the payload's sides are mirrored.
func (s SafetyNumber) CompareScanned(payload []byte) error {
	var m serialize.CombinedFingerprints
	if err := proto.Unmarshal(payload, &m); err != nil {
		return malformed("not a CombinedFingerprints protobuf")
	}
	// libsignal reads a missing version as 0 and reports a version
	// mismatch; a payload without one is more likely some other QR code.
	if m.Version == nil {
		return malformed("no version")
	}
	if v := m.GetVersion(); v != ScannableVersion {
		return &VersionError{Theirs: v, Ours: ScannableVersion}
	}
	theirLocal, err := content(m.GetLocalFingerprint(), "local")
	if err != nil {
		return err
	}
	theirRemote, err := content(m.GetRemoteFingerprint(), "remote")
	if err != nil {
		return err
	}
	// Their local side is our remote side and the other way round. Both
	// comparisons always run, in constant time, as in libsignal.
	same := subtle.ConstantTimeCompare(theirLocal, s.remote[:]) &
		subtle.ConstantTimeCompare(theirRemote, s.local[:])
	if same != 1 {
		return ErrMismatch
	}
	return nil
}

// content returns f's content after checking it is there and has the size
// this version writes. libsignal lets a wrong size fall through to a failed
// comparison; naming it helps whoever debugs another implementation.
func content(f *serialize.LogicalFingerprint, side string) ([]byte, error) {
	switch {
	case f == nil:
		return nil, malformed("no " + side + " fingerprint")
	case f.Content == nil:
		return nil, malformed("no " + side + " fingerprint content")
	case len(f.Content) != contentSize:
		return nil, malformed(fmt.Sprintf("%s fingerprint is %d bytes, want %d", side, len(f.Content), contentSize))
	}
	return f.Content, nil
}
