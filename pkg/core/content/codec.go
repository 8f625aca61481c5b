// SPDX-License-Identifier: AGPL-3.0-or-later

package content

import (
	"fmt"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/invite"
	"github.com/hushchat/hush/pkg/mailbox"
	contentv1 "github.com/hushchat/hush/proto/content/v1"
)

// Marshal encodes m. It refuses a message that Unmarshal would refuse.
func Marshal(m Message) ([]byte, error) {
	if m.Disappear < 0 || m.Disappear > MaxDisappearing || m.Disappear%time.Second != 0 {
		return nil, malformed("message disappearing timer %v is not whole seconds between 0 and %v", m.Disappear, MaxDisappearing)
	}
	p := &contentv1.Content{Version: Version, MessageId: m.ID[:], SentAtMs: m.SentAt.UnixMilli(),
		DisappearSeconds: uint32(m.Disappear / time.Second)}
	if err := setBody(p, m.Body); err != nil {
		return nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(p)
	if err != nil {
		return nil, malformed("%v", err)
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(b), MaxSize)
	}
	return b, nil
}

// Unmarshal decodes a message and checks it.
func Unmarshal(b []byte) (Message, error) {
	if len(b) > MaxSize {
		return Message{}, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, len(b), MaxSize)
	}
	var p contentv1.Content
	if err := proto.Unmarshal(b, &p); err != nil {
		return Message{}, malformed("does not decode: %v", err)
	}
	if p.GetVersion() != Version {
		return Message{}, &VersionError{Got: p.GetVersion()}
	}
	var m Message
	if len(p.GetMessageId()) != IDSize {
		return Message{}, malformed("message ID is %d bytes, want %d", len(p.GetMessageId()), IDSize)
	}
	copy(m.ID[:], p.GetMessageId())
	m.SentAt = time.UnixMilli(p.GetSentAtMs())
	m.Disappear = time.Duration(p.GetDisappearSeconds()) * time.Second
	if m.Disappear > MaxDisappearing {
		return Message{}, malformed("message disappearing timer %v is over %v", m.Disappear, MaxDisappearing)
	}
	body, err := getBody(&p)
	if err != nil {
		return Message{}, err
	}
	m.Body = body
	return m, nil
}

func setBody(p *contentv1.Content, body Body) error {
	if ok, err := setAttachmentBody(p, body); ok {
		return err
	}
	switch b := body.(type) {
	case Text:
		if err := checkText(b.Text); err != nil {
			return err
		}
		p.Body = &contentv1.Content_Text{Text: &contentv1.Text{Body: b.Text}}
	case ContactRequest:
		if err := identity.CheckDisplayName(b.DisplayName); err != nil {
			return malformed("%v", err)
		}
		if err := checkQueue(b.ReplyQueue); err != nil {
			return err
		}
		p.Body = &contentv1.Content_ContactRequest{ContactRequest: &contentv1.ContactRequest{
			InvitationId: b.InvitationID[:], DisplayName: b.DisplayName, ReplyQueue: queueToProto(b.ReplyQueue)}}
	case Receipt:
		if err := checkReceipt(b); err != nil {
			return err
		}
		r := &contentv1.Receipt{Kind: contentv1.Receipt_Kind(b.Kind)}
		for _, id := range b.MessageIDs {
			r.MessageIds = append(r.MessageIds, id[:])
		}
		p.Body = &contentv1.Content_Receipt{Receipt: r}
	case ProfileUpdate:
		if err := identity.CheckDisplayName(b.DisplayName); err != nil {
			return malformed("%v", err)
		}
		p.Body = &contentv1.Content_ProfileUpdate{ProfileUpdate: &contentv1.ProfileUpdate{DisplayName: b.DisplayName}}
	case QueueRotation:
		if err := checkQueue(b.NewQueue); err != nil {
			return err
		}
		p.Body = &contentv1.Content_QueueRotation{QueueRotation: &contentv1.QueueRotation{NewQueue: queueToProto(b.NewQueue)}}
	case DisappearingTimer:
		if b.After < 0 || b.After > MaxDisappearing || b.After%time.Second != 0 {
			return malformed("disappearing timer %v is not whole seconds between 0 and %v", b.After, MaxDisappearing)
		}
		p.Body = &contentv1.Content_DisappearingTimer{DisappearingTimer: &contentv1.DisappearingTimer{Seconds: uint32(b.After / time.Second)}}
	case nil:
		return malformed("no body")
	default:
		return malformed("body type %T", body)
	}
	return nil
}

func getBody(p *contentv1.Content) (Body, error) {
	if body, ok, err := getAttachmentBody(p); ok {
		if err != nil {
			return nil, err
		}
		return body, nil
	}
	switch b := p.GetBody().(type) {
	case *contentv1.Content_Text:
		t := Text{Text: b.Text.GetBody()}
		return t, checkText(t.Text)
	case *contentv1.Content_ContactRequest:
		return contactRequestOf(b.ContactRequest)
	case *contentv1.Content_Receipt:
		kind := b.Receipt.GetKind()
		if kind != contentv1.Receipt_KIND_DELIVERED && kind != contentv1.Receipt_KIND_READ {
			return nil, malformed("unknown receipt kind %d", kind)
		}
		r := Receipt{Kind: ReceiptKind(kind)}
		for _, id := range b.Receipt.GetMessageIds() {
			if len(id) != IDSize {
				return nil, malformed("receipt message ID is %d bytes", len(id))
			}
			r.MessageIDs = append(r.MessageIDs, ID(id))
		}
		return r, checkReceipt(r)
	case *contentv1.Content_ProfileUpdate:
		u := ProfileUpdate{DisplayName: b.ProfileUpdate.GetDisplayName()}
		if err := identity.CheckDisplayName(u.DisplayName); err != nil {
			return nil, malformed("%v", err)
		}
		return u, nil
	case *contentv1.Content_QueueRotation:
		q, err := queueOf(b.QueueRotation.GetNewQueue())
		return QueueRotation{NewQueue: q}, err
	case *contentv1.Content_DisappearingTimer:
		d := time.Duration(b.DisappearingTimer.GetSeconds()) * time.Second
		if d > MaxDisappearing {
			return nil, malformed("disappearing timer %v is over %v", d, MaxDisappearing)
		}
		return DisappearingTimer{After: d}, nil
	case nil:
		if len(p.ProtoReflect().GetUnknown()) > 0 {
			return nil, malformed("body of a type this Hush does not know; update Hush")
		}
		return nil, malformed("no body")
	default:
		return nil, malformed("unknown body %T", b)
	}
}

func checkText(s string) error {
	if len(s) > MaxText {
		return fmt.Errorf("%w: text of %d bytes, at most %d; send it as a file", ErrTooLarge, len(s), MaxText)
	}
	if !utf8.ValidString(s) {
		return malformed("text is not UTF-8")
	}
	return nil
}

func checkReceipt(r Receipt) error {
	if r.Kind != Delivered && r.Kind != Read {
		return malformed("unknown %v", r.Kind)
	}
	if len(r.MessageIDs) == 0 || len(r.MessageIDs) > MaxReceiptIDs {
		return malformed("receipt names %d messages, want 1 to %d", len(r.MessageIDs), MaxReceiptIDs)
	}
	return nil
}

func contactRequestOf(p *contentv1.ContactRequest) (Body, error) {
	if len(p.GetInvitationId()) != invite.IDSize {
		return nil, malformed("contact request invitation ID is %d bytes", len(p.GetInvitationId()))
	}
	if err := identity.CheckDisplayName(p.GetDisplayName()); err != nil {
		return nil, malformed("%v", err)
	}
	q, err := queueOf(p.GetReplyQueue())
	if err != nil {
		return nil, err
	}
	return ContactRequest{InvitationID: invite.ID(p.GetInvitationId()), DisplayName: p.GetDisplayName(), ReplyQueue: q}, nil
}

func checkQueue(q mailbox.QueueAddress) error {
	if q.Relay.IsZero() {
		return malformed("queue address has no relay")
	}
	return nil
}

func queueToProto(q mailbox.QueueAddress) *contentv1.QueueAddress {
	return &contentv1.QueueAddress{RelayIdentity: q.Relay.Bytes(), SenderId: q.Sender.Bytes()}
}

func queueOf(p *contentv1.QueueAddress) (mailbox.QueueAddress, error) {
	if p == nil {
		return mailbox.QueueAddress{}, malformed("no queue address")
	}
	relay, err := mailbox.NewRelayID(p.GetRelayIdentity())
	if err != nil {
		return mailbox.QueueAddress{}, malformed("queue relay: %v", err)
	}
	sender, err := mailbox.ParseSenderID(p.GetSenderId())
	if err != nil {
		return mailbox.QueueAddress{}, malformed("queue sender ID: %v", err)
	}
	return mailbox.QueueAddress{Relay: relay, Sender: sender}, nil
}
