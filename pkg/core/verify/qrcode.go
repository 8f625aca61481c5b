// SPDX-License-Identifier: AGPL-3.0-or-later

package verify

import (
	"image"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/skip2/go-qrcode"
)

// qrLevel is the error correction level. Medium (15 %) puts the 74-byte
// payload in a version 5 symbol (37 × 37 modules), easy for a phone camera
// at arm's length.
const qrLevel = qrcode.Medium

// qr encodes the scannable payload. go-qrcode takes a string but encodes its
// bytes unchanged; it may split them into numeric, alphanumeric and byte
// segments (see the package doc).
func (s SafetyNumber) qr() *qrcode.QRCode {
	q, err := qrcode.New(string(s.Scannable()), qrLevel)
	if err != nil { // the payload always has the same, small size
		panic("verify: internal error: " + err.Error())
	}
	return q
}

// QRCodePNG renders the scannable payload as a size × size pixel PNG with
// a quiet zone. As in go-qrcode, a negative size means -size pixels per
// module instead, and a size too small for the code is enlarged to one
// pixel per module.
func (s SafetyNumber) QRCodePNG(size int) ([]byte, error) {
	return s.qr().PNG(size)
}

// QRCodeTerminal renders the scannable payload with Unicode half blocks,
// two modules per character cell, for a terminal with light text on a dark
// background: dark modules are printed as spaces.
func (s SafetyNumber) QRCodeTerminal() string {
	return s.qr().ToSmallString(false)
}

// ScanQRCode finds and decodes a QR code in img, such as a camera frame,
// and returns its payload bytes for CompareScanned. It returns ErrNoQRCode
// if there is no readable code, and an error wrapping ErrMalformed if the
// code holds text that cannot be a binary payload.
//
// It lives in the core, not in the shells, because getting the exact bytes
// back is subtle (see the package doc) and every shell needs it. The
// decoder, github.com/makiuchi-d/gozxing, is pure Go and builds for wasm.
func ScanQRCode(img image.Image) (payload []byte, err error) {
	if img == nil || img.Bounds().Empty() {
		return nil, ErrNoQRCode
	}
	// The image is untrusted input and gozxing is a port of Java code that
	// relied on exceptions; a decoder panic must not take the app down.
	defer func() {
		if recover() != nil {
			payload, err = nil, ErrNoQRCode
		}
	}()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return nil, ErrNoQRCode
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, scanHints())
	if err != nil {
		return nil, ErrNoQRCode
	}
	return latin1Bytes(res.GetText())
}

func scanHints() map[gozxing.DecodeHintType]any {
	return map[gozxing.DecodeHintType]any{
		// Byte segments decode one byte to one character (U+0000–U+00FF).
		gozxing.DecodeHintType_CHARACTER_SET: "ISO-8859-1",
		// Camera frames are rarely clean; look harder for finder patterns.
		gozxing.DecodeHintType_TRY_HARDER: true,
	}
}

// latin1Bytes inverts the ISO-8859-1 decoding of ScanQRCode: each character
// is one byte. Numeric and alphanumeric segments decode to ASCII, which is
// its own ISO-8859-1 encoding, so the whole payload comes back exactly.
// A code with an ECI naming another character set can yield characters
// above U+00FF; it was not made by QRCodePNG.
func latin1Bytes(text string) ([]byte, error) {
	b := make([]byte, 0, len(text))
	for _, r := range text {
		if r > 0xff || r == utf8.RuneError {
			return nil, malformed("qr code holds text, not a binary payload")
		}
		b = append(b, byte(r))
	}
	return b, nil
}
