// SPDX-License-Identifier: AGPL-3.0-or-later

package invite

import (
	"fmt"

	"github.com/skip2/go-qrcode"

	"github.com/hushchat/hush/pkg/internal/qrpng"
)

// QRCodePNG renders link as a QR code in a PNG image of about size pixels
// a side (at least 256), with a whole number of pixels per module so every
// reader scans it. Medium error correction keeps the code small enough to
// scan from a phone screen.
func QRCodePNG(link string, size int) ([]byte, error) {
	if size < 256 {
		return nil, fmt.Errorf("invite: QR image size %d is below 256 pixels", size)
	}
	png, err := qrpng.Encode(link, qrcode.Medium, size)
	if err != nil {
		return nil, fmt.Errorf("invite: render QR code: %w", err)
	}
	return png, nil
}

// QRCodeTerminal renders link as a QR code with Unicode half blocks, two
// modules per character cell, for printing on a terminal with a dark
// background.
func QRCodeTerminal(link string) (string, error) {
	q, err := qrpng.New(link, qrcode.Medium)
	if err != nil {
		return "", fmt.Errorf("invite: render QR code: %w", err)
	}
	return q.ToSmallString(false), nil
}
