// SPDX-License-Identifier: AGPL-3.0-or-later

// Package qrpng makes QR codes that read back, renders them as PNG, and
// reads them: the module's one copy of what invitations and safety numbers
// both need.
//
// New does not trust the encoder's first layout. A standard reader
// (gozxing, a port of ZXing) failed on about 2% of invitation-sized codes
// (version 17) that go-qrcode made, depending on the data and the mask it
// chose; the same content at another error-correction level gets another
// layout. New decodes each candidate and keeps the first that reads back
// exactly.
//
// Encode renders a whole number of pixels per module, since stretching
// modules to an exact image size makes them uneven, and checks the very
// image it returns.
package qrpng

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/skip2/go-qrcode"
)

// MinModulePixels is the fewest pixels a module gets.
const MinModulePixels = 3

// ErrNoCode is returned by Decode when an image holds no readable code.
var ErrNoCode = errors.New("qrpng: no readable QR code in the image")

// ErrNotBinary is returned by Decode for a code whose text cannot be a
// byte payload (characters above U+00FF, from an ECI of another
// character set).
var ErrNotBinary = errors.New("qrpng: QR code holds text, not a byte payload")

// levels are tried in order: the preferred level first.
func levels(preferred qrcode.RecoveryLevel) []qrcode.RecoveryLevel {
	out := []qrcode.RecoveryLevel{preferred}
	for _, l := range []qrcode.RecoveryLevel{qrcode.Medium, qrcode.Low, qrcode.High, qrcode.Highest} {
		if l != preferred {
			out = append(out, l)
		}
	}
	return out
}

// New encodes content (bytes, passed as a string) at the preferred error
// correction level, or, if a standard reader does not read that back
// exactly, at the next level that it does.
func New(content string, preferred qrcode.RecoveryLevel) (*qrcode.QRCode, error) {
	var lastErr error
	for _, l := range levels(preferred) {
		q, err := qrcode.New(content, l)
		if err != nil {
			lastErr = err
			continue
		}
		png, err := q.PNG(-4)
		if err == nil && readsBack(png, content) {
			return q, nil
		}
		lastErr = fmt.Errorf("level %v does not read back", l)
	}
	return nil, fmt.Errorf("qrpng: no QR code of this content reads back: %v", lastErr)
}

// Encode returns a PNG of about size pixels a side (larger only if the code
// needs more than size/MinModulePixels modules) holding content that a
// standard reader reads back exactly: each candidate (the preferred error
// correction level first, then the others; the largest whole module size
// within size, then one pixel smaller) is rendered and decoded, and the
// first that reads back is returned. Reading back depends on the image
// actually returned, not only on the code: a code that read back at one
// scale has failed at another.
func Encode(content string, preferred qrcode.RecoveryLevel, size int) ([]byte, error) {
	for _, l := range levels(preferred) {
		q, err := qrcode.New(content, l)
		if err != nil {
			continue
		}
		scale := max(MinModulePixels, size/len(q.Bitmap()))
		for _, sc := range []int{scale, scale - 1, scale + 1} {
			if sc < MinModulePixels {
				continue
			}
			png, err := q.PNG(-sc)
			if err == nil && readsBack(png, content) {
				return png, nil
			}
		}
	}
	return nil, errors.New("qrpng: no rendering of this content reads back")
}

func readsBack(png []byte, content string) bool {
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		return false
	}
	got, err := Decode(img)
	return err == nil && string(got) == content
}

// Decode finds and decodes a QR code in img and returns its payload bytes
// exactly: byte segments are read as ISO-8859-1, one character per byte,
// and numeric and alphanumeric segments decode to ASCII, its own
// ISO-8859-1 encoding. The image is untrusted: a decoder panic is
// ErrNoCode.
func Decode(img image.Image) (payload []byte, err error) {
	if img == nil || img.Bounds().Empty() {
		return nil, ErrNoCode
	}
	defer func() {
		if recover() != nil {
			payload, err = nil, ErrNoCode
		}
	}()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return nil, ErrNoCode
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{
		gozxing.DecodeHintType_CHARACTER_SET: "ISO-8859-1",
		gozxing.DecodeHintType_TRY_HARDER:    true, // camera frames are rarely clean
	})
	if err != nil {
		return nil, ErrNoCode
	}
	b := make([]byte, 0, len(res.GetText()))
	for _, r := range res.GetText() {
		if r > 0xff || r == utf8.RuneError {
			return nil, ErrNotBinary
		}
		b = append(b, byte(r))
	}
	return b, nil
}
