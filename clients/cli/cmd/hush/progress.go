// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"
)

// A transfer's progress is shown as a bar on stderr, and only when
// stderr is a terminal: piped or logged, a command prints its one final
// line and nothing else. Inside hush listen, a command's progress goes
// to its caller as progress lines (socket.go), and the caller draws the
// bar on its own terminal.

// progressSink shows where a command's transfer stands.
type progressSink interface {
	update(p progress)
	// end removes what update drew, before the command's last lines.
	end()
}

// Progress pacing.
const (
	barRefresh   = 100 * time.Millisecond // the bar is redrawn at most this often
	lineInterval = 100 * time.Millisecond // progress lines to a caller
	barLabel     = 24                     // the longest label before the bar, in runes
)

// barSink draws a progress bar on a terminal: the label, the bar, the
// bytes done of the total, the rate (MB/s) and the time left.
type barSink struct {
	w   io.Writer
	bar *progressbar.ProgressBar
	max int64
}

func newBarSink(w io.Writer) *barSink { return &barSink{w: w} }

func (b *barSink) update(p progress) {
	if p.Total <= 0 {
		return // nothing to draw for an empty file
	}
	if b.bar == nil || b.max != p.Total {
		b.end()
		b.max = p.Total
		b.bar = progressbar.NewOptions64(p.Total,
			progressbar.OptionSetWriter(b.w),
			progressbar.OptionSetDescription(shorten(clean(p.What), barLabel)),
			progressbar.OptionSetWidth(25),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowTotalBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(barRefresh),
			progressbar.OptionSetRenderBlankState(true),
		)
	}
	b.bar.Set64(min(p.Done, p.Total))
}

func (b *barSink) end() {
	if b.bar != nil {
		b.bar.Clear()
		b.bar = nil
	}
}

// lineSink sends progress to the caller of a command run inside hush
// listen, at most every lineInterval, and always the first and the last.
type lineSink struct {
	mu   sync.Mutex
	send func(progress)
	last time.Time
	sent progress
}

func (l *lineSink) update(p progress) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	first := l.last.IsZero()
	if !first && p.Done != p.Total && now.Sub(l.last) < lineInterval || !first && p == l.sent {
		return
	}
	l.last, l.sent = now, p
	l.send(p)
}

func (*lineSink) end() {}

// shorten cuts s to at most n runes, ending it with "…" if it was cut.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// showProgress shows p if the command's output has somewhere to show it.
func (e *env) showProgress(p progress) {
	if e.progress != nil {
		e.progress.update(p)
	}
}

// endProgress removes the progress shown, before the last lines.
func (e *env) endProgress() {
	if e.progress != nil {
		e.progress.end()
	}
}
