// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hushchat/hush/pkg/core"
	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/store"
)

const listenHelp = `receive and print messages until stopped

hush listen holds the profile: it receives, sends what is queued, moves
attachments (downloads, and uploads left unfinished), prints each event
on one line, and runs the other hush commands for them meanwhile.
Attachments are downloaded as they arrive; with --save-dir DIR, each is
then saved in DIR under its sender's file name, made safe and unique (a
file is never overwritten: "a (1).pdf" …), and so is, on start, every
one downloaded earlier and never saved (by another hush command, or by
a listen without --save-dir). An attachment of a disappearing message
is not saved there, where its timer could not remove it: "hush save"
saves it if you want a copy that stays. Otherwise "hush save" saves one.
Ctrl-C stops.`

// progressEvery is how often hush listen prints where a transfer stands
// (none for one done sooner).
const progressEvery = 5 * time.Second

// runListen runs the client until interrupted: it prints events as they
// come, marks shown messages read (so read receipts go out), and serves
// the profile's socket so other hush commands can hand it their work.
func runListen(ctx context.Context, a *app, cmd *command, args []string) error {
	flags := flagSet(cmd)
	saveDir := flags.String("save-dir", "", "save received attachments in this directory")
	pos, err := parseFlags(cmd, flags, args)
	if err != nil {
		return err
	}
	if err := positional(cmd, pos, 0, 0); err != nil {
		return err
	}
	if *saveDir != "" {
		if *saveDir, err = checkSaveDir(*saveDir, a.wd); err != nil {
			return err
		}
	}
	if a.listening(ctx) {
		return errors.New("hush listen is already running for this profile")
	}
	c, _, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	srv, err := listenSocket(ctx, a.g.profile, remoteHandler(c))
	if err != nil {
		return err
	}
	events, unsubscribe := c.Subscribe()
	defer unsubscribe()
	var wg sync.WaitGroup
	wg.Go(func() { c.Run(ctx) })
	wg.Go(func() { srv.serve(ctx) })
	name, err := c.DisplayName(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "hush: listening as %s (%s); Ctrl-C stops\n", clean(name), c.Identity().ShortString())
	p := &printer{client: c, stdout: a.stdout, stderr: a.stderr, loc: time.Local, saveDir: *saveDir,
		moving: make(map[content.ID]*moving), now: time.Now}
	p.catchUp(ctx)
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			fmt.Fprintln(a.stderr, "hush: stopped")
			return nil
		case ev, ok := <-events:
			if !ok {
				wg.Wait()
				return core.ErrClosed
			}
			p.print(ctx, ev)
		}
	}
}

// checkSaveDir checks the directory of --save-dir and returns it
// absolute.
func checkSaveDir(dir, wd string) (string, error) {
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(wd, dir)
	}
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", withHint(fmt.Errorf("--save-dir: %s does not exist", dir), "make it first (mkdir)")
	case err != nil:
		return "", fmt.Errorf("--save-dir: %w", err)
	case !fi.IsDir():
		return "", fmt.Errorf("--save-dir: %s is not a directory", dir)
	}
	return dir, nil
}

// printer shows events, one line each.
type printer struct {
	client         *core.Client
	stdout, stderr io.Writer
	loc            *time.Location
	saveDir        string                 // save downloads here; "": don't
	moving         map[content.ID]*moving // transfers under way
	now            func() time.Time
}

// moving is a transfer hush listen has seen move.
type moving struct {
	name  string    // its file name, cleaned
	shown time.Time // when it was last shown (first: when it was first seen)
}

func (p *printer) print(ctx context.Context, ev core.Event) {
	at := p.stamp(ev.At)
	name := clean(ev.Contact.Name)
	switch ev.Kind {
	case core.EventReceived:
		m := ev.Message
		if m == nil {
			return
		}
		t := m.ReceivedAt
		if t.IsZero() {
			t = ev.At
		}
		fmt.Fprintln(p.stdout, messageLine(t.In(p.loc), "15:04:05", ev.Contact.Name, *m))
		p.refused(ctx, *m, at, name)
		if err := p.client.MarkRead(ctx, m.Contact, m.ID); err != nil && ctx.Err() == nil {
			warnf(p.stderr, "mark a message read: %s", errorMessage(err))
		}
	case core.EventSent:
		fmt.Fprintf(p.stdout, "%s sent to %s%s\n", at, name, count(ev.MessageIDs))
	case core.EventDelivered:
		fmt.Fprintf(p.stdout, "%s delivered to %s%s\n", at, name, count(ev.MessageIDs))
	case core.EventRead:
		fmt.Fprintf(p.stdout, "%s read by %s%s\n", at, name, count(ev.MessageIDs))
	case core.EventContactAdded:
		fmt.Fprintf(p.stdout, "%s %s is now a contact\n", at, name)
		hintf(p.stderr, "compare safety numbers with \"hush verify %s\"", quoteArg(ev.Contact.Name))
	case core.EventIdentityChanged:
		fmt.Fprintf(p.stdout, "%s WARNING: %s's identity key changed to %s; their messages are held\n", at, name, ev.NewIdentity.ShortString())
		hintf(p.stderr, "ask %s (in person or on a call) whether they reinstalled hush; then \"hush identity accept %s\" or \"hush identity reject %s\"",
			name, quoteArg(ev.Contact.Name), quoteArg(ev.Contact.Name))
	case core.EventFailed:
		p.failed(ctx, ev, at, name)
	case core.EventError:
		warnf(p.stderr, "%s", errorMessage(ev.Err))
	case core.EventProgress:
		p.progress(ctx, ev, at, name)
	case core.EventAttachment:
		p.attachment(ctx, ev, at, name)
	}
}

// failed shows messages that failed: not sent, or (an attachment
// received) not downloaded.
func (p *printer) failed(ctx context.Context, ev core.Event, at, name string) {
	if len(ev.MessageIDs) == 1 {
		delete(p.moving, ev.MessageIDs[0])
		info, err := p.client.Attachment(ctx, ev.Contact.ID, ev.MessageIDs[0])
		if err == nil && info.Direction == store.Incoming {
			fmt.Fprintf(p.stdout, "%s FAILED to receive from %s: %s\n", at, name, errorMessage(ev.Err))
			return
		}
	}
	fmt.Fprintf(p.stdout, "%s FAILED to send to %s%s: %s\n", at, name, count(ev.MessageIDs), errorMessage(ev.Err))
}

// refused shows why a received attachment will not be downloaded (over
// the size limit, no relays named), which the core decides on receipt.
func (p *printer) refused(ctx context.Context, m core.Message, at, name string) {
	if _, _, ok := attachmentName(m.Body); !ok {
		return
	}
	info, err := p.client.Attachment(ctx, m.Contact, m.ID)
	if err == nil && info.State == store.TransferFailed {
		fmt.Fprintf(p.stdout, "%s FAILED to receive from %s: %s\n", at, name, clean(info.Err))
	}
}

// progress shows where a transfer stands, at most every progressEvery,
// and not at all for one that takes less.
func (p *printer) progress(ctx context.Context, ev core.Event, at, name string) {
	pr := ev.Progress
	if pr == nil || pr.Total <= 0 {
		return
	}
	now := p.now()
	mv := p.moving[pr.Message]
	if mv == nil && pr.Done >= pr.Total {
		return // done: EventAttachment says so
	}
	if mv == nil {
		info, _ := p.client.Attachment(ctx, ev.Contact.ID, pr.Message) // unnamed if it fails
		mv = &moving{name: fileLabel(info), shown: now}
		p.moving[pr.Message] = mv
		return
	}
	if now.Sub(mv.shown) < progressEvery || pr.Done >= pr.Total {
		return
	}
	mv.shown = now
	what := "downloading " + mv.name + " from"
	if pr.Direction == store.Outgoing {
		what = "uploading " + mv.name + " to"
	}
	fmt.Fprintf(p.stdout, "%s %s %s: %d%% (%s of %s)\n", at, what, name, pr.Done*100/pr.Total, size(pr.Done), size(pr.Total))
}

// attachment shows a finished download, saved in the save directory if
// there is one. A finished upload shows as the message being sent.
func (p *printer) attachment(ctx context.Context, ev core.Event, at, name string) {
	pr := ev.Progress
	if pr == nil {
		return
	}
	delete(p.moving, pr.Message)
	if pr.Direction != store.Incoming {
		return
	}
	info, err := p.client.Attachment(ctx, ev.Contact.ID, pr.Message)
	if err != nil {
		warnf(p.stderr, "an attachment from %s: %s", name, errorMessage(err))
		return
	}
	file := fileLabel(info)
	if p.saveDir == "" || !info.Expires.IsZero() {
		fmt.Fprintf(p.stdout, "%s downloaded %s (%s) from %s\n", at, file, size(info.Size), name)
		if p.saveDir != "" {
			hintf(p.stderr, "a disappearing message's attachment is not saved in %s, where its timer could not remove it; \"hush save %s %s PATH\" keeps a copy",
				clean(p.saveDir), quoteArg(ev.Contact.Name), shortID(pr.Message))
			return
		}
		hintf(p.stderr, "save it with \"hush save %s %s PATH\"", quoteArg(ev.Contact.Name), shortID(pr.Message))
		return
	}
	p.save(ctx, info, ev.At, at, name, file)
}

// save saves an attachment in the save directory and says so.
func (p *printer) save(ctx context.Context, info core.AttachmentInfo, received time.Time, at, name, file string) {
	path, err := saveUnique(p.saveDir, safeName(info.Name, info.MIMEType, received.In(p.loc), info.Message),
		func(path string) error { return p.client.SaveAttachment(ctx, info.Contact, info.Message, path) })
	if err != nil {
		fmt.Fprintf(p.stdout, "%s FAILED to save %s from %s: %s\n", at, file, name, errorMessage(err))
		return
	}
	fmt.Fprintf(p.stdout, "%s saved %s (%s) from %s\n", at, clean(path), size(info.Size), name)
}

// catchUp saves, with --save-dir, the attachments downloaded while no
// listen saved them, but not those of disappearing messages.
func (p *printer) catchUp(ctx context.Context) {
	if p.saveDir == "" {
		return
	}
	list, err := p.client.UnsavedAttachments(ctx)
	if err != nil {
		warnf(p.stderr, "attachments downloaded earlier: %s", errorMessage(err))
		return
	}
	names := make(map[store.ContactID]string) // the senders', read once each
	for _, info := range list {
		if !info.Expires.IsZero() {
			continue
		}
		name, ok := names[info.Contact]
		if !ok {
			name = "someone"
			if ct, err := p.client.Contact(ctx, info.Contact); err == nil {
				name = clean(ct.Name)
			}
			names[info.Contact] = name
		}
		now := p.now()
		p.save(ctx, info, now, p.stamp(now), name, fileLabel(info))
	}
}

// stamp is an event's time as listen prints it: [15:04:05].
func (p *printer) stamp(t time.Time) string { return "[" + t.In(p.loc).Format("15:04:05") + "]" }

// fileLabel names an attachment in a line: its file name, cleaned.
func fileLabel(info core.AttachmentInfo) string {
	if info.Name == "" {
		return "an attachment"
	}
	return clean(info.Name)
}

// count says how many messages an event concerns, if more than one.
func count(ids []content.ID) string {
	if len(ids) > 1 {
		return fmt.Sprintf(" (%d messages)", len(ids))
	}
	return ""
}
