// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build linux

package boltstore

import (
	"os"
	"syscall"
)

// fdatasync flushes f's data, and only the metadata needed to read it
// back (its size when that changed), not its times.
func fdatasync(f *os.File) error {
	c, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := c.Control(func(fd uintptr) {
		for {
			serr = syscall.Fdatasync(int(fd))
			if serr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return os.NewSyscallError("fdatasync", serr)
	}
	return nil
}
