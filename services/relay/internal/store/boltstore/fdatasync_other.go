// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build !linux

package boltstore

import "os"

// fdatasync falls back to a full fsync where Go has no fdatasync.
func fdatasync(f *os.File) error { return f.Sync() }
