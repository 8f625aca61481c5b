// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build unix

package main

import (
	"os"
	"syscall"
	"testing"
)

// giveFD returns a descriptor of f for code that closes what it is
// given: a duplicate, so f's finalizer does not close the same number
// again later, when it may belong to another test's file.
func giveFD(t *testing.T, f *os.File) int {
	t.Helper()
	fd, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	return fd
}
