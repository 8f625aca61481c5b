// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/hushchat/hush/pkg/core"
	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/media"
	"github.com/hushchat/hush/pkg/core/store"
)

const (
	sendFileHelp = `send a file

The file is encrypted into the profile (hush keeps its own copy: the
original may change or go afterwards), its chunks are uploaded, and then
the message goes. While it uploads, a bar on stderr shows the bytes, the
rate and the time left, if stderr is a terminal; otherwise one line says
how it ended. Ctrl-C stops waiting, not the upload: it goes on the next
time hush runs ("hush listen"). Files up to 1 GiB.`

	sendImageHelp = `send a picture (JPEG, PNG or WebP)

The picture is re-encoded before it goes, so it carries no metadata: no
camera, no time, no GPS position. The contact sees a small preview first.
Progress and Ctrl-C as for send-file.`

	sendVoiceHelp = `send a voice clip (Ogg/Opus)

The clip is checked and rewritten without its tags (encoder, names). A
16-bit PCM WAV recording is encoded first, in builds of hush with
libopus. Progress and Ctrl-C as for send-file.`
)

// stallWait is how long an upload may go without moving on before hush
// stops waiting for it (it goes on when "hush listen" runs).
const stallWait = sendWait

// attachKind is one of the attachment commands.
type attachKind struct {
	caption bool
	send    func(c *core.Client, ctx context.Context, ct store.ContactID, path, caption string) (content.ID, error)
	formats string // what media.ErrUnsupported means for it; "" for send-file
}

var (
	fileKind  = attachKind{caption: true, send: (*core.Client).SendFile}
	imageKind = attachKind{caption: true, send: (*core.Client).SendImage,
		formats: "send-image takes JPEG, PNG and WebP pictures; send any other file with \"hush send-file\""}
	voiceKind = attachKind{
		send: func(c *core.Client, ctx context.Context, ct store.ContactID, path, _ string) (content.ID, error) {
			return c.SendVoice(ctx, ct, path)
		},
		formats: "send-voice takes Ogg/Opus clips (and 16-bit PCM WAV in builds with libopus); send any other file with \"hush send-file\""}
)

type attachOpts struct {
	kind    attachKind
	name    string
	path    string
	caption string
}

func parseSendFile(cmd *command, args []string) (action, error) {
	return parseAttach(cmd, args, fileKind)
}
func parseSendImage(cmd *command, args []string) (action, error) {
	return parseAttach(cmd, args, imageKind)
}
func parseSendVoice(cmd *command, args []string) (action, error) {
	return parseAttach(cmd, args, voiceKind)
}

func parseAttach(cmd *command, args []string, kind attachKind) (action, error) {
	o := attachOpts{kind: kind}
	flags := flagSet(cmd)
	if kind.caption {
		flags.StringVar(&o.caption, "caption", "", "a caption")
	}
	pos, err := parseFlags(cmd, flags, args)
	if err != nil {
		return nil, err
	}
	if err := positional(cmd, pos, 2, 2); err != nil {
		return nil, err
	}
	o.name, o.path = pos[0], pos[1]
	if o.path == "" {
		return nil, usageErrorf(cmd, "%s: the file name is empty", cmd.name)
	}
	if len(o.caption) > content.MaxCaption {
		return nil, usageErrorf(cmd, "%s: the caption is longer than %d bytes", cmd.name, content.MaxCaption)
	}
	return o.run, nil
}

// run queues the attachment, then follows its upload and the message's
// send (the client's loops must run, as for send).
func (o attachOpts) run(ctx context.Context, e *env) error {
	ct, err := findContact(ctx, e.client, o.name)
	if err != nil {
		return err
	}
	path := e.path(o.path)
	if err := checkSendable(path, o.path); err != nil {
		return err
	}
	// Subscribe first, so no event about the upload comes before we look.
	events, unsubscribe := e.client.Subscribe()
	defer unsubscribe()
	id, err := o.kind.send(e.client, ctx, ct.ID, path, o.caption)
	if err != nil {
		if o.kind.formats != "" && isMediaError(err) {
			return withHint(err, o.kind.formats)
		}
		return err
	}
	what, total := o.path, int64(-1)
	if info, err := e.client.Attachment(ctx, ct.ID, id); err == nil {
		total = info.Size
		if info.Name != "" {
			what = info.Name
		}
	}
	u := upload{id: id, contact: ct.ID, what: clean(what), total: total, e: e}
	defer e.endProgress()
	e.showProgress(progress{What: u.what, Done: 0, Total: total})
	res, err := u.wait(ctx, events)
	e.endProgress()
	return u.report(ct, res, err)
}

// isMediaError reports whether err says the file is not a picture or a
// clip of a kind hush takes (and not, say, that it is too large).
func isMediaError(err error) bool {
	for _, e := range []error{media.ErrUnsupported, media.ErrMalformed, media.ErrTruncated, media.ErrChecksum} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// checkSendable says in one line what is wrong with a file to send
// before the core tries it; arg is the name as the user gave it.
func checkSendable(path, arg string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: no such file", arg)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s: permission denied", arg)
	case err != nil:
		return fmt.Errorf("%s: %w", arg, err)
	case fi.IsDir():
		return withHint(fmt.Errorf("%s is a directory", arg), "send one file; pack a directory into an archive first (tar, zip)")
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file", arg)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%s: cannot read it: %w", arg, errors.Unwrap(err))
	}
	f.Close()
	return nil
}

// upload follows one attachment message from upload to relay.
type upload struct {
	id      content.ID
	contact store.ContactID
	what    string
	total   int64 // -1: unknown
	e       *env
	warn    error // the last temporary failure reported for the contact
}

// uploadResult is how far the message got while we watched.
type uploadResult int

const (
	uploadQueued      uploadResult = iota // neither uploaded nor sent yet
	uploadUploaded                        // every chunk stored; the message waits for a relay
	uploadSent                            // a relay took the message
	uploadInterrupted                     // Ctrl-C
)

// wait follows the upload (EventProgress, then EventAttachment) and the
// message (EventSent, or EventFailed), until it was sent, failed, was
// interrupted, or nothing moved for stallWait.
func (u *upload) wait(ctx context.Context, events <-chan core.Event) (uploadResult, error) {
	res := uploadQueued
	t := time.NewTimer(stallWait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return uploadInterrupted, nil
		case <-t.C:
			return res, nil
		case ev, ok := <-events:
			if !ok {
				return res, nil
			}
			switch {
			case ev.Progress != nil && ev.Progress.Message == u.id && ev.Progress.Direction == store.Outgoing:
				u.showProgress(*ev.Progress)
				if ev.Kind == core.EventAttachment {
					res = uploadUploaded
				}
				t.Reset(stallWait)
			case ev.Kind == core.EventError && ev.Err != nil && ev.Contact.ID == u.contact:
				u.warn = ev.Err
			case !slices.Contains(ev.MessageIDs, u.id):
			case ev.Kind == core.EventSent, ev.Kind == core.EventDelivered, ev.Kind == core.EventRead:
				return uploadSent, nil
			case ev.Kind == core.EventFailed:
				return res, ev.Err
			}
		}
	}
}

func (u *upload) showProgress(p core.Progress) {
	u.total = p.Total
	u.e.showProgress(progress{What: u.what, Done: p.Done, Total: p.Total})
}

// report prints how it ended: one line.
func (u *upload) report(ct core.Contact, res uploadResult, err error) error {
	name := clean(ct.Name)
	what := u.what
	if u.total >= 0 {
		what += " (" + size(u.total) + ")"
	}
	if err != nil {
		return fmt.Errorf("sending %s to %s: %w", what, name, err)
	}
	switch res {
	case uploadSent:
		fmt.Fprintf(u.e.stdout, "sent %s to %s\n", what, name)
		return nil
	case uploadInterrupted:
		if u.e.remote {
			return errors.New("interrupted") // the caller hung up: nobody reads this
		}
		return withHint(fmt.Errorf("interrupted; %s is queued for %s", what, name),
			"the upload continues the next time hush runs (\"hush listen\"), then the message goes")
	}
	if u.warn != nil {
		warnf(u.e.stderr, "%s", errorMessage(u.warn))
	}
	switch {
	case res == uploadUploaded && u.e.remote:
		fmt.Fprintf(u.e.stdout, "uploaded %s; queued for %s: the running hush listen sends it when a relay answers\n", what, name)
	case res == uploadUploaded:
		fmt.Fprintf(u.e.stdout, "uploaded %s; queued for %s: \"hush listen\" will send it\n", what, name)
	case u.e.remote:
		fmt.Fprintf(u.e.stdout, "queued %s for %s: the running hush listen goes on with the upload\n", what, name)
	default:
		fmt.Fprintf(u.e.stdout, "queued %s for %s: the upload goes on when \"hush listen\" runs\n", what, name)
	}
	return nil
}
