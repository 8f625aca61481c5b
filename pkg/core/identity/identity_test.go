// SPDX-License-Identifier: AGPL-3.0-or-later

package identity

import (
	"bytes"
	"crypto/ecdh"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestPublicKeyText(t *testing.T) {
	k, err := Generate(nil)
	if err != nil {
		t.Fatal(err)
	}
	pub := k.Public()
	s := pub.String()
	if !strings.HasPrefix(s, "hushid:") || len(s) != len("hushid:")+43 {
		t.Fatalf("text form %q", s)
	}
	back, err := ParsePublicKey(s)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(pub) || back != pub {
		t.Fatal("text round trip changed the key")
	}
	j, err := json.Marshal(struct{ K PublicKey }{pub})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"K":"` + s + `"}`; string(j) != want {
		t.Fatalf("json %s, want %s", j, want)
	}
	var got struct{ K PublicKey }
	if err := json.Unmarshal(j, &got); err != nil || !got.K.Equal(pub) {
		t.Fatalf("json round trip: %v", err)
	}
	if short := pub.ShortString(); !strings.HasPrefix(s, strings.TrimSuffix(short, "…")) || len(short) >= len(s) {
		t.Fatalf("ShortString %q is not a prefix of %q", short, s)
	}
}

func TestParsePublicKeyErrors(t *testing.T) {
	k, _ := Generate(nil)
	good := k.Public().String()
	body := strings.TrimPrefix(good, PublicPrefix)
	cases := []struct {
		in   string
		want error
	}{
		{"", ErrPrefix},
		{body, ErrPrefix},
		{SecretPrefix + body, ErrPrefix},
		{"HUSHID:" + body, ErrPrefix},
		{PublicPrefix, ErrKeyLength},
		{good[:len(good)-1], ErrKeyLength},
		{good + "A", ErrKeyLength},
		{PublicPrefix + strings.Repeat("*", 43), ErrEncoding},
		{PublicPrefix + body[:42] + "/", ErrEncoding},
		{PublicPrefix + strings.Repeat("A", 43), ErrWeakKey},
	}
	for _, c := range cases {
		if _, err := ParsePublicKey(c.in); !errors.Is(err, c.want) {
			t.Errorf("ParsePublicKey(%q) = %v, want %v", c.in, err, c.want)
		}
	}
	// The last base64 digit carries 4 bits of padding: a non-zero padding
	// bit is another spelling of the same key and is refused.
	last := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", good[len(good)-1])
	alt := good[:len(good)-1] + string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[last^1])
	if _, err := ParsePublicKey(alt); err == nil {
		t.Errorf("non-canonical base64 %q accepted", alt)
	}
}

func TestNewPublicKeyLengths(t *testing.T) {
	for _, n := range []int{0, 1, 31, 33, 64} {
		if _, err := NewPublicKey(make([]byte, n)); !errors.Is(err, ErrKeyLength) {
			t.Errorf("%d bytes: err = %v, want ErrKeyLength", n, err)
		}
	}
}

func TestValidatePointNonCanonical(t *testing.T) {
	k, _ := Generate(nil)
	raw := k.Public().Array()
	if err := ValidatePoint(raw); err != nil {
		t.Fatalf("genuine key refused: %v", err)
	}
	high := raw
	high[31] |= 0x80
	if err := ValidatePoint(high); !errors.Is(err, ErrWeakKey) {
		t.Errorf("top bit set: err = %v", err)
	}
	// p, p+1, ..., 2^255-1 are non-canonical; p-1 is small order.
	for low := 0xec; low <= 0xff; low++ {
		var u [32]byte
		u[0] = byte(low)
		for i := 1; i < 31; i++ {
			u[i] = 0xff
		}
		u[31] = 0x7f
		if err := ValidatePoint(u); !errors.Is(err, ErrWeakKey) {
			t.Errorf("u = 2^255-%d accepted", 256-low)
		}
	}
}

func TestPrivateKeyNeverPrinted(t *testing.T) {
	k, _ := Generate(nil)
	enc := k.EncodeSecret()
	body := strings.TrimPrefix(enc, SecretPrefix)
	hexSecret := fmt.Sprintf("%x", k.priv[:])
	wrapped := struct {
		Name string
		Key  *PrivateKey
	}{"alice", k}
	byValue := struct {
		Name string
		Key  PrivateKey
	}{"alice", *k}
	// The secret's bytes as fmt would print a [32]byte in decimal.
	decimal := strings.Trim(fmt.Sprint(k.priv), "[]")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
		for _, v := range []any{k, *k, wrapped, byValue, &byValue, []*PrivateKey{k}, []PrivateKey{*k}} {
			out := fmt.Sprintf(verb, v)
			if strings.Contains(out, body) || strings.Contains(strings.ToLower(out), hexSecret) || strings.Contains(out, decimal) {
				t.Errorf("%s of %T leaks the secret: %s", verb, v, out)
			}
		}
	}
	if j, err := json.Marshal(k); err != nil || strings.Contains(string(j), body) {
		t.Errorf("json.Marshal leaks the secret or fails: %s %v", j, err)
	}
}

func TestSecretRoundTrip(t *testing.T) {
	k, _ := Generate(nil)
	back, err := ParseSecret(k.EncodeSecret())
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(k) || !back.Public().Equal(k.Public()) {
		t.Fatal("secret round trip changed the key")
	}
	if _, err := ParseSecret(k.Public().String()); !errors.Is(err, ErrPrefix) {
		t.Errorf("public text parsed as secret: %v", err)
	}
	other, _ := Generate(nil)
	if k.Equal(other) || k.Public().Equal(other.Public()) {
		t.Fatal("two generated keys are equal")
	}
}

func TestGenerateDeterministic(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, 32)
	a, err := Generate(bytes.NewReader(seed))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate(bytes.NewReader(seed))
	if !a.Equal(b) {
		t.Fatal("same randomness, different keys")
	}
	// Known answer: X25519 base-point multiplication of the clamped seed.
	clamped := bytes.Repeat([]byte{7}, 32)
	clamped[0] &= 248
	clamped[31] = clamped[31]&127 | 64
	want, _ := ecdh.X25519().NewPrivateKey(clamped)
	if !bytes.Equal(a.Public().Bytes(), want.PublicKey().Bytes()) {
		t.Fatal("public key is not the X25519 public key of the clamped seed")
	}
	if _, err := Generate(bytes.NewReader(seed[:10])); err == nil {
		t.Fatal("short randomness accepted")
	}
}

func TestSignVerify(t *testing.T) {
	k, _ := Generate(nil)
	msg := []byte("hush invitation")
	sig := k.Sign(msg)
	if !k.Public().Verify(msg, sig) {
		t.Fatal("signature does not verify")
	}
	if k.Public().Verify([]byte("hush invitatioN"), sig) {
		t.Fatal("signature verifies another message")
	}
	other, _ := Generate(nil)
	if other.Public().Verify(msg, sig) {
		t.Fatal("signature verifies under another key")
	}
	sig[10] ^= 1
	if k.Public().Verify(msg, sig) {
		t.Fatal("altered signature verifies")
	}
}

func TestDestroy(t *testing.T) {
	k, _ := Generate(nil)
	other, _ := Generate(nil)
	k.Destroy()
	if k.priv != [32]byte{} {
		t.Fatal("Destroy left secret bytes")
	}
	if _, err := k.ECDH(other.Public()); err == nil {
		t.Fatal("a destroyed key still computes ECDH")
	}
}

func FuzzParsePublicKey(f *testing.F) {
	k, _ := Generate(nil)
	f.Add(k.Public().String())
	f.Add(PublicPrefix)
	f.Add("hushid:" + strings.Repeat("_", 43))
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePublicKey(s)
		if err != nil {
			return
		}
		if p.String() != s {
			t.Fatalf("accepted %q but it prints as %q", s, p.String())
		}
	})
}

func TestCheckDisplayName(t *testing.T) {
	for _, ok := range []string{"", "Alice", "Zoë 🌻", "李小龙", strings.Repeat("a", MaxDisplayName)} {
		if err := CheckDisplayName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{strings.Repeat("a", MaxDisplayName+1), "\xff", "a\nb", "\x1b[31mred", "evil\u202egnp.exe", "tab\there"} {
		if err := CheckDisplayName(bad); !errors.Is(err, ErrDisplayName) {
			t.Errorf("%q: err = %v, want ErrDisplayName", bad, err)
		}
	}
}

func TestECDH(t *testing.T) {
	a, _ := Generate(nil)
	b, _ := Generate(nil)
	ab, err := a.ECDH(b.Public())
	if err != nil {
		t.Fatal(err)
	}
	ba, err := b.ECDH(a.Public())
	if err != nil {
		t.Fatal(err)
	}
	if ab != ba || ab == [32]byte{} {
		t.Fatal("the two sides disagree or got zero")
	}
	// Cross-check with crypto/ecdh directly.
	ea, _ := ecdh.X25519().NewPrivateKey(a.priv[:])
	eb, _ := ecdh.X25519().NewPublicKey(b.Public().Bytes())
	want, _ := ea.ECDH(eb)
	if !bytes.Equal(ab[:], want) {
		t.Fatal("ECDH differs from crypto/ecdh")
	}
	if _, err := a.ECDH(PublicKey{}); !errors.Is(err, ErrDH) {
		t.Fatalf("zero key: err = %v, want ErrDH", err)
	}
}
