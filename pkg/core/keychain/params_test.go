// SPDX-License-Identifier: AGPL-3.0-or-later

package keychain

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
)

var writeVectors = flag.Bool("write-vectors", false, "rewrite "+vectorFile+" from fixed inputs")

const vectorFile = "testdata/argon2id_v1.json"

// vector is one known answer: a passphrase, a parameter file and the key
// Argon2id gives.
type vector struct {
	Passphrase string `json:"passphrase"`
	Params     string `json:"params"`
	Key        string `json:"key"`
}

func vectorParams() []Params {
	salt := func(b byte) (s [SaltSize]byte) {
		for i := range s {
			s[i] = b + byte(i)
		}
		return s
	}
	return []Params{
		{Salt: salt(1), Time: 1, Memory: 64, Threads: 1},
		{Salt: salt(0x40), Time: 2, Memory: 1024, Threads: 4},
		{Salt: salt(0xa0), Time: DefaultTime, Memory: DefaultMemory, Threads: DefaultThreads},
	}
}

// TestWriteVectors regenerates the known-answer file when run with
// -write-vectors; otherwise it does nothing.
func TestWriteVectors(t *testing.T) {
	if !*writeVectors {
		t.Skip("run with -write-vectors to regenerate " + vectorFile)
	}
	var out []vector
	for i, p := range vectorParams() {
		pass := []string{"correct horse battery staple", "pässwörd ✓", "x"}[i]
		k, err := DeriveKey([]byte(pass), p)
		if err != nil {
			t.Fatal(err)
		}
		text, _ := p.MarshalText()
		out = append(out, vector{Passphrase: pass, Params: string(text), Key: hex.EncodeToString(k.k[:])})
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	if err := os.WriteFile(vectorFile, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestArgon2idVectors(t *testing.T) {
	b, err := os.ReadFile(vectorFile)
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) != len(vectorParams()) {
		t.Fatalf("%d vectors, want %d", len(vs), len(vectorParams()))
	}
	for i, v := range vs {
		p, err := ParseParams([]byte(v.Params))
		if err != nil {
			t.Fatalf("vector %d: %v", i, err)
		}
		if p != vectorParams()[i] {
			t.Errorf("vector %d: parsed %+v, want %+v", i, p, vectorParams()[i])
		}
		k, err := DeriveKey([]byte(v.Passphrase), p)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(k.k[:]); got != v.Key {
			t.Errorf("vector %d: key %s, want %s", i, got, v.Key)
		}
	}
}

func TestParamsRoundTrip(t *testing.T) {
	p, err := NewParams()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := SaveParams(dir, ParamsFile, p); err != nil {
		t.Fatal(err)
	}
	back, err := LoadParams(dir)
	if err != nil || back != p {
		t.Fatalf("LoadParams = %+v, %v; want %+v", back, err, p)
	}
	q, _ := NewParams()
	if q.Salt == p.Salt {
		t.Error("two NewParams share a salt")
	}
}

func TestParseParamsRefuses(t *testing.T) {
	good, _ := vectorParams()[1].MarshalText()
	swap := func(old, new string) []byte { return bytes.Replace(good, []byte(old), []byte(new), 1) }
	cases := map[string][]byte{
		"empty":            nil,
		"no final newline": good[:len(good)-1],
		"extra line":       append(bytes.Clone(good), "x 1\n"...),
		"version 2":        swap("v1", "v2"),
		"kdf":              swap("argon2id", "argon2i"),
		"salt short":       swap("salt 40", "salt 4"),
		"salt upper":       swap("salt 40", "salt 4A"),
		"time 0":           swap("time 2", "time 0"),
		"time huge":        swap("time 2", "time 65"),
		"leading zero":     swap("time 2", "time 02"),
		"sign":             swap("time 2", "time +2"),
		"memory low":       swap("memory 1024", "memory 31"),
		"memory huge":      swap("memory 1024", "memory 4194305"),
		"threads 0":        swap("threads 4", "threads 0"),
		"threads 256":      swap("threads 4", "threads 256"),
		"keylen":           swap("keylen 32", "keylen 64"),
		"order":            swap("time 2\nmemory 1024", "memory 1024\ntime 2"),
		"crlf":             bytes.ReplaceAll(good, []byte("\n"), []byte("\r\n")),
		"two spaces":       swap("time 2", "time  2"),
		"too long":         append(bytes.Clone(good), strings.Repeat("#", 300)...),
	}
	for name, b := range cases {
		if _, err := ParseParams(b); !errors.Is(err, ErrParams) {
			t.Errorf("%s: err = %v, want ErrParams", name, err)
		}
	}
	if _, err := ParseParams(good); err != nil {
		t.Fatalf("the good file: %v", err)
	}
}

func FuzzParseParams(f *testing.F) {
	for _, p := range vectorParams() {
		b, _ := p.MarshalText()
		f.Add(b)
		for i := range len(b) * 8 {
			if i%7 == 0 {
				c := bytes.Clone(b)
				c[i/8] ^= 1 << (i % 8)
				f.Add(c)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseParams(b)
		if err != nil {
			if !errors.Is(err, ErrParams) {
				t.Fatalf("error does not wrap ErrParams: %v", err)
			}
			return
		}
		again, err := p.MarshalText()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted input does not re-encode to itself: %q vs %q (%v)", b, again, err)
		}
	})
}
