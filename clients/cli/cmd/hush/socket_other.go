// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build !unix

package main

import (
	"net"
	"os"
)

// listenPrivate listens on a unix socket in the profile directory; on
// platforms without a umask the directory's permissions protect it.
func listenPrivate(path string) (net.Listener, error) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	os.Chmod(path, 0o600)
	return ln, nil
}
