// SPDX-License-Identifier: AGPL-3.0-or-later

package keychain

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/hushchat/hush/pkg/internal/secret"
)

// EnvPassphrase is the environment variable scripts set to give the
// passphrase non-interactively.
const EnvPassphrase = "HUSH_PASSPHRASE"

// MaxPassphrase bounds a passphrase, in bytes.
const MaxPassphrase = 1024

// ErrPassphraseTooLong is returned for a passphrase over MaxPassphrase.
var ErrPassphraseTooLong = fmt.Errorf("keychain: the passphrase is longer than %d bytes", MaxPassphrase)

// PassphraseFromEnv returns the passphrase in HUSH_PASSPHRASE, and false
// if the variable is not set. The result must be kept secret.
func PassphraseFromEnv() ([]byte, bool) {
	v, ok := os.LookupEnv(EnvPassphrase)
	if !ok {
		return nil, false
	}
	return []byte(v), true
}

// ReadPassphraseFD reads one line from the open file descriptor fd (the
// --passphrase-fd N of scripts) and closes it. The result must be kept
// secret.
func ReadPassphraseFD(fd uintptr) ([]byte, error) {
	f := os.NewFile(fd, "passphrase descriptor")
	if f == nil {
		return nil, fmt.Errorf("keychain: file descriptor %d is not valid", fd)
	}
	defer f.Close()
	return ReadPassphrase(f)
}

// ReadPassphrase reads one line from r: the bytes up to a newline or the
// end of input, without the newline or a carriage return before it. It
// reads one byte at a time so nothing after the line is consumed. The
// result must be kept secret.
func ReadPassphrase(r io.Reader) ([]byte, error) {
	buf := make([]byte, 0, MaxPassphrase+1)
	var b [1]byte
	for {
		n, err := r.Read(b[:])
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			if len(buf) == MaxPassphrase+1 {
				secret.Zero(buf)
				return nil, ErrPassphraseTooLong
			}
			buf = append(buf, b[0])
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			secret.Zero(buf)
			return nil, fmt.Errorf("keychain: read passphrase: %w", err)
		}
	}
	if len(buf) > 0 && buf[len(buf)-1] == '\r' {
		buf[len(buf)-1] = 0
		buf = buf[:len(buf)-1]
	}
	if err := CheckPassphrase(buf); err != nil {
		secret.Zero(buf)
		return nil, err
	}
	return buf, nil
}

// CheckPassphrase refuses an empty passphrase (ErrEmptyPassphrase) and
// one over MaxPassphrase bytes (ErrPassphraseTooLong), wherever it came
// from.
func CheckPassphrase(p []byte) error {
	switch {
	case len(p) == 0:
		return ErrEmptyPassphrase
	case len(p) > MaxPassphrase:
		return ErrPassphraseTooLong
	}
	return nil
}
