// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rwcarlsen/goexif/exif"

	"github.com/hushchat/hush/pkg/core"
	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/media/mediatest"
	"github.com/hushchat/hush/pkg/core/store"
)

// demoFileSize is the file sent each way.
const demoFileSize = 10 << 20

// sent is one attachment that went from one user to the other.
type sent struct {
	body content.Body
	data []byte // what the recipient opened
	took time.Duration
}

// sendAttachment runs send on from's client, then waits until to has
// downloaded and verified the attachment, and opens it there.
func (d *netDemo) sendAttachment(ctx context.Context, from, to *netUser, back store.ContactID,
	send func() (content.ID, error)) (sent, error) {
	start := time.Now()
	id, err := send()
	if err != nil {
		return sent{}, fmt.Errorf("%s: %w", from.name, err)
	}
	e, err := to.await(ctx, core.EventReceived, func(e core.Event) bool { return e.Message.ID == id })
	if err != nil {
		return sent{}, err
	}
	body := e.Message.Body
	if _, err := to.await(ctx, core.EventAttachment, func(e core.Event) bool { return e.Progress.Message == id }); err != nil {
		return sent{}, err
	}
	took := time.Since(start)
	r, _, err := to.c.OpenAttachment(ctx, back, id)
	if err != nil {
		return sent{}, fmt.Errorf("%s: %w", to.name, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return sent{}, fmt.Errorf("%s: %w", to.name, err)
	}
	return sent{body: body, data: data, took: took}, nil
}

// writeSample puts a sample file where a user would pick it.
func (d *netDemo) writeSample(name string, data []byte) (string, error) {
	p := filepath.Join(d.root, "samples", name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", err
	}
	return p, os.WriteFile(p, data, 0o600)
}

func (d *netDemo) photo(ctx context.Context, alice, bob *netUser, ab, ba core.Contact) error {
	photo, err := mediatest.Photo()
	if err != nil {
		return err
	}
	lat, long, err := gpsOf(photo)
	if err != nil {
		return fmt.Errorf("sample photo has no GPS tags: %w", err)
	}
	d.say("the photo: 640x480 JPEG of %d bytes; its EXIF says %.4f°N %.4f°E", len(photo), lat, long)
	p, err := d.writeSample("IMG_2041.jpg", photo)
	if err != nil {
		return err
	}
	for _, w := range []way{{alice, bob, ab, ba}, {bob, alice, ba, ab}} {
		s, err := d.sendAttachment(ctx, w.from, w.to, w.bck.ID, func() (content.ID, error) {
			return w.from.c.SendImage(ctx, w.fwd.ID, p, "the view")
		})
		if err != nil {
			return err
		}
		img, _ := s.body.(content.Image)
		if _, _, err := gpsOf(s.data); err == nil || bytes.Contains(s.data, []byte("Exif")) {
			return fmt.Errorf("%s's copy of the photo carries EXIF or GPS tags", w.to.name)
		}
		d.say("%-5s → %-5s %dx%d %s of %d bytes, no EXIF block, no GPS tags; %d-byte thumbnail, caption %q (%s, %.2f MB/s)",
			w.from.name, w.to.name, img.Width, img.Height, img.Attachment.MIMEType, len(s.data), len(img.Thumbnail), img.Caption,
			s.took.Round(time.Millisecond), float64(len(s.data))/s.took.Seconds()/1e6)
	}
	d.say("each sender re-encoded it on the device and uploaded it as chunks through 3-hop paths;")
	d.say("the pointer went in the message")
	return nil
}

// way is one direction of a conversation: the sender's contact for the
// recipient, and the recipient's for the sender.
type way struct {
	from, to *netUser
	fwd, bck core.Contact
}

func (d *netDemo) files(ctx context.Context, alice, bob *netUser, ab, ba core.Contact) error {
	data := mediatest.Noise(demoFileSize)
	p, err := d.writeSample("field-notes.tar", data)
	if err != nil {
		return err
	}
	for _, w := range []way{{alice, bob, ab, ba}, {bob, alice, ba, ab}} {
		s, err := d.sendAttachment(ctx, w.from, w.to, w.bck.ID, func() (content.ID, error) {
			return w.from.c.SendFile(ctx, w.fwd.ID, p, "my notes")
		})
		if err != nil {
			return err
		}
		if !bytes.Equal(s.data, data) {
			return fmt.Errorf("%s's copy of the file differs", w.to.name)
		}
		f, _ := s.body.(content.File)
		d.say("%-5s → %-5s %s, %d bytes: encrypted, uploaded, downloaded and verified in %s (%.1f MB/s)",
			w.from.name, w.to.name, f.Attachment.FileName, len(s.data), s.took.Round(time.Millisecond),
			float64(len(s.data))/s.took.Seconds()/1e6)
	}
	d.say("the chunks went to the chunk stores of 3 relays, their number padded to a coarse size;")
	d.say("each recipient deleted them once the whole file verified")
	return nil
}

func (d *netDemo) voice(ctx context.Context, alice, bob *netUser, ab, ba core.Contact) error {
	p, err := d.writeSample("memo.wav", mediatest.WAV(2.5))
	if err != nil {
		return err
	}
	for _, w := range []way{{bob, alice, ba, ab}, {alice, bob, ab, ba}} {
		s, err := d.sendAttachment(ctx, w.from, w.to, w.bck.ID, func() (content.ID, error) {
			return w.from.c.SendVoice(ctx, w.fwd.ID, p)
		})
		if err != nil {
			return err
		}
		vc, _ := s.body.(content.VoiceClip)
		d.say("%-5s → %-5s voice clip (%.1f s): WAV encoded to Ogg/Opus, %d bytes (%s, %.2f MB/s)",
			w.from.name, w.to.name, vc.Duration.Seconds(), len(s.data), s.took.Round(time.Millisecond),
			float64(len(s.data))/s.took.Seconds()/1e6)
	}
	return nil
}

// gpsOf returns the GPS position in an image's EXIF block.
func gpsOf(img []byte) (lat, long float64, err error) {
	x, err := exif.Decode(bytes.NewReader(img))
	if err != nil {
		return 0, 0, err
	}
	return x.LatLong()
}
