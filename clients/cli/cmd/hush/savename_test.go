// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hushchat/hush/pkg/core/content"
)

func TestSafeName(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	var id content.ID
	copy(id[:], "\x1a\x2b\x3c\x4d\x5e\x6f")
	for _, tc := range []struct{ name, mime, want string }{
		{"report.pdf", "application/pdf", "report.pdf"},
		{"README", "", "README"},
		{"photo.JPG", "image/jpeg", "photo.JPG"},
		{"ünïcödé 名前.txt", "", "ünïcödé 名前.txt"},
		{".bashrc", "", "bashrc"},
		{"..hidden.tar.gz", "", "hidden.tar.gz"},
		{"../../etc/passwd", "", "_.._etc_passwd"},
		{"/etc/passwd", "", "_etc_passwd"},
		{`C:\Windows\win.ini`, "", "C:_Windows_win.ini"},
		{"-rf", "", "_rf"},
		{"a\x1b[31mred.txt", "", "a_[31mred.txt"},
		{"evil\u202etxt.exe", "", "evil_txt.exe"},
		{"line\nbreak", "", "line_break"},
		{"trailing. . ", "", "trailing"},
		{"bad\xffutf8", "", "bad_utf8"},
		{"", "image/jpeg", "hush-2026-03-04-1a2b3c4d.jpg"},
		{"", "audio/ogg; codecs=opus", "hush-2026-03-04-1a2b3c4d.ogg"},
		{"", "application/x-unknown-thing", "hush-2026-03-04-1a2b3c4d"},
		{"", "", "hush-2026-03-04-1a2b3c4d"},
		{".", "image/png", "hush-2026-03-04-1a2b3c4d.png"},
		{"..", "", "hush-2026-03-04-1a2b3c4d"},
		{"///", "", "hush-2026-03-04-1a2b3c4d"},
		{" ", "", "hush-2026-03-04-1a2b3c4d"},
	} {
		if got := safeName(tc.name, tc.mime, at, id); got != tc.want {
			t.Errorf("safeName(%q, %q) = %q, want %q", tc.name, tc.mime, got, tc.want)
		}
	}
}

func TestSafeNameLong(t *testing.T) {
	long := strings.Repeat("é", 200) + ".txt" // 404 bytes
	got := safeName(long, "", time.Now(), content.ID{})
	if len(got) > maxNameBytes || !utf8.ValidString(got) || !strings.HasSuffix(got, "é.txt") {
		t.Errorf("safeName of a long name: %d bytes, %q", len(got), got)
	}
	clash := clashName(got, 12)
	if len(clash) > maxNameBytes || !utf8.ValidString(clash) || !strings.HasSuffix(clash, " (12).txt") {
		t.Errorf("clashName of a long name: %d bytes, %q", len(clash), clash)
	}
}

func TestClashName(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		want string
	}{
		{"a.txt", 0, "a.txt"},
		{"a.txt", 1, "a (1).txt"},
		{"a.txt", 2, "a (2).txt"},
		{"README", 1, "README (1)"},
		{"archive.tar.gz", 1, "archive (1).tar.gz"},
		{"photo.final.jpg", 3, "photo.final (3).jpg"},
		{"hidden", 1, "hidden (1)"},
		{"v1.2 notes", 1, "v1.2 notes (1)"},
		{"x.averyveryverylongextension", 1, "x.averyveryverylongextension (1)"},
	} {
		if got := clashName(tc.name, tc.n); got != tc.want {
			t.Errorf("clashName(%q, %d) = %q, want %q", tc.name, tc.n, got, tc.want)
		}
	}
}

// saveNew is a save function that refuses to overwrite, as
// core.SaveAttachment does.
func saveNew(data string) func(string) error {
	return func(path string) error {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("save: %w", err)
		}
		defer f.Close()
		_, err = f.WriteString(data)
		return err
	}
}

func TestSaveUnique(t *testing.T) {
	dir := t.TempDir()
	for i, want := range []string{"a.txt", "a (1).txt", "a (2).txt"} {
		path, err := saveUnique(dir, "a.txt", saveNew(fmt.Sprint(i)))
		if err != nil || path != filepath.Join(dir, want) {
			t.Fatalf("save %d: %q, %v; want %s", i, path, err, want)
		}
	}
	for i, want := range []string{"0", "1", "2"} {
		b, _ := os.ReadFile(filepath.Join(dir, clashName("a.txt", i)))
		if string(b) != want {
			t.Errorf("%s holds %q, want %q: a file was overwritten", clashName("a.txt", i), b, want)
		}
	}
	// A directory or a dangling symlink of the name counts as taken.
	os.Mkdir(filepath.Join(dir, "README"), 0o700)
	os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "README (1)"))
	if path, err := saveUnique(dir, "README", saveNew("x")); err != nil || path != filepath.Join(dir, "README (2)") {
		t.Errorf("README: %q, %v", path, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nowhere")); err == nil {
		t.Error("saved through a dangling symlink")
	}
}

// A file that appears between the check and the save is skipped.
func TestSaveUniqueRace(t *testing.T) {
	dir := t.TempDir()
	calls := 0
	path, err := saveUnique(dir, "b.bin", func(p string) error {
		calls++
		if calls == 1 {
			os.WriteFile(p, []byte("theirs"), 0o600) // someone else was faster
			return fmt.Errorf("save: %s: %w", p, fs.ErrExist)
		}
		return saveNew("ours")(p)
	})
	if err != nil || path != filepath.Join(dir, "b (1).bin") {
		t.Fatalf("got %q, %v", path, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "b.bin")); string(b) != "theirs" {
		t.Errorf("b.bin holds %q", b)
	}
	// Other errors end it.
	boom := errors.New("disk full")
	if _, err := saveUnique(dir, "c.bin", func(string) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("error: %v", err)
	}
}
