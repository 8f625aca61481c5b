// SPDX-License-Identifier: AGPL-3.0-or-later

package keychain

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/crypto/argon2"

	"github.com/hushchat/hush/pkg/internal/atomicfile"
	"github.com/hushchat/hush/pkg/internal/secret"
)

// ParamsFile is the name of the parameter file in a profile directory.
const ParamsFile = "keyparams"

// SaltSize is the size of the Argon2id salt.
const SaltSize = 16

// Defaults for new parameters: RFC 9106's second recommended option
// (t=3, 64 MiB), with 4 lanes.
const (
	DefaultTime    = 3
	DefaultMemory  = 64 << 10 // KiB: 64 MiB
	DefaultThreads = 4
)

// Bounds a parameter file must respect, so a tampered file cannot make
// opening a profile take hours or all the memory.
const (
	maxTime   = 64
	maxMemory = 4 << 20 // KiB: 4 GiB
	minMemPer = 8       // KiB per lane: Argon2's minimum
	paramsMax = 256     // bytes: a valid file is about 110
)

// Params are the stored Argon2id parameters of the passphrase path.
type Params struct {
	Salt    [SaltSize]byte
	Time    uint32 // passes
	Memory  uint32 // KiB
	Threads uint8
}

// NewParams returns the default parameters with a fresh random salt.
func NewParams() (Params, error) {
	p := Params{Time: DefaultTime, Memory: DefaultMemory, Threads: DefaultThreads}
	if _, err := io.ReadFull(rand.Reader, p.Salt[:]); err != nil {
		return Params{}, fmt.Errorf("keychain: read randomness: %w", err)
	}
	return p, nil
}

// DeriveKey returns Argon2id(passphrase, p), the store key. The key must
// be kept secret.
func DeriveKey(passphrase []byte, p Params) (*Key, error) {
	if len(passphrase) == 0 {
		return nil, ErrEmptyPassphrase
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	raw := argon2.IDKey(passphrase, p.Salt[:], p.Time, p.Memory, p.Threads, KeySize)
	defer secret.Zero(raw)
	return keyFromBytes(raw)
}

func (p Params) validate() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("%w: time %d is outside 1 to %d", ErrParams, p.Time, maxTime)
	case p.Threads < 1:
		return fmt.Errorf("%w: threads is 0", ErrParams)
	case p.Memory < minMemPer*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("%w: memory %d KiB is outside %d to %d", ErrParams, p.Memory, minMemPer*uint32(p.Threads), maxMemory)
	}
	return nil
}

// MarshalText returns the parameter file's contents.
func (p Params) MarshalText() ([]byte, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	return fmt.Appendf(nil, "hush keyparams v1\nkdf argon2id\nsalt %x\ntime %d\nmemory %d\nthreads %d\nkeylen %d\n",
		p.Salt[:], p.Time, p.Memory, p.Threads, KeySize), nil
}

// ParseParams reads a parameter file's contents (see the package doc).
func ParseParams(b []byte) (Params, error) {
	var p Params
	if len(b) > paramsMax {
		return p, fmt.Errorf("%w: %d bytes, at most %d", ErrParams, len(b), paramsMax)
	}
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) != 8 || len(lines[7]) != 0 {
		return p, fmt.Errorf("%w: want 7 lines ending in a newline", ErrParams)
	}
	if string(lines[0]) != "hush keyparams v1" {
		return p, fmt.Errorf("%w: first line is not \"hush keyparams v1\"", ErrParams)
	}
	vals := make([]string, 0, 6)
	for i, name := range []string{"kdf", "salt", "time", "memory", "threads", "keylen"} {
		v, ok := bytes.CutPrefix(lines[i+1], []byte(name+" "))
		if !ok {
			return p, fmt.Errorf("%w: line %d is not %q", ErrParams, i+2, name)
		}
		vals = append(vals, string(v))
	}
	return p, p.fill(vals)
}

// fill sets p from the values of lines 2 to 7, in order.
func (p *Params) fill(v []string) error {
	if v[0] != "argon2id" {
		return fmt.Errorf("%w: kdf %q, want argon2id", ErrParams, v[0])
	}
	if len(v[1]) != 2*SaltSize || v[1] != hexLower(v[1]) {
		return fmt.Errorf("%w: salt is not %d lower-case hex digits", ErrParams, 2*SaltSize)
	}
	if _, err := hex.Decode(p.Salt[:], []byte(v[1])); err != nil {
		return fmt.Errorf("%w: salt is not hex", ErrParams)
	}
	t, err1 := number(v[2], 32)
	m, err2 := number(v[3], 32)
	th, err3 := number(v[4], 8)
	kl, err4 := number(v[5], 32)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return fmt.Errorf("%w: a number is not canonical decimal", ErrParams)
	}
	if kl != KeySize {
		return fmt.Errorf("%w: keylen %d, want %d", ErrParams, kl, KeySize)
	}
	p.Time, p.Memory, p.Threads = uint32(t), uint32(m), uint8(th)
	return p.validate()
}

// number parses canonical decimal: no sign, no leading zero, fits bits.
func number(s string, bits int) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, bits)
	if err != nil || strconv.FormatUint(n, 10) != s {
		return 0, ErrParams
	}
	return n, nil
}

func hexLower(s string) string {
	b, err := hex.DecodeString(s)
	if err != nil {
		return ""
	}
	return hex.EncodeToString(b)
}

// LoadParams reads dir's parameter file. A missing file gives an error
// that satisfies errors.Is(err, fs.ErrNotExist).
func LoadParams(dir string) (Params, error) {
	b, err := os.ReadFile(filepath.Join(dir, ParamsFile))
	if err != nil {
		return Params{}, fmt.Errorf("keychain: read key parameters: %w", err)
	}
	return ParseParams(b)
}

// SaveParams writes dir's parameter file atomically under name (ParamsFile
// or a pending name): a temporary file, fsync, rename, fsync of dir.
func SaveParams(dir, name string, p Params) error {
	b, err := p.MarshalText()
	if err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, name), b); err != nil {
		return fmt.Errorf("keychain: write key parameters: %w", err)
	}
	return nil
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("keychain: %w", err)
	}
	return nil
}
