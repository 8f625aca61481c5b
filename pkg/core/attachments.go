// SPDX-License-Identifier: AGPL-3.0-or-later

package core

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/media"
	"github.com/hushchat/hush/pkg/core/media/opusenc"
	"github.com/hushchat/hush/pkg/core/store"
	"github.com/hushchat/hush/pkg/onion"
)

// Attachment defaults.
const (
	// DefaultMaxAttachment is the largest attachment sent or fetched
	// unless Options.MaxAttachment says otherwise.
	DefaultMaxAttachment = 1 << 30
	// attachmentRelays is how many relays one attachment's chunks are
	// spread over (fewer if the network is smaller).
	attachmentRelays = 3
	// chunkFileSuffix ends the name of every attachment file, and
	// tmpSuffix a file being written.
	chunkFileSuffix = ".chunks"
	tmpSuffix       = ".tmp"
)

// SendFile sends the file at path to a contact, with an optional
// caption. It returns once the file is encrypted into the profile (its
// own copy: the original may change afterwards) and recorded in history;
// Run uploads its chunks, with EventProgress, and then sends the message.
// A file over the size limit is refused (ErrTooLarge) before anything
// else happens.
func (c *Client) SendFile(ctx context.Context, contact store.ContactID, path, caption string) (content.ID, error) {
	f, size, err := c.openOutgoing(path)
	if err != nil {
		return content.ID{}, err
	}
	defer f.Close()
	name := fileName(path, filepath.Ext(path))
	a := content.Attachment{FileName: name, MIMEType: mimeByName(name)}
	return c.sendAttachment(ctx, contact, f, size, a, func(a content.Attachment) content.Body {
		return content.File{Attachment: a, Caption: caption}
	})
}

// SendImage sends a JPEG, PNG or WebP picture. It is re-encoded first, so
// it goes without any metadata (camera, time, GPS position), with a small
// inline thumbnail.
func (c *Client) SendImage(ctx context.Context, contact store.ContactID, path, caption string) (content.ID, error) {
	f, _, err := c.openOutgoing(path)
	if err != nil {
		return content.ID{}, err
	}
	defer f.Close()
	img, err := media.SanitizeImage(f)
	if err != nil {
		return content.ID{}, fmt.Errorf("%s: %w", path, err)
	}
	a := content.Attachment{FileName: fileName(path, imageExt(img.MIMEType)), MIMEType: img.MIMEType}
	return c.sendAttachment(ctx, contact, bytes.NewReader(img.Data), int64(len(img.Data)), a, func(a content.Attachment) content.Body {
		return content.Image{Attachment: a, Width: img.Width, Height: img.Height, Thumbnail: img.Thumbnail, Caption: caption}
	})
}

// SendVoice sends a voice clip: an Ogg/Opus file (checked, and rewritten
// without its tags), or, in builds with libopus, a 16-bit PCM WAV
// recording, which is encoded first (mono, 24 kbit/s).
func (c *Client) SendVoice(ctx context.Context, contact store.ContactID, path string) (content.ID, error) {
	f, _, err := c.openOutgoing(path)
	if err != nil {
		return content.ID{}, err
	}
	defer f.Close()
	var head [12]byte
	n, _ := io.ReadFull(f, head[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return content.ID{}, fmt.Errorf("read %s: %w", path, err)
	}
	var (
		data []byte
		info media.VoiceInfo
	)
	if media.IsWAV(head[:n]) {
		var buf bytes.Buffer
		info, err = opusenc.EncodeWAV(f, &buf)
		if errors.Is(err, opusenc.ErrUnavailable) {
			return content.ID{}, fmt.Errorf("%s: %w: WAV needs a build with libopus; send an Ogg/Opus clip", path, media.ErrUnsupported)
		}
		if err != nil {
			return content.ID{}, fmt.Errorf("%s: %w", path, err)
		}
		data = buf.Bytes()
	} else if data, info, err = media.SanitizeOggOpus(f); err != nil {
		return content.ID{}, fmt.Errorf("%s: %w", path, err)
	}
	a := content.Attachment{FileName: fileName(path, ".ogg"), MIMEType: "audio/ogg; codecs=opus"}
	return c.sendAttachment(ctx, contact, bytes.NewReader(data), int64(len(data)), a, func(a content.Attachment) content.Body {
		return content.VoiceClip{Attachment: a, Duration: info.Duration.Round(time.Millisecond)}
	})
}

// fileName is the name an attachment made from the file at path is sent
// under: its base name with ext in place of its extension, or none if
// that is not a name content allows.
func fileName(path, ext string) string {
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)) + ext
	if content.CheckFileName(name) != nil {
		return ""
	}
	return name
}

// openOutgoing opens a file to send, refusing what is not a regular file
// and what is over the size limit.
func (c *Client) openOutgoing(path string) (*os.File, int64, error) {
	if c.closed.Load() {
		return nil, 0, ErrClosed
	}
	if c.opts.AttachmentDir == "" {
		return nil, 0, ErrNoAttachmentDir
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("open the file to send: %w", err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", path)
	}
	if err == nil && fi.Size() > c.opts.MaxAttachment {
		err = fmt.Errorf("%s is %s: %w (the limit is %s)", path, sizeText(fi.Size()), ErrTooLarge, sizeText(c.opts.MaxAttachment))
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// sendAttachment encrypts size bytes from r into a new attachment file,
// completes a (key, digest, size, relays), and records the message that
// body makes of it and its upload in one transaction.
func (c *Client) sendAttachment(ctx context.Context, contact store.ContactID, r io.Reader, size int64,
	a content.Attachment, body func(content.Attachment) content.Body) (content.ID, error) {
	if size > c.opts.MaxAttachment {
		return content.ID{}, fmt.Errorf("the attachment is %s: %w (the limit is %s)", sizeText(size), ErrTooLarge, sizeText(c.opts.MaxAttachment))
	}
	if _, _, err := c.sendable(ctx, contact); err != nil {
		return content.ID{}, err
	}
	relays, err := c.chunkRelays(ctx)
	if err != nil {
		return content.ID{}, err
	}
	key, err := attach.NewKey()
	if err != nil {
		return content.ID{}, err
	}
	file, digest, err := c.encryptToFile(key, size, r)
	if err != nil {
		return content.ID{}, err
	}
	a.Key, a.Digest, a.Size, a.Relays = key, digest, size, relays
	b := body(a)
	m, err := content.New(b, c.now())
	if err == nil {
		err = c.transact(ctx, func(ctx context.Context) error {
			ct, _, err := c.sendable(ctx, contact)
			if err != nil {
				return err
			}
			m.Disappear = ct.Disappear // the timer when the user sent it, not when the upload ends
			pt, err := content.Marshal(m)
			if err != nil {
				return err
			}
			sm := store.Message{ID: m.ID, Contact: ct.ID, Direction: store.Outgoing, SentAt: m.SentAt,
				Kind: kindOf(b), Body: pt, State: store.Pending, Expires: expiry(m.Disappear, m.SentAt)}
			if err := c.st.AddMessage(ctx, sm); err != nil {
				return fmt.Errorf("save the message: %w", err)
			}
			return c.st.AddAttachment(ctx, store.Attachment{Contact: ct.ID, Message: m.ID, Direction: store.Outgoing,
				State: store.Uploading, File: file, NextAttempt: c.now()})
		})
	}
	if err != nil {
		os.Remove(c.attachmentPath(file))
		return content.ID{}, err
	}
	c.wakeTransfers()
	return m.ID, nil
}

// pointerOf returns the pointer of a stored attachment message.
func pointerOf(b content.Body) (content.Attachment, bool) {
	switch b := b.(type) {
	case content.Image:
		return b.Attachment, true
	case content.File:
		return b.Attachment, true
	case content.VoiceClip:
		return b.Attachment, true
	}
	return content.Attachment{}, false
}

// chunkRelays picks the relays an attachment's chunks go to.
func (c *Client) chunkRelays(ctx context.Context) ([]onion.RelayID, error) {
	var out []onion.RelayID
	for len(out) < attachmentRelays {
		r, err := c.net.RandomRelay(out...)
		if err != nil && len(out) == 0 {
			if err = c.net.Refresh(ctx); err == nil {
				r, err = c.net.RandomRelay()
			}
		}
		if err != nil {
			if len(out) > 0 {
				break
			}
			return nil, fmt.Errorf("choose relays for the attachment: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}

// encryptToFile encrypts size bytes of r under key into a new file in
// the attachment directory (written, synced, then renamed into place)
// and returns its name and the attachment's digest.
func (c *Client) encryptToFile(key attach.Key, size int64, r io.Reader) (string, attach.Digest, error) {
	name, err := newFileName()
	if err != nil {
		return "", attach.Digest{}, err
	}
	if err := os.MkdirAll(c.opts.AttachmentDir, 0o700); err != nil {
		return "", attach.Digest{}, fmt.Errorf("make the attachment directory: %w", err)
	}
	final := c.attachmentPath(name)
	tmp := final + tmpSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", attach.Digest{}, fmt.Errorf("store the attachment: %w", err)
	}
	digest, err := encryptInto(f, key, size, r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		os.Remove(tmp)
		return "", attach.Digest{}, fmt.Errorf("store the attachment: %w", err)
	}
	return name, digest, nil
}

func encryptInto(w io.Writer, key attach.Key, size int64, r io.Reader) (attach.Digest, error) {
	enc, err := attach.NewEncryptor(key, size, r)
	if err != nil {
		return attach.Digest{}, err
	}
	for {
		_, chunk, err := enc.Next()
		if err == io.EOF {
			break
		}
		if errors.Is(err, attach.ErrSize) {
			return attach.Digest{}, fmt.Errorf("the file changed size while it was read: %w", err)
		}
		if err != nil {
			return attach.Digest{}, err
		}
		if _, err := w.Write(chunk); err != nil {
			return attach.Digest{}, err
		}
	}
	return enc.Digest()
}

// newFileName returns a fresh random attachment file name: it says
// nothing about the message or the contact.
func newFileName() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]) + chunkFileSuffix, nil
}

func (c *Client) attachmentPath(name string) string { return filepath.Join(c.opts.AttachmentDir, name) }

// removeFiles deletes attachment files; one already gone is fine.
func (c *Client) removeFiles(names []string) {
	for _, n := range names {
		if err := os.Remove(c.attachmentPath(n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			c.log.Warn("remove an attachment file", "err", err)
		}
	}
}

// removeOrphanFiles deletes the files of the attachment directory that
// no attachment refers to (left by a removed contact, or a crash while
// one was written) once they are older than orphanAge.
func (c *Client) removeOrphanFiles(ctx context.Context) error {
	if c.opts.AttachmentDir == "" {
		return nil
	}
	entries, err := os.ReadDir(c.opts.AttachmentDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	known, err := c.st.AttachmentFiles(ctx)
	if err != nil {
		return err
	}
	keep := make(map[string]bool, len(known))
	for _, k := range known {
		keep[k] = true
	}
	for _, e := range entries {
		if keep[e.Name()] || !strings.HasSuffix(strings.TrimSuffix(e.Name(), tmpSuffix), chunkFileSuffix) {
			continue
		}
		if fi, err := e.Info(); err == nil && c.now().Sub(fi.ModTime()) > orphanAge {
			c.removeFiles([]string{e.Name()})
		}
	}
	return nil
}

// mimeByName returns the MIME type a file name's extension stands for,
// "" when unknown.
func mimeByName(name string) string {
	t := mime.TypeByExtension(filepath.Ext(name))
	if len(t) > content.MaxMIMEType {
		return ""
	}
	return t
}

func imageExt(mime string) string {
	switch mime {
	case media.MIMEJPEG:
		return ".jpg"
	case media.MIMEPNG:
		return ".png"
	}
	return ""
}

// sizeText writes a byte count for people: "10.0 MiB".
func sizeText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
