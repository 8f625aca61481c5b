// SPDX-License-Identifier: AGPL-3.0-or-later

package core

import "errors"

// Errors the Client returns, possibly wrapped, for callers to branch on.
var (
	// ErrNoContact is returned for a contact that does not exist.
	ErrNoContact = errors.New("core: no such contact")
	// ErrAmbiguousName is returned when a name matches several contacts.
	ErrAmbiguousName = errors.New("core: several contacts have this name; use the contact's number")
	// ErrContactPending is returned when sending to a contact whose
	// answer to our contact request has not arrived yet.
	ErrContactPending = errors.New("core: the contact has not answered the contact request yet; messages can be sent once they are online and have answered")
	// ErrBlocked is returned when sending to a blocked contact.
	ErrBlocked = errors.New("core: the contact is blocked")
	// ErrInvitationUsed is returned by AcceptInvitation when the relay
	// says the invitation's queue already took a contact request: someone
	// else accepted it first (or it was intercepted).
	ErrInvitationUsed = errors.New("core: this invitation was already accepted by someone (it is single-use); ask for a new one")
	// ErrNotInitialized is returned by New for a store without a profile.
	ErrNotInitialized = errors.New("core: the profile has no identity yet (run init first)")
	// ErrInitialized is returned by Init for a store that has a profile.
	ErrInitialized = errors.New("core: the profile already exists")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("core: client is closed")
	// ErrNoIdentityChange is returned when accepting or rejecting an
	// identity change that is not pending.
	ErrNoIdentityChange = errors.New("core: no identity change is pending for this contact")
	// ErrVerifyMismatch is returned by Verify when a scanned code does
	// not match: the keys are not the ones the contact sees.
	ErrVerifyMismatch = errors.New("core: the scanned code does not match this contact's safety number")
	// ErrEmptyText is returned for a text message with nothing in it.
	ErrEmptyText = errors.New("core: the message is empty")
	// ErrTooLarge is returned for an attachment over the size limit
	// (Options.MaxAttachment), before anything is uploaded.
	ErrTooLarge = errors.New("core: the attachment is too large")
	// ErrNoAttachmentDir is returned by the attachment methods of a
	// client without Options.AttachmentDir.
	ErrNoAttachmentDir = errors.New("core: this client has no attachment directory")
	// ErrNoAttachment is returned for a message without an attachment.
	ErrNoAttachment = errors.New("core: the message has no attachment")
	// ErrNotDownloaded is returned when opening an attachment that is not
	// (yet, or ever) downloaded and verified.
	ErrNotDownloaded = errors.New("core: the attachment is not downloaded")
	// ErrTimer is returned for a disappearing timer or retention out of
	// range.
	ErrTimer = errors.New("core: timer out of range")
)
