// SPDX-License-Identifier: AGPL-3.0-or-later

package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/store"
	"github.com/hushchat/hush/pkg/core/transfer"
	"github.com/hushchat/hush/pkg/onion/relaynet"
)

// Transfer pacing.
const (
	// transfersAtOnce is how many attachments move at once; each uses
	// many paths in parallel (package transfer).
	transfersAtOnce = 2
	transferBatch   = 16
)

// wakeTransfers tells the transfer loop to look for work.
func (c *Client) wakeTransfers() { wake(c.transferCh) }

// transferLoop runs the uploads and downloads that are due, a few at a
// time, each retried with backoff while it fails for a reason that may
// pass (a relay down).
func (c *Client) transferLoop(ctx context.Context) {
	for ctx.Err() == nil {
		next, err := c.startTransfers(ctx)
		if err != nil {
			c.background("start attachment transfers", err)
			next = c.now().Add(retryFirst)
		}
		t := time.NewTimer(max(next.Sub(c.now()), 10*time.Millisecond))
		select {
		case <-ctx.Done():
		case <-c.transferCh:
		case <-t.C:
		}
		t.Stop()
	}
}

// startTransfers starts the due transfers that are not running, up to
// transfersAtOnce in all, and returns when to look again.
func (c *Client) startTransfers(ctx context.Context) (time.Time, error) {
	list, err := c.st.Transfers(ctx, transferBatch)
	if err != nil {
		return time.Time{}, err
	}
	now := c.now()
	next := now.Add(outboxIdle)
	for _, a := range list {
		if a.NextAttempt.After(now) {
			next = a.NextAttempt
			break
		}
		tctx, ok := c.startMoving(ctx, a.File)
		if !ok {
			continue
		}
		c.bg.Go(func() {
			defer c.stopMoving(a.File)
			c.runTransfer(tctx, a)
			c.wakeTransfers()
		})
	}
	return next, nil
}

// startMoving registers a running transfer; false if it runs already or
// transfersAtOnce run.
func (c *Client) startMoving(ctx context.Context, file string) (context.Context, bool) {
	c.movingMu.Lock()
	defer c.movingMu.Unlock()
	if _, ok := c.moving[file]; ok || len(c.moving) >= transfersAtOnce {
		return nil, false
	}
	tctx, cancel := context.WithCancel(ctx)
	c.moving[file] = cancel
	return tctx, true
}

func (c *Client) stopMoving(file string) {
	c.movingMu.Lock()
	defer c.movingMu.Unlock()
	if cancel, ok := c.moving[file]; ok {
		cancel()
		delete(c.moving, file)
	}
}

// cancelMoving stops the transfers of files about to be deleted.
func (c *Client) cancelMoving(files []string) {
	c.movingMu.Lock()
	defer c.movingMu.Unlock()
	for _, f := range files {
		if cancel, ok := c.moving[f]; ok {
			cancel()
		}
	}
}

// transferJob is one attachment's transfer with what it needs.
type transferJob struct {
	a       store.Attachment
	ct      store.Contact
	m       content.Message
	p       content.Attachment
	layout  *transfer.Layout
	expires time.Time // the message's; zero: never
}

// runTransfer moves one attachment as far as it can and records how it
// went.
func (c *Client) runTransfer(ctx context.Context, a store.Attachment) {
	j, err := c.loadJob(ctx, a)
	if errors.Is(err, store.ErrNotFound) {
		return // the message is gone (removed, expired)
	}
	if err == nil && a.Direction == store.Outgoing {
		err = c.upload(ctx, j)
	} else if err == nil {
		err = c.download(ctx, j)
	}
	if err != nil {
		c.transferFailed(ctx, j, err, retryable(err))
	}
}

// localError is a failure of this device's store, worth another attempt
// later: nothing is wrong with the attachment itself.
type localError struct{ err error }

func (e localError) Error() string { return e.err.Error() }
func (e localError) Unwrap() error { return e.err }

// retryable reports whether a transfer that failed with err may succeed
// later: the network's failures that transfer.Temporary names, and this
// device's own (its store; reading or writing a file that is there, as
// on a full disk). A relay the network does not list (even after a
// refresh) will not come back for this attachment, and a file gone from
// the profile will not come back either.
func retryable(err error) bool {
	if errors.Is(err, relaynet.ErrUnknownExit) || errors.Is(err, fs.ErrNotExist) {
		return false
	}
	var le localError
	var pe *fs.PathError
	return transfer.Temporary(err) || errors.As(err, &le) || errors.As(err, &pe)
}

func (c *Client) loadJob(ctx context.Context, a store.Attachment) (*transferJob, error) {
	j := &transferJob{a: a}
	var err error
	if j.ct, err = c.st.Contact(ctx, a.Contact); err != nil {
		return j, storeError("read the attachment's contact", err)
	}
	sm, err := c.st.Message(ctx, a.Contact, a.Message)
	if err != nil {
		return j, storeError("read the attachment's message", err)
	}
	j.expires = sm.Expires
	if j.m, err = content.Unmarshal(sm.Body); err != nil {
		return j, fmt.Errorf("stored message: %w", err)
	}
	p, ok := pointerOf(j.m.Body)
	if !ok {
		return j, ErrNoAttachment
	}
	j.p = p
	if j.layout, err = transfer.NewLayout(p.Key, p.Size, p.Relays); err != nil {
		return j, fmt.Errorf("the attachment's pointer: %w", err)
	}
	return j, nil
}

// storeError wraps a store failure as a localError; ErrNotFound stays
// as it is, for callers to branch on.
func storeError(what string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return err
	}
	return localError{fmt.Errorf("%s: %w", what, err)}
}

// progress returns the EventProgress function of a job: fraction
// done/total of the file.
func (c *Client) progress(j *transferJob, kind EventKind) func(done, total int64) {
	return func(done, total int64) {
		c.emit(Event{Kind: kind, Contact: contactOf(j.ct), Progress: &Progress{
			Message: j.m.ID, Direction: j.a.Direction, Done: scale(done, total, j.p.Size), Total: j.p.Size}})
	}
}

// scale returns size × done / total without overflow.
func scale(done, total, size int64) int64 {
	if total <= 0 || done >= total {
		return size
	}
	return int64(float64(size) * float64(done) / float64(total))
}

// upload puts an outgoing attachment's chunks on its relays, resuming
// where the last attempt stopped, and then sends its message.
func (c *Client) upload(ctx context.Context, j *transferJob) error {
	f, err := os.Open(c.attachmentPath(j.a.File))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the attachment's file is gone from the profile: %w", err)
	}
	if err != nil {
		return fmt.Errorf("read the attachment: %w", err)
	}
	defer f.Close()
	onProgress := c.progress(j, EventProgress)
	err = transfer.Upload(ctx, c.net, j.layout, f, transfer.UploadOptions{
		Start:    j.a.Done,
		Progress: onProgress,
		// The last call comes after a stop too (ctx done): it is saved
		// all the same, so the next Run resumes from every chunk stored.
		Stored: func(prefix int64) {
			a := j.a
			a.Done = prefix
			err := c.transact(context.WithoutCancel(ctx), func(ctx context.Context) error { return c.st.UpdateAttachment(ctx, a) })
			if err == nil {
				j.a = a
			} else if !errors.Is(err, store.ErrNotFound) {
				c.background("save an upload's progress", err)
			}
		},
	})
	if err != nil {
		return err
	}
	// Every chunk is stored: the message can go.
	var e store.OutboxEntry
	err = c.transact(context.WithoutCancel(ctx), func(ctx context.Context) error {
		ct, to, err := c.sendable(ctx, j.a.Contact)
		if err != nil {
			return err
		}
		a := j.a
		a.State, a.Done, a.Err = store.Uploaded, j.layout.Total(), ""
		if err := c.st.UpdateAttachment(ctx, a); err != nil {
			return err
		}
		e, _, err = c.sealToOutbox(ctx, ct, to, j.m, j.m.ID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil // the message or contact went meanwhile
	}
	if err != nil {
		return fmt.Errorf("send the attachment's message: %w", err)
	}
	c.sendSoon(e)
	c.emit(Event{Kind: EventAttachment, Contact: contactOf(j.ct), Progress: &Progress{
		Message: j.m.ID, Direction: store.Outgoing, Done: j.p.Size, Total: j.p.Size}})
	return nil
}

// download fetches an incoming attachment's chunks into its file,
// verifying each, resuming from what the file already holds; once the
// whole file verified it deletes the chunks from the relays.
func (c *Client) download(ctx context.Context, j *transferJob) error {
	if j.p.Size > c.opts.MaxAttachment {
		return fmt.Errorf("it is %s: %w (the limit is %s)", sizeText(j.p.Size), ErrTooLarge, sizeText(c.opts.MaxAttachment))
	}
	if err := os.MkdirAll(c.opts.AttachmentDir, 0o700); err != nil {
		return fmt.Errorf("make the attachment directory: %w", err)
	}
	f, err := os.OpenFile(c.attachmentPath(j.a.File), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store the attachment: %w", err)
	}
	err = transfer.Download(ctx, c.net, j.layout, j.p.Digest, f, transfer.DownloadOptions{Progress: c.progress(j, EventProgress)})
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	a := j.a
	a.State, a.Err = store.Downloaded, ""
	err = c.transact(context.WithoutCancel(ctx), func(ctx context.Context) error { return c.st.UpdateAttachment(ctx, a) })
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		// The file is whole and verified: the next attempt checks it
		// again without fetching anything.
		return storeError("record the download", err)
	}
	c.emit(Event{Kind: EventAttachment, Contact: contactOf(j.ct), Progress: &Progress{
		Message: j.m.ID, Direction: store.Incoming, Done: j.p.Size, Total: j.p.Size}})
	// The chunks are no longer needed; any left behind expire.
	if n, err := transfer.Delete(ctx, c.net, j.layout, 0); err != nil {
		c.log.Info("attachment chunks left to expire", "deleted", n, "of", j.layout.Total(), "err", err)
	}
	return nil
}

// transferFailed records a failed attempt: retried later with backoff if
// the failure may pass (and the attachment is younger than the message
// TTL), else the transfer fails for good, an incoming attachment's file
// is deleted, and an outgoing one's message is marked failed.
func (c *Client) transferFailed(ctx context.Context, j *transferJob, why error, temporary bool) {
	if ctx.Err() != nil {
		return // stopped (Run ended, or the message was deleted): the next Run goes on
	}
	ctx = context.WithoutCancel(ctx)
	a := j.a
	what := "download"
	if a.Direction == store.Outgoing {
		what = "upload"
	}
	if name := j.p.FileName; name != "" {
		what += " of " + name
	}
	a.Err = why.Error()
	// A message not read (the store failed) is not known to be old.
	young := j.m.SentAt.IsZero() || c.now().Sub(j.m.SentAt) < c.opts.MessageTTL
	if temporary && young {
		wait := backoff(a.Attempts)
		a.Attempts++
		a.NextAttempt = c.now().Add(wait)
		if err := c.transact(ctx, func(ctx context.Context) error { return c.st.UpdateAttachment(ctx, a) }); err != nil && !errors.Is(err, store.ErrNotFound) {
			c.background("postpone an attachment transfer", err)
		}
		c.emit(Event{Kind: EventError, Contact: contactOf(j.ct),
			Err: fmt.Errorf("%s: %w (trying again in %v)", what, why, wait.Round(time.Second))})
		return
	}
	a.State = store.TransferFailed
	err := c.transact(ctx, func(ctx context.Context) error {
		if err := c.st.UpdateAttachment(ctx, a); err != nil {
			return err
		}
		if a.Direction == store.Outgoing {
			return c.st.SetMessageState(ctx, a.Contact, a.Message, store.Failed)
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return
	}
	if err != nil {
		c.background("record a failed attachment transfer", err)
		return
	}
	if a.Direction == store.Incoming {
		c.removeFiles([]string{a.File})
	}
	c.emit(Event{Kind: EventFailed, Contact: contactOf(j.ct), MessageIDs: []content.ID{a.Message},
		Err: fmt.Errorf("%s: %w", what, why)})
}

// AttachmentInfo describes a message's attachment and its transfer.
type AttachmentInfo struct {
	Message   content.ID
	Contact   store.ContactID
	Direction store.Direction
	State     store.TransferState
	Name      string // the sender's file name; may be empty
	MIMEType  string
	Size      int64
	Err       string // why the transfer failed, or last went wrong
	// Saved tells whether SaveAttachment saved a copy (incoming only).
	Saved bool
	// Expires is when the message disappears (its disappearing timer),
	// with its attachment; zero is never. A saved copy does not.
	Expires time.Time
}

// Attachment returns what a message's attachment is and where its
// transfer stands.
func (c *Client) Attachment(ctx context.Context, contact store.ContactID, id content.ID) (AttachmentInfo, error) {
	info, _, err := c.attachmentInfo(ctx, contact, id)
	return info, err
}

func (c *Client) attachmentInfo(ctx context.Context, contact store.ContactID, id content.ID) (AttachmentInfo, *transferJob, error) {
	a, err := c.st.Attachment(ctx, contact, id)
	if errors.Is(err, store.ErrNotFound) {
		if _, merr := c.st.Message(ctx, contact, id); merr != nil {
			return AttachmentInfo{}, nil, fmt.Errorf("message %s: %w", id, merr)
		}
		return AttachmentInfo{}, nil, ErrNoAttachment
	}
	if err != nil {
		return AttachmentInfo{}, nil, fmt.Errorf("read the attachment: %w", err)
	}
	j, err := c.loadJob(ctx, a)
	if err != nil {
		return AttachmentInfo{}, nil, err
	}
	return infoOf(j), j, nil
}

func infoOf(j *transferJob) AttachmentInfo {
	return AttachmentInfo{Message: j.a.Message, Contact: j.a.Contact, Direction: j.a.Direction, State: j.a.State,
		Name: j.p.FileName, MIMEType: j.p.MIMEType, Size: j.p.Size, Err: j.a.Err, Saved: j.a.Saved, Expires: j.expires}
}

// maxUnsaved is the most UnsavedAttachments returns.
const maxUnsaved = 100

// UnsavedAttachments returns the received attachments that are
// downloaded and that SaveAttachment never saved, up to 100, those of
// the oldest messages first: for a client that saves what arrives
// (hush listen --save-dir) to catch up with what arrived while it did
// not run.
func (c *Client) UnsavedAttachments(ctx context.Context) ([]AttachmentInfo, error) {
	list, err := c.st.Unsaved(ctx, maxUnsaved)
	if err != nil {
		return nil, fmt.Errorf("list unsaved attachments: %w", err)
	}
	out := make([]AttachmentInfo, 0, len(list))
	for _, a := range list {
		j, err := c.loadJob(ctx, a)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, infoOf(j))
	}
	return out, nil
}

// OpenAttachment returns the plaintext of a message's attachment, read
// and decrypted from its file as the reader is read. The digest is
// checked at the end: a file altered on disk makes the last Read fail.
// An incoming attachment must be downloaded (ErrNotDownloaded).
func (c *Client) OpenAttachment(ctx context.Context, contact store.ContactID, id content.ID) (io.ReadCloser, AttachmentInfo, error) {
	info, j, err := c.attachmentInfo(ctx, contact, id)
	if err != nil {
		return nil, info, err
	}
	// A failed upload's file is still whole; a failed download's is gone.
	if info.Direction == store.Incoming && info.State != store.Downloaded {
		return nil, info, fmt.Errorf("%w (%s)", ErrNotDownloaded, stateText(info))
	}
	f, err := os.Open(c.attachmentPath(j.a.File))
	if err != nil {
		return nil, info, fmt.Errorf("open the attachment: %w", err)
	}
	r, err := transfer.Open(j.p.Key, j.p.Size, j.p.Digest, f)
	if err != nil {
		f.Close()
		return nil, info, err
	}
	return readCloser{r, f}, info, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

func stateText(info AttachmentInfo) string {
	switch info.State {
	case store.Downloading:
		return "still downloading"
	case store.TransferFailed:
		return "the transfer failed: " + info.Err
	}
	return fmt.Sprintf("state %d", info.State)
}

// SaveAttachment writes the plaintext of a message's attachment to path,
// which must not exist. It is written to a temporary file beside it,
// checked against the digest, synced, and only then given its name:
// nothing half-saved is ever left under path. It stops, saving nothing,
// when ctx is done. Once saved, an incoming attachment is no longer
// listed by UnsavedAttachments. The copy is the user's: a disappearing
// timer does not remove it.
func (c *Client) SaveAttachment(ctx context.Context, contact store.ContactID, id content.ID, path string) error {
	r, _, err := c.OpenAttachment(ctx, contact, id)
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("save the attachment: %s: %w", path, fs.ErrExist)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".hush-save-*")
	if err != nil {
		return fmt.Errorf("save the attachment: %w", err)
	}
	_, err = io.Copy(tmp, ctxReader{ctx, r})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = placeNew(tmp.Name(), path)
	}
	os.Remove(tmp.Name())
	if err != nil {
		return fmt.Errorf("save the attachment: %w", err)
	}
	err = c.transact(context.WithoutCancel(ctx), func(ctx context.Context) error { return c.st.MarkSaved(ctx, contact, id) })
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		// The copy is whole; only the record is missing, so a client
		// catching up may save it once more.
		c.background("record a saved attachment", err)
	}
	return nil
}

// link is os.Link, replaced in tests by a file system without hard links.
var link = os.Link

// placeNew gives the finished file tmp the name path, which must not
// exist, and never replaces a file that appeared there meanwhile. A hard
// link does that in one step. Where the file system has none (FAT, exFAT
// and some network mounts), path is first created empty and exclusively,
// then tmp renamed over that file of ours.
func placeNew(tmp, path string) error {
	err := link(tmp, path)
	if err == nil || errors.Is(err, fs.ErrExist) {
		return err
	}
	f, cerr := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if cerr != nil {
		return cerr
	}
	f.Close()
	if rerr := os.Rename(tmp, path); rerr != nil {
		os.Remove(path)
		return rerr
	}
	return nil
}

// ctxReader reads from r until ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
