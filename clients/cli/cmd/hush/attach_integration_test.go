// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hushchat/hush/pkg/core/media/mediatest"
)

// TestCLIAttachments sends a file, a picture and a voice clip with the
// hush binary over a loopback network, the recipient saving what
// arrives with hush listen --save-dir; then the size limit, the hand-over
// of an upload to the sender's own hush listen, history, save, pin,
// retention and the disappearing timer.
func TestCLIAttachments(t *testing.T) {
	bin, network := startCLINet(t)
	alice := newUser(t, bin, network, "alice")
	bob := newUser(t, bin, network, "bob")
	bob.ok(t, "accept", strings.TrimSpace(alice.ok(t, "invite")))
	al := alice.listen(t)
	saveDir := t.TempDir()
	bl := bob.listen(t, "--save-dir", saveDir)
	al.waitFor(t, "bob is now a contact")
	waitPending(t, bob, "alice")
	// Without her hush listen, alice's commands run the client themselves.
	al.stop(t)

	files := t.TempDir()
	big := writeFile(t, files, "big.bin", randomBytes(t, 1<<20))
	out, stderr, code := alice.run(t, "send-file", "bob", big)
	if code != 0 || out != "sent big.bin (1.0 MiB) to bob\n" || stderr != "" {
		t.Fatalf("send-file: exit %d, %q, %q", code, out, stderr)
	}
	bl.waitFor(t, "alice: [file \"big.bin\", 1.0 MiB]")
	bl.waitFor(t, "saved "+filepath.Join(saveDir, "big.bin")+" (1.0 MiB) from alice")
	sameFile(t, big, filepath.Join(saveDir, "big.bin"))

	photo := writeFile(t, files, "photo.jpg", gpsJPEG(t))
	if out := alice.ok(t, "send-image", "--caption", "the view", "bob", photo); !regexp.MustCompile(`^sent photo\.jpg \(\d+\.\d KiB\) to bob\n$`).MatchString(out) {
		t.Errorf("send-image printed %q", out)
	}
	bl.waitFor(t, "alice: [image \"photo.jpg\", 640x480, ")
	bl.waitFor(t, "] the view")
	bl.waitFor(t, "saved "+filepath.Join(saveDir, "photo.jpg"))
	savedPhoto := readFile(t, filepath.Join(saveDir, "photo.jpg"))
	got := savedPhoto
	if markers := jpegSegments(t, got); slices.Contains(markers, 0xE1) || bytes.Contains(got, []byte("Exif")) || bytes.Contains(got, []byte("GPS")) {
		t.Errorf("the picture arrived with metadata: markers % x", markers)
	}

	voice := filepath.Join("testdata", "voice.ogg")
	if out := alice.ok(t, "send-voice", "bob", voice); !strings.HasPrefix(out, "sent voice.ogg (") {
		t.Errorf("send-voice printed %q", out)
	}
	bl.waitFor(t, "alice: [voice clip \"voice.ogg\", 0:02, ")
	bl.waitFor(t, "saved "+filepath.Join(saveDir, "voice.ogg"))
	got = readFile(t, filepath.Join(saveDir, "voice.ogg"))
	if !bytes.HasPrefix(got, []byte("OggS")) || !bytes.Contains(got, []byte("OpusHead")) || bytes.Contains(got, []byte("hush tests")) {
		t.Errorf("the voice clip arrived wrong (or with its tags): %q…", got[:min(len(got), 200)])
	}

	// Over the size limit: refused before anything is sent.
	before := alice.ok(t, "history", "bob")
	limited := *alice
	limited.env = append(slices.Clone(alice.env), EnvMaxAttachment+"=65536")
	out, stderr, code = limited.run(t, "send-file", "bob", big)
	if code != exitError || out != "" || !strings.Contains(stderr, "too large") || !strings.Contains(stderr, "the limit is 64.0 KiB") ||
		strings.Count(stderr, "\n") != 1 {
		t.Errorf("send-file over the limit: exit %d, %q, %q", code, out, stderr)
	}
	if after := alice.ok(t, "history", "bob"); after != before {
		t.Errorf("the refused file is in history:\n%s", after)
	}

	// With her hush listen running, alice's send-file hands over to it.
	al = alice.listen(t)
	out, stderr, code = alice.run(t, "send-file", "--caption", "again", "bob", big)
	if code != 0 || out != "sent big.bin (1.0 MiB) to bob\n" || stderr != "" {
		t.Fatalf("send-file handed over: exit %d, %q, %q", code, out, stderr)
	}
	al.waitFor(t, "sent to bob")
	// The same name again: saved beside the first, never over it.
	bl.waitFor(t, "saved "+filepath.Join(saveDir, "big (1).bin")+" (1.0 MiB) from alice")
	sameFile(t, big, filepath.Join(saveDir, "big (1).bin"))
	sameFile(t, big, filepath.Join(saveDir, "big.bin"))

	hist := bob.ok(t, "history", "alice")
	for _, want := range []string{`alice: [file "big.bin", 1.0 MiB, downloaded]`, `alice: [image "photo.jpg", 640x480, `,
		`alice: [voice clip "voice.ogg", 0:02, `, `alice: [file "big.bin", 1.0 MiB, downloaded] again`} {
		if !strings.Contains(hist, want) {
			t.Errorf("bob's history has no %q:\n%s", want, hist)
		}
	}
	m := regexp.MustCompile(`(?m)^([0-9a-f]{8}) \[[^]]+\] alice: \[image "photo.jpg"`).FindStringSubmatch(hist)
	if m == nil {
		t.Fatalf("no ID for the picture in:\n%s", hist)
	}
	id := m[1]

	// hush save: never over an existing file.
	taken := writeFile(t, files, "taken.jpg", []byte("mine"))
	out, stderr, code = bob.run(t, "save", "alice", id, taken)
	if code != exitError || out != "" || !strings.Contains(stderr, "exists; hush never overwrites a file") {
		t.Errorf("save onto a file: exit %d, %q, %q", code, out, stderr)
	}
	if string(readFile(t, taken)) != "mine" {
		t.Error("save overwrote a file")
	}
	fresh := filepath.Join(files, "fresh.jpg")
	if out := bob.ok(t, "save", "alice", id[:6], fresh); out != "saved "+fresh+" ("+size(int64(len(savedPhoto)))+")\n" {
		t.Errorf("save printed %q", out)
	}
	sameFile(t, filepath.Join(saveDir, "photo.jpg"), fresh)

	// hush pin.
	if out := bob.ok(t, "pin", "alice", id[:6]); out != "pinned message "+id+" with alice: retention keeps it\n" {
		t.Errorf("pin printed %q", out)
	}
	if hist := bob.ok(t, "history", "alice"); !regexp.MustCompile(`(?m)^` + id + ` .*\[image "photo.jpg".*  \[pinned\]$`).MatchString(hist) {
		t.Errorf("no [pinned] mark:\n%s", hist)
	}
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"pin", "alice", "zz"}, exitUsage, "is not a message ID"},
		{[]string{"pin", "alice", "abc"}, exitUsage, "at least 6 characters"},
		{[]string{"pin", "alice", "0000000000000000"}, exitError, "no message with alice has an ID starting with 0000000000000000"},
		{[]string{"pin", "carol", id}, exitError, "no such contact"},
		{[]string{"retention", "alice", "10s"}, exitUsage, "at least 1 minute"},
		{[]string{"retention", "alice", "a month"}, exitUsage, "not a duration"},
		{[]string{"disappearing", "alice", "forever"}, exitUsage, "not a duration"},
		{[]string{"disappearing", "alice", "400d"}, exitUsage, "at most 365d"},
		{[]string{"disappearing", "alice"}, exitUsage, "missing arguments"},
	} {
		out, stderr, code := bob.run(t, tc.args...)
		if code != tc.code || out != "" || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%q: exit %d, %q, %q", tc.args, code, out, stderr)
		}
	}

	// Retention is local; the disappearing timer is told to the contact.
	if out := alice.ok(t, "retention", "bob", "30d"); out != "messages with bob older than 30 days are deleted from this device (pinned ones are kept)\n" {
		t.Errorf("retention printed %q", out)
	}
	out, stderr, code = alice.run(t, "disappearing", "bob", "1h")
	if code != 0 || !strings.HasPrefix(out, "messages with bob now disappear from both devices 1 hour after") ||
		!strings.Contains(stderr, "pinning does not keep disappearing messages") {
		t.Errorf("disappearing: exit %d, %q, %q", code, out, stderr)
	}
	bl.waitFor(t, "alice set disappearing messages to 1h")
	if hist := bob.ok(t, "history", "alice"); !strings.Contains(hist, "] alice set disappearing messages to 1h\n") {
		t.Errorf("bob's history has no timer:\n%s", hist)
	}
	if hist := alice.ok(t, "history", "bob"); !strings.Contains(hist, "] you set disappearing messages to 1h\n") {
		t.Errorf("alice's history has no timer:\n%s", hist)
	}

	// A disappearing message's attachment is not saved in the save
	// directory, where its timer could not remove it.
	secret := writeFile(t, files, "secret.bin", randomBytes(t, 1000))
	alice.ok(t, "send-file", "bob", secret)
	bl.waitFor(t, "downloaded secret.bin (1000 B) from alice")
	if !strings.Contains(bl.errs.String(), "a disappearing message's attachment is not saved in "+saveDir) {
		t.Errorf("no hint about the unsaved disappearing attachment:\n%s", bl.errs.String())
	}
	if _, err := os.Stat(filepath.Join(saveDir, "secret.bin")); err == nil {
		t.Error("a disappearing message's attachment was saved")
	}

	// What arrives while no listen saves is saved by the next listen
	// --save-dir; nothing saved before is saved again.
	alice.ok(t, "disappearing", "bob", "off")
	bl.waitFor(t, "alice turned disappearing messages off")
	bl.stop(t)
	bl = bob.listen(t)
	later := writeFile(t, files, "later.bin", randomBytes(t, 2000))
	alice.ok(t, "send-file", "bob", later)
	bl.waitFor(t, "downloaded later.bin (2.0 KiB) from alice")
	bl.stop(t)
	bl = bob.listen(t, "--save-dir", saveDir)
	bl.waitFor(t, "saved "+filepath.Join(saveDir, "later.bin")+" (2.0 KiB) from alice")
	sameFile(t, later, filepath.Join(saveDir, "later.bin"))
	if n := strings.Count(bl.out.String(), "saved "); n != 1 {
		t.Errorf("the second listen saved %d files, want 1:\n%s", n, bl.out.String())
	}

	al.stop(t)
	bl.stop(t)
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sameFile(t *testing.T, want, got string) {
	t.Helper()
	if !bytes.Equal(readFile(t, want), readFile(t, got)) {
		t.Errorf("%s differs from %s", got, want)
	}
}

// gpsJPEG is a photo with an EXIF block (APP1) holding a GPS position,
// as a phone camera writes one.
func gpsJPEG(t *testing.T) []byte {
	t.Helper()
	photo, err := mediatest.Photo()
	if err != nil {
		t.Fatal(err)
	}
	if got := jpegSegments(t, photo); !slices.Contains(got, 0xE1) || !bytes.Contains(photo, []byte("Exif")) {
		t.Fatalf("the test photo has no EXIF block: % x", got)
	}
	return photo
}

// jpegSegments lists the markers of a JPEG's segments up to its first
// scan.
func jpegSegments(t *testing.T, j []byte) []byte {
	t.Helper()
	if !bytes.HasPrefix(j, []byte{0xFF, 0xD8}) {
		t.Fatalf("not a JPEG: % x", j[:min(len(j), 4)])
	}
	var markers []byte
	for i := 2; i+4 <= len(j); {
		if j[i] != 0xFF {
			t.Fatalf("no marker at offset %d", i)
		}
		markers = append(markers, j[i+1])
		if j[i+1] == 0xDA {
			break
		}
		i += 2 + int(binary.BigEndian.Uint16(j[i+2:]))
	}
	return markers
}
