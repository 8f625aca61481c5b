// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"
	"time"

	"github.com/hushchat/hush/services/relay/config"
	"github.com/hushchat/hush/services/relay/devnet"
)

// devnetStartTimeout bounds the relays' first exchange of descriptors.
const devnetStartTimeout = 30 * time.Second

func cmdDevnet(args []string, stdout, stderr io.Writer) int {
	set := flags("devnet", stderr)
	dir := set.String("dir", "", "directory for the relays and the network file")
	n := set.Int("relays", devnet.DefaultRelays, "how many relays")
	if err := set.Parse(args); err != nil || *dir == "" || set.NArg() != 0 || *n < 1 {
		fmt.Fprint(stderr, "hush-relay: devnet needs --dir DIR and --relays N ≥ 1\n")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	log := newLogger(config.Defaults().Log, stderr)
	sctx, cancel := context.WithTimeout(ctx, devnetStartTimeout)
	defer cancel()
	net, err := devnet.Start(sctx, devnet.Options{Relays: *n, Dir: *dir, Admin: true, Log: log})
	if err != nil {
		return fail(stderr, "%v", err)
	}
	printDevnet(stdout, net)
	<-ctx.Done()
	dctx, dcancel := context.WithTimeout(context.Background(), config.Defaults().Relay.ShutdownTimeout.Duration)
	defer dcancel()
	if err := net.Shutdown(dctx); err != nil && !errors.Is(err, context.Canceled) {
		return fail(stderr, "%v", err)
	}
	return 0
}

func printDevnet(w io.Writer, net *devnet.Network) {
	fmt.Fprintf(w, "devnet: %d relays on loopback\n", len(net.Relays))
	for i, r := range net.Relays {
		fmt.Fprintf(w, "  %-8s %s  grpc %s  web %s  admin http://%s/metrics\n",
			net.File.Relays[i].Name, r.ID(), r.Addr(), r.WebURL(), r.AdminAddr())
	}
	fmt.Fprintf(w, "network file: %s\n", net.FilePath)
	fmt.Fprintf(w, "clients: use this network file (e.g. hush --network %s); it lists every relay's identity and address\n", net.FilePath)
	fmt.Fprintln(w, "stop with Ctrl-C")
}
