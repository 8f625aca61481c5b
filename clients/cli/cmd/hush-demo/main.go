// SPDX-License-Identifier: AGPL-3.0-or-later

// Command hush-demo runs two Hush users in one process and shows the core
// at work: identities, a one-time invitation made and accepted, a Signal
// session, messages both ways in sealed envelopes, a photo stripped of its
// GPS tags, a file and a voice clip as encrypted chunks, and the safety
// number both sides see.
//
// There is no network yet: the envelopes one side would put in a mailbox,
// and the chunks it would upload, are handed to the other directly. It
// prints what it does and exits non-zero if any step fails.
//
// Usage:
//
//	hush-demo [-qr]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
)

const usage = `usage: hush-demo [-qr]

Runs two Hush users, Alice and Bob, in one process: Alice invites Bob,
Bob accepts, they exchange messages, a photo, a file and a voice clip,
and compare safety numbers.

  -qr   also print the invitation and safety-number QR codes
`

func main() {
	flag.Usage = func() { fmt.Fprint(os.Stderr, usage) }
	showQR := flag.Bool("qr", false, "print QR codes")
	flag.Parse()
	d := &demo{out: os.Stdout, showQR: *showQR}
	if err := d.run(context.Background()); err != nil {
		fmt.Fprintf(os.Stderr, "hush-demo: FAILED: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stdout, "\nhush-demo: all steps passed")
}
