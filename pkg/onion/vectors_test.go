// SPDX-License-Identifier: AGPL-3.0-or-later

package onion

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"testing"
	"time"
)

var writeVectors = flag.Bool("write-vectors", false, "rewrite testdata/packet_v1.json from fixed keys")

const vectorFile = "testdata/packet_v1.json"

// vector is one known-answer packet: fixed relay keys and the exact random
// bytes Wrap reads give the packet, each hop's output, the exit's reply as
// it reaches the client, and an error response from the second hop (or the
// only one).
type vector struct {
	Comment        string      `json:"comment"`
	Hops           []vectorHop `json:"hops"`
	Random         string      `json:"wrap_random"`
	Request        string      `json:"request"`
	Header         string      `json:"packet_header"` // bytes 0..462 and the tag
	PacketSHA256   string      `json:"packet_sha256"`
	OutputsSHA256  []string    `json:"hop_outputs_sha256"`
	Reply          string      `json:"reply"`
	ResponseSHA256 string      `json:"response_sha256"`
	ErrorHop       int         `json:"error_hop"`
	ErrorCode      Code        `json:"error_code"`
	ErrorSHA256    string      `json:"error_response_sha256"`
}

type vectorHop struct {
	ID        string `json:"relay_id"`
	OnionKey  string `json:"onion_private_key"`
	OnionPub  string `json:"onion_public_key"`
	Epoch     Epoch  `json:"epoch"`
	Ephemeral string `json:"ephemeral_public_key"`
	ReplayTag string `json:"replay_tag"`
}

func sum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// vectorRelays builds one relay per hop whose ring holds exactly the
// hop's key, through a clean stored state.
func vectorRelays(t *testing.T, hops []vectorHop) []*testRelay {
	t.Helper()
	rs := make([]*testRelay, len(hops))
	for i, h := range hops {
		id, err := ParseRelayID(h.ID)
		if err != nil {
			t.Fatal(err)
		}
		k, err := NewPrivateKey([32]byte(unhex(t, h.OnionKey)))
		if err != nil {
			t.Fatal(err)
		}
		st := &MemStore{}
		st.Save(&RingState{Clean: true, NextEpoch: h.Epoch + 1, Keys: []KeyState{{
			Epoch: h.Epoch, Key: k, Start: t0, End: t0.Add(1000 * time.Hour)}}})
		ring, err := OpenKeyRing(st, RingConfig{Rand: seededRand(0xee)}, t0)
		if err != nil {
			t.Fatal(err)
		}
		rs[i] = &testRelay{id: id, ring: ring, store: st}
	}
	return rs
}

// run checks (or, with fill, fills in) everything v says past its inputs.
func (v *vector) run(t *testing.T, fill bool) {
	rs := vectorRelays(t, v.Hops)
	path := make([]Hop, len(rs))
	for i, h := range v.Hops {
		k, _ := NewPublicKey(unhex(t, h.OnionPub))
		path[i] = Hop{ID: rs[i].id, Key: k, Epoch: h.Epoch}
	}
	random := unhex(t, v.Random)
	pkt, opener, err := wrap(bytes.NewReader(random), path, unhex(t, v.Request))
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, h := range opener.hops {
		var tag ReplayTag
		h.replayTag(&tag)
		tags = append(tags, hex.EncodeToString(tag[:]))
	}
	header := hex.EncodeToString(append(bytes.Clone(pkt[:aadSize]), pkt[offTag:]...))
	var outs []string
	eph := []string{hex.EncodeToString(pkt[offEphemeral:offRouting])}
	in := pkt
	for i, r := range rs[:len(rs)-1] {
		o, err := r.ring.Open(in)
		if err != nil {
			t.Fatalf("hop %d: %v", i, err)
		}
		outs = append(outs, sum(o.Packet))
		eph = append(eph, hex.EncodeToString(o.Packet[offEphemeral:offRouting]))
		in = o.Packet
	}
	rs2 := vectorRelays(t, v.Hops)
	_, req, reps := carry(t, rs2, pkt)
	resp, _ := reps[len(reps)-1].Reply(unhex(t, v.Reply))
	resp = back(t, reps, len(reps)-1, resp)
	body, err := opener.Open(resp)
	if err != nil || !bytes.Equal(body, unhex(t, v.Reply)) || !bytes.Equal(req, unhex(t, v.Request)) {
		t.Fatalf("round trip: %v", err)
	}
	_, opener2, _ := wrap(bytes.NewReader(random), path, unhex(t, v.Request))
	_, _, reps3 := carry(t, vectorRelays(t, v.Hops), pkt)
	failed, _ := reps3[v.ErrorHop].Fail(v.ErrorCode)
	failed = back(t, reps3, v.ErrorHop, failed)
	var he *HopError
	if _, err := opener2.Open(failed); !errors.As(err, &he) || he.Hop != v.ErrorHop || he.Code != v.ErrorCode {
		t.Fatalf("error response: %v", err)
	}
	if fill {
		v.Header, v.PacketSHA256, v.OutputsSHA256 = header, sum(pkt), outs
		v.ResponseSHA256, v.ErrorSHA256 = sum(resp), sum(failed)
		for i := range v.Hops {
			v.Hops[i].Ephemeral, v.Hops[i].ReplayTag = eph[i], tags[i]
		}
		return
	}
	if header != v.Header || sum(pkt) != v.PacketSHA256 {
		t.Errorf("%d hops: packet differs from the vector", len(rs))
	}
	for i := range v.Hops {
		if tags[i] != v.Hops[i].ReplayTag || eph[i] != v.Hops[i].Ephemeral {
			t.Errorf("%d hops: hop %d replay tag or ephemeral key differs", len(rs), i)
		}
	}
	for i := range outs {
		if outs[i] != v.OutputsSHA256[i] {
			t.Errorf("%d hops: hop %d output differs", len(rs), i)
		}
	}
	if sum(resp) != v.ResponseSHA256 || sum(failed) != v.ErrorSHA256 {
		t.Errorf("%d hops: responses differ", len(rs))
	}
}

// TestWriteVectors regenerates the vector file when run with
// -write-vectors; otherwise it does nothing.
func TestWriteVectors(t *testing.T) {
	if !*writeVectors {
		t.Skip("run with -write-vectors to regenerate " + vectorFile)
	}
	var vs []vector
	for _, n := range []int{1, 3, 5} {
		v := vector{
			Comment:  "Onion packet format v1. Relay i (0-based) has Ed25519 identity from seed (0x20+i) x 32 and X25519 onion key = ChaCha8(seed (0x30+i) x 32) first 32 bytes, epoch 7+i. wrap_random is every byte Wrap reads: 32 per hop (ephemeral X25519 private keys, path order) then the exit's routing padding. The reply is sealed by the exit and relayed back; the error response is made by hop error_hop.",
			Request:  hex.EncodeToString([]byte("hush request for the exit")),
			Reply:    hex.EncodeToString([]byte("hush reply from the exit")),
			ErrorHop: min(1, n-1), ErrorCode: CodeUnreachable,
		}
		for i := range n {
			r := newRelay(t, byte(0x20+i), RingConfig{})
			k, _ := GenerateKey(seededRand(byte(0x30 + i)))
			v.Hops = append(v.Hops, vectorHop{ID: r.id.String(), OnionKey: hex.EncodeToString(k.Bytes()),
				OnionPub: hex.EncodeToString(k.Public().Bytes()), Epoch: Epoch(7 + i)})
		}
		random := make([]byte, n*KeySize+RoutingSize-n*SlotSize)
		seededRand(byte(0x40 + n)).Read(random)
		v.Random = hex.EncodeToString(random)
		v.run(t, true)
		vs = append(vs, v)
	}
	out, _ := json.MarshalIndent(vs, "", "  ")
	if err := os.WriteFile(vectorFile, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVectors(t *testing.T) {
	raw, err := os.ReadFile(vectorFile)
	if err != nil {
		t.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs) != 3 {
		t.Fatalf("%d vectors, want 3", len(vs))
	}
	for _, v := range vs {
		v.run(t, false)
	}
}
