// SPDX-License-Identifier: AGPL-3.0-or-later

package content

import (
	"time"

	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/mailbox"
	contentv1 "github.com/hushchat/hush/proto/content/v1"
)

func attachmentToProto(a *Attachment) *contentv1.AttachmentPointer {
	p := &contentv1.AttachmentPointer{
		Key:      a.Key.Bytes(),
		Digest:   a.Digest.Bytes(),
		Size:     uint64(a.Size),
		MimeType: a.MIMEType,
		FileName: a.FileName,
	}
	for _, r := range a.Relays {
		p.Relays = append(p.Relays, r.Bytes())
	}
	return p
}

func attachmentOf(p *contentv1.AttachmentPointer) (Attachment, error) {
	if p == nil {
		return Attachment{}, malformed("no attachment pointer")
	}
	var a Attachment
	var err error
	if a.Key, err = attach.KeyFromBytes(p.GetKey()); err != nil {
		return Attachment{}, malformed("attachment key: %v", err)
	}
	if a.Digest, err = attach.DigestFromBytes(p.GetDigest()); err != nil {
		return Attachment{}, malformed("attachment digest: %v", err)
	}
	if p.GetSize() > MaxAttachmentSize {
		return Attachment{}, malformed("attachment size %d out of range", p.GetSize())
	}
	a.Size, a.MIMEType, a.FileName = int64(p.GetSize()), p.GetMimeType(), p.GetFileName()
	if len(p.GetRelays()) > MaxRelays {
		return Attachment{}, malformed("attachment on %d relays, at most %d", len(p.GetRelays()), MaxRelays)
	}
	for _, raw := range p.GetRelays() {
		r, err := mailbox.NewRelayID(raw)
		if err != nil {
			return Attachment{}, malformed("attachment relay: %v", err)
		}
		a.Relays = append(a.Relays, r)
	}
	return a, a.check()
}

func setAttachmentBody(p *contentv1.Content, body Body) (bool, error) {
	switch b := body.(type) {
	case Image:
		if err := b.check(); err != nil {
			return true, err
		}
		p.Body = &contentv1.Content_Image{Image: &contentv1.Image{Attachment: attachmentToProto(&b.Attachment),
			Width: uint32(b.Width), Height: uint32(b.Height), Thumbnail: b.Thumbnail, Caption: b.Caption}}
	case File:
		if err := b.check(); err != nil {
			return true, err
		}
		p.Body = &contentv1.Content_File{File: &contentv1.File{Attachment: attachmentToProto(&b.Attachment), Caption: b.Caption}}
	case VoiceClip:
		if err := b.check(); err != nil {
			return true, err
		}
		if b.Duration%time.Millisecond != 0 {
			return true, malformed("voice clip duration %v is not whole milliseconds", b.Duration)
		}
		p.Body = &contentv1.Content_VoiceClip{VoiceClip: &contentv1.VoiceClip{Attachment: attachmentToProto(&b.Attachment),
			DurationMs: uint32(b.Duration / time.Millisecond)}}
	default:
		return false, nil
	}
	return true, nil
}

func getAttachmentBody(p *contentv1.Content) (Body, bool, error) {
	switch b := p.GetBody().(type) {
	case *contentv1.Content_Image:
		a, err := attachmentOf(b.Image.GetAttachment())
		if err != nil {
			return nil, true, err
		}
		m := Image{Attachment: a, Width: int(b.Image.GetWidth()), Height: int(b.Image.GetHeight()),
			Thumbnail: b.Image.GetThumbnail(), Caption: b.Image.GetCaption()}
		return m, true, m.check()
	case *contentv1.Content_File:
		a, err := attachmentOf(b.File.GetAttachment())
		if err != nil {
			return nil, true, err
		}
		m := File{Attachment: a, Caption: b.File.GetCaption()}
		return m, true, m.check()
	case *contentv1.Content_VoiceClip:
		a, err := attachmentOf(b.VoiceClip.GetAttachment())
		if err != nil {
			return nil, true, err
		}
		m := VoiceClip{Attachment: a, Duration: time.Duration(b.VoiceClip.GetDurationMs()) * time.Millisecond}
		return m, true, m.check()
	}
	return nil, false, nil
}
