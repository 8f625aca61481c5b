// SPDX-License-Identifier: AGPL-3.0-or-later

package verify

import (
	"errors"
	"image"

	"github.com/skip2/go-qrcode"

	"github.com/hushchat/hush/pkg/internal/qrpng"
)

// qrLevel is the error correction level. Medium (15 %) puts the 74-byte
// payload in a version 5 symbol (37 × 37 modules), easy for a phone camera
// at arm's length.
const qrLevel = qrcode.Medium

// qr encodes the scannable payload. go-qrcode takes a string but encodes its
// bytes unchanged; it may split them into numeric, alphanumeric and byte
// segments (see the package doc).
func (s SafetyNumber) qr() *qrcode.QRCode {
	q, err := qrpng.New(string(s.Scannable()), qrLevel)
	if err != nil { // the payload always has the same, small size
		panic("verify: internal error: " + err.Error())
	}
	return q
}

// QRCodePNG renders the scannable payload as a square PNG with a quiet
// zone, of about size pixels a side with a whole number of pixels per
// module, checked to read back exactly. As in go-qrcode, a negative size means -size pixels per
// module instead, and a size too small for the code is enlarged to one
// pixel per module.
func (s SafetyNumber) QRCodePNG(size int) ([]byte, error) {
	if size < 0 {
		return s.qr().PNG(size)
	}
	return qrpng.Encode(string(s.Scannable()), qrLevel, size)
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
func ScanQRCode(img image.Image) ([]byte, error) {
	payload, err := qrpng.Decode(img)
	switch {
	case errors.Is(err, qrpng.ErrNotBinary):
		return nil, malformed("qr code holds text, not a binary payload")
	case err != nil:
		return nil, ErrNoQRCode
	}
	return payload, nil
}
