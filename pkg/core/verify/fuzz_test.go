// SPDX-License-Identifier: AGPL-3.0-or-later

package verify

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"go.mau.fi/libsignal/serialize"
	"google.golang.org/protobuf/proto"
)

// FuzzCompareScanned checks that CompareScanned never panics, returns only
// its documented errors, and accepts only payloads that carry the right
// digests.
func FuzzCompareScanned(f *testing.F) {
	keys := newKeys(f, 30, 2)
	ab, ba := New(keys[0], keys[1]), New(keys[1], keys[0])
	valid := ba.Scannable()
	f.Add(valid)
	f.Add([]byte{})
	for _, p := range bitFlips(valid) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		in := bytes.Clone(payload)
		err := ab.CompareScanned(payload)
		if !bytes.Equal(in, payload) {
			t.Fatal("CompareScanned modified its input")
		}
		switch {
		case err == nil:
			var m serialize.CombinedFingerprints
			if proto.Unmarshal(payload, &m) != nil || m.GetVersion() != ScannableVersion ||
				!bytes.Equal(m.GetLocalFingerprint().GetContent(), ab.remote[:]) ||
				!bytes.Equal(m.GetRemoteFingerprint().GetContent(), ab.local[:]) {
				t.Fatalf("accepted %x", payload)
			}
		case errors.Is(err, ErrMismatch), errors.Is(err, ErrMalformed), errors.Is(err, ErrVersion):
			if !strings.HasPrefix(err.Error(), "verify: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
		default:
			t.Fatalf("undocumented error %v", err)
		}
	})
}
