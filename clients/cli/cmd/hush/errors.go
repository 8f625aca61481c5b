// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"errors"

	"github.com/hushchat/hush/pkg/core"
	"github.com/hushchat/hush/pkg/core/invite"
	"github.com/hushchat/hush/pkg/core/keychain"
	"github.com/hushchat/hush/pkg/core/media"
	"github.com/hushchat/hush/pkg/core/store/sqlstore"
	"github.com/hushchat/hush/pkg/core/verify"
	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion/directory"
	"github.com/hushchat/hush/pkg/onion/relaynet"
)

// explanation is what the CLI says for an error the core returns: a
// message in place of the error's own (empty: keep it) and hints.
type explanation struct {
	err   error
	msg   string
	hints []string
}

// explanations are checked in order with errors.Is; the first match
// wins. The core's errors already say what went wrong; the hints say
// what to do.
var explanations = []explanation{
	{err: core.ErrNoProfile, msg: "no profile in this directory",
		hints: []string{"create one with \"hush --network FILE init\", or pick another with --profile DIR"}},
	{err: core.ErrProfileExists, msg: "a profile already exists in this directory",
		hints: []string{"use another --profile DIR for a second profile"}},
	{err: sqlstore.ErrWrongKey, msg: "wrong passphrase (or keychain entry): the store did not open; nothing was changed",
		hints: []string{"check $HUSH_PASSPHRASE or what --passphrase-fd reads"}},
	{err: sqlstore.ErrLocked, msg: "the profile is in use by another hush process",
		hints: []string{"wait for it to finish; while \"hush listen\" runs, other commands hand their work to it"}},
	{err: sqlstore.ErrNewerSchema},
	{err: keychain.ErrNeedPassphrase, msg: "this profile needs a passphrase, and none was given",
		hints: []string{"set HUSH_PASSPHRASE, use --passphrase-fd N, or run the command in a terminal"}},
	{err: keychain.ErrTimeout, msg: "the OS keychain did not answer in time (is it locked?)",
		hints: []string{"unlock the keychain (log in to the desktop session) and try again"}},
	{err: keychain.ErrUnavailable, msg: "no OS keychain is available",
		hints: []string{"for a new profile, use \"hush init --passphrase\" to protect the store with a passphrase instead"}},
	{err: keychain.ErrKeyMissing},
	{err: keychain.ErrNotPassphrase, msg: "this profile's key is in the OS keychain; it has no passphrase to change"},
	{err: keychain.ErrEmptyPassphrase, msg: "the passphrase is empty"},
	{err: core.ErrNoContact, hints: []string{"\"hush contacts\" lists them"}},
	{err: core.ErrAmbiguousName, hints: []string{"give the full name, or the contact's number from \"hush contacts\" as #N"}},
	{err: core.ErrContactPending, hints: []string{"keep \"hush listen\" running until the contact has answered"}},
	{err: core.ErrBlocked},
	{err: core.ErrInvitationUsed},
	{err: core.ErrVerifyMismatch, msg: "the scanned code does not match this contact's safety number",
		hints: []string{"you may not be talking to who you think: do not mark the contact verified; compare in person"}},
	{err: core.ErrNoIdentityChange},
	{err: core.ErrEmptyText},
	{err: core.ErrTooLarge},
	{err: core.ErrNotDownloaded, hints: []string{"\"hush listen\" downloads attachments; \"hush history NAME\" shows where each stands"}},
	{err: core.ErrNoAttachment, msg: "that message has no attachment"},
	{err: core.ErrNoAttachmentDir},
	{err: core.ErrTimer},
	{err: media.ErrUnsupported},
	{err: invite.ErrNotYetValid, hints: []string{"a clock is far off: check this computer's date and time"}},
	{err: invite.ErrOwnInvitation, hints: []string{"send the link to the person you want to talk to"}},
	{err: invite.ErrAlreadyAccepted, hints: []string{"\"hush contacts\" lists the contact it made"}},
	{err: invite.ErrExpired},
	{err: invite.ErrTampered, hints: []string{"ask for the link again, over a channel you trust"}},
	{err: invite.ErrVersion},
	{err: verify.ErrNoQRCode, msg: "no readable QR code in the image",
		hints: []string{"take a screenshot of the whole code, sharp and not cropped"}},
	{err: directory.ErrNotYetValid, msg: "a relay's descriptor was published in the future: a clock is far off",
		hints: []string{"check this computer's date and time"}},
	{err: directory.ErrExpired, msg: "the relays' descriptors have expired: a clock is far off, or the relays are stale",
		hints: []string{"check this computer's date and time"}},
	{err: relaynet.ErrUnreachable, msg: "no relay answered",
		hints: []string{"check your connection and the network file; sent messages stay queued and are retried"}},
	{err: relaynet.ErrNoRelays},
	{err: relaynet.ErrNoPath, hints: []string{"too few relays answer right now; try again later"}},
	{err: relaynet.ErrExitUnreachable, hints: []string{"the relay is down or unreachable; try again later"}},
	{err: mailbox.StatusRateLimited, hints: []string{"try again in a minute"}},
}

// explain returns the message and hints for err.
func explain(err error) (string, []string) {
	var hints []string
	var h *hinted
	if errors.As(err, &h) {
		hints = h.hints
	}
	for _, e := range explanations {
		if errors.Is(err, e.err) {
			msg := e.msg
			if msg == "" {
				msg = errorMessage(err)
			}
			return msg, append(hints, e.hints...)
		}
	}
	return errorMessage(err), hints
}
