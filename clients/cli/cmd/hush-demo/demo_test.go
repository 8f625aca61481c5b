// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

// TestDemo runs the whole demo (relays, profiles, the network
// conversation, attachments both ways) and checks what it reports.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	d := &demo{out: &out, showQR: true}
	if err := run(context.Background(), d); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	s := out.String()
	for _, want := range []string{
		"embedded bbolt store",
		"store key from the",
		"both sides have a queue each way",
		"invitation was already accepted by someone",
		`"Zoë says hello 🌻"`,
		"each message came back as delivered, then read",
		"Bob is verified in her contacts",
		"█",
		"its EXIF says 48.8584°N 2.2945°E",
		"Alice → Bob   640x480 image/jpeg of",
		"Bob   → Alice 640x480 image/jpeg of",
		"no EXIF block, no GPS tags",
		"field-notes.tar, 10485760 bytes: encrypted, uploaded, downloaded and verified",
		"voice clip (2.5 s): WAV encoded to Ogg/Opus",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	nums := regexp.MustCompile(`(?m)^\s+(Alice sees|Bob sees)\s+((?:\d{5} ){11}\d{5})$`).FindAllStringSubmatch(s, -1)
	if len(nums) != 2 || nums[0][2] != nums[1][2] {
		t.Fatalf("demo does not show the same 60-digit safety number twice: %q", nums)
	}
	if d.step != 11 {
		t.Errorf("demo ran %d steps, want 11", d.step)
	}
	if strings.Contains(s, "FAILED") {
		t.Error("demo output reports a failure")
	}
}
