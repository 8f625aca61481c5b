// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

const day = 24 * time.Hour

// errDuration is a duration hush cannot read.
var errDuration = errors.New("not a duration: use a number and a unit, as in 30d, 12h or 90m")

// parseDuration reads a duration as Go writes them (90m, 1h30m, 45s),
// or a whole number of days first (30d, 1d12h). It must be positive.
func parseDuration(s string) (time.Duration, error) {
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseUint(s[:i], 10, 64)
		if err != nil {
			return 0, errDuration
		}
		if n > math.MaxInt64/uint64(day) {
			return 0, errors.New("that duration is too long")
		}
		days, s = time.Duration(n)*day, s[i+1:]
		if s == "" {
			return positive(days)
		}
	}
	if s == "" || s[0] == '-' || s[0] == '+' {
		return 0, errDuration
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errDuration
	}
	if d > math.MaxInt64-days {
		return 0, errors.New("that duration is too long")
	}
	return positive(days + d)
}

func positive(d time.Duration) (time.Duration, error) {
	if d <= 0 {
		return 0, errors.New("the duration must be more than zero (\"off\" turns it off)")
	}
	return d, nil
}

// durationFlag is a flag that parseDuration reads, so a flag takes
// days (7d) like a timer argument does.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return shortDuration(*f.d)
}

func (f durationFlag) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}

// parseTimer reads a timer argument: a duration, or "off" (0).
func parseTimer(cmd *command, s string) (time.Duration, error) {
	if strings.EqualFold(s, "off") {
		return 0, nil
	}
	d, err := parseDuration(s)
	if err != nil {
		return 0, usageErrorf(cmd, "%s: %q: %v", cmd.name, s, err)
	}
	return d, nil
}

// shortDuration writes d the way parseDuration reads it: 30d, 1h,
// 1h30m, 1d12h.
func shortDuration(d time.Duration) string {
	var b strings.Builder
	if d >= day {
		fmt.Fprintf(&b, "%dd", d/day)
		d %= day
	}
	if d > 0 || b.Len() == 0 {
		s := d.String()
		if strings.HasSuffix(s, "m0s") {
			s = strings.TrimSuffix(s, "0s")
		}
		if strings.HasSuffix(s, "h0m") {
			s = strings.TrimSuffix(s, "0m")
		}
		b.WriteString(s)
	}
	return b.String()
}

// longDuration writes d for a sentence: "30 days", "12 hours",
// "90 minutes", or the short form when it is not whole units.
func longDuration(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{day, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}} {
		if d >= u.d && d%u.d == 0 {
			n := int64(d / u.d)
			if n == 1 {
				return "1 " + u.name
			}
			return fmt.Sprintf("%d %ss", n, u.name)
		}
	}
	return shortDuration(d)
}
