// SPDX-License-Identifier: AGPL-3.0-or-later

package keychain

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// envKeyringStep is set by .ci/keyring-test.sh, which runs these tests
// under dbus-run-session with an unlocked gnome-keyring.
const envKeyringStep = "HUSH_KEYRING_TEST"

func TestKeyRedactedAndEqual(t *testing.T) {
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	hexKey := string(k.AppendHex(nil))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		for _, v := range []any{k, *k} {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, hexKey[:8]) || !strings.Contains(s, "redacted") {
				t.Errorf("%s printed %q", verb, s)
			}
		}
	}
	k2, _ := keyFromBytes(k.k[:])
	other, _ := NewKey()
	if !k.Equal(k2) || k.Equal(other) {
		t.Error("Equal is wrong")
	}
	k2.Destroy()
	if k2.k != [KeySize]byte{} || k.Equal(k2) {
		t.Error("Destroy did not zero the key")
	}
}

func TestReadPassphrase(t *testing.T) {
	long := strings.Repeat("p", MaxPassphrase)
	cases := []struct {
		in, want string
		err      error
	}{
		{"secret\nrest", "secret", nil},
		{"secret\r\n", "secret", nil},
		{"no newline", "no newline", nil},
		{long + "\n", long, nil},
		{long + "\r\n", long, nil},
		{long + "x\n", "", ErrPassphraseTooLong},
		{"\n", "", ErrEmptyPassphrase},
		{"", "", ErrEmptyPassphrase},
	}
	for _, c := range cases {
		r := strings.NewReader(c.in)
		got, err := ReadPassphrase(r)
		if !errors.Is(err, c.err) || string(got) != c.want {
			t.Errorf("ReadPassphrase(%.20q) = %.20q, %v; want %.20q, %v", c.in, got, err, c.want, c.err)
		}
		if c.in == "secret\nrest" && r.Len() != len("rest") {
			t.Errorf("read past the line: %d bytes left, want 4", r.Len())
		}
	}
}

func TestReadPassphraseFD(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() { fmt.Fprint(w, "from a pipe\n"); w.Close() }()
	got, err := ReadPassphraseFD(r.Fd())
	if err != nil || string(got) != "from a pipe" {
		t.Fatalf("ReadPassphraseFD = %q, %v", got, err)
	}
}

func TestPassphraseFromEnv(t *testing.T) {
	t.Setenv(EnvPassphrase, "env secret")
	if p, ok := PassphraseFromEnv(); !ok || string(p) != "env secret" {
		t.Fatalf("PassphraseFromEnv = %q, %v", p, ok)
	}
	os.Unsetenv(EnvPassphrase)
	if _, ok := PassphraseFromEnv(); ok {
		t.Fatal("PassphraseFromEnv found an unset variable")
	}
}

// fakeKeychain is a keychain in memory, or one that fails with err.
type fakeKeychain struct {
	mu   sync.Mutex
	keys map[string]*Key
	err  error
}

func (f *fakeKeychain) Get(_ context.Context, user string) (*Key, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	k, ok := f.keys[user]
	if !ok {
		return nil, ErrNotFound
	}
	return keyFromBytes(k.k[:])
}

func (f *fakeKeychain) Set(_ context.Context, user string, k *Key) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if f.keys == nil {
		f.keys = map[string]*Key{}
	}
	f.keys[user], _ = keyFromBytes(k.k[:])
	return nil
}

func (f *fakeKeychain) Delete(context.Context, string) error { return f.err }

func pass(s string) func() ([]byte, error) {
	return func() ([]byte, error) { return []byte(s), nil }
}

func TestResolveKeychain(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	kc := &fakeKeychain{}
	k1, src, err := Resolve(ctx, Request{Dir: dir, New: true, Keychain: kc})
	if err != nil || src != FromKeychain {
		t.Fatalf("new profile: %v, %v; want the keychain", src, err)
	}
	k2, src, err := Resolve(ctx, Request{Dir: dir, Keychain: kc})
	if err != nil || src != FromKeychain || !k1.Equal(k2) {
		t.Fatalf("existing profile: %v, %v, same key %v", src, err, k1.Equal(k2))
	}
	if _, err := os.Stat(filepath.Join(dir, ParamsFile)); !errors.Is(err, os.ErrNotExist) {
		t.Error("the keychain path wrote a parameter file")
	}
	if _, _, err := Resolve(ctx, Request{Dir: t.TempDir(), Keychain: kc}); !errors.Is(err, ErrKeyMissing) {
		t.Errorf("existing profile with no key: err = %v, want ErrKeyMissing", err)
	}
	down := &fakeKeychain{err: ErrTimeout}
	if _, _, err := Resolve(ctx, Request{Dir: dir, Keychain: down, Passphrase: pass("x")}); !errors.Is(err, ErrTimeout) {
		t.Errorf("keychain profile, keychain down: err = %v, want ErrTimeout (a passphrase cannot help)", err)
	}
}

func TestResolveNoKeychainNeedsPassphrase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	down := &fakeKeychain{err: ErrUnavailable}
	if _, _, err := Resolve(ctx, Request{Dir: dir, New: true, Keychain: down}); !errors.Is(err, ErrNeedPassphrase) {
		t.Fatalf("no keychain, no passphrase: err = %v, want ErrNeedPassphrase", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("a refused Resolve left %d files", len(entries))
	}
	k1, src, err := Resolve(ctx, Request{Dir: dir, New: true, Keychain: down, Passphrase: pass("hunter2")})
	if err != nil || src != FromPassphrase {
		t.Fatalf("no keychain, passphrase: %v, %v", src, err)
	}
	// From now on the profile is a passphrase profile, keychain or not.
	up := &fakeKeychain{}
	if _, _, err := Resolve(ctx, Request{Dir: dir, Keychain: up}); !errors.Is(err, ErrNeedPassphrase) {
		t.Fatalf("passphrase profile without passphrase: err = %v, want ErrNeedPassphrase", err)
	}
	k2, src, err := Resolve(ctx, Request{Dir: dir, Keychain: up, Passphrase: pass("hunter2")})
	if err != nil || src != FromPassphrase || !k1.Equal(k2) {
		t.Fatalf("reopen: %v, %v, same key %v", src, err, k1.Equal(k2))
	}
	k3, _, _ := Resolve(ctx, Request{Dir: dir, Keychain: up, Passphrase: pass("wrong")})
	if k3 == nil || k3.Equal(k1) {
		t.Fatal("a wrong passphrase gave the same key")
	}
}

// fakeStore is a Rekeyer that remembers its key, or fails.
type fakeStore struct {
	key *Key
	err error
}

func (f *fakeStore) Rekey(_ context.Context, k *Key) error {
	if f.err != nil {
		return f.err
	}
	f.key, _ = keyFromBytes(k.k[:])
	return nil
}

func (f *fakeStore) verify(_ context.Context, k *Key) error {
	if !f.key.Equal(k) {
		return errors.New("wrong key")
	}
	return nil
}

func TestChangePassphrase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	req := Request{Dir: dir, New: true, UsePassphrase: true, Keychain: &fakeKeychain{}, Passphrase: pass("old")}
	k, _, err := Resolve(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	db := &fakeStore{key: k}
	if _, err := ChangePassphrase(ctx, dir, &fakeStore{err: errors.New("disk full")}, []byte("new")); err == nil {
		t.Fatal("a failed rekey was not reported")
	}
	nk, err := ChangePassphrase(ctx, dir, db, []byte("new"))
	if err != nil || !db.key.Equal(nk) {
		t.Fatalf("ChangePassphrase: %v", err)
	}
	req.New, req.Passphrase = false, pass("new")
	if got, _, err := Resolve(ctx, req); err != nil || !got.Equal(nk) {
		t.Fatalf("Resolve with the new passphrase: %v", err)
	}
	if _, err := ChangePassphrase(ctx, t.TempDir(), db, []byte("x")); !errors.Is(err, ErrNotPassphrase) {
		t.Errorf("keychain profile: err = %v, want ErrNotPassphrase", err)
	}
}

func TestInterruptedChange(t *testing.T) {
	ctx := context.Background()
	for _, rekeyed := range []bool{false, true} {
		dir := t.TempDir()
		k, _, err := Resolve(ctx, Request{Dir: dir, New: true, UsePassphrase: true, Passphrase: pass("old")})
		if err != nil {
			t.Fatal(err)
		}
		db := &fakeStore{key: k}
		p, _ := NewParams()
		if err := SaveParams(dir, pendingFile, p); err != nil {
			t.Fatal(err)
		}
		typed := "old"
		if rekeyed { // the crash came after the rekey
			db.key, _ = DeriveKey([]byte("new"), p)
			typed = "new"
		}
		req := Request{Dir: dir, Passphrase: pass(typed)}
		if _, _, err := Resolve(ctx, req); err == nil {
			t.Fatal("an interrupted change was resolved without Verify")
		}
		req.Verify = db.verify
		got, _, err := Resolve(ctx, req)
		if err != nil || !got.Equal(db.key) {
			t.Fatalf("rekeyed=%v: Resolve: %v", rekeyed, err)
		}
		if _, err := os.Stat(filepath.Join(dir, pendingFile)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("rekeyed=%v: the pending file is still there", rekeyed)
		}
	}
}

func TestProfileUser(t *testing.T) {
	a, _ := ProfileUser("/home/u/.hush")
	b, _ := ProfileUser("/home/u/.hush/")
	c, _ := ProfileUser("/home/u/.hush2")
	if a != b || a == c || !strings.HasPrefix(a, "profile-") || len(a) != len("profile-")+32 {
		t.Errorf("ProfileUser: %q %q %q", a, b, c)
	}
}

// TestKeychainSecretService runs against the real Secret Service that
// .ci/keyring-test.sh starts.
func TestKeychainSecretService(t *testing.T) {
	if os.Getenv(envKeyringStep) == "" {
		t.Skip("needs a Secret Service: make test-keychain runs this under dbus-run-session with gnome-keyring")
	}
	ctx := context.Background()
	kc := OS{}
	user, _ := ProfileUser(t.TempDir())
	k, _ := NewKey()
	if _, err := kc.Get(ctx, user); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before Set: err = %v, want ErrNotFound", err)
	}
	if err := kc.Set(ctx, user, k); err != nil {
		t.Fatal(err)
	}
	got, err := kc.Get(ctx, user)
	if err != nil || !got.Equal(k) {
		t.Fatalf("Get after Set: %v, same key %v", err, got != nil && got.Equal(k))
	}
	if err := kc.Delete(ctx, user); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.Get(ctx, user); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
	}
	// Resolve end to end on the real keychain.
	dir := t.TempDir()
	k1, src, err := Resolve(ctx, Request{Dir: dir, New: true})
	if err != nil || src != FromKeychain {
		t.Fatalf("Resolve new: %v, %v", src, err)
	}
	k2, _, err := Resolve(ctx, Request{Dir: dir})
	if err != nil || !k1.Equal(k2) {
		t.Fatalf("Resolve existing: %v", err)
	}
	u, _ := ProfileUser(dir)
	kc.Delete(ctx, u)
}

// TestKeychainNoDBus checks, in a child process with no D-Bus session,
// that Get fails with ErrUnavailable or ErrTimeout within its deadline.
// A child, because godbus caches the session bus connection.
func TestKeychainNoDBus(t *testing.T) {
	if os.Getenv("HUSH_KEYCHAIN_CHILD") != "" {
		noDBusChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKeychainNoDBus$", "-test.count=1", "-test.v")
	cmd.Env = []string{"HUSH_KEYCHAIN_CHILD=1", "HOME=" + t.TempDir(), "XDG_RUNTIME_DIR=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func noDBusChild(t *testing.T) {
	const deadline = 2 * time.Second
	user, _ := ProfileUser(t.TempDir())
	start := time.Now()
	_, err := OS{Timeout: deadline}.Get(context.Background(), user)
	elapsed := time.Since(start)
	if !errors.Is(err, ErrUnavailable) && !errors.Is(err, ErrTimeout) {
		t.Fatalf("Get without D-Bus: err = %v, want ErrUnavailable or ErrTimeout", err)
	}
	if elapsed > deadline+500*time.Millisecond {
		t.Fatalf("Get without D-Bus took %v, deadline %v", elapsed, deadline)
	}
	t.Logf("without D-Bus: %v after %v", err, elapsed)
}

func TestTimeout(t *testing.T) {
	// call itself: a backend that never answers is cut at the deadline.
	block := make(chan struct{})
	defer close(block)
	start := time.Now()
	err := OS{Timeout: 50 * time.Millisecond}.call(context.Background(), func() error { <-block; return nil })
	if !errors.Is(err, ErrTimeout) || time.Since(start) > time.Second {
		t.Fatalf("call = %v after %v, want ErrTimeout after 50ms", err, time.Since(start))
	}
}

// BenchmarkKeychainGet is the keychain half of a client's cold start:
// one store key read from the real Secret Service (.ci/keyring-test.sh
// -bench KeychainGet).
func BenchmarkKeychainGet(b *testing.B) {
	if os.Getenv(envKeyringStep) == "" {
		b.Skip("needs a Secret Service: run through .ci/keyring-test.sh")
	}
	ctx := context.Background()
	user, _ := ProfileUser(b.TempDir())
	k, _ := NewKey()
	if err := (OS{}).Set(ctx, user, k); err != nil {
		b.Fatal(err)
	}
	defer OS{}.Delete(ctx, user)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (OS{}).Get(ctx, user); err != nil {
			b.Fatal(err)
		}
	}
}
