// SPDX-License-Identifier: AGPL-3.0-or-later

// Command hush-demo (make demo) starts a Hush network of 5 relays on
// loopback in one process, with embedded stores, and two users on
// temporary profiles: Alice invites Bob over the network, Bob accepts,
// they exchange messages both ways through 3-hop onion paths with
// delivery and read receipts, a third profile is refused the used
// invitation, both sides compare safety numbers, and they send each
// other attachments through the relays' chunk stores, each way: a photo
// (stripped of its GPS tags on the sender's device), a 10 MiB file and
// a voice clip, with their timings and throughput.
//
// Store keys go into the OS keychain when a Secret Service answers, and
// otherwise take the explicit passphrase path; the demo says which. It
// prints each step with its timing, cleans up (profiles, relays, keychain
// entries) and exits non-zero if any step failed.
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
	"time"
)

const usage = `usage: hush-demo [-qr]

Starts 5 relays on loopback and two users, Alice and Bob, in one
process: Alice invites Bob over the network, Bob accepts, they exchange
messages through 3-hop onion paths, compare safety numbers, and send
each other a photo, a 10 MiB file and voice clips.

  -qr   also print the invitation and safety-number QR codes
`

func main() {
	flag.Usage = func() { fmt.Fprint(os.Stderr, usage) }
	showQR := flag.Bool("qr", false, "print QR codes")
	flag.Parse()
	d := &demo{out: os.Stdout, showQR: *showQR}
	if err := run(context.Background(), d); err != nil {
		fmt.Fprintf(os.Stderr, "hush-demo: FAILED: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stdout, "\nhush-demo: all steps passed")
}

// run runs the demo.
func run(ctx context.Context, d *demo) error {
	start := time.Now()
	if err := (&netDemo{demo: d}).run(ctx); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "\n(%s in all)\n", time.Since(start).Round(time.Millisecond))
	return nil
}
