// SPDX-License-Identifier: AGPL-3.0-or-later

package transfer

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"slices"
	"testing"

	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/onion"
)

var writeVectors = flag.Bool("write-vectors", false, "rewrite testdata/layout_v1.json from fixed keys")

const vectorFile = "testdata/layout_v1.json"

type vectorFileT struct {
	Comment      string        `json:"comment"`
	PaddedCounts []paddedCount `json:"padded_counts"`
	Vectors      []vector      `json:"vectors"`
}

// vector is one attachment's layout, with a sample of its places: the
// first three, the last real chunk, the first and last padding chunk.
type vector struct {
	Key    string   `json:"key"`
	Size   int64    `json:"size"`
	Relays []string `json:"relays"`
	Chunks int64    `json:"chunks"`
	Total  int64    `json:"total"`
	Places []place  `json:"places"`
}

type paddedCount struct {
	N      int64 `json:"n"`
	Padded int64 `json:"padded"` // PaddedCount(n)
}

type place struct {
	Index           int64  `json:"index"`
	Relay           int    `json:"relay"` // position in relays
	ChunkID         string `json:"chunk_id"`
	DeleteToken     string `json:"delete_token"`
	DeleteTokenHash string `json:"delete_token_sha256"` // what the relay keeps
}

// vectorCases: size and relay count of each vector; the key of vector v
// is bytes 32v+1 … 32v+32, relay r of every vector is 32 bytes of value r+1.
var vectorCases = []struct {
	size   int64
	relays int
}{
	{0, 1},
	{attach.PlainChunkSize + 1, 3},
	{9 * attach.PlainChunkSize, 16},
	{100*attach.PlainChunkSize - 5, 5},
}

var vectorPaddedCounts = []int64{0, 1, 2, 7, 8, 9, 10, 15, 16, 17, 100, 129, 1000, 2185, 35000, 65537, attach.MaxChunkCount}

func vectorKey(t testing.TB, v int) attach.Key {
	b := make([]byte, attach.KeySize)
	for i := range b {
		b[i] = byte(32*v + i + 1)
	}
	k, err := attach.KeyFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func makeVector(t *testing.T, k attach.Key, size int64, relays []onion.RelayID) vector {
	l, err := NewLayout(k, size, relays)
	if err != nil {
		t.Fatal(err)
	}
	v := vector{Key: hex.EncodeToString(k.Bytes()), Size: size, Chunks: l.Chunks(), Total: l.Total()}
	for _, r := range relays {
		v.Relays = append(v.Relays, r.String())
	}
	idx := []int64{0, 1, 2, l.Chunks() - 1, l.Chunks(), l.Total() - 1}
	slices.Sort(idx)
	for _, i := range slices.Compact(idx) {
		relay, id, token := l.Place(i)
		tb := token.Bytes()
		h := sha256.Sum256(tb)
		v.Places = append(v.Places, place{Index: i, Relay: slices.Index(relays, relay),
			ChunkID: hex.EncodeToString(id[:]), DeleteToken: hex.EncodeToString(tb), DeleteTokenHash: hex.EncodeToString(h[:])})
	}
	return v
}

// TestWriteVectors regenerates the vector file when run with
// -write-vectors; otherwise it does nothing.
func TestWriteVectors(t *testing.T) {
	if !*writeVectors {
		t.Skip("run with -write-vectors to regenerate " + vectorFile)
	}
	f := vectorFileT{
		Comment: "Attachment chunk placement v1. Key of vector v (from 0) = bytes 32v+1 ... 32v+32; relay r (from 0) = 32 bytes of value r+1. " +
			"chunk_id_i = HKDF-SHA256(key, salt empty, info \"hush attachment v1 chunk id\" || uint64be(i), 32); " +
			"delete_token_i = same with info \"hush attachment v1 delete token\" || uint64be(i); delete_token_sha256 is what the relay keeps. " +
			"relay of chunk i = relays[i mod len(relays)] (relay is its position). chunks = attach.ChunkCount(size); " +
			"total = max(8, Padme(chunks)), Padme(L) = L rounded up to a multiple of 2^(E-S), E = floor(log2 L), S = floor(log2 E) + 1.",
	}
	for _, n := range vectorPaddedCounts {
		f.PaddedCounts = append(f.PaddedCounts, paddedCount{n, PaddedCount(n)})
	}
	for v, c := range vectorCases {
		f.Vectors = append(f.Vectors, makeVector(t, vectorKey(t, v), c.size, testRelays(t, c.relays)))
	}
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vectorFile, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readVectors(t *testing.T) vectorFileT {
	raw, err := os.ReadFile(vectorFile)
	if err != nil {
		t.Fatal(err)
	}
	var f vectorFileT
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) != len(vectorCases) || len(f.PaddedCounts) != len(vectorPaddedCounts) {
		t.Fatalf("%d vectors and %d padded counts, want %d and %d", len(f.Vectors), len(f.PaddedCounts), len(vectorCases), len(vectorPaddedCounts))
	}
	return f
}

// TestVectors checks the layout against the file, and the file against
// HKDF computed here in one call (not the Extract-once path of Layout).
func TestVectors(t *testing.T) {
	f := readVectors(t)
	for _, pc := range f.PaddedCounts {
		if got := PaddedCount(pc.N); got != pc.Padded {
			t.Errorf("PaddedCount(%d) = %d, file says %d", pc.N, got, pc.Padded)
		}
	}
	for _, want := range f.Vectors {
		kb, _ := hex.DecodeString(want.Key)
		k, err := attach.KeyFromBytes(kb)
		if err != nil {
			t.Fatal(err)
		}
		var relays []onion.RelayID
		for _, s := range want.Relays {
			r, err := onion.ParseRelayID(s)
			if err != nil {
				t.Fatal(err)
			}
			relays = append(relays, r)
		}
		got := makeVector(t, k, want.Size, relays)
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if !bytes.Equal(gj, wj) {
			t.Errorf("size %d:\n got %s\nwant %s", want.Size, gj, wj)
		}
		for _, p := range want.Places {
			if id := oneShot(t, kb, labelChunkID, p.Index); id != p.ChunkID {
				t.Errorf("size %d chunk %d: HKDF gives ID %s, file says %s", want.Size, p.Index, id, p.ChunkID)
			}
			if tok := oneShot(t, kb, labelDeleteToken, p.Index); tok != p.DeleteToken {
				t.Errorf("size %d chunk %d: HKDF gives token %s, file says %s", want.Size, p.Index, tok, p.DeleteToken)
			}
			if int64(p.Relay) != p.Index%int64(len(relays)) {
				t.Errorf("size %d chunk %d: relay %d, want %d", want.Size, p.Index, p.Relay, p.Index%int64(len(relays)))
			}
		}
	}
}

func oneShot(t *testing.T, key []byte, label string, i int64) string {
	info := binary.BigEndian.AppendUint64([]byte(label), uint64(i))
	b, err := hkdf.Key(sha256.New, key, nil, string(info), 32)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
