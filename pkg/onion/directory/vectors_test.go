// SPDX-License-Identifier: AGPL-3.0-or-later

package directory

import (
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/onion"
)

var writeVectors = flag.Bool("write-vectors", false, "rewrite testdata/descriptor_v1.json from fixed keys")

const vectorFile = "testdata/descriptor_v1.json"

// vector is one known-answer descriptor, its directory document and the
// network file FromDescriptors writes for it. Ed25519 is deterministic,
// so every byte follows from the seeds.
type vector struct {
	Comment     string `json:"comment"`
	Now         string `json:"now"`
	Signed      string `json:"signed_descriptor"`
	Body        string `json:"body"`
	Signature   string `json:"signature"`
	Directory   string `json:"directory"`
	NetworkFile string `json:"network_file"`
}

var vectorTime = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// vectorDescriptor is the fixed descriptor: identity from seed 0x01, onion
// keys from seeds 0x02 (epoch 7) and 0x03 (epoch 8).
func vectorDescriptor(t testing.TB) (*SigningKey, *Descriptor) {
	k := NewSigningKey(seed(1))
	return k, &Descriptor{
		Relay: k.Relay(),
		Keys: []onion.KeyInfo{
			{Epoch: 7, Key: onionKey(t, 2), Start: vectorTime.Add(-time.Hour), End: vectorTime.Add(23 * time.Hour)},
			{Epoch: 8, Key: onionKey(t, 3), Start: vectorTime.Add(23 * time.Hour), End: vectorTime.Add(47 * time.Hour)},
		},
		Address:      "relay.example.org:7443",
		WebAddress:   "https://relay.example.org/hush",
		Capabilities: []Capability{CapChunks, CapMailbox, CapWeb},
		Published:    vectorTime,
		Expires:      vectorTime.Add(24 * time.Hour),
	}
}

func makeVector(t *testing.T) vector {
	k, d := vectorDescriptor(t)
	signed, err := Sign(k, d)
	if err != nil {
		t.Fatal(err)
	}
	body, err := deterministic.Marshal(toProto(d.normalized()))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := EncodeDirectory([][]byte{signed})
	if err != nil {
		t.Fatal(err)
	}
	nf, err := FromDescriptors([]*Descriptor{d}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return vector{
		Comment: "Relay descriptor format v1. Identity: Ed25519 from seed 0x01 x 32. Onion keys: X25519 from " +
			"0x02 x 32 (epoch 7) and 0x03 x 32 (epoch 8). signature = Ed25519(identity, \"hush relay descriptor v1\" || body); " +
			"signed_descriptor = 0x08 0x01, 0x12 0x40 signature, 0x1a len body. directory = 0x08 0x01, 0x12 len signed_descriptor.",
		Now:         vectorTime.Add(time.Hour).Format(time.RFC3339),
		Signed:      hex.EncodeToString(signed),
		Body:        hex.EncodeToString(body),
		Signature:   hex.EncodeToString(k.sign(signedBytes(body))),
		Directory:   hex.EncodeToString(doc),
		NetworkFile: string(nf),
	}
}

// TestWriteVectors regenerates the vector file when run with
// -write-vectors; otherwise it does nothing.
func TestWriteVectors(t *testing.T) {
	if !*writeVectors {
		t.Skip("run with -write-vectors to regenerate " + vectorFile)
	}
	out, _ := json.MarshalIndent([]vector{makeVector(t)}, "", "  ")
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
	if err := json.Unmarshal(data, &vs); err != nil || len(vs) != 1 {
		t.Fatalf("vectors: %v", err)
	}
	v := vs[0]
	if got := makeVector(t); got != v {
		t.Fatalf("encoding changed:\n got %+v\nwant %+v", got, v)
	}
	now, _ := time.Parse(time.RFC3339, v.Now)
	signed, _ := hex.DecodeString(v.Signed)
	d, err := ParseDescriptor(signed, now)
	if err != nil {
		t.Fatal(err)
	}
	_, vd := vectorDescriptor(t)
	want := vd.normalized() // the same instants, in time.Unix's form
	want.raw = signed
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("parsed %+v\nwant %+v", d, want)
	}
	nf, err := ParseNetworkFile([]byte(v.NetworkFile))
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := hex.DecodeString(v.Directory)
	dir, err := ParseDirectory(doc, nf, now)
	if err != nil || len(dir.Relays) != 1 || !reflect.DeepEqual(dir.Relays[0], want) {
		t.Fatalf("directory: %v", err)
	}
}
