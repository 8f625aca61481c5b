// SPDX-License-Identifier: AGPL-3.0-or-later

package boltstore

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"testing"

	"github.com/hushchat/hush/services/relay/internal/store"
)

var writeVectors = flag.Bool("write-vectors", false, "rewrite "+vectorFile+" from fixed inputs")

const vectorFile = "testdata/wal_v1.json"

type logVector struct {
	Name   string `json:"name"`
	Record string `json:"record"` // hex
}

// vectorHeader is the header of a log whose store ID is 0x11….
func vectorHeader() []byte {
	return logHeader([storeIDSize]byte(bytes.Repeat([]byte{0x11}, storeIDSize)))
}

// vectorChanges is one change of every kind from fixed inputs, with short
// envelope and chunk bytes (the log does not check their sizes; the store
// does before it logs).
func vectorChanges() []struct {
	name string
	c    change
} {
	id := func(b byte) (v [32]byte) { copy(v[:], bytes.Repeat([]byte{b}, 32)); return v }
	return []struct {
		name string
		c    change
	}{
		{"create queue (contact request)", &createQueue{recipient: id(2), sender: id(3), authKey: id(4), flags: flagContactRequest, now: 1_772_366_400}},
		{"send", &sendEnvelope{sender: id(3), msg: store.MessageID{7, 7}, now: 1_772_366_401, envelope: []byte("envelope")}},
		{"fetch", &fetch{recipient: id(2), counter: 6, now: 1_772_366_402}},
		{"ack", &ack{recipient: id(2), counter: 7, now: 1_772_366_403, seqs: []uint64{0, 1, 1 << 40}}},
		{"delete queue", &deleteQueue{recipient: id(2), counter: 8, now: 1_772_366_404}},
		{"put chunk", &putChunk{id: id(8), expiry: 1_772_971_205, now: 1_772_366_405, tokenHash: id(9), data: []byte("chunk")}},
		{"delete chunk", &delChunk{id: id(8), tokenHash: id(9)}},
		{"expire", &expire{now: 1_774_180_800, envCutoff: 1_772_366_400, releasedCutoff: 1_771_588_800, idleBefore: 20_459}},
		{"fetch acknowledging", &fetch{recipient: id(2), counter: 9, now: 1_772_366_406, ack: []uint64{2, 1 << 40}}},
	}
}

// vectorLog is the header, then one record of each change with seq 1, 2, ….
func vectorLog() []logVector {
	vs := []logVector{{"header", hex.EncodeToString(vectorHeader())}}
	for i, v := range vectorChanges() {
		vs = append(vs, logVector{v.name, hex.EncodeToString(appendRecord(nil, uint64(i+1), v.c.kind(), v.c.appendPayload))})
	}
	return vs
}

// TestWriteVectors regenerates the vectors with -write-vectors; otherwise
// it does nothing.
func TestWriteVectors(t *testing.T) {
	if !*writeVectors {
		t.Skip("run with -args -write-vectors to regenerate " + vectorFile)
	}
	out, _ := json.MarshalIndent(vectorLog(), "", "  ")
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vectorFile, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestLogVectors: the encoding has not changed, and every vector decodes
// to its change and scans as one log.
func TestLogVectors(t *testing.T) {
	data, err := os.ReadFile(vectorFile)
	if err != nil {
		t.Fatal(err)
	}
	var want []logVector
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	got := vectorLog()
	if len(got) != len(want) {
		t.Fatalf("%d vectors, want %d", len(got), len(want))
	}
	var file []byte
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: encoding changed:\n got %s\nwant %s", want[i].Name, got[i].Record, want[i].Record)
		}
		b, _ := hex.DecodeString(want[i].Record)
		file = append(file, b...)
		if i == 0 {
			if id, err := checkLogHeader(b); err != nil || id[0] != 0x11 {
				t.Errorf("header: %x, %v", id, err)
			}
			continue
		}
		r, n, err := decodeRecord(b)
		if err != nil || n != len(b) || r.seq != uint64(i) {
			t.Fatalf("%s: decoded seq %d, %d of %d bytes, %v", want[i].Name, r.seq, n, len(b), err)
		}
		c, err := decodeChange(r.kind, r.payload)
		if err != nil {
			t.Fatalf("%s: %v", want[i].Name, err)
		}
		if again := c.appendPayload(nil); !bytes.Equal(again, r.payload) {
			t.Errorf("%s: payload does not round-trip", want[i].Name)
		}
	}
	recs, end, _, err := scanLog(append(file, make([]byte, 64)...), 0)
	if err != nil || len(recs) != len(want)-1 || end != len(file) {
		t.Fatalf("scan of the vectors as one log: %d records to %d, %v", len(recs), end, err)
	}
}

// FuzzLogRecord: the record decoder and the payload decoders accept only
// what the encoders write, and never panic.
func FuzzLogRecord(f *testing.F) {
	for _, v := range vectorLog()[1:] {
		b, _ := hex.DecodeString(v.Record)
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add(make([]byte, 16))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, n, err := decodeRecord(b)
		if err != nil {
			return
		}
		if n > len(b) || n < recordHeadSize {
			t.Fatalf("decoded %d bytes of %d", n, len(b))
		}
		if again := appendRecord(nil, r.seq, r.kind, func(p []byte) []byte { return append(p, r.payload...) }); !bytes.Equal(again, b[:n]) {
			t.Fatalf("record does not re-encode: %x → %x", b[:n], again)
		}
		c, err := decodeChange(r.kind, r.payload)
		if err != nil {
			return
		}
		if c.kind() != r.kind {
			t.Fatalf("kind %d decoded as %d", r.kind, c.kind())
		}
		if again := c.appendPayload(nil); !bytes.Equal(again, r.payload) {
			t.Fatalf("%s payload does not re-encode: %x → %x", r.kind, r.payload, again)
		}
	})
}
