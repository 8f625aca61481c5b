// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"bytes"
	"errors"
	"flag"
	"slices"
	"strings"
	"testing"
	"time"
)

func getenvOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestProfileDirectory(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"flag wins", []string{"--profile", "/p/flag", "contacts"}, map[string]string{"HUSH_PROFILE": "/p/env"}, "/p/flag"},
		{"HUSH_PROFILE", []string{"contacts"}, map[string]string{"HUSH_PROFILE": "/p/env", "XDG_DATA_HOME": "/xdg"}, "/p/env"},
		{"XDG_DATA_HOME", []string{"contacts"}, map[string]string{"XDG_DATA_HOME": "/xdg", "HOME": "/home/u"}, "/xdg/hush"},
		{"relative XDG_DATA_HOME is ignored", []string{"contacts"}, map[string]string{"XDG_DATA_HOME": "xdg", "HOME": "/home/u"}, "/home/u/.local/share/hush"},
		{"HOME", []string{"contacts"}, map[string]string{"HOME": "/home/u"}, "/home/u/.local/share/hush"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, rest, err := parseGlobals(tc.args, getenvOf(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if g.profile != tc.want || !slices.Equal(rest, []string{"contacts"}) {
				t.Errorf("profile %q, rest %q; want %q", g.profile, rest, tc.want)
			}
		})
	}
}

func TestGlobalFlags(t *testing.T) {
	g, rest, err := parseGlobals([]string{"--profile", "/p", "--network", "net.toml", "--passphrase-fd", "3", "send", "--no-wait", "bob", "hi"}, getenvOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if g.network != "net.toml" || g.passFD != 3 || !slices.Equal(rest, []string{"send", "--no-wait", "bob", "hi"}) {
		t.Errorf("got %+v %q", g, rest)
	}
	for _, bad := range [][]string{{"--passphrase-fd", "x", "contacts"}, {"--passphrase-fd", "-1", "contacts"}, {"--nope", "contacts"}} {
		var ue *usageError
		if _, _, err := parseGlobals(bad, getenvOf(map[string]string{"HOME": "/h"})); !errors.As(err, &ue) {
			t.Errorf("%q: err %v, want a usage error", bad, err)
		}
	}
}

func TestParseFlagsInterspersed(t *testing.T) {
	cmd := lookup("history")
	fs := flagSet(cmd)
	limit := fs.Int("limit", 0, "")
	pos, err := parseFlags(cmd, fs, []string{"alice", "--limit", "5", "--", "--bob"})
	if err != nil {
		t.Fatal(err)
	}
	if *limit != 5 || !slices.Equal(pos, []string{"alice", "--bob"}) {
		t.Errorf("limit %d, positional %q", *limit, pos)
	}
}

func TestParseCommands(t *testing.T) {
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"send", "bob", "hi", "there"}, true},
		{[]string{"send", "--no-wait", "bob", "--not-a-flag"}, true},
		{[]string{"send", "bob"}, false},
		{[]string{"send", "bob", "  "}, false},
		{[]string{"send", "--nope", "bob", "hi"}, false},
		{[]string{"accept", "hush:x"}, true},
		{[]string{"accept"}, false},
		{[]string{"accept", "a", "b"}, false},
		{[]string{"contacts"}, true},
		{[]string{"contacts", "x"}, false},
		{[]string{"invite", "--ttl", "1h"}, true},
		{[]string{"invite", "--ttl", "1s"}, false},
		{[]string{"invite", "--ttl", "900h"}, false},
		{[]string{"invite", "--ttl", "7d"}, true},
		{[]string{"invite", "--ttl", "1d12h"}, true},
		{[]string{"invite", "--ttl", "30d"}, true},
		{[]string{"invite", "--ttl", "31d"}, false},
		{[]string{"invite", "--ttl", "7days"}, false},
		{[]string{"history", "bob", "--limit", "3"}, true},
		{[]string{"history", "--limit", "0", "bob"}, false},
		{[]string{"history", "--before", "nonsense", "bob"}, false},
		{[]string{"history"}, false},
		{[]string{"verify", "bob"}, true},
		{[]string{"verify", "--confirm", "--scan", "x.png", "bob"}, false},
		{[]string{"block", "bob"}, true},
		{[]string{"remove"}, false},
		{[]string{"identity", "accept", "bob"}, true},
		{[]string{"identity", "reject", "bob"}, true},
		{[]string{"identity", "maybe", "bob"}, false},
		{[]string{"identity", "accept"}, false},
		{[]string{"send-file", "bob", "a.pdf"}, true},
		{[]string{"send-file", "--caption", "the report", "bob", "a.pdf"}, true},
		{[]string{"send-file", "bob", "a.pdf", "--caption", "late flag"}, true},
		{[]string{"send-file", "bob"}, false},
		{[]string{"send-file", "bob", "a.pdf", "b.pdf"}, false},
		{[]string{"send-file", "bob", ""}, false},
		{[]string{"send-file", "--caption", strings.Repeat("x", 2049), "bob", "a.pdf"}, false},
		{[]string{"send-image", "--caption", "look", "bob", "p.jpg"}, true},
		{[]string{"send-voice", "bob", "memo.ogg"}, true},
		{[]string{"send-voice", "--caption", "no", "bob", "memo.ogg"}, false},
		{[]string{"save", "bob", "a1b2c3", "out.pdf"}, true},
		{[]string{"save", "bob", "a1b2c3"}, false},
		{[]string{"save", "bob", "a1b2c", "out.pdf"}, false},
		{[]string{"save", "bob", "xyzxyz", "out.pdf"}, false},
		{[]string{"save", "bob", "a1b2c3", ""}, false},
		{[]string{"pin", "bob", "A1B2C3D4"}, true},
		{[]string{"pin", "--off", "bob", "a1b2c3"}, true},
		{[]string{"pin", "bob", "a1b2c3", "--off"}, true},
		{[]string{"pin", "bob"}, false},
		{[]string{"pin", "bob", "12345"}, false},
		{[]string{"pin", "bob", "12345g"}, false},
		{[]string{"pin", "bob", strings.Repeat("a", 33)}, false},
		{[]string{"pin", "--forever", "bob", "a1b2c3"}, false},
		{[]string{"retention", "bob", "30d"}, true},
		{[]string{"retention", "bob", "off"}, true},
		{[]string{"retention", "bob", "1m"}, true},
		{[]string{"retention", "bob", "59s"}, false},
		{[]string{"retention", "bob", "0"}, false},
		{[]string{"retention", "bob", "-1h"}, false},
		{[]string{"retention", "bob", "a month"}, false},
		{[]string{"retention", "bob"}, false},
		{[]string{"retention", "30d"}, false},
		{[]string{"disappearing", "bob", "1h"}, true},
		{[]string{"disappearing", "bob", "OFF"}, true},
		{[]string{"disappearing", "bob", "365d"}, true},
		{[]string{"disappearing", "bob", "366d"}, false},
		{[]string{"disappearing", "bob", "500ms"}, false},
		{[]string{"disappearing", "bob", "soon"}, false},
		{[]string{"disappearing", "bob", "1h", "extra"}, false},
	} {
		cmd := lookup(tc.args[0])
		act, err := cmd.parse(cmd, tc.args[1:])
		var ue *usageError
		switch {
		case tc.ok && (err != nil || act == nil):
			t.Errorf("%q: %v", tc.args, err)
		case !tc.ok && !errors.As(err, &ue):
			t.Errorf("%q: err %v, want a usage error", tc.args, err)
		}
	}
}

func TestSendText(t *testing.T) {
	o, err := parseSendOpts(lookup("send"), []string{"--no-wait", "bob", "-1", "is", "--", "fine"})
	if err != nil {
		t.Fatal(err)
	}
	if !o.noWait || o.name != "bob" || o.text != "-1 is -- fine" {
		t.Errorf("got %+v", o)
	}
}

// testApp is an app on buffers, with a fake terminal.
func testApp(t *testing.T, envs map[string]string) (*app, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	a := &app{
		stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, stdinFD: -1, stderrFD: -1,
		lookupEnv: func(k string) (string, bool) {
			v, ok := envs[k]
			return v, ok
		},
		isTerminal: func(int) bool { return false },
		readSecret: func(int) ([]byte, error) { return nil, errors.New("no terminal") },
		wd:         t.TempDir(),
	}
	return a, &stdout, &stderr
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{nil, exitUsage, "hush: error: no command given\nhush: hint: run \"hush help\" for usage\n"},
		{[]string{"frobnicate"}, exitUsage, "hush: error: unknown command \"frobnicate\"\n"},
		{[]string{"send", "bob"}, exitUsage, "hush: error: send: missing arguments\nhush: hint: usage: hush send [--no-wait] NAME TEXT...\n"},
		{[]string{"init"}, exitUsage, "hush: error: init: a network file is needed: hush --network FILE init\n"},
		{[]string{"contacts"}, exitError, "hush: error: no profile in this directory\nhush: hint: create one with"},
		{[]string{"help"}, exitOK, ""},
		{[]string{"send", "--help"}, exitOK, ""},
		{[]string{"history", "bob", "-h"}, exitOK, ""},
	} {
		a, _, stderr := testApp(t, map[string]string{"HOME": t.TempDir()})
		code := a.main(t.Context(), tc.args)
		if code != tc.code || !strings.HasPrefix(stderr.String(), tc.stderr) {
			t.Errorf("%q: exit %d, stderr %q; want %d, %q", tc.args, code, stderr.String(), tc.code, tc.stderr)
		}
	}
}

func TestHelp(t *testing.T) {
	a, stdout, _ := testApp(t, nil)
	if code := a.main(t.Context(), []string{"help", "send"}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if want := "usage: hush send [--no-wait] NAME TEXT...\n"; !strings.HasPrefix(stdout.String(), want) {
		t.Errorf("help send: %q", stdout.String())
	}
	for _, c := range commands {
		if !strings.Contains(usage, "\n  "+c.name+" ") {
			t.Errorf("usage does not list %q", c.name)
		}
	}
}

func TestFlagHelpIsNotAnError(t *testing.T) {
	cmd := lookup("history")
	_, err := cmd.parse(cmd, []string{"-h"})
	if !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

func TestApprox(t *testing.T) {
	for d, want := range map[time.Duration]string{
		7 * 24 * time.Hour: "in 7 days", 5 * time.Hour: "in 5 hours", 30 * time.Minute: "in 30 minutes", time.Minute: "in a minute",
	} {
		if got := approx(d); got != want {
			t.Errorf("approx(%v) = %q, want %q", d, got, want)
		}
	}
}
