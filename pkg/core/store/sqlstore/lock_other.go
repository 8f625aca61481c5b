// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js && !unix

package sqlstore

import (
	"errors"
	"os"
)

// lockFile is not implemented on this platform yet (Windows needs
// LockFileEx): refusing to open is safer than opening without the lock.
func lockFile(string) (*os.File, error) {
	return nil, errors.New("sqlstore: profile locking is not implemented on this platform")
}

func unlockFile(f *os.File) {
	if f != nil {
		f.Close()
	}
}
