// SPDX-License-Identifier: AGPL-3.0-or-later

// Package config is hush-relay's configuration file (ARCHITECTURE.md, "The
// relay"): TOML, every setting with a default, unknown keys refused. Load
// reads, applies the defaults and validates; Template writes the commented
// file `hush-relay init` creates, with every default spelled out.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/directory"
)

// FileName is the configuration file's name in the relay's directory.
const FileName = "relay.toml"

// Version is the configuration format version.
const Version = 1

// maxFileSize bounds the configuration file before it is parsed.
const maxFileSize = 1 << 20

var (
	// ErrUnknownKey is returned for a setting this build does not know.
	ErrUnknownKey = errors.New("config: unknown setting")
	// ErrInvalid is returned for a setting with a bad value.
	ErrInvalid = errors.New("config: invalid setting")
	// ErrSyntax is returned for a file that is not valid TOML.
	ErrSyntax = errors.New("config: not a valid TOML file")
)

// Config is a relay's configuration.
type Config struct {
	Version     int    `toml:"version"`
	NetworkFile string `toml:"network_file"` // relative to the relay's directory
	Relay       Relay  `toml:"relay"`
	Web         Web    `toml:"web"`
	Admin       Admin  `toml:"admin"`
	Onion       Onion  `toml:"onion"`
	Directory   Dir    `toml:"directory"`
	Store       Store  `toml:"store"`
	Limits      Limits `toml:"limits"`
	Log         Log    `toml:"log"`
}

// Relay is the gRPC listener.
type Relay struct {
	Listen          string   `toml:"listen"`
	PublicAddress   string   `toml:"public_address"` // "": the listen address
	Capabilities    []string `toml:"capabilities"`
	ShutdownTimeout Duration `toml:"shutdown_timeout"`
}

// Web is the gRPC-Web listener for browsers.
type Web struct {
	Enabled     bool     `toml:"enabled"`
	Listen      string   `toml:"listen"`
	PublicURL   string   `toml:"public_url"` // "": http://<listen>/
	CertFile    string   `toml:"cert_file"`
	KeyFile     string   `toml:"key_file"`
	CORSOrigins []string `toml:"cors_origins"`
}

// Admin is the metrics and health listener.
type Admin struct {
	Listen string `toml:"listen"` // "": no admin listener
	// AllowRemote lets Listen be other than a loopback address. The admin
	// listener is unauthenticated and /backup serves keys and mail.
	AllowRemote bool `toml:"allow_remote"`
}

// Onion is the onion key ring's schedule.
type Onion struct {
	RotationPeriod   Duration `toml:"rotation_period"`
	GracePeriod      Duration `toml:"grace_period"`
	ReplayCacheLimit int      `toml:"replay_cache_limit"`
}

// Dir is how the relay publishes and collects descriptors.
type Dir struct {
	DescriptorLifetime Duration `toml:"descriptor_lifetime"`
	RefreshInterval    Duration `toml:"refresh_interval"`
}

// Log is the log output.
type Log struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // text or json
}

// Duration is a time.Duration written as "24h", "90s".
type Duration struct{ time.Duration }

// UnmarshalText reads a duration such as "1h30m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as time.Duration.String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Defaults returns the configuration of a fresh `hush-relay init`.
func Defaults() Config {
	return Config{
		Version:     Version,
		NetworkFile: "network.toml",
		Relay: Relay{
			Listen:          "127.0.0.1:7443",
			Capabilities:    []string{string(directory.CapChunks), string(directory.CapMailbox)},
			ShutdownTimeout: Duration{40 * time.Second},
		},
		Web: Web{
			Enabled:     true,
			Listen:      "127.0.0.1:7480",
			CORSOrigins: []string{"*"},
		},
		Admin: Admin{Listen: "127.0.0.1:7490"},
		Onion: Onion{
			RotationPeriod:   Duration{onion.DefaultPeriod},
			GracePeriod:      Duration{onion.DefaultGrace},
			ReplayCacheLimit: onion.DefaultCacheLimit,
		},
		Directory: Dir{
			DescriptorLifetime: Duration{24 * time.Hour},
			RefreshInterval:    Duration{10 * time.Minute},
		},
		Store:  defaultStore(),
		Limits: defaultLimits(),
		Log:    Log{Level: "info", Format: "text"},
	}
}

// LoadFile reads and checks the configuration file at path.
func LoadFile(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return Load(data)
}

// Load reads a configuration: settings not in data keep their defaults,
// unknown settings are refused, and the result is validated.
func Load(data []byte) (Config, error) {
	if len(data) > maxFileSize {
		return Config{}, fmt.Errorf("%w: file is over %d bytes", ErrInvalid, maxFileSize)
	}
	c := Defaults()
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&c)
	if err != nil {
		return Config{}, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return Config{}, fmt.Errorf("%w: %s (check the spelling against `hush-relay init`'s file)", ErrUnknownKey, strings.Join(keys, ", "))
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate checks every setting.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalid, key, fmt.Sprintf(format, args...)))
	}
	if c.Version != Version {
		bad("version", "%d, this build reads version %d", c.Version, Version)
	}
	if err := checkListen(c.Relay.Listen); err != nil {
		bad("relay.listen", "%v", err)
	}
	if _, err := c.PublicAddress(); err != nil {
		bad("relay.public_address", "%v", err)
	}
	for _, cp := range c.Relay.Capabilities {
		if cp == string(directory.CapWeb) {
			bad("relay.capabilities", `"web" is added by itself when [web] is enabled`)
		} else if !validCapability(cp) {
			bad("relay.capabilities", "%q is not lower-case letters, digits and '-' (at most %d)", cp, directory.MaxCapabilityLength)
		}
	}
	if c.Relay.ShutdownTimeout.Duration <= 0 {
		bad("relay.shutdown_timeout", "must be positive")
	}
	c.validateWeb(bad)
	if c.Admin.Listen != "" {
		if err := checkListen(c.Admin.Listen); err != nil {
			bad("admin.listen", "%v", err)
		} else if !c.Admin.AllowRemote && !loopback(c.Admin.Listen) {
			bad("admin.listen", "%q is not a loopback address; the admin listener is unauthenticated and /backup serves the onion keys and all mail (set admin.allow_remote = true only behind access control of your own)", c.Admin.Listen)
		}
	}
	c.validateSchedule(bad)
	c.validateStore(bad)
	c.validateLimits(bad)
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		bad("log.level", "%q (want debug, info, warn or error)", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		bad("log.format", "%q (want text or json)", c.Log.Format)
	}
	return errors.Join(errs...)
}

func (c *Config) validateWeb(bad func(string, string, ...any)) {
	if !c.Web.Enabled {
		return
	}
	if err := checkListen(c.Web.Listen); err != nil {
		bad("web.listen", "%v", err)
	}
	if (c.Web.CertFile == "") != (c.Web.KeyFile == "") {
		bad("web.cert_file", "cert_file and key_file go together")
	}
	if c.Web.CertFile == "" && checkListen(c.Web.Listen) == nil && !loopback(c.Web.Listen) {
		bad("web.listen", "%q is not a loopback address: a web listener off loopback needs TLS (cert_file, key_file)", c.Web.Listen)
	}
	if _, err := c.WebURL(); err != nil {
		bad("web.public_url", "%v", err)
	}
}

func (c *Config) validateSchedule(bad func(string, string, ...any)) {
	if c.Onion.RotationPeriod.Duration < time.Hour {
		bad("onion.rotation_period", "%v is under an hour", c.Onion.RotationPeriod)
	}
	if g := c.Onion.GracePeriod.Duration; g <= 0 || g > c.Onion.RotationPeriod.Duration {
		bad("onion.grace_period", "%v must be positive and at most the rotation period", g)
	}
	if c.Onion.ReplayCacheLimit < 1024 {
		bad("onion.replay_cache_limit", "%d is under 1024", c.Onion.ReplayCacheLimit)
	}
	if l := c.Directory.DescriptorLifetime.Duration; l < 10*time.Minute || l > directory.MaxLifetime {
		bad("directory.descriptor_lifetime", "%v must be between 10m and %v", l, directory.MaxLifetime)
	}
	if c.Directory.RefreshInterval.Duration < time.Minute {
		bad("directory.refresh_interval", "%v is under a minute", c.Directory.RefreshInterval)
	}
}

// PublicAddress is the gRPC address the relay's descriptor names. With no
// public_address and port 0 in relay.listen, the relay names the port the
// OS chose.
func (c *Config) PublicAddress() (string, error) {
	addr := c.Relay.PublicAddress
	if addr == "" {
		host, port, err := net.SplitHostPort(c.Relay.Listen)
		if err != nil {
			return "", err
		}
		if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
			return "", errors.New("must be set when relay.listen is on every address")
		}
		addr = c.Relay.Listen
		if port == "0" { // the OS chooses; the relay publishes the bound address
			return addr, nil
		}
	}
	return addr, directory.CheckAddress(addr)
}

// WebURL is the gRPC-Web URL the relay's descriptor names, "" if the web
// listener is off.
func (c *Config) WebURL() (string, error) {
	if !c.Web.Enabled {
		return "", nil
	}
	if c.Web.PublicURL == "" {
		if host, _, _ := net.SplitHostPort(c.Web.Listen); host == "" || net.ParseIP(host).IsUnspecified() {
			return "", errors.New("must be set when web.listen is on every address")
		}
		scheme := "http"
		if c.Web.CertFile != "" {
			scheme = "https"
		}
		return scheme + "://" + c.Web.Listen + "/", nil
	}
	u, err := url.Parse(c.Web.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not an http(s) URL", c.Web.PublicURL)
	}
	return c.Web.PublicURL, nil
}

// loopback reports whether addr's host is localhost or a loopback IP.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkListen(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if port == "" {
		return errors.New("no port")
	}
	return nil
}

func validCapability(s string) bool {
	if s == "" || len(s) > directory.MaxCapabilityLength {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}
