// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

package core

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/media"
	"github.com/hushchat/hush/pkg/core/media/mediatest"
	"github.com/hushchat/hush/pkg/core/store"
	"github.com/hushchat/hush/pkg/core/transfer"
	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion"
)

// writeTemp writes data to a new file in the test's directory.
func writeTemp(tb testing.TB, name string, data []byte) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		tb.Fatal(err)
	}
	return p
}

// received matches a received message with the given ID.
func received(id content.ID) func(Event) bool {
	return func(e Event) bool { return e.Kind == EventReceived && e.Message != nil && e.Message.ID == id }
}

// finished matches the end of an attachment's transfer, or its failure.
func finished(id content.ID) func(Event) bool {
	return func(e Event) bool {
		return (e.Kind == EventAttachment && e.Progress != nil && e.Progress.Message == id) ||
			(e.Kind == EventFailed && len(e.MessageIDs) == 1 && e.MessageIDs[0] == id)
	}
}

// awaitDownload waits for id's download to end and fails the test if it
// failed.
func (u *user) awaitDownload(tb testing.TB, id content.ID, timeout time.Duration) {
	tb.Helper()
	e := u.await(tb, "the download", timeout, finished(id))
	if e.Kind == EventFailed {
		tb.Fatalf("%s: download failed: %v", u.name, e.Err)
	}
}

func readAttachment(tb testing.TB, u *user, contact store.ContactID, id content.ID) []byte {
	tb.Helper()
	r, _, err := u.c.OpenAttachment(context.Background(), contact, id)
	if err != nil {
		tb.Fatalf("%s: open the attachment: %v", u.name, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		tb.Fatalf("%s: read the attachment: %v", u.name, err)
	}
	return b
}

// TestAttachmentsBothWays sends a file, a photo and a voice clip each
// way over real relays: the file arrives byte for byte, the photo
// without its GPS position, the clip as Ogg/Opus with its duration; each
// side reports progress, the chunks are deleted from the relays after
// the download, and saving never overwrites.
func TestAttachmentsBothWays(t *testing.T) {
	tn := startNet(t)
	alice, bob := tn.newUser(t, "alice", nil), tn.newUser(t, "bob", nil)
	ab, ba := connect(t, alice, bob)
	ctx := context.Background()
	photo, err := mediatest.Photo()
	if err != nil {
		t.Fatal(err)
	}
	file := mediatest.Noise(1<<20 + 12345)
	paths := map[string]string{
		"file":  writeTemp(t, "notes.bin", file),
		"photo": writeTemp(t, "IMG_0001.jpeg", photo),
		"voice": writeTemp(t, "memo.wav", mediatest.WAV(1.5)),
	}
	for _, dir := range []struct {
		from, to *user
		contact  store.ContactID // the sender's contact for the recipient
		back     store.ContactID // the recipient's contact for the sender
	}{{alice, bob, ab.ID, ba.ID}, {bob, alice, ba.ID, ab.ID}} {
		from, to := dir.from, dir.to
		// A file.
		id, err := from.c.SendFile(ctx, dir.contact, paths["file"], "the notes")
		if err != nil {
			t.Fatal(err)
		}
		e := to.await(t, "the file's message", 30*time.Second, received(id))
		f, ok := e.Message.Body.(content.File)
		if !ok || f.Caption != "the notes" || f.Attachment.FileName != "notes.bin" || f.Attachment.Size != int64(len(file)) {
			t.Fatalf("%s received %+v", to.name, e.Message.Body)
		}
		var sawProgress bool
		done := to.await(t, "the download", 30*time.Second, func(e Event) bool {
			if e.Kind == EventProgress && e.Progress.Message == id && e.Progress.Total == int64(len(file)) {
				sawProgress = true
			}
			return finished(id)(e)
		})
		if done.Kind == EventFailed {
			t.Fatalf("download failed: %v", done.Err)
		}
		if !sawProgress {
			t.Errorf("%s: no progress event during a %d-byte download", to.name, len(file))
		}
		if got := readAttachment(t, to, dir.back, id); !bytes.Equal(got, file) {
			t.Fatalf("%s: the file differs (%d bytes, want %d)", to.name, len(got), len(file))
		}
		// The sender can open its own copy too.
		if got := readAttachment(t, from, dir.contact, id); !bytes.Equal(got, file) {
			t.Fatalf("%s: its own copy differs", from.name)
		}
		save := filepath.Join(t.TempDir(), "saved.bin")
		if err := to.c.SaveAttachment(ctx, dir.back, id, save); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(save); !bytes.Equal(got, file) {
			t.Fatal("the saved file differs")
		}
		if err := to.c.SaveAttachment(ctx, dir.back, id, save); !errors.Is(err, fs.ErrExist) {
			t.Fatalf("saving onto an existing file: %v, want fs.ErrExist", err)
		}
		checkChunksDeleted(t, to, f.Attachment)

		// A photo, which loses its GPS position.
		id, err = from.c.SendImage(ctx, dir.contact, paths["photo"], "")
		if err != nil {
			t.Fatal(err)
		}
		e = to.await(t, "the photo's message", 30*time.Second, received(id))
		img, ok := e.Message.Body.(content.Image)
		if !ok || img.Width != 640 || img.Height != 480 || len(img.Thumbnail) == 0 || img.Attachment.FileName != "IMG_0001.jpg" {
			t.Fatalf("%s received %+v", to.name, e.Message.Body)
		}
		to.awaitDownload(t, id, 30*time.Second)
		got := readAttachment(t, to, dir.back, id)
		if bytes.Contains(got, []byte("Exif")) || bytes.Contains(photo, []byte("Exif")) == false {
			t.Fatal("the received photo still has an EXIF block (or the sample had none)")
		}
		if _, err := media.SanitizeImage(bytes.NewReader(got)); err != nil {
			t.Fatalf("the received photo does not decode: %v", err)
		}

		// A voice clip, encoded from WAV.
		id, err = from.c.SendVoice(ctx, dir.contact, paths["voice"])
		if err != nil {
			t.Fatal(err)
		}
		e = to.await(t, "the clip's message", 30*time.Second, received(id))
		vc, ok := e.Message.Body.(content.VoiceClip)
		if !ok || vc.Duration < 1400*time.Millisecond || vc.Duration > 1600*time.Millisecond {
			t.Fatalf("%s received %+v", to.name, e.Message.Body)
		}
		to.awaitDownload(t, id, 30*time.Second)
		info, err := media.ParseOggOpus(bytes.NewReader(readAttachment(t, to, dir.back, id)))
		if err != nil || info.Duration != vc.Duration {
			t.Fatalf("the received clip: %+v, %v; want %v", info, err, vc.Duration)
		}
	}
}

// checkChunksDeleted asks the relays for an attachment's first chunk
// until they say it is gone (the recipient deletes them after the
// download verified).
func checkChunksDeleted(tb testing.TB, u *user, a content.Attachment) {
	tb.Helper()
	layout, err := transfer.NewLayout(a.Key, a.Size, a.Relays)
	if err != nil {
		tb.Fatal(err)
	}
	relay, id, _ := layout.Place(0)
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, err := mailbox.GetChunkRequest(id)
		if err != nil {
			tb.Fatal(err)
		}
		_, err = u.c.ask(context.Background(), relay, req)
		if errors.Is(err, mailbox.StatusNoChunk) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("chunk 0 still on its relay after the download: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// counting counts a client's requests to the network.
type counting struct {
	Network
	n atomic.Int64
}

func (c *counting) Ask(ctx context.Context, exit onion.RelayID, req []byte) ([]byte, error) {
	c.n.Add(1)
	return c.Network.Ask(ctx, exit, req)
}

// TestAttachmentTooLarge: a file over the limit is refused before any
// request goes out, and nothing is kept; a received pointer over the
// limit is not downloaded.
func TestAttachmentTooLarge(t *testing.T) {
	tn := startNet(t)
	var cnt *counting
	alice := tn.newUser(t, "alice", func(n Network) Network { cnt = &counting{Network: n}; return cnt })
	bob := tn.newUser(t, "bob", nil)
	ab, _ := connect(t, alice, bob)
	ctx := context.Background()
	alice.c.opts.MaxAttachment = 100 << 10
	big := writeTemp(t, "big.bin", mediatest.Noise(100<<10+1))
	before := cnt.n.Load()
	_, err := alice.c.SendFile(ctx, ab.ID, big, "")
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "100.0 KiB") {
		t.Fatalf("SendFile over the limit: %v, want ErrTooLarge naming the limit", err)
	}
	if n := cnt.n.Load(); n != before {
		t.Fatalf("%d requests went out for a refused attachment", n-before)
	}
	if entries, _ := os.ReadDir(alice.c.opts.AttachmentDir); len(entries) != 0 {
		t.Fatalf("the refused attachment left %d files", len(entries))
	}
	if h, _ := alice.c.History(ctx, ab.ID, nil, 10); len(h) != 0 {
		t.Fatalf("the refused attachment is in history: %+v", h)
	}
	// Missing files, directories and bad media: one clear error each.
	for _, tc := range []struct {
		send func() error
		want string
	}{
		{func() error {
			_, err := alice.c.SendFile(ctx, ab.ID, filepath.Join(t.TempDir(), "nope"), "")
			return err
		}, "no such file"},
		{func() error { _, err := alice.c.SendFile(ctx, ab.ID, t.TempDir(), ""); return err }, "not a regular file"},
		{func() error {
			_, err := alice.c.SendImage(ctx, ab.ID, writeTemp(t, "x.gif", []byte("GIF89a....")), "")
			return err
		}, "unsupported"},
		{func() error {
			_, err := alice.c.SendVoice(ctx, ab.ID, writeTemp(t, "x.mp3", []byte("ID3\x03\x00....")))
			return err
		}, "unsupported"},
		{func() error {
			_, err := alice.c.SendFile(ctx, 999, writeTemp(t, "small.bin", []byte("hi")), "")
			return err
		}, "no such contact"},
	} {
		if err := tc.send(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want an error saying %q", err, tc.want)
		}
	}
	if n := cnt.n.Load(); n != before {
		t.Fatalf("%d requests went out for refused attachments", n-before)
	}
}

// corrupting flips a byte of every chunk a relay returns while on.
type corrupting struct {
	Network
	on atomic.Bool
}

func (c *corrupting) Ask(ctx context.Context, exit onion.RelayID, req []byte) ([]byte, error) {
	raw, err := c.Network.Ask(ctx, exit, req)
	if err != nil || !c.on.Load() {
		return raw, err
	}
	resp, perr := mailbox.ParseResponse(raw)
	if perr != nil || resp.Chunk == nil {
		return raw, err
	}
	resp.Chunk[1000] ^= 1
	return mailbox.EncodeResponse(resp)
}

// TestAttachmentAltered: a chunk altered on its way from the relay is
// detected and named, the download fails for good, and no file is left.
func TestAttachmentAltered(t *testing.T) {
	tn := startNet(t)
	alice := tn.newUser(t, "alice", nil)
	var bad *corrupting
	bob := tn.newUser(t, "bob", func(n Network) Network { bad = &corrupting{Network: n}; return bad })
	ab, _ := connect(t, alice, bob)
	bad.on.Store(true)
	id, err := alice.c.SendFile(context.Background(), ab.ID, writeTemp(t, "f.bin", mediatest.Noise(200<<10)), "")
	if err != nil {
		t.Fatal(err)
	}
	e := bob.await(t, "the failed download", 60*time.Second, finished(id))
	if e.Kind != EventFailed || !strings.Contains(e.Err.Error(), "chunk 0 ") {
		t.Fatalf("got %v %v, want the download failed naming chunk 0", e.Kind, e.Err)
	}
	t.Logf("bob: %v", e.Err)
	if entries, _ := os.ReadDir(bob.c.opts.AttachmentDir); len(entries) != 0 {
		t.Fatalf("the failed download left %d files", len(entries))
	}
	info, err := bob.c.Attachment(context.Background(), e.Contact.ID, id)
	if err != nil || info.State != store.TransferFailed || info.Err == "" {
		t.Fatalf("attachment info %+v, %v", info, err)
	}
	if _, _, err := bob.c.OpenAttachment(context.Background(), e.Contact.ID, id); !errors.Is(err, ErrNotDownloaded) {
		t.Fatalf("open a failed attachment: %v", err)
	}
}

// TestAttachmentRelayDown: a relay holding chunks is down when the
// recipient comes online: the download reports a clear error and
// retries, and completes once the relay is back.
func TestAttachmentRelayDown(t *testing.T) {
	tn := startNet(t)
	alice, bob := tn.newUser(t, "alice", nil), tn.newUser(t, "bob", nil)
	ab, ba := connect(t, alice, bob)
	ctx := context.Background()
	bobDir := bob.dir
	bob.stop()

	file := mediatest.Noise(300 << 10)
	id, err := alice.c.SendFile(ctx, ab.ID, writeTemp(t, "f.bin", file), "")
	if err != nil {
		t.Fatal(err)
	}
	alice.await(t, "the upload", 60*time.Second, finished(id))
	alice.await(t, "the relay's ack", 30*time.Second, func(e Event) bool { return e.Kind == EventSent })
	m, err := alice.c.st.Message(ctx, ab.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	cm, err := content.Unmarshal(m.Body)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := pointerOf(cm.Body)
	// Stop a relay holding chunks that does not hold Bob's queue.
	target, err := alice.c.st.Target(ctx, ab.ID)
	if err != nil {
		t.Fatal(err)
	}
	down := -1
	for i, r := range tn.net.Relays {
		if r.ID() != target.Relay && containsRelay(p.Relays, r.ID()) {
			down = i
			break
		}
	}
	if down < 0 {
		t.Fatal("no chunk relay apart from the queue's")
	}
	if err := tn.net.Stop(ctx, down); err != nil {
		t.Fatal(err)
	}
	bob = tn.reopen(t, "bob", bobDir, nil)
	bob.await(t, "the message", 30*time.Second, received(id))
	e := bob.await(t, "an error about the relay", 60*time.Second, func(e Event) bool { return e.Kind == EventError || finished(id)(e) })
	if e.Kind != EventError || !strings.Contains(e.Err.Error(), "trying again") {
		t.Fatalf("got %v %v, want an error saying it will try again", e.Kind, e.Err)
	}
	t.Logf("bob: %v", e.Err)
	if err := tn.net.Restart(ctx, down); err != nil {
		t.Fatal(err)
	}
	bob.awaitDownload(t, id, 90*time.Second)
	if got := readAttachment(t, bob, ba.ID, id); !bytes.Equal(got, file) {
		t.Fatal("the file differs")
	}
}

func containsRelay(list []onion.RelayID, r onion.RelayID) bool {
	for _, x := range list {
		if x == r {
			return true
		}
	}
	return false
}

// holding counts a client's chunk fetches (or, with put, its chunk
// puts) and, once limit is reached, holds every later one until its
// context ends (the client stopping half-way through a transfer); it
// closes held, if set, when the all-th is held. With stored set, it
// records the IDs of the chunks the relays took.
type holding struct {
	Network
	put        bool
	limit, all int64
	held       chan struct{}
	n          atomic.Int64
	mu         sync.Mutex
	stored     map[mailbox.ChunkID]bool
}

func (h *holding) Ask(ctx context.Context, exit onion.RelayID, req []byte) ([]byte, error) {
	r, err := mailbox.ParseRequest(req)
	if err != nil || (h.put && r.PutChunk == nil) || (!h.put && r.GetChunk == nil) {
		return h.Network.Ask(ctx, exit, req)
	}
	if n := h.n.Add(1); h.limit > 0 && n > h.limit {
		if n == h.all && h.held != nil {
			close(h.held)
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	b, err := h.Network.Ask(ctx, exit, req)
	if err == nil && h.stored != nil {
		if resp, perr := mailbox.ParseResponse(b); perr == nil && (resp.Status == mailbox.StatusOK || resp.Status == mailbox.StatusExists) {
			h.mu.Lock()
			h.stored[r.PutChunk.ID] = true
			h.mu.Unlock()
		}
	}
	return b, err
}

// TestAttachmentResume: a download stopped half-way (the client closed)
// resumes when the client runs again and fetches only what it lacked.
func TestAttachmentResume(t *testing.T) {
	tn := startNet(t)
	alice := tn.newUser(t, "alice", nil)
	first := &holding{limit: 100}
	bob := tn.newUser(t, "bob", func(n Network) Network { first.Network = n; return first })
	ab, ba := connect(t, alice, bob)
	file := mediatest.Noise(6 << 20) // 205 chunks, padded to 208
	id, err := alice.c.SendFile(context.Background(), ab.ID, writeTemp(t, "f.bin", file), "")
	if err != nil {
		t.Fatal(err)
	}
	bob.await(t, "the message", 60*time.Second, received(id))
	path := filepath.Join(bob.c.opts.AttachmentDir, mustAttachment(t, bob, ba.ID, id).File)
	// Stop once the fetches are held and the writer, which verifies
	// chunks strictly in order and may lag the fetches, has at least
	// half of the 100 in the file.
	waitFor(t, "100 chunk fetches and 50 chunks written", 60*time.Second, func() bool {
		info, err := os.Stat(path)
		return first.n.Load() > 100 && err == nil && info.Size() >= 50*30720
	})
	bob.stop()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	kept := info.Size() / 30720
	// What was fetched and verified in order is kept, never more than
	// was fetched.
	if kept < 50 || kept > 100 {
		t.Fatalf("the stopped download kept %d chunks, want 50 to 100 of the 100 fetched", kept)
	}
	second := &holding{}
	bob = tn.reopen(t, "bob", bob.dir, func(n Network) Network { second.Network = n; return second })
	bob.awaitDownload(t, id, 60*time.Second)
	if got := readAttachment(t, bob, ba.ID, id); !bytes.Equal(got, file) {
		t.Fatal("the resumed file differs")
	}
	// The second run fetched the chunks the file lacked and the 3 of
	// padding, nothing it had.
	if n, want := second.n.Load(), 208-kept; n != want {
		t.Fatalf("the second run fetched %d chunks, want %d (208 less the %d kept)", n, want, kept)
	}
	t.Logf("first run kept %d chunks; the second fetched %d", kept, second.n.Load())
}

// TestUploadResume: an upload stopped half-way (the client closed)
// records every chunk stored before the stop, not only those of its last
// periodic save, and resumes from there when the client runs again.
func TestUploadResume(t *testing.T) {
	tn := startNet(t)
	first := &holding{put: true, limit: 100, all: 100 + transfer.DefaultParallel, held: make(chan struct{}), stored: map[mailbox.ChunkID]bool{}}
	alice := tn.newUser(t, "alice", func(n Network) Network { first.Network = n; return first })
	bob := tn.newUser(t, "bob", nil)
	ab, ba := connect(t, alice, bob)
	file := mediatest.Noise(6 << 20) // 205 chunks, padded to 208
	id, err := alice.c.SendFile(context.Background(), ab.ID, writeTemp(t, "f.bin", file), "")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-first.held:
	case <-time.After(60 * time.Second):
		t.Fatalf("no %d chunk puts within 60s (%d)", first.all, first.n.Load())
	}
	// Stop at once, with every worker held: the periodic save (every
	// 100 ms) has most likely not seen the last chunks stored.
	alice.stop()

	c, _, err := OpenProfile(context.Background(), tn.opts(alice.dir, nil))
	if err != nil {
		t.Fatal(err)
	}
	a := mustAttachment(t, &user{name: "alice", c: c}, ab.ID, id)
	j, err := c.loadJob(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	var prefix int64 // the first chunk no relay took
	for prefix < j.layout.Total() {
		if _, cid, _ := j.layout.Place(prefix); !first.stored[cid] {
			break
		}
		prefix++
	}
	if prefix < 100-transfer.DefaultParallel || a.Done != prefix || a.State != store.Uploading {
		t.Fatalf("the stopped upload recorded %d chunks stored (state %d), want %d, the prefix the relays took of 100", a.Done, a.State, prefix)
	}
	second := &holding{put: true}
	c.Close()
	alice = tn.reopen(t, "alice", alice.dir, func(n Network) Network { second.Network = n; return second })
	alice.await(t, "the upload", 60*time.Second, finished(id))
	bob.await(t, "the message", 60*time.Second, received(id))
	bob.awaitDownload(t, id, 60*time.Second)
	if got := readAttachment(t, bob, ba.ID, id); !bytes.Equal(got, file) {
		t.Fatal("the resumed upload's file differs")
	}
	if n, want := second.n.Load(), 208-prefix; n != want {
		t.Fatalf("the second run put %d chunks, want %d (208 less the %d stored)", n, want, prefix)
	}
	t.Logf("first run stored a prefix of %d chunks; the second put %d", prefix, second.n.Load())
}

func mustAttachment(tb testing.TB, u *user, contact store.ContactID, id content.ID) store.Attachment {
	tb.Helper()
	a, err := u.c.st.Attachment(context.Background(), contact, id)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// TestDisappearingAndRetention: a disappearing timer set by one side is
// applied by both, pinned or not, with the attachment files; local
// retention removes old unpinned messages only.
func TestDisappearingAndRetention(t *testing.T) {
	tn := startNet(t)
	var offset atomic.Int64 // the clients' clock runs ahead by this
	tn.now = func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	alice, bob := tn.newUser(t, "alice", nil), tn.newUser(t, "bob", nil)
	ab, ba := connect(t, alice, bob)
	ctx := context.Background()

	if _, err := alice.c.SetDisappearing(ctx, ab.ID, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	bob.await(t, "the timer", 30*time.Second, func(e Event) bool {
		if e.Kind != EventReceived {
			return false
		}
		_, ok := e.Message.Body.(content.DisappearingTimer)
		return ok
	})
	if c, _ := bob.c.st.Contact(ctx, ba.ID); c.Disappear != 3*time.Second {
		t.Fatalf("bob's timer for alice: %v", c.Disappear)
	}
	text, err := bob.c.SendText(ctx, ba.ID, "gone soon")
	if err != nil {
		t.Fatal(err)
	}
	fileID, err := bob.c.SendFile(ctx, ba.ID, writeTemp(t, "f.bin", mediatest.Noise(40<<10)), "")
	if err != nil {
		t.Fatal(err)
	}
	alice.await(t, "the text", 30*time.Second, received(text))
	alice.awaitDownload(t, fileID, 30*time.Second)
	if err := alice.c.Pin(ctx, ab.ID, text, true); err != nil {
		t.Fatal(err)
	}
	// Within a few seconds both sides have nothing left but the timer
	// messages (which disappear too) and no attachment file.
	waitFor(t, "the messages to disappear", 20*time.Second, func() bool {
		return historyLen(t, alice, ab.ID) == 0 && historyLen(t, bob, ba.ID) == 0 &&
			dirLen(alice.c.opts.AttachmentDir) == 0 && dirLen(bob.c.opts.AttachmentDir) == 0
	})

	// Retention: off with the timer, a day kept on Bob's side.
	if _, err := alice.c.SetDisappearing(ctx, ab.ID, 0); err != nil {
		t.Fatal(err)
	}
	var ids []content.ID
	for _, s := range []string{"one", "two"} {
		id, err := alice.c.SendText(ctx, ab.ID, s)
		if err != nil {
			t.Fatal(err)
		}
		bob.await(t, "a text", 30*time.Second, received(id))
		ids = append(ids, id)
	}
	if err := bob.c.SetRetention(ctx, ba.ID, time.Second); !errors.Is(err, ErrTimer) {
		t.Fatalf("a retention of 1s: %v, want ErrTimer", err)
	}
	if err := bob.c.Pin(ctx, ba.ID, ids[0], true); err != nil {
		t.Fatal(err)
	}
	if err := bob.c.SetRetention(ctx, ba.ID, 24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := historyLen(t, bob, ba.ID); n != 3 { // the timer message and the two texts
		t.Fatalf("bob has %d messages before a day passed, want 3", n)
	}
	offset.Store(int64(25 * time.Hour))
	bob.c.expire(ctx)
	offset.Store(0)
	h, err := bob.c.History(ctx, ba.ID, nil, 10)
	if err != nil || len(h) != 1 || h[0].ID != ids[0] || !h[0].Pinned {
		t.Fatalf("bob's history after a day: %+v, %v; want only the pinned message", h, err)
	}
	if n := historyLen(t, alice, ab.ID); n != 3 {
		t.Fatalf("alice's history (no retention): %d messages, want 3", n)
	}
}

// holdSend wraps a Network and, once armed, holds the next envelope sent
// until released: a message overtaken on the network by a later one.
type holdSend struct {
	Network
	armed   atomic.Bool
	held    chan struct{} // closed when a send is being held
	release chan struct{}
}

func (h *holdSend) Ask(ctx context.Context, exit onion.RelayID, req []byte) ([]byte, error) {
	if r, err := mailbox.ParseRequest(req); err == nil && r.Send != nil && h.armed.CompareAndSwap(true, false) {
		close(h.held)
		select {
		case <-h.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return h.Network.Ask(ctx, exit, req)
}

// TestDisappearingOvertaken: a timer change overtaken on the network
// still governs the messages sent after it (each carries its timer), and
// an older change arriving after a newer one does not undo it.
func TestDisappearingOvertaken(t *testing.T) {
	tn := startNet(t)
	hold := &holdSend{held: make(chan struct{}), release: make(chan struct{})}
	alice := tn.newUser(t, "alice", func(n Network) Network { hold.Network = n; return hold })
	bob := tn.newUser(t, "bob", nil)
	ab, ba := connect(t, alice, bob)
	ctx := context.Background()

	hold.armed.Store(true)
	hour, err := alice.c.SetDisappearing(ctx, ab.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	<-hold.held
	secret, err := alice.c.SendText(ctx, ab.ID, "secret")
	if err != nil {
		t.Fatal(err)
	}
	e := bob.await(t, "the secret", 30*time.Second, received(secret))
	if want := e.Message.ReceivedAt.Add(time.Hour); !e.Message.Expires.Equal(want) {
		t.Fatalf("the secret, ahead of the timer change, expires at %v; want %v (an hour after it arrived)", e.Message.Expires, want)
	}
	off, err := alice.c.SetDisappearing(ctx, ab.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	bob.await(t, "the timer turned off", 30*time.Second, received(off))
	close(hold.release)
	bob.await(t, "the older timer change", 30*time.Second, received(hour))
	if c, _ := bob.c.st.Contact(ctx, ba.ID); c.Disappear != 0 {
		t.Fatalf("bob's timer for alice after the older change arrived last: %v, want off", c.Disappear)
	}
	after, err := bob.c.SendText(ctx, ba.ID, "kept")
	if err != nil {
		t.Fatal(err)
	}
	if e := alice.await(t, "bob's reply", 30*time.Second, received(after)); !e.Message.Expires.IsZero() {
		t.Fatalf("bob's reply expires at %v; want never", e.Message.Expires)
	}
}

func historyLen(tb testing.TB, u *user, contact store.ContactID) int {
	h, err := u.c.History(context.Background(), contact, nil, 100)
	if err != nil {
		tb.Fatal(err)
	}
	return len(h)
}

func dirLen(dir string) int {
	entries, _ := os.ReadDir(dir)
	return len(entries)
}

func waitFor(tb testing.TB, what string, timeout time.Duration, ok func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			tb.Fatalf("no %s within %v", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// heapPeak samples the heap until stop is called and returns its peaks:
// the live heap (as the last garbage collection measured it: what the
// program holds) and the heap in use (live objects and garbage not yet
// collected).
func heapPeak() (stop func() (live, inuse uint64)) {
	var (
		wg        sync.WaitGroup
		done      = make(chan struct{})
		peakLive  uint64
		peakInuse uint64
	)
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	wg.Go(func() {
		for {
			metrics.Read(samples)
			peakLive = max(peakLive, samples[0].Value.Uint64())
			peakInuse = max(peakInuse, samples[1].Value.Uint64())
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	})
	return func() (uint64, uint64) {
		close(done)
		wg.Wait()
		return peakLive, peakInuse
	}
}

// TestLongAttachment100MiB sends 100 MiB end to end over the loopback
// network (relays in a child process), with a flat heap: the clients'
// live heap stays under 64 MiB whatever the file's size.
func TestLongAttachment100MiB(t *testing.T) {
	if testing.Short() {
		t.Skip("100 MiB over the loopback network: make test-long")
	}
	tn := startNetChild(t)
	alice, bob := tn.newUser(t, "alice", nil), tn.newUser(t, "bob", nil)
	ab, ba := connect(t, alice, bob)
	alice.c.opts.MaxAttachment, bob.c.opts.MaxAttachment = 1<<30, 1<<30
	path := filepath.Join(t.TempDir(), "big.bin")
	want := writeNoiseFile(t, path, 100<<20)
	stop := heapPeak()
	start := time.Now()
	id, err := alice.c.SendFile(context.Background(), ab.ID, path, "")
	if err != nil {
		t.Fatal(err)
	}
	bob.awaitDownload(t, id, 10*time.Minute)
	took := time.Since(start)
	live, inuse := stop()
	t.Logf("100 MiB in %v (%.1f MB/s); peak live heap %.1f MiB, peak heap in use (with garbage) %.1f MiB",
		took.Round(time.Millisecond), 100*1.048576/took.Seconds(), float64(live)/(1<<20), float64(inuse)/(1<<20))
	r, _, err := bob.c.OpenAttachment(context.Background(), ba.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatal(err)
	}
	if [32]byte(h.Sum(nil)) != want {
		t.Fatal("the received file differs")
	}
	if live > 64<<20 {
		t.Fatalf("peak live heap %d MiB, want under 64 MiB", live>>20)
	}
}

// writeNoiseFile writes n bytes of noise to path in pieces and returns
// their SHA-256.
func writeNoiseFile(tb testing.TB, path string, n int) [32]byte {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	piece := mediatest.Noise(1 << 20)
	for i := 0; i < n; i += len(piece) {
		p := piece[:min(len(piece), n-i)]
		p[0] = byte(i >> 20) // no two pieces alike
		h.Write(p)
		if _, err := f.Write(p); err != nil {
			tb.Fatal(err)
		}
	}
	return [32]byte(h.Sum(nil))
}
