// SPDX-License-Identifier: AGPL-3.0-or-later

package transfer

import (
	"sync"
	"time"
)

// progressEvery is how often, at most, the Progress and Stored callbacks
// are called while a transfer runs. Each is called once more at the end.
const progressEvery = 100 * time.Millisecond

// reporter calls report(false) every progressEvery from its own goroutine
// until finish, which calls report(true) from the caller's goroutine
// after that goroutine has ended: report never runs twice at once, and
// never after finish returns.
type reporter struct {
	report func(final bool)
	stop   chan struct{}
	done   sync.WaitGroup
}

func startReporter(report func(final bool)) *reporter {
	r := &reporter{report: report, stop: make(chan struct{})}
	r.done.Go(func() {
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				r.report(false)
			case <-r.stop:
				return
			}
		}
	})
	return r
}

func (r *reporter) finish() {
	close(r.stop)
	r.done.Wait()
	r.report(true)
}

// counter reports a value to fn when it changed since the last call, or
// at the end whatever it is. Only the reporter's goroutine uses it.
type counter struct {
	fn    func(done, total int64)
	total int64
	last  int64
	sent  bool
}

func (c *counter) report(v int64, final bool) {
	if c.fn == nil || (!final && c.sent && v == c.last) {
		return
	}
	c.fn(v, c.total)
	c.last, c.sent = v, true
}
