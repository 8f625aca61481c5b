// SPDX-License-Identifier: AGPL-3.0-or-later

package keyfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hushchat/hush/pkg/onion/directory"
)

func TestCreateLoad(t *testing.T) {
	k, err := directory.GenerateSigningKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), FileName)
	if err := Create(path, k); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), Prefix) || len(data) != len(Prefix)+43+1 {
		t.Fatalf("file content has the wrong shape (%d bytes)", len(data))
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(k) || back.Relay() != k.Relay() {
		t.Fatal("loaded key differs")
	}
	if err := Create(path, k); !errors.Is(err, ErrExists) {
		t.Fatalf("second Create: %v", err)
	}
}

func TestLoadRefusesOpenPermissions(t *testing.T) {
	k, _ := directory.GenerateSigningKey(nil)
	path := filepath.Join(t.TempDir(), FileName)
	if err := Create(path, k); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); !errors.Is(err, ErrPermissions) {
		t.Fatalf("got %v, want ErrPermissions", err)
	}
}

func TestParseRefuses(t *testing.T) {
	valid := Prefix + strings.Repeat("A", 43)
	if _, err := Parse([]byte(valid + "\n")); err != nil {
		t.Fatalf("valid: %v", err)
	}
	for _, in := range []string{
		"", Prefix, "hushid-secret:" + strings.Repeat("A", 43),
		Prefix + strings.Repeat("A", 42), Prefix + strings.Repeat("A", 44),
		Prefix + strings.Repeat("A", 42) + "=", Prefix + strings.Repeat("A", 42) + "B", // non-canonical last char
	} {
		if _, err := Parse([]byte(in)); !errors.Is(err, ErrFormat) {
			t.Errorf("%q: got %v, want ErrFormat", in, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	k, _ := directory.GenerateSigningKey(nil)
	dir := f.TempDir()
	path := filepath.Join(dir, FileName)
	if err := Create(path, k); err != nil {
		f.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	f.Add(data)
	for _, i := range []int{0, len(Prefix), len(data) - 2} {
		b := append([]byte(nil), data...)
		b[i] ^= 1
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		k, err := Parse(in)
		if err != nil {
			return
		}
		if k.Relay().IsZero() {
			t.Fatal("parsed a key with no identity")
		}
	})
}
