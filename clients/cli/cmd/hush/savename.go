// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hushchat/hush/pkg/core/content"
)

// Received files are saved under the name their sender gave, made safe
// first: the name came from someone else. It is one name, never a path
// (separators become "_"); it cannot hide (leading dots go) or pass for
// an option (a leading "-" becomes "_"); control and bidi characters
// become "_"; it fits in maxNameBytes. A name left empty is replaced by
// hush-DATE-ID.EXT, the extension from the MIME type. A file is never
// overwritten: on a clash, " (1)", " (2)" … go before the extension.

const (
	maxNameBytes = 255 // what most file systems allow
	maxClashes   = 10000
)

// safeName returns the sender's file name made safe to create, or a
// name made from the message if nothing usable is left of it.
func safeName(name, mimeType string, at time.Time, id content.ID) string {
	name = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || unsafeRune(r) {
			return '_'
		}
		return r
	}, strings.ToValidUTF8(name, "_"))
	name = strings.TrimRight(strings.TrimLeft(name, ". "), ". ")
	if strings.HasPrefix(name, "-") {
		name = "_" + name[1:]
	}
	if strings.Trim(name, "_ ") == "" {
		name = fmt.Sprintf("hush-%s-%s%s", at.Format("2006-01-02"), id.String()[:8], extByMIME(mimeType))
	}
	stem, ext := splitExt(name)
	return fitName(stem, ext, "")
}

// splitExt splits a name before its extension: "a.tar.gz" is "a" and
// ".tar.gz"; a name without one has ext "".
func splitExt(name string) (stem, ext string) {
	ext = filepath.Ext(name)
	if ext == name || len(ext) > 16 || strings.ContainsRune(ext, ' ') {
		return name, ""
	}
	stem = strings.TrimSuffix(name, ext)
	if inner := filepath.Ext(stem); strings.EqualFold(inner, ".tar") {
		return strings.TrimSuffix(stem, inner), inner + ext
	}
	return stem, ext
}

// fitName joins stem, suffix and ext, cutting the stem (at a character
// boundary) so the name fits in maxNameBytes.
func fitName(stem, ext, suffix string) string {
	room := maxNameBytes - len(ext) - len(suffix)
	for len(stem) > room {
		_, n := utf8.DecodeLastRuneInString(stem)
		stem = stem[:len(stem)-n]
	}
	return stem + suffix + ext
}

// extByMIME returns the usual extension of a MIME type, "" if unknown.
func extByMIME(mimeType string) string {
	t, _, err := mime.ParseMediaType(mimeType)
	if err != nil {
		return ""
	}
	switch t {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/webp":
		return ".webp"
	case "audio/ogg", "audio/opus":
		return ".ogg"
	case "text/plain":
		return ".txt"
	case "application/pdf":
		return ".pdf"
	}
	if exts, err := mime.ExtensionsByType(t); err == nil && len(exts) > 0 {
		return exts[0]
	}
	return ""
}

// clashName is the n-th alternative to name: "a (n).txt".
func clashName(name string, n int) string {
	if n == 0 {
		return name
	}
	stem, ext := splitExt(name)
	return fitName(stem, ext, fmt.Sprintf(" (%d)", n))
}

// saveUnique saves under name in dir, or the first of its alternatives
// that does not exist, and returns the path. save must refuse a path
// that exists (with an error for which errors.Is(err, fs.ErrExist)): a
// file that appears between the check and the save is skipped, never
// overwritten.
func saveUnique(dir, name string, save func(path string) error) (string, error) {
	for n := range maxClashes {
		path := filepath.Join(dir, clashName(name, n))
		if _, err := os.Lstat(path); err == nil {
			continue
		}
		err := save(path)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return path, err
	}
	return "", fmt.Errorf("%s and %d files named like it exist already in %s", name, maxClashes-1, dir)
}
