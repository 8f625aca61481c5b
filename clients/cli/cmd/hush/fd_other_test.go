// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build !unix

package main

import (
	"os"
	"runtime"
	"testing"
)

// giveFD returns f's descriptor for code that closes it, keeping f
// alive until the test ends (its finalizer would close it again).
func giveFD(t *testing.T, f *os.File) int {
	t.Cleanup(func() { runtime.KeepAlive(f) })
	return int(f.Fd())
}
