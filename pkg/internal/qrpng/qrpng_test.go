// SPDX-License-Identifier: AGPL-3.0-or-later

package qrpng

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"image"
	_ "image/png"
	"testing"

	"github.com/skip2/go-qrcode"
)

// TestInvitationSizedCodesReadBack makes codes of the size and alphabet
// of invitation links: every one must read back exactly, through a PNG at
// a usual size. TestLongInvitationSizedCodesReadBack makes more: before
// New checked its candidates, about 2% did not read back.
func TestInvitationSizedCodesReadBack(t *testing.T) { invitationSizedCodes(t, 15) }

func TestLongInvitationSizedCodesReadBack(t *testing.T) {
	if testing.Short() {
		t.Skip("long test: 500 codes")
	}
	invitationSizedCodes(t, 500)
}

func invitationSizedCodes(t *testing.T, n int) {
	for i := range n {
		raw := make([]byte, 365)
		rand.Read(raw)
		content := "hush:" + base64.RawURLEncoding.EncodeToString(raw)
		size := 256 + 64*(i%8) // the sizes a client asks for vary
		png, err := Encode(content, qrcode.Medium, size)
		if err != nil {
			t.Fatalf("code %d: %v", i, err)
		}
		img, _, err := image.Decode(bytes.NewReader(png))
		if err != nil {
			t.Fatal(err)
		}
		// About size: within one module row of it, or larger only when a
		// fallback level needs more modules than size allows at the
		// minimum module size.
		if b := img.Bounds(); b.Dx() < size/2 || b.Dx() > 2*size {
			t.Fatalf("image of %d px for a size of %d", b.Dx(), size)
		}
		got, err := Decode(img)
		if err != nil || string(got) != content {
			t.Fatalf("code %d does not read back: %v", i, err)
		}
	}
}

func TestBinaryPayloadsReadBack(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for _, p := range [][]byte{all, []byte("1234567890"), []byte("ABCDEF123456 $%*+-./:"), {0}} {
		png, err := Encode(string(p), qrcode.Medium, 400)
		if err != nil {
			t.Fatal(err)
		}
		img, _, _ := image.Decode(bytes.NewReader(png))
		got, err := Decode(img)
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("payload %q: %v", p[:min(len(p), 10)], err)
		}
	}
}

func TestDecodeNothing(t *testing.T) {
	if _, err := Decode(nil); err != ErrNoCode {
		t.Errorf("nil image: %v", err)
	}
	if _, err := Decode(image.NewGray(image.Rect(0, 0, 50, 50))); err != ErrNoCode {
		t.Errorf("blank image: %v", err)
	}
}
