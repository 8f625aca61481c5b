// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"context"
	"fmt"
	"image"
	_ "image/jpeg" // screenshots and photos of a code
	_ "image/png"
	"io"
	"os"
	"strings"

	"github.com/hushchat/hush/pkg/core/verify"
)

// Bounds on an image given to --scan, checked before it is decoded.
const (
	maxScanFile   = 32 << 20
	maxScanPixels = 50_000_000
)

type verifyOpts struct {
	confirm bool
	scan    string
	showQR  bool
	name    string
}

func parseVerify(cmd *command, args []string) (action, error) {
	var o verifyOpts
	fs := flagSet(cmd)
	fs.BoolVar(&o.confirm, "confirm", false, "mark the contact verified: you compared the numbers")
	fs.StringVar(&o.scan, "scan", "", "compare with a screenshot of the contact's QR code")
	fs.BoolVar(&o.showQR, "qr", false, "print the QR code even if stderr is not a terminal")
	pos, err := parseFlags(cmd, fs, args)
	if err != nil {
		return nil, err
	}
	if err := positional(cmd, pos, 1, 1); err != nil {
		return nil, err
	}
	if o.confirm && o.scan != "" {
		return nil, usageErrorf(cmd, "use --confirm or --scan, not both")
	}
	o.name = pos[0]
	return o.run, nil
}

func (o verifyOpts) run(ctx context.Context, e *env) error {
	ct, err := findContact(ctx, e.client, o.name)
	if err != nil {
		return err
	}
	name := clean(ct.Name)
	switch {
	case o.scan != "":
		payload, err := scanFile(e.path(o.scan))
		if err != nil {
			return err
		}
		if err := e.client.Verify(ctx, ct.ID, payload); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "the code matches: %s is now verified\n", name)
		return nil
	case o.confirm:
		if err := e.client.Verify(ctx, ct.ID, nil); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s is now verified\n", name)
		return nil
	}
	sn, err := e.client.SafetyNumber(ctx, ct.ID)
	if err != nil {
		return err
	}
	writeSafetyNumber(e.stdout, name, sn.Groups())
	if o.showQR || e.stderrTTY {
		io.WriteString(e.stderr, sn.QRCodeTerminal())
	}
	if ct.Verified {
		fmt.Fprintf(e.stderr, "hush: %s is verified\n", name)
		return nil
	}
	hintf(e.stderr, "compare it with what %s's hush shows, in person or on a call; if it is the same, run \"hush verify --confirm %s\"", name, quoteArg(ct.Name))
	return nil
}

// writeSafetyNumber prints the 12 groups of 5 digits, 4 to a line.
func writeSafetyNumber(w io.Writer, name string, groups []string) {
	fmt.Fprintf(w, "safety number with %s:\n", name)
	for i := 0; i < len(groups); i += 4 {
		fmt.Fprintf(w, "    %s\n", strings.Join(groups[i:min(i+4, len(groups))], " "))
	}
}

// scanFile reads the QR code in an image file, checking its size before
// decoding it (a small file can claim a huge image).
func scanFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read the QR code image: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read the QR code image: %w", err)
	}
	if fi.Size() > maxScanFile {
		return nil, fmt.Errorf("%s is larger than %d MiB; crop it to the code", path, maxScanFile>>20)
	}
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return nil, fmt.Errorf("%s is not a PNG or JPEG image: %w", path, err)
	}
	if cfg.Width*cfg.Height > maxScanPixels {
		return nil, fmt.Errorf("%s is %dx%d pixels, too large; crop it to the code", path, cfg.Width, cfg.Height)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return verify.ScanQRCode(img)
}
