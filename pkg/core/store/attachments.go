// SPDX-License-Identifier: AGPL-3.0-or-later

package store

import (
	"context"
	"fmt"
	"time"

	"github.com/hushchat/hush/pkg/core/content"
)

// TransferState is where an attachment's transfer stands.
type TransferState uint8

// The transfer states. An outgoing attachment goes Uploading → Uploaded
// (every chunk stored; its message went to the outbox); an incoming one
// Downloading → Downloaded (verified, held in its file). Either may end
// TransferFailed.
const (
	Uploading      TransferState = 1
	Uploaded       TransferState = 2
	Downloading    TransferState = 3
	Downloaded     TransferState = 4
	TransferFailed TransferState = 5
)

// Attachment is the transfer of one message's attachment. The pointer
// (key, digest, size, relays) is in the message's body.
type Attachment struct {
	Contact     ContactID
	Message     content.ID
	Direction   Direction
	State       TransferState
	File        string // the chunk file's name in the attachment directory
	Done        int64  // upload: every chunk below this one is stored
	Attempts    int
	NextAttempt time.Time
	Err         string // why the transfer failed, or last went wrong
	Saved       bool   // a plaintext copy was saved (incoming); see MarkSaved
}

// Validate checks the enumerations and the file name of a.
func (a Attachment) Validate() error {
	switch {
	case a.Contact == 0:
		return fmt.Errorf("%w: attachment has no contact", ErrInvalid)
	case a.Direction != Incoming && a.Direction != Outgoing:
		return fmt.Errorf("%w: attachment direction %d", ErrInvalid, a.Direction)
	case a.State < Uploading || a.State > TransferFailed:
		return fmt.Errorf("%w: transfer state %d", ErrInvalid, a.State)
	case a.File == "":
		return fmt.Errorf("%w: attachment has no file", ErrInvalid)
	case a.Done < 0:
		return fmt.Errorf("%w: attachment done %d", ErrInvalid, a.Done)
	}
	return nil
}

// Attachments holds the attachments' transfers.
type Attachments interface {
	// AddAttachment stores a for its message, which must exist; a second
	// one for the same message returns ErrExists.
	AddAttachment(ctx context.Context, a Attachment) error
	// Attachment returns a message's attachment, or ErrNotFound.
	Attachment(ctx context.Context, contact ContactID, msg content.ID) (Attachment, error)
	// UpdateAttachment replaces the state, done count, attempts, next
	// attempt and error of a's message's attachment.
	UpdateAttachment(ctx context.Context, a Attachment) error
	// Transfers returns up to limit attachments still Uploading or
	// Downloading, those due first.
	Transfers(ctx context.Context, limit int) ([]Attachment, error)
	// AttachmentFiles returns every attachment's file name.
	AttachmentFiles(ctx context.Context) ([]string, error)
	// MarkSaved records that a message's attachment was saved.
	MarkSaved(ctx context.Context, contact ContactID, msg content.ID) error
	// Unsaved returns up to limit incoming attachments Downloaded and
	// never saved, those of the oldest messages first.
	Unsaved(ctx context.Context, limit int) ([]Attachment, error)
}

// Expiry removes what the disappearing timers and retention settings say
// must go.
type Expiry interface {
	// Expire deletes the messages that expired at or before now, and
	// each contact's unpinned messages older than its retention, with
	// their attachments. It returns the deleted messages' attachment
	// files, for the caller to remove.
	Expire(ctx context.Context, now time.Time) (Expired, error)
	// NextExpiry returns the earliest Expires of a stored message, or
	// false if none will expire.
	NextExpiry(ctx context.Context) (time.Time, bool, error)
}

// Expired is what one Expire removed.
type Expired struct {
	Messages int      // messages deleted
	Files    []string // their attachments' files
}
