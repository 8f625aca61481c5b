// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/rwcarlsen/goexif/exif"

	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/media"
	"github.com/hushchat/hush/pkg/core/media/opusenc"
)

// chunkStore stands in for the relays' chunk stores until they exist: the
// encrypted chunks of each attachment, by digest.
type chunkStore map[attach.Digest][][]byte

func (d *demo) attachments(ctx context.Context, alice, bob *user) error {
	store := chunkStore{}
	if err := d.photo(ctx, alice, bob, store); err != nil {
		return err
	}
	file := sampleFile(3 << 20)
	if _, err := d.sendAttachment(ctx, bob, alice, store, file, "application/x-tar", "field-notes.tar",
		func(a content.Attachment) content.Body { return content.File{Attachment: a, Caption: "my notes"} }); err != nil {
		return err
	}
	return d.voice(ctx, alice, bob, store)
}

func (d *demo) photo(ctx context.Context, alice, bob *user, store chunkStore) error {
	photo, err := samplePhoto()
	if err != nil {
		return err
	}
	lat, long, err := gpsOf(photo)
	if err != nil {
		return fmt.Errorf("sample photo has no GPS tags: %w", err)
	}
	d.say("Alice's photo: 640x480 JPEG of %d bytes; its EXIF says %.4f°N %.4f°E", len(photo), lat, long)
	img, err := media.SanitizeImage(bytes.NewReader(photo))
	if err != nil {
		return err
	}
	if _, _, err := gpsOf(img.Data); err == nil {
		return errors.New("the GPS tags survived sanitising")
	}
	d.say("re-encoded on her device: %dx%d %s of %d bytes, thumbnail of %d bytes, no EXIF left",
		img.Width, img.Height, img.MIMEType, len(img.Data), len(img.Thumbnail))
	got, err := d.sendAttachment(ctx, alice, bob, store, img.Data, img.MIMEType, "IMG_2041.jpg", func(a content.Attachment) content.Body {
		return content.Image{Attachment: a, Width: img.Width, Height: img.Height, Thumbnail: img.Thumbnail, Caption: "the view"}
	})
	if err != nil {
		return err
	}
	if _, _, err := gpsOf(got); err == nil {
		return errors.New("Bob's copy of the photo carries GPS tags")
	}
	d.say("Bob's copy: no EXIF block, no GPS tags")
	return nil
}

func (d *demo) voice(ctx context.Context, alice, bob *user, store chunkStore) error {
	var ogg bytes.Buffer
	if _, err := opusenc.EncodeWAV(bytes.NewReader(sampleWAV(2.5)), &ogg); err != nil {
		return fmt.Errorf("voice clip: %w", err)
	}
	clip, info, err := media.SanitizeOggOpus(&ogg)
	if err != nil {
		return fmt.Errorf("voice clip: %w", err)
	}
	d.say("Alice records %.1f s: WAV encoded to Ogg/Opus and stripped of tags, %d bytes", info.Duration.Seconds(), len(clip))
	_, err = d.sendAttachment(ctx, alice, bob, store, clip, "audio/ogg; codecs=opus", "",
		func(a content.Attachment) content.Body {
			return content.VoiceClip{Attachment: a, Duration: info.Duration.Round(time.Millisecond)}
		})
	return err
}

// sendAttachment encrypts data into chunks, sends the pointer that body
// wraps in a sealed envelope, and on the other side downloads, decrypts
// and verifies it. It returns what the recipient got.
func (d *demo) sendAttachment(ctx context.Context, from, to *user, store chunkStore, data []byte, mime, name string,
	body func(content.Attachment) content.Body) ([]byte, error) {
	start := time.Now()
	a, err := encryptAttachment(store, data, mime, name)
	if err != nil {
		return nil, err
	}
	env, err := d.seal(ctx, from, body(a))
	if err != nil {
		return nil, err
	}
	m, err := d.open(ctx, to, env)
	if err != nil {
		return nil, err
	}
	ra, kind, err := attachmentOf(m.Body)
	if err != nil {
		return nil, err
	}
	got, err := download(store, ra)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", to.name, err)
	}
	if !bytes.Equal(got, data) {
		return nil, fmt.Errorf("%s: the %s differs from what was sent", to.name, kind)
	}
	d.say("%-5s → %-5s %s: %d bytes as %s of %d; pointer sealed in one %d-byte envelope; decrypted, digest verified (%v)",
		from.name, to.name, kind, len(data), plural(len(store[ra.Digest]), "chunk"), attach.ChunkSize, len(env),
		time.Since(start).Round(time.Millisecond))
	return got, nil
}

func encryptAttachment(store chunkStore, data []byte, mime, name string) (content.Attachment, error) {
	key, err := attach.NewKey()
	if err != nil {
		return content.Attachment{}, err
	}
	enc, err := attach.NewEncryptor(key, int64(len(data)), bytes.NewReader(data))
	if err != nil {
		return content.Attachment{}, err
	}
	var chunks [][]byte
	for {
		_, c, err := enc.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return content.Attachment{}, err
		}
		chunks = append(chunks, bytes.Clone(c))
	}
	digest, err := enc.Digest()
	if err != nil {
		return content.Attachment{}, err
	}
	store[digest] = chunks
	return content.Attachment{Key: key, Digest: digest, Size: int64(len(data)), MIMEType: mime, FileName: name}, nil
}

func download(store chunkStore, a content.Attachment) ([]byte, error) {
	var out bytes.Buffer
	dec, err := attach.NewDecryptor(a.Key, a.Size, a.Digest, &out)
	if err != nil {
		return nil, err
	}
	for _, c := range store[a.Digest] {
		if err := dec.Decrypt(c); err != nil {
			return nil, err
		}
	}
	if err := dec.Finish(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func attachmentOf(b content.Body) (content.Attachment, string, error) {
	switch b := b.(type) {
	case content.Image:
		return b.Attachment, "photo", nil
	case content.File:
		return b.Attachment, "file " + b.Attachment.FileName, nil
	case content.VoiceClip:
		return b.Attachment, fmt.Sprintf("voice clip (%.1f s)", b.Duration.Seconds()), nil
	}
	return content.Attachment{}, "", fmt.Errorf("expected an attachment, got %T", b)
}

// gpsOf returns the GPS position in an image's EXIF block.
func gpsOf(img []byte) (lat, long float64, err error) {
	x, err := exif.Decode(bytes.NewReader(img))
	if err != nil {
		return 0, 0, err
	}
	return x.LatLong()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
