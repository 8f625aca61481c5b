// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/media/mediatest"
	"github.com/hushchat/hush/pkg/core/store"
	"github.com/hushchat/hush/pkg/core/transfer"
	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/relaynet"
)

// refusing answers every chunk request of one kind with a status of the
// relay's, while on: a relay that lost the chunks (StatusNoChunk on a
// get), or that is full (StatusRelayFull on a put).
type refusing struct {
	Network
	put    bool
	status mailbox.Status
	on     atomic.Bool
}

func (r *refusing) Ask(ctx context.Context, exit onion.RelayID, req []byte) ([]byte, error) {
	q, err := mailbox.ParseRequest(req)
	if err != nil || !r.on.Load() || (r.put && q.PutChunk == nil) || (!r.put && q.GetChunk == nil) {
		return r.Network.Ask(ctx, exit, req)
	}
	return mailbox.EncodeResponse(&mailbox.Response{Status: r.status})
}

// TestAttachmentMissingChunks: a download whose chunks the relays no
// longer have (a truncated attachment) fails for good, naming the chunk
// and the reason, and leaves no file.
func TestAttachmentMissingChunks(t *testing.T) {
	tn := startNet(t)
	alice := tn.newUser(t, "alice", nil)
	lost := &refusing{status: mailbox.StatusNoChunk}
	bob := tn.newUser(t, "bob", func(n Network) Network { lost.Network = n; return lost })
	ab, _ := connect(t, alice, bob)
	lost.on.Store(true)
	id, err := alice.c.SendFile(context.Background(), ab.ID, writeTemp(t, "f.bin", mediatest.Noise(200<<10)), "")
	if err != nil {
		t.Fatal(err)
	}
	e := bob.await(t, "the failed download", 60*time.Second, finished(id))
	if e.Kind != EventFailed || !strings.Contains(e.Err.Error(), "transfer: chunk ") || !errors.Is(e.Err, mailbox.StatusNoChunk) {
		t.Fatalf("got %v %v, want the download failed naming a chunk the relay does not have", e.Kind, e.Err)
	}
	t.Logf("bob: %v", e.Err)
	if entries, _ := os.ReadDir(bob.c.opts.AttachmentDir); len(entries) != 0 {
		t.Fatalf("the failed download left %d files", len(entries))
	}
}

// TestUploadRefused: an upload a relay refuses for good (its storage is
// full) fails its message, and the sender can still open the copy in
// the profile.
func TestUploadRefused(t *testing.T) {
	tn := startNet(t)
	full := &refusing{put: true, status: mailbox.StatusRelayFull}
	alice := tn.newUser(t, "alice", func(n Network) Network { full.Network = n; return full })
	bob := tn.newUser(t, "bob", nil)
	ab, _ := connect(t, alice, bob)
	full.on.Store(true)
	file := mediatest.Noise(100 << 10)
	id, err := alice.c.SendFile(context.Background(), ab.ID, writeTemp(t, "f.bin", file), "")
	if err != nil {
		t.Fatal(err)
	}
	e := alice.await(t, "the failed upload", 60*time.Second, finished(id))
	if e.Kind != EventFailed || !errors.Is(e.Err, mailbox.StatusRelayFull) {
		t.Fatalf("got %v %v, want the upload failed as the relay is full", e.Kind, e.Err)
	}
	m, err := alice.c.st.Message(context.Background(), ab.ID, id)
	if err != nil || m.State != store.Failed {
		t.Fatalf("the message: %+v, %v; want it failed", m, err)
	}
	if got := readAttachment(t, alice, ab.ID, id); !bytes.Equal(got, file) {
		t.Fatal("the sender's copy of a failed upload differs")
	}
}

// TestSaveAttachment: a downloaded attachment is listed as unsaved until
// it is saved; saving refuses an attachment file damaged on disk, and a
// save stopped by its context, leaving nothing at the path and no
// temporary file.
func TestSaveAttachment(t *testing.T) {
	tn := startNet(t)
	alice, bob := tn.newUser(t, "alice", nil), tn.newUser(t, "bob", nil)
	ab, ba := connect(t, alice, bob)
	ctx := context.Background()
	id, err := alice.c.SendFile(ctx, ab.ID, writeTemp(t, "f.bin", mediatest.Noise(300<<10)), "")
	if err != nil {
		t.Fatal(err)
	}
	bob.awaitDownload(t, id, 60*time.Second)
	out := t.TempDir()

	unsaved := func() []content.ID {
		t.Helper()
		list, err := bob.c.UnsavedAttachments(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []content.ID
		for _, a := range list {
			if a.Contact != ba.ID || a.Name != "f.bin" || a.Saved || !a.Expires.IsZero() {
				t.Errorf("unsaved attachment %+v", a)
			}
			ids = append(ids, a.Message)
		}
		return ids
	}
	if got := unsaved(); len(got) != 1 || got[0] != id {
		t.Fatalf("unsaved = %v, want the download %v", got, id)
	}
	if list, err := alice.c.UnsavedAttachments(ctx); err != nil || len(list) != 0 {
		t.Fatalf("the sender's unsaved attachments: %+v, %v; want none", list, err)
	}

	stopped, cancel := context.WithCancel(ctx)
	cancel()
	if err := bob.c.SaveAttachment(stopped, ba.ID, id, filepath.Join(out, "stopped.bin")); !errors.Is(err, context.Canceled) {
		t.Errorf("save with a stopped context: %v, want context.Canceled", err)
	}
	if got := unsaved(); len(got) != 1 {
		t.Fatalf("unsaved after a stopped save = %v, want it still listed", got)
	}
	saved := filepath.Join(t.TempDir(), "ok.bin")
	if err := bob.c.SaveAttachment(ctx, ba.ID, id, saved); err != nil {
		t.Fatal(err)
	}
	if got := unsaved(); len(got) != 0 {
		t.Fatalf("unsaved after saving = %v, want none", got)
	}
	if info, err := bob.c.Attachment(ctx, ba.ID, id); err != nil || !info.Saved {
		t.Fatalf("saved attachment's info %+v, %v", info, err)
	}

	f, err := os.OpenFile(filepath.Join(bob.c.opts.AttachmentDir, mustAttachment(t, bob, ba.ID, id).File), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0xff, 0x00, 0xff}, 5*attach.ChunkSize+100); err != nil {
		t.Fatal(err)
	}
	f.Close()
	err = bob.c.SaveAttachment(ctx, ba.ID, id, filepath.Join(out, "damaged.bin"))
	if err == nil || !strings.Contains(err.Error(), "chunk 5") {
		t.Errorf("save a damaged file: %v, want an error naming chunk 5", err)
	}
	t.Logf("bob: %v", err)
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Fatalf("failed saves left %v", entries)
	}
}

// TestPlaceNew: the saved file gets its name without replacing one that
// is there, with hard links or, where the file system has none, with an
// exclusive placeholder and a rename.
func TestPlaceNew(t *testing.T) {
	for _, links := range []bool{true, false} {
		t.Run(fmt.Sprintf("links=%v", links), func(t *testing.T) {
			if !links {
				link = func(o, n string) error { return &os.LinkError{Op: "link", Old: o, New: n, Err: syscall.EPERM} }
				t.Cleanup(func() { link = os.Link })
			}
			dir := t.TempDir()
			tmp, path, other := filepath.Join(dir, ".tmp"), filepath.Join(dir, "a.bin"), filepath.Join(dir, "b.bin")
			write := func(p, s string) {
				if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			write(tmp, "new")
			if err := placeNew(tmp, path); err != nil {
				t.Fatal(err)
			}
			if b, err := os.ReadFile(path); err != nil || string(b) != "new" {
				t.Fatalf("placed file: %q, %v", b, err)
			}
			write(tmp, "newer")
			write(other, "theirs")
			if err := placeNew(tmp, other); !errors.Is(err, fs.ErrExist) {
				t.Fatalf("place over a file: %v, want fs.ErrExist", err)
			}
			if b, _ := os.ReadFile(other); string(b) != "theirs" {
				t.Fatalf("a file in the way was replaced: %q", b)
			}
		})
	}
}

// TestRetryable: which failures a transfer tries again later.
func TestRetryable(t *testing.T) {
	relay, err := onion.NewRelayID(bytes.Repeat([]byte{1}, onion.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	chunk := func(err error) error {
		return &transfer.ChunkError{Index: 3, Total: 8, Relay: relay, Op: "get", Err: err}
	}
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{chunk(relaynet.ErrExitUnreachable), true},
		{chunk(mailbox.StatusRateLimited), true},
		{chunk(mailbox.StatusNoChunk), false},
		{chunk(fmt.Errorf("%w: hushrelay:x", relaynet.ErrUnknownExit)), false},
		{fmt.Errorf("transfer: every chunk verified but %w", attach.ErrDigest), false},
		{fmt.Errorf("transfer: write chunk 4: %w", &fs.PathError{Op: "write", Path: "f", Err: syscall.ENOSPC}), true},
		{fmt.Errorf("the attachment's file is gone: %w", &fs.PathError{Op: "open", Path: "f", Err: syscall.ENOENT}), false},
		{storeError("record the download", errors.New("database is locked")), true},
		{storeError("read the attachment's message", store.ErrNotFound), false},
		{fmt.Errorf("the attachment's pointer: %w", errors.New("bad size")), false},
	} {
		if got := retryable(tc.err); got != tc.want {
			t.Errorf("retryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
