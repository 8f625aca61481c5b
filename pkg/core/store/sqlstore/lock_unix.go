// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js && unix

package sqlstore

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockFile opens path and takes an exclusive flock on it without
// waiting. flock locks belong to the open file, so a second Open in the
// same process is refused too. The lock ends when the file is closed,
// also when the process dies.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open lock file: %w", err)
	}
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, ErrLocked
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("sqlstore: lock profile: %w", err)
	}
	return f, nil
}

// unlockFile releases the lock by closing the file. The file stays:
// removing it would race with another process opening it.
func unlockFile(f *os.File) { f.Close() }
