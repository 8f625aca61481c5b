// SPDX-License-Identifier: AGPL-3.0-or-later

package sealed

import (
	"bytes"
	"crypto/ecdh"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"testing"

	"github.com/hushchat/hush/pkg/core/identity"
	"github.com/hushchat/hush/pkg/core/session"
)

var writeVectors = flag.Bool("write-vectors", false, "rewrite testdata/sealed_v1.json")

const vectorFile = "testdata/sealed_v1.json"

// vector is one known-answer envelope, with the intermediate keys so
// another implementation can find where it differs.
type vector struct {
	Comment       string `json:"comment"`
	SenderSeed    string `json:"sender_seed"`
	RecipientSeed string `json:"recipient_seed"`
	EphemeralSeed string `json:"ephemeral_seed"`
	MessageType   uint8  `json:"message_type"`
	Message       string `json:"message"`
	SenderKey     string `json:"sender_layer_key"`
	ChainKey      string `json:"chain_key"`
	BodyKey       string `json:"body_layer_key"`
	Envelope      string `json:"envelope"`
}

func key(t *testing.T, seedHex string) *identity.PrivateKey {
	t.Helper()
	seed, err := hex.DecodeString(seedHex)
	if err != nil || len(seed) != 32 {
		t.Fatalf("bad seed %q", seedHex)
	}
	k, err := identity.NewPrivateKey([32]byte(seed))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// intermediates recomputes the layer keys of a vector.
func intermediates(t *testing.T, v vector) (senderKey, chainKey, bodyKey []byte) {
	t.Helper()
	seed, _ := hex.DecodeString(v.EphemeralSeed)
	eph, err := ecdh.X25519().NewPrivateKey(seed)
	if err != nil {
		t.Fatal(err)
	}
	s, r := key(t, v.SenderSeed), key(t, v.RecipientSeed)
	senderKey, chainKey, err = ephemeralKeys(eph, r.Public(), eph.PublicKey().Bytes())
	if err != nil {
		t.Fatal(err)
	}
	env, _ := hex.DecodeString(v.Envelope)
	bodyKey, err = staticKey(s, r.Public(), chainKey, env[offSender:offBody])
	if err != nil {
		t.Fatal(err)
	}
	return senderKey, chainKey, bodyKey
}

func TestWriteVectors(t *testing.T) {
	if !*writeVectors {
		t.Skip("run with -args -write-vectors to regenerate " + vectorFile)
	}
	var vs []vector
	for i, m := range []struct {
		typ  session.MessageType
		body string
	}{{session.TypePreKey, "33"}, {session.TypeMessage, "33cafe"}, {session.TypeMessage, ""}} {
		v := vector{
			Comment:       "Sealed envelope v1. Identity keys from 32-byte seeds (clamped, as identity.NewPrivateKey); the ephemeral X25519 key is the 32-byte ephemeral seed. Layer keys are given to help locate differences.",
			SenderSeed:    hex.EncodeToString(bytes.Repeat([]byte{1}, 32)),
			RecipientSeed: hex.EncodeToString(bytes.Repeat([]byte{2}, 32)),
			EphemeralSeed: hex.EncodeToString(bytes.Repeat([]byte{byte(3 + i)}, 32)),
			MessageType:   uint8(m.typ),
			Message:       m.body,
		}
		seed, _ := hex.DecodeString(v.EphemeralSeed)
		body, _ := hex.DecodeString(m.body)
		env, err := seal(bytes.NewReader(seed), key(t, v.SenderSeed), key(t, v.RecipientSeed).Public(), session.Ciphertext{Type: m.typ, Body: body})
		if err != nil {
			t.Fatal(err)
		}
		v.Envelope = hex.EncodeToString(env)
		sk, ck, bk := intermediates(t, v)
		v.SenderKey, v.ChainKey, v.BodyKey = hex.EncodeToString(sk), hex.EncodeToString(ck), hex.EncodeToString(bk)
		vs = append(vs, v)
	}
	out, _ := json.MarshalIndent(vs, "", "  ")
	if err := os.WriteFile(vectorFile, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVectors(t *testing.T) {
	data, err := os.ReadFile(vectorFile)
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) == 0 {
		t.Fatal("no vectors")
	}
	for i, v := range vs {
		seed, _ := hex.DecodeString(v.EphemeralSeed)
		body, _ := hex.DecodeString(v.Message)
		s, r := key(t, v.SenderSeed), key(t, v.RecipientSeed)
		msg := session.Ciphertext{Type: session.MessageType(v.MessageType), Body: body}
		env, err := seal(bytes.NewReader(seed), s, r.Public(), msg)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(env) != v.Envelope {
			t.Errorf("vector %d: envelope differs", i)
		}
		sk, ck, bk := intermediates(t, v)
		if hex.EncodeToString(sk) != v.SenderKey || hex.EncodeToString(ck) != v.ChainKey || hex.EncodeToString(bk) != v.BodyKey {
			t.Errorf("vector %d: layer keys differ", i)
		}
		want, _ := hex.DecodeString(v.Envelope)
		got, err := Open(r, want)
		if err != nil {
			t.Fatalf("vector %d: %v", i, err)
		}
		if !got.Sender.Equal(s.Public()) || !bytes.Equal(got.Message.Body, body) || got.Message.Type != msg.Type {
			t.Errorf("vector %d: opened the wrong content", i)
		}
	}
}

// FuzzOpen writes fuzzed bytes over part of a valid envelope: Go's fuzzer
// stalls on whole 15 KiB inputs. The first byte picks where the patch
// goes. Only the untouched envelope may open.
func FuzzOpen(f *testing.F) {
	alice, _ := identity.Generate(nil)
	bob, _ := identity.Generate(nil)
	env, err := Seal(alice, bob.Public(), session.Ciphertext{Type: session.TypeMessage, Body: []byte("seed")})
	if err != nil {
		f.Fatal(err)
	}
	for _, at := range []byte{0, 1, 2, 40, 255} {
		f.Add(at, []byte{0})
		f.Add(at, env[:8])
	}
	f.Fuzz(func(t *testing.T, at byte, patch []byte) {
		in := bytes.Clone(env)
		off := int(at) * (EnvelopeSize / 256)
		copy(in[off:], patch)
		got, err := Open(bob, in)
		if err != nil {
			if !errors.Is(err, ErrOpen) && !errors.Is(err, ErrVersion) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		if !bytes.Equal(in, env) || !got.Sender.Equal(alice.Public()) {
			t.Fatal("an envelope other than the one sealed opened")
		}
	})
}

// FuzzParseBody fuzzes the part of Open that runs after authentication:
// only a faulty sender reaches it, but it must still never panic.
func FuzzParseBody(f *testing.F) {
	f.Add([]byte{2, 0, 4, 'a', 'b', 'c', 'd'})
	f.Add([]byte{3, 0xff, 0xff})
	f.Add([]byte{7})
	f.Fuzz(func(t *testing.T, head []byte) {
		body := make([]byte, bodySize)
		copy(body, head)
		msg, err := parseBody(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		if len(msg.Body) > MaxCiphertext || (msg.Type != session.TypeMessage && msg.Type != session.TypePreKey) {
			t.Fatal("parseBody accepted a body breaking the format")
		}
	})
}
