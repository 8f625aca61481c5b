// SPDX-License-Identifier: AGPL-3.0-or-later

package content

import (
	"fmt"
	"time"

	"github.com/hushchat/hush/pkg/core/invite"
	"github.com/hushchat/hush/pkg/mailbox"
)

// Body is what a message says: one of the types in this file.
type Body interface {
	// body seals the interface: only this package's types are bodies.
	body()
}

// Text is a text message.
type Text struct {
	Text string
}

// ContactRequest is the first message of a contact who accepted an
// invitation: sent into the invitation's queue, it says where to answer.
type ContactRequest struct {
	InvitationID invite.ID
	DisplayName  string
	ReplyQueue   mailbox.QueueAddress
}

// ReceiptKind says what a receipt acknowledges.
type ReceiptKind uint8

// Receipt kinds.
const (
	Delivered ReceiptKind = 1
	Read      ReceiptKind = 2
)

// String names the kind.
func (k ReceiptKind) String() string {
	switch k {
	case Delivered:
		return "delivered"
	case Read:
		return "read"
	}
	return fmt.Sprintf("receipt kind %d", uint8(k))
}

// MaxReceiptIDs bounds the message IDs in one receipt.
const MaxReceiptIDs = 256

// Receipt acknowledges messages.
type Receipt struct {
	Kind       ReceiptKind
	MessageIDs []ID
}

// ProfileUpdate changes the display name the contact sees.
type ProfileUpdate struct {
	DisplayName string
}

// QueueRotation moves the conversation to a new queue of the sender's.
type QueueRotation struct {
	NewQueue mailbox.QueueAddress
}

// MaxDisappearing is the longest disappearing-message timer.
const MaxDisappearing = 365 * 24 * time.Hour

// DisappearingTimer sets the conversation's disappearing-message timer;
// zero turns it off. It has whole-second precision.
type DisappearingTimer struct {
	After time.Duration
}

func (Text) body()              {}
func (ContactRequest) body()    {}
func (Receipt) body()           {}
func (ProfileUpdate) body()     {}
func (QueueRotation) body()     {}
func (DisappearingTimer) body() {}
