// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/directory"
	"github.com/hushchat/hush/pkg/onion/peer"
)

// netfileTimeout bounds fetching every descriptor.
const netfileTimeout = 30 * time.Second

func cmdNetfile(args []string, stdout, stderr io.Writer) int {
	set := flags("netfile", stderr)
	out := set.String("out", "", "the network file to write")
	if err := set.Parse(args); err != nil || *out == "" || set.NArg() == 0 {
		fmt.Fprint(stderr, "hush-relay: netfile needs --out FILE and at least one IDENTITY@HOST:PORT\n")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), netfileTimeout)
	defer cancel()
	nf, err := buildNetwork(ctx, set.Args())
	if err != nil {
		return fail(stderr, "%v", err)
	}
	data, err := nf.Marshal()
	if err != nil {
		return fail(stderr, "%v", err)
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return fail(stderr, "%v", err)
	}
	fmt.Fprintf(stdout, "wrote %s with %d relays\n", *out, len(nf.Relays))
	return 0
}

// buildNetwork fetches the descriptor of each IDENTITY@HOST:PORT over TLS
// pinned to IDENTITY, verifies it, and lists the relays with their signed
// addresses. The identity comes from the relay's operator, so nothing is
// trusted on first use.
func buildNetwork(ctx context.Context, specs []string) (directory.NetworkFile, error) {
	var want directory.NetworkFile
	for _, s := range specs {
		id, addr, ok := strings.Cut(s, "@")
		if !ok {
			return directory.NetworkFile{}, fmt.Errorf("%q is not IDENTITY@HOST:PORT", s)
		}
		rid, err := onion.ParseRelayID(id)
		if err != nil {
			return directory.NetworkFile{}, fmt.Errorf("%q: %w", s, err)
		}
		want.Relays = append(want.Relays, directory.NetworkRelay{ID: rid, Address: addr})
	}
	if err := want.Validate(); err != nil {
		return directory.NetworkFile{}, err
	}
	pool := peer.NewPool()
	defer pool.Close()
	ds := make([]*directory.Descriptor, 0, len(want.Relays))
	for _, r := range want.Relays {
		signed, err := pool.Descriptor(ctx, r.ID, r.Address)
		if err != nil {
			return directory.NetworkFile{}, fmt.Errorf("descriptor of %s at %s: %w", r.ID, r.Address, err)
		}
		d, err := want.Verify(signed, time.Now())
		if err != nil || d.Relay != r.ID {
			return directory.NetworkFile{}, fmt.Errorf("descriptor of %s at %s does not verify: %v", r.ID, r.Address, err)
		}
		ds = append(ds, d)
	}
	return directory.FromDescriptors(ds), nil
}
