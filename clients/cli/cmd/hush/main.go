// SPDX-License-Identifier: AGPL-3.0-or-later

// Command hush is the Hush command-line client.
//
// Each command opens the profile, does one thing and exits. While
// `hush listen` runs, it holds the profile (one process per profile:
// the store is locked), and the other commands hand their work to it
// over a local socket (see socket.go), so the store is never opened
// twice.
//
// Output follows age's rules: the requested output, and nothing else, on
// stdout; terse lower-case "hush: error: …" lines on stderr, with
// "hush: hint: …" lines saying what to do. Exit codes: 0 success, 1 an
// error, 2 a usage error.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: hush [--profile DIR] [--network FILE] [--passphrase-fd N] COMMAND [ARGS]

commands:
  init [--name NAME] [--passphrase]         make a profile (needs --network FILE)
  invite [--ttl DURATION] [--png FILE] [--qr]   make a one-time invitation link
  accept LINK                               accept an invitation
  contacts                                  list contacts
  send [--no-wait] NAME TEXT...             send a text message
  send-file [--caption TEXT] NAME PATH      send a file, showing the upload
  send-image [--caption TEXT] NAME PATH     send a picture, without its metadata
  send-voice NAME PATH                      send a voice clip (Ogg/Opus)
  listen [--save-dir DIR]                   receive and print messages until stopped
  history [--limit N] [--before CURSOR] NAME   print the latest messages, with their IDs
  save NAME MSGID PATH                      save a received attachment
  pin [--off] NAME MSGID                    keep a message whatever the retention
  retention NAME DURATION|off               delete messages older than DURATION here
  disappearing NAME DURATION|off            make messages disappear on both sides
  verify [--confirm] [--scan FILE.png] [--qr] NAME   show or check a safety number
  block NAME                                block a contact
  remove NAME                               remove a contact and its history
  identity accept|reject NAME               decide on a contact's new identity key
  passphrase [--new-passphrase-fd N]        change the store's passphrase
  help [COMMAND]                            show help

The profile is --profile DIR, else $HUSH_PROFILE, else
$XDG_DATA_HOME/hush, else ~/.local/share/hush. A passphrase comes from
--passphrase-fd N, $HUSH_PASSPHRASE, or a prompt on the terminal.
While "hush listen" runs, the other commands hand their work to it.
Attachments sent and downloaded are limited to 1 GiB, or to
$HUSH_MAX_ATTACHMENT (as in 2GiB or 300MiB).
A DURATION is 30d, 12h, 90m or 1h30m; a MSGID is the start of an ID
"hush history" shows. "hush help COMMAND" says more.
`

// Exit codes.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := newApp(os.Stdin, os.Stdout, os.Stderr).main(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
