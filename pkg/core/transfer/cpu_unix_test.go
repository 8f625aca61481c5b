// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build unix

package transfer

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user and system) this process has
// used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
