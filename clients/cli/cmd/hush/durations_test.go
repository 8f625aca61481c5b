// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30d":    30 * day,
		"1d":     day,
		"12h":    12 * time.Hour,
		"90m":    90 * time.Minute,
		"1h30m":  90 * time.Minute,
		"45s":    45 * time.Second,
		"1d12h":  36 * time.Hour,
		"2d30m":  2*day + 30*time.Minute,
		"365d":   365 * day,
		"1.5h":   90 * time.Minute,
		"1500ms": 1500 * time.Millisecond,
	} {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "30", "1.5d", "-1h", "-1d", "+1h", "0", "0d", "0s", "1d-1h", "1dd", "1w", "banana", "d1",
		"99999999999999999999d", "106752d", "106751d24h", "1d 2h", " 1h"} {
		if d, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q) = %v, want an error", in, d)
		}
	}
}

func TestParseTimer(t *testing.T) {
	cmd := lookup("retention")
	for _, off := range []string{"off", "OFF", "Off"} {
		if d, err := parseTimer(cmd, off); err != nil || d != 0 {
			t.Errorf("parseTimer(%q) = %v, %v", off, d, err)
		}
	}
	var ue *usageError
	if _, err := parseTimer(cmd, "soon"); !errors.As(err, &ue) {
		t.Errorf("parseTimer(soon): %v, want a usage error", err)
	}
}

func TestDurationText(t *testing.T) {
	for d, want := range map[time.Duration][2]string{
		30 * day:                {"30d", "30 days"},
		day:                     {"1d", "1 day"},
		time.Hour:               {"1h", "1 hour"},
		12 * time.Hour:          {"12h", "12 hours"},
		90 * time.Minute:        {"1h30m", "90 minutes"},
		time.Minute:             {"1m", "1 minute"},
		45 * time.Second:        {"45s", "45 seconds"},
		36 * time.Hour:          {"1d12h", "36 hours"},
		day + time.Second:       {"1d1s", "86401 seconds"},
		1500 * time.Millisecond: {"1.5s", "1.5s"},
	} {
		if s, l := shortDuration(d), longDuration(d); s != want[0] || l != want[1] {
			t.Errorf("%v: %q %q, want %q %q", d, s, l, want[0], want[1])
		}
		if want[0] == "1.5s" {
			continue
		}
		// The short form reads back.
		if back, err := parseDuration(shortDuration(d)); err != nil || back != d {
			t.Errorf("parseDuration(shortDuration(%v)) = %v, %v", d, back, err)
		}
	}
}

func TestDurationFlag(t *testing.T) {
	d := time.Hour
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Var(durationFlag{&d}, "ttl", "")
	if err := fs.Parse([]string{"--ttl", "7d"}); err != nil || d != 7*day {
		t.Fatalf("--ttl 7d: %v, %v", d, err)
	}
	if err := fs.Parse([]string{"--ttl", "1d12h"}); err != nil || d != 36*time.Hour {
		t.Fatalf("--ttl 1d12h: %v, %v", d, err)
	}
	err := fs.Parse([]string{"--ttl", "7days"})
	if err == nil || !strings.Contains(err.Error(), errDuration.Error()) || d != 36*time.Hour {
		t.Fatalf("--ttl 7days: %v, %v", d, err)
	}
	if got := fs.Lookup("ttl").Value.String(); got != "1d12h" {
		t.Errorf("String() = %q", got)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"65536": 65536, "1B": 1, "512KiB": 512 << 10, "300MiB": 300 << 20, "2GiB": 2 << 30, "1TiB": 1 << 40,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"0", "-5", "2GB", "2 GiB", "GiB", "1.5GiB", "2gib", "12iB", "99999999TiB", "x"} {
		if n, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, n)
		}
	}
}
