// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"bytes"
	"errors"
	"fmt"
	"image/png"
	"io"
	"strings"

	"github.com/hushchat/hush/pkg/core/verify"
)

// demo is the output side of the demo: numbered steps and their lines.
type demo struct {
	out    io.Writer
	showQR bool
	step   int
}

func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.out, "    "+format+"\n", args...)
}

func (d *demo) begin(title string) {
	d.step++
	fmt.Fprintf(d.out, "\n[%d] %s\n", d.step, title)
}

// showAndScan prints both sides' safety numbers, checks they are equal,
// and returns the payload Alice reads by scanning the QR code on Bob's
// screen (rendered to PNG and decoded).
func (d *demo) showAndScan(aliceSees, bobSees verify.SafetyNumber) ([]byte, error) {
	d.say("Alice sees %s", strings.Join(aliceSees.Groups(), " "))
	d.say("Bob sees   %s", strings.Join(bobSees.Groups(), " "))
	if aliceSees.String() != bobSees.String() {
		return nil, errors.New("the two sides see different safety numbers")
	}
	if d.showQR {
		fmt.Fprint(d.out, bobSees.QRCodeTerminal())
	}
	pngBytes, err := bobSees.QRCodePNG(512)
	if err != nil {
		return nil, err
	}
	img, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil {
		return nil, err
	}
	return verify.ScanQRCode(img)
}
