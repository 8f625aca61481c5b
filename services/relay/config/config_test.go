// SPDX-License-Identifier: AGPL-3.0-or-later

package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestTemplateRoundTripsDefaults(t *testing.T) {
	got, err := Load([]byte(Template(Defaults())))
	if err != nil {
		t.Fatalf("load the template: %v", err)
	}
	if !reflect.DeepEqual(got, Defaults()) {
		t.Fatalf("template loads as\n%+v\nwant the defaults\n%+v", got, Defaults())
	}
}

func TestTemplateRoundTripsChanges(t *testing.T) {
	c := Defaults()
	c.Relay.Listen = "[::]:443"
	c.Relay.PublicAddress = "relay.example.org:443"
	c.Web.PublicURL = "https://relay.example.org/hush"
	c.Web.CertFile, c.Web.KeyFile = "/etc/tls/cert.pem", "/etc/tls/key.pem"
	c.Admin.Listen = ""
	c.Onion.GracePeriod = Duration{3 * time.Hour}
	c.Log.Format = "json"
	got, err := Load([]byte(Template(c)))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("got\n%+v\nwant\n%+v", got, c)
	}
	if u, _ := got.WebURL(); u != "https://relay.example.org/hush" {
		t.Fatalf("web URL %q", u)
	}
}

func TestEmptyFileIsDefaults(t *testing.T) {
	got, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, Defaults()) {
		t.Fatalf("empty file gives %+v", got)
	}
	if a, _ := got.PublicAddress(); a != "127.0.0.1:7443" {
		t.Fatalf("public address %q, want the listen address", a)
	}
	if u, _ := got.WebURL(); u != "http://127.0.0.1:7480/" {
		t.Fatalf("web URL %q", u)
	}
}

func TestUnknownKeyRejected(t *testing.T) {
	for _, in := range []string{
		"colour = 1\n",
		"[relay]\nlisten = \"127.0.0.1:1\"\nlisen = \"x\"\n",
		"[nope]\na = 1\n",
	} {
		_, err := Load([]byte(in))
		if !errors.Is(err, ErrUnknownKey) {
			t.Errorf("%q: got %v, want ErrUnknownKey", in, err)
		}
	}
	_, err := Load([]byte("[relay]\nlisen = \"x\"\n"))
	if err == nil || !strings.Contains(err.Error(), "relay.lisen") {
		t.Fatalf("error %v does not name the key", err)
	}
}

func TestInvalidValues(t *testing.T) {
	for key, in := range map[string]string{
		"version":                       "version = 2\n",
		"relay.listen":                  "[relay]\nlisten = \"nowhere\"\n",
		"relay.public_address":          "[relay]\nlisten = \"0.0.0.0:7443\"\n",
		"relay.capabilities":            "[relay]\ncapabilities = [\"Mail Box\"]\n",
		"relay.shutdown_timeout":        "[relay]\nshutdown_timeout = \"0s\"\n",
		"web.public_url":                "[web]\npublic_url = \"ftp://x\"\n",
		"web.cert_file":                 "[web]\ncert_file = \"c.pem\"\n",
		"onion.rotation_period":         "[onion]\nrotation_period = \"1m\"\n",
		"onion.grace_period":            "[onion]\ngrace_period = \"48h\"\n",
		"onion.replay_cache_limit":      "[onion]\nreplay_cache_limit = 3\n",
		"directory.descriptor_lifetime": "[directory]\ndescriptor_lifetime = \"800h\"\n",
		"log.level":                     "[log]\nlevel = \"loud\"\n",
	} {
		_, err := Load([]byte(in))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: got %v, want ErrInvalid naming it", key, err)
		}
	}
	if _, err := Load([]byte("[relay\n")); !errors.Is(err, ErrSyntax) {
		t.Errorf("broken TOML: got %v", err)
	}
	if _, err := Load([]byte("[onion]\ngrace_period = \"soon\"\n")); !errors.Is(err, ErrSyntax) {
		t.Errorf("bad duration: got %v", err)
	}
}

func TestLoadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	if err := os.WriteFile(path, []byte(Template(Defaults())), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(path + ".missing"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestStoreAndLimitsSections(t *testing.T) {
	tmpl := Template(Defaults())
	for _, line := range []string{
		"[store]", "envelope_ttl = \"504h0m0s\"", "max_queue_bytes = 15360000", "max_bytes = 53687091200", "queue_idle_ttl = \"1080h0m0s\"",
		"[limits]", "creates_per_second = 50.0", "sends_per_second = 2000.0", "burst = \"10s\"",
	} {
		if !strings.Contains(tmpl, "\n"+line+"\n") {
			t.Errorf("template lacks the line %q", line)
		}
	}
	c := Defaults()
	c.Store = Store{
		EnvelopeTTL: Duration{7 * 24 * time.Hour}, MaxChunkTTL: Duration{48 * time.Hour},
		MaxQueueEnvelopes: 10, MaxQueueBytes: 200_000, MaxQueues: 5000, MaxChunks: 70, MaxBytes: 1 << 30,
		QueueIdleTTL: Duration{60 * 24 * time.Hour},
	}
	c.Limits = Limits{CreatesPerSecond: 0.5, SendsPerSecond: 120, ChunksPerSecond: 7.25, Burst: Duration{4 * time.Second}}
	got, err := Load([]byte(Template(c)))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if !reflect.DeepEqual(got, c) {
		t.Fatalf("got\n%+v\nwant\n%+v", got, c)
	}
	sl := got.Store.StoreLimits()
	if sl.EnvelopeTTL != 7*24*time.Hour || sl.MaxChunkTTL != 48*time.Hour || sl.MaxQueueEnvelopes != 10 ||
		sl.MaxQueueBytes != 200_000 || sl.MaxQueues != 5000 || sl.MaxChunks != 70 || sl.MaxBytes != 1<<30 ||
		sl.QueueIdleTTL != 60*24*time.Hour {
		t.Fatalf("store limits %+v", sl)
	}
	el := got.Limits.ExitLimits()
	if el.CreatesPerSecond != 0.5 || el.SendsPerSecond != 120 || el.ChunksPerSecond != 7.25 || el.Burst != 4*time.Second {
		t.Fatalf("exit limits %+v", el)
	}
	// An integer where a rate is expected is read as that many per second.
	if got, err := Load([]byte("[limits]\nsends_per_second = 300\n")); err != nil || got.Limits.SendsPerSecond != 300 {
		t.Fatalf("integer rate: %+v, %v", got.Limits, err)
	}
	for _, in := range []string{"[store]\nmax_queue = 3\n", "[limits]\nsend_per_second = 3.0\n"} {
		if _, err := Load([]byte(in)); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("%q: got %v, want ErrUnknownKey", in, err)
		}
	}
}

func TestStoreAndLimitsInvalid(t *testing.T) {
	for key, in := range map[string]string{
		"store.envelope_ttl":        "[store]\nenvelope_ttl = \"59m\"\n",
		"store.max_chunk_ttl":       "[store]\nmax_chunk_ttl = \"0s\"\n",
		"store.max_queue_envelopes": "[store]\nmax_queue_envelopes = 0\n",
		"store.max_queue_bytes":     "[store]\nmax_queue_bytes = 15359\n",
		"store.max_queues":          "[store]\nmax_queues = -1\n",
		"store.max_chunks":          "[store]\nmax_chunks = 0\n",
		"store.max_bytes":           "[store]\nmax_bytes = 1000\n",
		"store.queue_idle_ttl":      "[store]\nqueue_idle_ttl = \"0s\"\n",
		"limits.creates_per_second": "[limits]\ncreates_per_second = 0.0\n",
		"limits.sends_per_second":   "[limits]\nsends_per_second = nan\n",
		"limits.chunks_per_second":  "[limits]\nchunks_per_second = inf\n",
		"limits.burst":              "[limits]\nburst = \"0s\"\n",
	} {
		_, err := Load([]byte(in))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: got %v, want ErrInvalid naming it", key, err)
		}
	}
	// The idle TTL must be above the invitation lifetime, and above the
	// envelope TTL, with messages that say which.
	for in, why := range map[string]string{
		"[store]\nqueue_idle_ttl = \"720h\"\n":                          "longest an invitation",
		"[store]\nqueue_idle_ttl = \"800h\"\nenvelope_ttl = \"900h\"\n": "envelope_ttl",
	} {
		_, err := Load([]byte(in))
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "store.queue_idle_ttl") || !strings.Contains(err.Error(), why) {
			t.Errorf("%q: got %v, want ErrInvalid about %s", in, err, why)
		}
	}
	if c, err := Load([]byte("[store]\nqueue_idle_ttl = \"721h\"\n")); err != nil || c.Store.QueueIdleTTL.Duration != 721*time.Hour {
		t.Errorf("idle TTL just above the invitation lifetime: %+v, %v", c.Store, err)
	}
	// A rate too low to let one request through per burst.
	_, err := Load([]byte("[limits]\ncreates_per_second = 0.05\nburst = \"10s\"\n"))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "limits.creates_per_second") {
		t.Errorf("rate × burst under one: got %v", err)
	}
}

// TestListenersOffLoopback: the admin listener (unauthenticated, serves
// /backup) and a plain-HTTP web listener stay on loopback unless the
// operator says otherwise.
func TestListenersOffLoopback(t *testing.T) {
	for name, edit := range map[string]func(*Config){
		"admin on all interfaces": func(c *Config) { c.Admin.Listen = "0.0.0.0:7490" },
		"admin on a LAN address":  func(c *Config) { c.Admin.Listen = "192.168.1.20:7490" },
		"plain web off loopback":  func(c *Config) { c.Web.Enabled, c.Web.Listen = true, "0.0.0.0:7480" },
	} {
		c := Defaults()
		edit(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	for name, edit := range map[string]func(*Config){
		"admin on [::1]":        func(c *Config) { c.Admin.Listen = "[::1]:7490" },
		"admin remote, allowed": func(c *Config) { c.Admin.Listen, c.Admin.AllowRemote = "0.0.0.0:7490", true },
		"no admin":              func(c *Config) { c.Admin.Listen = "" },
	} {
		c := Defaults()
		edit(&c)
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
