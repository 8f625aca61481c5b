// SPDX-License-Identifier: AGPL-3.0-or-later

// Package keyfile stores a relay's Ed25519 identity key in its data
// directory (ARCHITECTURE.md, "The relay"): one line,
// "hushrelay-secret:" and the unpadded base64url of the 32-byte seed, in a
// file only its owner may read. Create makes it, Load reads it.
package keyfile

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/hushchat/hush/pkg/onion/directory"
)

// FileName is the identity key file's name in the relay's directory.
const FileName = "identity.key"

// Prefix starts the key file's content.
const Prefix = "hushrelay-secret:"

// fileMode is the key file's permissions: the owner only.
const fileMode fs.FileMode = 0o600

// maxFileSize bounds what Load reads: the prefix, 43 characters, a newline
// and some slack for a CR.
const maxFileSize = len(Prefix) + 43 + 2

var (
	// ErrFormat is returned for a file that is not a relay identity key.
	ErrFormat = errors.New("keyfile: not a relay identity key file (want \"hushrelay-secret:\" and 43 base64url characters)")
	// ErrPermissions is returned for a key file others may read or write.
	ErrPermissions = errors.New("keyfile: identity key file is readable or writable by others (chmod 600 it)")
	// ErrExists is returned by Create when the file is already there.
	ErrExists = errors.New("keyfile: identity key file already exists (refusing to replace a relay's identity)")
)

// Create writes k to path, which must not exist.
func Create(path string, k *directory.SigningKey) error {
	seed := k.Seed()
	defer clear(seed)
	line := make([]byte, 0, maxFileSize)
	line = append(line, Prefix...)
	line = base64.RawURLEncoding.AppendEncode(line, seed)
	line = append(line, '\n')
	defer clear(line)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s", ErrExists, path)
	}
	if err != nil {
		return fmt.Errorf("keyfile: %w", err)
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("keyfile: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("keyfile: sync %s: %w", path, err)
	}
	return f.Close()
}

// Load reads the identity key at path.
func Load(path string) (*directory.SigningKey, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("keyfile: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %v", ErrPermissions, path, st.Mode().Perm())
	}
	if st.Size() > int64(maxFileSize) {
		return nil, fmt.Errorf("%w: %s is %d bytes", ErrFormat, path, st.Size())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keyfile: %w", err)
	}
	defer clear(data)
	return Parse(data)
}

// Parse reads the content of a key file.
func Parse(data []byte) (*directory.SigningKey, error) {
	body, ok := bytes.CutPrefix(bytes.TrimRight(data, "\r\n"), []byte(Prefix))
	if !ok || base64.RawURLEncoding.DecodedLen(len(body)) != directory.SeedSize {
		return nil, ErrFormat
	}
	var seed [directory.SeedSize]byte
	n, err := base64.RawURLEncoding.Strict().Decode(seed[:], body)
	if err != nil || n != directory.SeedSize {
		clear(seed[:])
		return nil, ErrFormat
	}
	return directory.NewSigningKey(seed), nil
}
