// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build unix

package main

import (
	"net"
	"os"
	"sync"
	"syscall"
)

// umaskMu keeps two sockets of this process from being created at once
// with their umasks crossed (tests run several).
var umaskMu sync.Mutex

// listenPrivate listens on a unix socket that only its owner can use:
// created under a umask of 0177, so it is 0600 from the first instant,
// and chmod'ed again in case the file system ignored the umask.
func listenPrivate(path string) (net.Listener, error) {
	umaskMu.Lock()
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	umaskMu.Unlock()
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}
