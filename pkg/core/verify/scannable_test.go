// SPDX-License-Identifier: AGPL-3.0-or-later

package verify

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func TestScannableSize(t *testing.T) {
	keys := newKeys(t, 10, 2)
	if n := len(New(keys[0], keys[1]).Scannable()); n != 74 {
		t.Errorf("len(Scannable()) = %d, want 74", n)
	}
}

func TestCompareScanned(t *testing.T) {
	keys := newKeys(t, 11, 3)
	a, b, m := keys[0], keys[1], keys[2]
	ab, ba := New(a, b), New(b, a)

	if err := ab.CompareScanned(ba.Scannable()); err != nil {
		t.Errorf("a scanning b: %v", err)
	}
	if err := ba.CompareScanned(ab.Scannable()); err != nil {
		t.Errorf("b scanning a: %v", err)
	}
	// A man in the middle: a holds m's key for b.
	am, ma := New(a, m), New(m, a)
	for name, err := range map[string]error{
		"a (with m) scanning b":  am.CompareScanned(ba.Scannable()),
		"b scanning a (with m)":  ba.CompareScanned(am.Scannable()),
		"b scanning m (with a)":  ba.CompareScanned(ma.Scannable()),
		"a scanning own code":    ab.CompareScanned(ab.Scannable()),
		"a (with m) scanning m":  am.CompareScanned(New(m, b).Scannable()),
		"third pair's code, a-b": ab.CompareScanned(New(m, m).Scannable()),
	} {
		if !errors.Is(err, ErrMismatch) {
			t.Errorf("%s: got %v, want ErrMismatch", name, err)
		}
	}
}

func TestCompareScannedVersion(t *testing.T) {
	keys := newKeys(t, 12, 2)
	ab, ba := New(keys[0], keys[1]), New(keys[1], keys[0])
	for _, v := range []uint32{0, 2, 1 << 31} {
		err := ab.CompareScanned(marshalScannable(v, ba.local[:], ba.remote[:]))
		var ve *VersionError
		if !errors.As(err, &ve) || !errors.Is(err, ErrVersion) {
			t.Fatalf("version %d: got %v, want *VersionError", v, err)
		}
		if ve.Theirs != v || ve.Ours != 1 || ve.Newer() != (v > 1) {
			t.Errorf("version %d: got %+v", v, *ve)
		}
		want := "older"
		if v > 1 {
			want = "newer"
		}
		if !strings.HasPrefix(err.Error(), "verify: ") || !strings.Contains(err.Error(), want) {
			t.Errorf("version %d: message %q", v, err)
		}
	}
}

// field appends one protobuf field.
func field(b []byte, num protowire.Number, v any) []byte {
	switch v := v.(type) {
	case uint64:
		b = protowire.AppendTag(b, num, protowire.VarintType)
		return protowire.AppendVarint(b, v)
	case []byte:
		b = protowire.AppendTag(b, num, protowire.BytesType)
		return protowire.AppendBytes(b, v)
	}
	panic("bad field type")
}

func TestCompareScannedMalformed(t *testing.T) {
	keys := newKeys(t, 13, 2)
	ab, ba := New(keys[0], keys[1]), New(keys[1], keys[0])
	valid := ba.Scannable()
	side := func(content []byte) []byte { return field(nil, 1, content) }
	v1 := field(nil, 1, uint64(1))
	cases := map[string][]byte{
		"nil":             nil,
		"garbage":         []byte("https://example.com/not-a-safety-number"),
		"bad wire type":   {0x0f},
		"no version":      valid[2:],
		"no local":        field(v1, 3, side(ba.remote[:])),
		"no remote":       field(v1, 2, side(ba.local[:])),
		"empty local":     field(field(v1, 2, []byte{}), 3, side(ba.remote[:])),
		"empty content":   field(field(v1, 2, side([]byte{})), 3, side(ba.remote[:])),
		"short local":     field(field(v1, 2, side(ba.local[:31])), 3, side(ba.remote[:])),
		"long remote":     field(field(v1, 2, side(ba.local[:])), 3, side(append(ba.remote[:], 0))),
		"33-byte v0 keys": field(field(v1, 2, side(append([]byte{5}, ba.local[:]...))), 3, side(append([]byte{5}, ba.remote[:]...))),
	}
	for n := range len(valid) {
		if n != 2 { // valid[:2] is a bare version: covered by "no local"
			cases[fmt.Sprintf("truncated to %d bytes", n)] = valid[:n]
		}
	}
	for name, payload := range cases {
		err := ab.CompareScanned(payload)
		if !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed", name, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "verify: malformed safety number code: ") {
			t.Errorf("%s: message %q does not name the problem", name, err)
		}
	}
	if err := ab.CompareScanned(valid[:2]); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "no local") {
		t.Errorf("bare version: got %v", err)
	}
}

// Fields this version does not know (a version 0 identifier, or anything a
// later minor change adds) are ignored, as libsignal's decoder does.
func TestCompareScannedUnknownFields(t *testing.T) {
	keys := newKeys(t, 14, 2)
	ab, ba := New(keys[0], keys[1]), New(keys[1], keys[0])
	payload := field(ba.Scannable(), 9, uint64(7))
	if err := ab.CompareScanned(payload); err != nil {
		t.Errorf("payload with an unknown field: %v", err)
	}
}

func TestCompareScannedBitFlips(t *testing.T) {
	keys := newKeys(t, 15, 2)
	ab, ba := New(keys[0], keys[1]), New(keys[1], keys[0])
	valid := ba.Scannable()
	for _, p := range bitFlips(valid) {
		if err := ab.CompareScanned(p); err == nil {
			t.Errorf("flipped payload %x accepted", p)
		}
	}
	if !bytes.Equal(valid, ba.Scannable()) {
		t.Error("Scannable is not deterministic")
	}
}

// bitFlips returns every copy of p with one bit flipped.
func bitFlips(p []byte) [][]byte {
	var out [][]byte
	for i := range 8 * len(p) {
		q := bytes.Clone(p)
		q[i/8] ^= 1 << (i % 8)
		out = append(out, q)
	}
	return out
}
