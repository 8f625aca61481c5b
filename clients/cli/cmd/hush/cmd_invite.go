// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hushchat/hush/pkg/core"
)

const inviteHelp = `make a one-time invitation

The link goes to stdout; its QR code goes to stderr if that is a
terminal (or with --qr), and to FILE with --png. It is good for one
contact until --ttl has passed: 7d unless told, 1m to 30d (7d, 1d12h,
90m).`

// pngSize is the side of QR code images, in pixels.
const pngSize = 512

// maxInviteTTL bounds --ttl: an invitation's one-time prekey lives that
// long.
const maxInviteTTL = 30 * 24 * time.Hour

type inviteOpts struct {
	ttl    time.Duration
	png    string
	showQR bool
}

func parseInvite(cmd *command, args []string) (action, error) {
	var o inviteOpts
	fs := flagSet(cmd)
	o.ttl = core.DefaultInvitationTTL
	fs.Var(durationFlag{&o.ttl}, "ttl", "how long the invitation is valid (as in 7d, 12h)")
	fs.StringVar(&o.png, "png", "", "also write the QR code to this PNG file")
	fs.BoolVar(&o.showQR, "qr", false, "print the QR code even if stderr is not a terminal")
	pos, err := parseFlags(cmd, fs, args)
	if err != nil {
		return nil, err
	}
	if err := positional(cmd, pos, 0, 0); err != nil {
		return nil, err
	}
	if o.ttl < time.Minute || o.ttl > maxInviteTTL {
		return nil, usageErrorf(cmd, "--ttl must be between 1m and %s", shortDuration(maxInviteTTL))
	}
	return o.run, nil
}

// run prints the link on stdout (so it can be piped), the QR code and
// the expiry on stderr.
func (o inviteOpts) run(ctx context.Context, e *env) error {
	inv, err := e.client.CreateInvitation(ctx, o.ttl)
	if err != nil {
		return err
	}
	if o.png != "" {
		b, err := inv.QRPNG(pngSize)
		if err != nil {
			return err
		}
		if err := os.WriteFile(e.path(o.png), b, 0o600); err != nil {
			return fmt.Errorf("write the QR code: %w", err)
		}
	}
	fmt.Fprintln(e.stdout, inv.Link)
	if o.showQR || e.stderrTTY {
		qr, err := inv.QRTerminal()
		if err != nil {
			return err
		}
		io.WriteString(e.stderr, qr)
	}
	fmt.Fprintf(e.stderr, "hush: single-use invitation, valid until %s (%s)\n",
		inv.Expires.In(e.loc).Format("2006-01-02 15:04"), approx(inv.Expires.Sub(e.now())))
	hintf(e.stderr, "give it to one person over a channel you trust; they run \"hush accept LINK\"")
	return nil
}

// approx says roughly how long d is: "in 7 days", "in 3 hours".
func approx(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("in %d days", int(d.Round(time.Hour).Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("in %d hours", int(d.Round(time.Minute).Hours()))
	case d >= 2*time.Minute:
		return fmt.Sprintf("in %d minutes", int(d.Round(time.Second).Minutes()))
	}
	return "in a minute"
}
