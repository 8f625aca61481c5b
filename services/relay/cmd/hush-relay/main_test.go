// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/onion/directory"
	"github.com/hushchat/hush/services/relay/config"
	"github.com/hushchat/hush/services/relay/devnet"
	"github.com/hushchat/hush/services/relay/internal/keyfile"
)

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := dispatch(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestInitWritesDefaults(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "relay")
	code, out, errs := runCmd(t, "init", "--dir", dir)
	if code != 0 || !strings.Contains(out, "hushrelay:") {
		t.Fatalf("init: %d %q %q", code, out, errs)
	}
	c, err := config.LoadFile(filepath.Join(dir, config.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, config.Defaults()) {
		t.Fatalf("init's config loads as %+v, not the defaults", c)
	}
	st, err := os.Stat(filepath.Join(dir, keyfile.FileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("identity key: %v %v", st, err)
	}
	k, err := keyfile.Load(filepath.Join(dir, keyfile.FileName))
	if err != nil || !strings.Contains(out, k.Relay().String()) {
		t.Fatalf("init printed %q, key %v", out, err)
	}
	if code, _, errs := runCmd(t, "run", "--dir", dir, "--validate-only"); code != 0 {
		t.Fatalf("validate: %d %q", code, errs)
	}
	if code, _, errs := runCmd(t, "init", "--dir", dir); code != 1 || !strings.Contains(errs, "already exists") {
		t.Fatalf("second init: %d %q", code, errs)
	}
}

func TestValidateOnlyRefusesUnknownKey(t *testing.T) {
	dir := t.TempDir()
	if code, _, _ := runCmd(t, "init", "--dir", dir); code != 0 {
		t.Fatal("init failed")
	}
	path := filepath.Join(dir, config.FileName)
	data, _ := os.ReadFile(path)
	data = bytes.Replace(data, []byte("[admin]\n"), []byte("[admin]\nlisten_on = \"x\"\n"), 1)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs := runCmd(t, "run", "--dir", dir, "--validate-only")
	if code != 1 || !strings.Contains(errs, "admin.listen_on") {
		t.Fatalf("got %d %q", code, errs)
	}
}

func TestUsage(t *testing.T) {
	if code, _, errs := runCmd(t); code != 2 || !strings.Contains(errs, "Usage:") {
		t.Fatal("no arguments")
	}
	if code, _, errs := runCmd(t, "fly"); code != 2 || !strings.Contains(errs, `unknown command "fly"`) {
		t.Fatal("unknown command")
	}
	if code, _, _ := runCmd(t, "run"); code != 2 {
		t.Fatal("run without --dir")
	}
}

// loopbackDir makes an initialised relay directory on OS-chosen ports.
func loopbackDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if code, _, errs := runCmd(t, "init", "--dir", dir); code != 0 {
		t.Fatal(errs)
	}
	c := config.Defaults()
	c.Relay.Listen, c.Web.Listen, c.Admin.Listen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	if err := os.WriteFile(filepath.Join(dir, config.FileName), []byte(config.Template(c)), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestRunStopsOnCancel(t *testing.T) {
	dir := loopbackDir(t)
	opts, err := loadRelay(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- runRelay(ctx, dir, opts, nil, pw); pw.Close() }()
	admin := waitAdmin(t, bufio.NewScanner(pr))
	go io.Copy(io.Discard, pr)
	resp, err := http.Get(admin + "healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not stop")
	}
}

var adminLine = regexp.MustCompile(`admin on (http://\S+/)`)

func waitAdmin(t *testing.T, sc *bufio.Scanner) string {
	t.Helper()
	for sc.Scan() {
		if m := adminLine.FindStringSubmatch(sc.Text()); m != nil {
			return m[1]
		}
	}
	t.Fatal("the relay never printed its admin address")
	return ""
}

func TestNetfile(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	net, err := devnet.Start(ctx, devnet.Options{Relays: 3, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Shutdown(context.Background())
	var specs []string
	for _, r := range net.Relays {
		specs = append(specs, r.ID().String()+"@"+r.Addr())
	}
	out := filepath.Join(t.TempDir(), "network.toml")
	if code, _, errs := runCmd(t, append([]string{"netfile", "--out", out}, specs...)...); code != 0 {
		t.Fatalf("netfile: %q", errs)
	}
	data, _ := os.ReadFile(out)
	nf, err := directory.ParseNetworkFile(data)
	if err != nil || len(nf.Relays) != 3 {
		t.Fatalf("written network file: %v", err)
	}
	for i, r := range net.Relays {
		if nf.Relays[i].ID != r.ID() || nf.Relays[i].Address != r.Addr() || nf.Relays[i].WebAddress != r.WebURL() {
			t.Fatalf("relay %d: %+v", i, nf.Relays[i])
		}
	}
	// The wrong identity for an address is refused by the pinning.
	wrong := net.Relays[1].ID().String() + "@" + net.Relays[0].Addr()
	code, _, errs := runCmd(t, "netfile", "--out", out+".2", wrong)
	if code != 1 || !strings.Contains(errs, "presented "+net.Relays[0].ID().String()) {
		t.Fatalf("wrong identity: %d %q", code, errs)
	}
}

// TestLongRelayProcess runs the hush-relay binary as users do: init, run,
// idle memory, SIGTERM.
func TestLongRelayProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("long test: builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "hush-relay")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dir := loopbackDir(t)
	cmd := exec.Command(bin, "run", "--dir", dir)
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	admin := waitAdmin(t, bufio.NewScanner(stdout))
	go io.Copy(io.Discard, stdout)
	if resp, err := http.Get(admin + "healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v", err)
	}
	time.Sleep(time.Second)
	t.Logf("idle RSS after start: %.1f MiB", float64(vmRSS(t, cmd.Process.Pid))/1024)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "relay stopped") {
		t.Fatalf("no clean stop in the log:\n%s", stderr.String())
	}
}

// vmRSS returns a process's resident set size in KiB.
func vmRSS(t *testing.T, pid int) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skip("no /proc")
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(data)
	if m == nil {
		t.Fatal("no VmRSS")
	}
	kb, _ := strconv.Atoi(string(m[1]))
	return kb
}
