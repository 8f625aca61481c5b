// SPDX-License-Identifier: AGPL-3.0-or-later

// Command hush-relay runs a Hush relay (ARCHITECTURE.md, "The relay"):
// `hush-relay init` makes a relay's directory, `hush-relay run` runs it,
// `hush-relay devnet` runs a whole loopback network in one process,
// `hush-relay netfile` builds a network file from relays' descriptors, and
// `hush-relay backup` copies a running relay's store.
//
// Output rules: errors go to standard error as "hush-relay: " and a
// lower-case message with no final period, with a hint where one helps;
// exit status 0 on success, 1 on failure, 2 on a usage error.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

const usage = `Usage:
    hush-relay init    --dir DIR
    hush-relay run     --dir DIR [--validate-only]
    hush-relay devnet  --dir DIR [--relays N]
    hush-relay netfile --out FILE IDENTITY@HOST:PORT...
    hush-relay backup  --admin HOST:PORT --out FILE
    hush-relay version

init     creates DIR with the relay's identity key (identity.key, mode 0600)
         and a configuration file (relay.toml) listing every setting with
         its default.
run      runs the relay of DIR until SIGTERM or SIGINT, then stops
         gracefully. SIGHUP reloads the network file (a bad one is logged
         and the previous one kept). --validate-only checks the
         configuration, the key and the network file, and exits.
devnet   runs N relays (default 5) on loopback ports chosen by the OS, each
         with its own directory under DIR, writes DIR/network.toml, and runs
         until interrupted.
netfile  fetches each relay's signed descriptor from HOST:PORT over TLS
         pinned to IDENTITY (hushrelay:…, as "hush-relay run" prints it),
         verifies it, and writes the network file listing them to FILE.
backup   copies the store of a running relay from its admin listener
         (GET /backup) to FILE: written beside FILE, synced, opened and
         checked, then renamed. The copy holds the relay's onion keys and
         every queue's mail: keep it, and the admin listener, private.
`

// Version is set with -ldflags "-X main.Version=…"; without it, the
// module version from the build information.
var Version string

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmds := map[string]func([]string, io.Writer, io.Writer) int{
		"init": cmdInit, "run": cmdRun, "devnet": cmdDevnet, "netfile": cmdNetfile, "backup": cmdBackup,
	}
	switch name := args[0]; name {
	case "version", "--version":
		fmt.Fprintln(stdout, "hush-relay", version())
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		cmd, ok := cmds[name]
		if !ok {
			fmt.Fprintf(stderr, "hush-relay: unknown command %q\n\n%s", name, usage)
			return 2
		}
		return cmd(args[1:], stdout, stderr)
	}
}

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// flags returns a flag set for a sub-command that prints the usage on a
// parse error.
func flags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("hush-relay "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	return fs
}

// fail prints a failure and returns exit status 1.
func fail(stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "hush-relay: "+format+"\n", args...)
	return 1
}
