// SPDX-License-Identifier: AGPL-3.0-or-later

// Package signallog silences go.mau.fi/libsignal's logger.
//
// The library's default logger prints errors to standard output, and its
// debug strings format whole session records and message keys. Importing
// this package (blank import) installs a logger that drops every call
// before anything is written. The library still formats its debug
// arguments before calling the logger; that cost cannot be avoided without
// forking the library (see BenchmarkRatchetOneWay in pkg/core/session for
// how to measure its share).
package signallog

import "go.mau.fi/libsignal/logger"

// discard implements logger.Loggable and drops everything.
type discard struct{}

func (discard) Debug(string, string)   {}
func (discard) Info(string, string)    {}
func (discard) Warning(string, string) {}
func (discard) Error(string, string)   {}
func (discard) Configure(string)       {}

var _ logger.Loggable = discard{}

func init() {
	var l logger.Loggable = discard{}
	logger.Setup(&l)
}

// Installed reports whether the discarding logger is the library's current
// logger. Tests use it to prove the import took effect.
func Installed() bool {
	_, ok := logger.Logger.(discard)
	return ok
}
