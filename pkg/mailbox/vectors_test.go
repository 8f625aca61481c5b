// SPDX-License-Identifier: AGPL-3.0-or-later

package mailbox

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"testing"
	"time"
)

var writeVectors = flag.Bool("write-vectors", false, "rewrite testdata/mailbox_v1.json")

const vectorFile = "testdata/mailbox_v1.json"

type vector struct {
	Name    string `json:"name"`
	Request string `json:"request"`
}

// vectorQueue is a queue made from fixed seeds: relay identity 0x01…,
// recipient ID 0x02…, sender ID 0x03…, auth key seed 0x04…, counter 6.
func vectorQueue(t testing.TB) *Queue {
	t.Helper()
	rel, _ := RelayIDFromKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32)).Public().(ed25519.PublicKey))
	rid, _ := ParseRecipientID(bytes.Repeat([]byte{2}, 32))
	sid, _ := ParseSenderID(bytes.Repeat([]byte{3}, 32))
	k, err := AuthKeyFromSeed(bytes.Repeat([]byte{4}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return &Queue{Relay: rel, Recipient: rid, Sender: sid, Auth: k, Counter: 6}
}

// vectorRequests encodes one request of every kind from fixed inputs;
// Ed25519 and the deterministic encoding make every byte fixed.
func vectorRequests(t testing.TB) []vector {
	t.Helper()
	q := vectorQueue(t)
	tok, _ := ParseDeleteToken(bytes.Repeat([]byte{5}, 32))
	env := bytes.Repeat([]byte{0xee}, EnvelopeSize)
	chunk := bytes.Repeat([]byte{0xcc}, ChunkSize)
	var vs []vector
	add := func(name string, b []byte, err error) {
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, vector{name, hex.EncodeToString(b)})
	}
	b, err := q.CreateRequest()
	add("create", b, err)
	b, err = SendRequest(q.Sender, MessageID{7}, env)
	add("send", b, err)
	b, err = q.FetchRequest(20*time.Second, 2)
	add("fetch (counter 7)", b, err)
	b, err = q.AckRequest([]uint64{1, 2})
	add("ack (counter 8)", b, err)
	b, err = q.DeleteRequest()
	add("delete queue (counter 9)", b, err)
	b, err = PutChunkRequest(ChunkID{8}, chunk, 7*24*time.Hour, tok)
	add("put chunk", b, err)
	b, err = GetChunkRequest(ChunkID{8})
	add("get chunk", b, err)
	b, err = DeleteChunkRequest(ChunkID{8}, tok)
	add("delete chunk", b, err)
	b, err = q.AckFetchRequest([]uint64{1, 2}, 20*time.Second, 2)
	add("fetch acknowledging 1 and 2 (counter 10)", b, err)
	return vs
}

func TestWriteVectors(t *testing.T) {
	if !*writeVectors {
		t.Skip("run with -args -write-vectors to regenerate " + vectorFile)
	}
	out, _ := json.MarshalIndent(vectorRequests(t), "", "  ")
	if err := os.WriteFile(vectorFile, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVectors(t *testing.T) {
	data, err := os.ReadFile(vectorFile)
	if err != nil {
		t.Fatal(err)
	}
	var want []vector
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	got := vectorRequests(t)
	if len(got) != len(want) {
		t.Fatalf("%d vectors, want %d", len(got), len(want))
	}
	q := vectorQueue(t)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: encoding changed", want[i].Name)
		}
		b, _ := hex.DecodeString(want[i].Request)
		r, err := ParseRequest(b)
		if err != nil {
			t.Fatalf("%s: %v", want[i].Name, err)
		}
		if r.Owner != nil && r.Owner.Verify(q.Relay, q.Auth.Public()) != nil {
			t.Errorf("%s: signature does not verify", want[i].Name)
		}
		if r.Create != nil && r.Create.Verify(q.Relay) != nil {
			t.Errorf("%s: signature does not verify", want[i].Name)
		}
	}
}

func FuzzParseRequest(f *testing.F) {
	for _, v := range vectorRequests(f) {
		b, _ := hex.DecodeString(v.Request)
		if len(b) > 2000 {
			b = b[:2000] // big ones stall the fuzzer; their heads still seed it
		}
		f.Add(b)
		flipped := bytes.Clone(b)
		flipped[len(b)/2] ^= 0x20
		f.Add(flipped)
	}
	q := vectorQueue(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRequest(b)
		if err != nil {
			if !errors.Is(err, StatusMalformed) && !errors.Is(err, StatusVersion) && !errors.Is(err, StatusBadSize) {
				t.Fatalf("error carries no status: %v", err)
			}
			return
		}
		set := 0
		for _, p := range []bool{r.Create != nil, r.Send != nil, r.Owner != nil, r.PutChunk != nil, r.GetChunk != nil, r.DeleteChunk != nil} {
			if p {
				set++
			}
		}
		if set != 1 {
			t.Fatalf("%d operations set", set)
		}
		if r.Owner != nil && r.Owner.Verify(q.Relay, q.Auth.Public()) == nil {
			// Only the vectors' own signed operations may verify; the
			// envelope around them may vary (a repeated version field), the
			// signed body and signature may not.
			for _, v := range vectorRequests(t) {
				b, _ := hex.DecodeString(v.Request)
				vr, err := ParseRequest(b)
				if err == nil && vr.Owner != nil && bytes.Equal(vr.Owner.body, r.Owner.body) && bytes.Equal(vr.Owner.sig, r.Owner.sig) {
					return
				}
			}
			t.Fatal("a signed operation the fuzzer made verifies under the fixed key")
		}
	})
}
