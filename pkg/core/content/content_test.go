// SPDX-License-Identifier: AGPL-3.0-or-later

package content

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/core/invite"
	"github.com/hushchat/hush/pkg/mailbox"
	contentv1 "github.com/hushchat/hush/proto/content/v1"
)

var now = time.Date(2026, 11, 21, 12, 30, 15, 123456789, time.UTC)

func queue(t testing.TB) mailbox.QueueAddress {
	t.Helper()
	pub, _, _ := ed25519.GenerateKey(nil)
	r, err := mailbox.RelayIDFromKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := mailbox.NewSenderID(nil)
	return mailbox.QueueAddress{Relay: r, Sender: s}
}

func bodies(t testing.TB) map[string]Body {
	return map[string]Body{
		"text":            Text{Text: "hello, Zoë 🌻"},
		"empty text":      Text{},
		"contact request": ContactRequest{InvitationID: invite.ID{1, 2, 3}, DisplayName: "Bob", ReplyQueue: queue(t)},
		"delivered":       Receipt{Kind: Delivered, MessageIDs: []ID{{1}, {2}}},
		"read":            Receipt{Kind: Read, MessageIDs: []ID{{9}}},
		"profile":         ProfileUpdate{DisplayName: "Robert"},
		"rotation":        QueueRotation{NewQueue: queue(t)},
		"timer":           DisappearingTimer{After: 7 * 24 * time.Hour},
		"timer off":       DisappearingTimer{},
		"image": Image{Attachment: attachment(t, "image/jpeg", "IMG_0001.jpg", 2), Width: 4032, Height: 3024,
			Thumbnail: []byte{0xff, 0xd8, 0xff}, Caption: "the view"},
		"file":  File{Attachment: attachment(t, "application/pdf", "report.pdf", 0), Caption: "read me"},
		"voice": VoiceClip{Attachment: attachment(t, "audio/ogg; codecs=opus", "", 1), Duration: 12340 * time.Millisecond},
	}
}

func attachment(t testing.TB, mime, name string, relays int) Attachment {
	t.Helper()
	k, err := attach.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	a := Attachment{Key: k, Size: 123456, MIMEType: mime, FileName: name}
	a.Digest[0], a.Digest[31] = 1, 2
	for range relays {
		a.Relays = append(a.Relays, queue(t).Relay)
	}
	return a
}

func equalBody(a, b Body) bool {
	qa, oka := queueIn(a)
	qb, okb := queueIn(b)
	if oka != okb {
		return false
	}
	if oka {
		if qa.Relay != qb.Relay || !qa.Sender.Equal(qb.Sender) {
			return false
		}
		a, b = stripQueue(a), stripQueue(b)
	}
	return reflect.DeepEqual(a, b)
}

func queueIn(b Body) (mailbox.QueueAddress, bool) {
	switch b := b.(type) {
	case ContactRequest:
		return b.ReplyQueue, true
	case QueueRotation:
		return b.NewQueue, true
	}
	return mailbox.QueueAddress{}, false
}

func stripQueue(b Body) Body {
	switch b := b.(type) {
	case ContactRequest:
		b.ReplyQueue = mailbox.QueueAddress{}
		return b
	case QueueRotation:
		return QueueRotation{}
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	for name, body := range bodies(t) {
		m, err := New(body, now)
		if err != nil {
			t.Fatal(err)
		}
		m.Disappear = 90 * time.Second
		b, err := Marshal(m)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.ID != m.ID || !got.SentAt.Equal(now.Truncate(time.Millisecond)) || got.Disappear != 90*time.Second || !equalBody(got.Body, body) {
			t.Errorf("%s: got %+v, want %+v", name, got, m)
		}
	}
	a, _ := New(Text{}, now)
	b, _ := New(Text{}, now)
	if a.ID == b.ID {
		t.Error("two messages got the same ID")
	}
}

func encode(t *testing.T, p *contentv1.Content) []byte {
	t.Helper()
	b, err := proto.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVersionRefused(t *testing.T) {
	for _, v := range []uint32{0, 2, 1 << 31} {
		b := encode(t, &contentv1.Content{Version: v, MessageId: make([]byte, 16),
			Body: &contentv1.Content_Text{Text: &contentv1.Text{Body: "x"}}})
		_, err := Unmarshal(b)
		var ve *VersionError
		if !errors.As(err, &ve) || ve.Got != v || !errors.Is(err, ErrVersion) {
			t.Errorf("version %d: err = %v", v, err)
		}
		if v > Version && !strings.Contains(err.Error(), "update Hush") {
			t.Errorf("version %d: message %q does not say to update", v, err)
		}
	}
}

func TestRefused(t *testing.T) {
	id := make([]byte, 16)
	cases := map[string]*contentv1.Content{
		"no body":   {Version: 1, MessageId: id},
		"short ID":  {Version: 1, MessageId: id[:3], Body: &contentv1.Content_Text{Text: &contentv1.Text{}}},
		"long text": {Version: 1, MessageId: id, Body: &contentv1.Content_Text{Text: &contentv1.Text{Body: strings.Repeat("a", MaxText+1)}}},
		"receipt kind": {Version: 1, MessageId: id, Body: &contentv1.Content_Receipt{Receipt: &contentv1.Receipt{
			Kind: 9, MessageIds: [][]byte{id}}}},
		"receipt kind 257": {Version: 1, MessageId: id, Body: &contentv1.Content_Receipt{Receipt: &contentv1.Receipt{
			Kind: 257, MessageIds: [][]byte{id}}}},
		"receipt kind -254": {Version: 1, MessageId: id, Body: &contentv1.Content_Receipt{Receipt: &contentv1.Receipt{
			Kind: -254, MessageIds: [][]byte{id}}}},
		"empty receipt": {Version: 1, MessageId: id, Body: &contentv1.Content_Receipt{Receipt: &contentv1.Receipt{Kind: 1}}},
		"receipt ID": {Version: 1, MessageId: id, Body: &contentv1.Content_Receipt{Receipt: &contentv1.Receipt{
			Kind: 1, MessageIds: [][]byte{id[:5]}}}},
		"control name": {Version: 1, MessageId: id, Body: &contentv1.Content_ProfileUpdate{ProfileUpdate: &contentv1.ProfileUpdate{
			DisplayName: "\x1b]0;pwned\x07"}}},
		"no queue":   {Version: 1, MessageId: id, Body: &contentv1.Content_QueueRotation{QueueRotation: &contentv1.QueueRotation{}}},
		"zero relay": {Version: 1, MessageId: id, Body: &contentv1.Content_QueueRotation{QueueRotation: &contentv1.QueueRotation{NewQueue: &contentv1.QueueAddress{RelayIdentity: make([]byte, 32), SenderId: id}}}},
		"long timer": {Version: 1, MessageId: id, Body: &contentv1.Content_DisappearingTimer{DisappearingTimer: &contentv1.DisappearingTimer{Seconds: 400 * 86400}}},
		"image":      {Version: 1, MessageId: id, Body: &contentv1.Content_Image{Image: &contentv1.Image{}}},
		"long message timer": {Version: 1, MessageId: id, DisappearSeconds: 400 * 86400,
			Body: &contentv1.Content_Text{Text: &contentv1.Text{Body: "x"}}},
	}
	for name, p := range cases {
		_, err := Unmarshal(encode(t, p))
		if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	future := encode(t, &contentv1.Content{Version: 1, MessageId: id})
	future = append(future, 0xa2, 0x06, 0x00) // field 100, empty: a body type from a newer Hush
	if _, err := Unmarshal(future); err == nil || !strings.Contains(err.Error(), "update Hush") {
		t.Errorf("unknown body type: err = %v, want one saying to update", err)
	}
	if _, err := Unmarshal([]byte{0xff, 0xff}); !errors.Is(err, ErrMalformed) {
		t.Errorf("garbage: err = %v", err)
	}
	if _, err := Unmarshal(make([]byte, MaxSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized: err = %v", err)
	}
	for name, body := range map[string]Body{
		"nil":        nil,
		"long text":  Text{Text: strings.Repeat("a", MaxText+1)},
		"bad timer":  DisappearingTimer{After: 1500 * time.Millisecond},
		"no relay":   QueueRotation{},
		"no IDs":     Receipt{Kind: Read},
		"long name":  ProfileUpdate{DisplayName: strings.Repeat("n", 65)},
		"bad kind":   Receipt{Kind: 0, MessageIDs: []ID{{}}},
		"bad UTF-8":  Text{Text: "\xc3"},
		"ctl in req": ContactRequest{DisplayName: "a\x00", ReplyQueue: queue(t)},
	} {
		if _, err := Marshal(Message{Body: body}); err == nil {
			t.Errorf("Marshal accepted %s", name)
		}
	}
	for _, d := range []time.Duration{-time.Second, 1500 * time.Millisecond, MaxDisappearing + time.Second} {
		if _, err := Marshal(Message{Disappear: d, Body: Text{Text: "x"}}); !errors.Is(err, ErrMalformed) {
			t.Errorf("Marshal of a message with timer %v: err = %v", d, err)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, body := range bodies(f) {
		m, _ := New(body, now)
		b, err := Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		flipped := bytes.Clone(b)
		flipped[len(b)/2] ^= 0x10
		f.Add(flipped)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Unmarshal(b)
		if err != nil {
			return
		}
		again, err := Marshal(m)
		if err != nil {
			t.Fatalf("Unmarshal accepted what Marshal refuses: %v", err)
		}
		m2, err := Unmarshal(again)
		if err != nil || m2.ID != m.ID || !m2.SentAt.Equal(m.SentAt) || !equalBody(m.Body, m2.Body) {
			t.Fatalf("re-encoding changed the message: %v", err)
		}
	})
}
