// SPDX-License-Identifier: AGPL-3.0-or-later

package mailbox

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	mailboxv1 "github.com/hushchat/hush/proto/mailbox/v1"
)

func relay(t testing.TB) RelayID {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := RelayIDFromKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newQueue(t testing.TB, contact bool) *Queue {
	t.Helper()
	q, err := NewQueue(relay(t), contact)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func parse(t *testing.T, b []byte, err error) *Request {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRequest(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCreate(t *testing.T) {
	q := newQueue(t, true)
	b, err := q.CreateRequest()
	r := parse(t, b, err)
	c := r.Create
	if c == nil || !c.Recipient.Equal(q.Recipient) || !c.Sender.Equal(q.Sender) || c.AuthKey != q.Auth.Public() || !c.ContactRequest {
		t.Fatalf("parsed %+v", r)
	}
	if err := c.Verify(q.Relay); err != nil {
		t.Fatal(err)
	}
	if err := c.Verify(relay(t)); !errors.Is(err, StatusAuth) {
		t.Errorf("create for another relay: err = %v, want StatusAuth", err)
	}
	again, _ := q.CreateRequest()
	if !bytes.Equal(again, b) {
		t.Error("a retried create differs from the first")
	}
}

func TestSend(t *testing.T) {
	q := newQueue(t, false)
	env := bytes.Repeat([]byte{7}, EnvelopeSize)
	msg := MessageID{1, 2, 3}
	b, err := SendRequest(q.Sender, msg, env)
	r := parse(t, b, err)
	if r.Send == nil || !r.Send.Sender.Equal(q.Sender) || r.Send.Message != msg || !bytes.Equal(r.Send.Envelope, env) {
		t.Fatal("send changed in transit")
	}
	if _, err := SendRequest(q.Sender, msg, env[:100]); !errors.Is(err, StatusBadSize) {
		t.Errorf("short envelope: err = %v", err)
	}
	raw, _ := encode(&mailboxv1.Request{Op: &mailboxv1.Request_Send{Send: &mailboxv1.Send{
		SenderId: q.Sender.Bytes(), MessageId: msg[:], Envelope: env[:EnvelopeSize-1]}}})
	if _, err := ParseRequest(raw); !errors.Is(err, StatusBadSize) {
		t.Errorf("relay took a short envelope: err = %v", err)
	}
}

func TestOwnerOps(t *testing.T) {
	q := newQueue(t, false)
	fetch, err := q.FetchRequest(5*time.Second, 2)
	r := parse(t, fetch, err)
	o := r.Owner
	if o == nil || o.Fetch == nil || o.Fetch.Max != 2 || o.Fetch.Wait != 5*time.Second || o.Counter != 1 || !o.Recipient.Equal(q.Recipient) {
		t.Fatalf("fetch parsed as %+v", o)
	}
	if err := o.Verify(q.Relay, q.Auth.Public()); err != nil {
		t.Fatal(err)
	}
	ack, err := q.AckRequest([]uint64{4, 5})
	if r := parse(t, ack, err); r.Owner.Counter != 2 || fmt.Sprint(r.Owner.Ack) != "[4 5]" {
		t.Errorf("ack parsed as %+v", r.Owner)
	}
	ackFetch, err := q.AckFetchRequest([]uint64{6, 7}, time.Second, 1)
	if r := parse(t, ackFetch, err); r.Owner.Counter != 3 || r.Owner.Fetch == nil || fmt.Sprint(r.Owner.Fetch.Ack) != "[6 7]" || r.Owner.Ack != nil {
		t.Errorf("fetch with acks parsed as %+v", r.Owner)
	}
	if r := parse(t, fetch, nil); r.Owner.Fetch.Ack != nil {
		t.Errorf("a plain fetch parsed with acks %v", r.Owner.Fetch.Ack)
	}
	del, err := q.DeleteRequest()
	if r := parse(t, del, err); r.Owner.Counter != 4 || !r.Owner.Delete {
		t.Errorf("delete parsed as %+v", r.Owner)
	}
	tooMany, err := q.ownerRequest(&mailboxv1.RecipientOp{Op: &mailboxv1.RecipientOp_Fetch{Fetch: &mailboxv1.Fetch{
		Max: 1, Ack: make([]uint64, MaxAck+1)}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseRequest(tooMany); !errors.Is(err, StatusMalformed) {
		t.Errorf("relay took a fetch acknowledging %d envelopes: err = %v", MaxAck+1, err)
	}
	other, _ := NewAuthKey(nil)
	if err := o.Verify(q.Relay, other.Public()); !errors.Is(err, StatusAuth) {
		t.Errorf("another queue's key: err = %v", err)
	}
	if err := o.Verify(relay(t), q.Auth.Public()); !errors.Is(err, StatusAuth) {
		t.Errorf("another relay: err = %v", err)
	}
	for _, bad := range []func() ([]byte, error){
		func() ([]byte, error) { return q.FetchRequest(MaxWait+time.Millisecond, 1) },
		func() ([]byte, error) { return q.FetchRequest(0, 3) },
		func() ([]byte, error) { return q.AckRequest(nil) },
		func() ([]byte, error) { return q.AckRequest(make([]uint64, MaxAck+1)) },
		func() ([]byte, error) { return q.AckFetchRequest(make([]uint64, MaxAck+1), 0, 1) },
	} {
		if _, err := bad(); err == nil {
			t.Error("out-of-range owner operation encoded")
		}
	}
}

// TestOwnerBitFlips flips every bit of a signed fetch: nothing may both
// parse and verify, except the original.
func TestOwnerBitFlips(t *testing.T) {
	q := newQueue(t, false)
	b, err := q.FetchRequest(time.Second, 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(b) * 8 {
		bad := bytes.Clone(b)
		bad[i/8] ^= 1 << (i % 8)
		r, err := ParseRequest(bad)
		if err != nil || r.Owner == nil {
			continue
		}
		if r.Owner.Verify(q.Relay, q.Auth.Public()) == nil {
			t.Fatalf("bit %d flipped: still verifies", i)
		}
	}
}

func TestNonCanonicalSignedBody(t *testing.T) {
	q := newQueue(t, false)
	body, _ := deterministic.Marshal(&mailboxv1.RecipientOp{RecipientId: q.Recipient.Bytes(), Counter: 9,
		Op: &mailboxv1.RecipientOp_DeleteQueue{DeleteQueue: &mailboxv1.DeleteQueue{}}})
	body = append(body, 0x10, 0x0a) // counter repeated: protobuf keeps the last
	sig := q.Auth.sign(signedBytes(LabelRecipient, q.Relay, body))
	b, _ := encode(&mailboxv1.Request{Op: &mailboxv1.Request_RecipientOp{RecipientOp: &mailboxv1.SignedRecipientOp{Body: body, Signature: sig}}})
	if _, err := ParseRequest(b); !errors.Is(err, StatusMalformed) {
		t.Fatalf("repeated field under a valid signature: err = %v", err)
	}
}

func TestChunks(t *testing.T) {
	data := bytes.Repeat([]byte{9}, ChunkSize)
	id := ChunkID{4}
	tok, _ := NewDeleteToken(nil)
	b, err := PutChunkRequest(id, data, time.Hour, tok)
	r := parse(t, b, err)
	if r.PutChunk == nil || r.PutChunk.ID != id || r.PutChunk.TTL != time.Hour || !bytes.Equal(r.PutChunk.Data, data) {
		t.Fatal("put chunk changed in transit")
	}
	if bytes.Contains(b, tok.Bytes()) {
		t.Fatal("the delete token itself was sent with the chunk")
	}
	if !TokenMatches(tok, r.PutChunk.DeleteTokenHash) {
		t.Fatal("token does not match its own hash")
	}
	other, _ := NewDeleteToken(nil)
	if TokenMatches(other, r.PutChunk.DeleteTokenHash) {
		t.Fatal("another token matches")
	}
	b, err = GetChunkRequest(id)
	if r := parse(t, b, err); r.GetChunk == nil || *r.GetChunk != id {
		t.Fatal("get chunk changed in transit")
	}
	b, err = DeleteChunkRequest(id, tok)
	if r := parse(t, b, err); r.DeleteChunk == nil || r.DeleteChunk.ID != id || !TokenMatches(r.DeleteChunk.Token, sha(tok)) {
		t.Fatal("delete chunk changed in transit")
	}
	if _, err := PutChunkRequest(id, data[1:], time.Hour, tok); !errors.Is(err, StatusBadSize) {
		t.Errorf("short chunk: err = %v", err)
	}
}

func sha(tok DeleteToken) [32]byte {
	b, _ := PutChunkRequest(ChunkID{}, make([]byte, ChunkSize), time.Second, tok)
	r, _ := ParseRequest(b)
	return r.PutChunk.DeleteTokenHash
}

func TestParseRequestRefuses(t *testing.T) {
	cases := map[string][]byte{
		"garbage":    {0xff, 0xff, 0xff},
		"no op":      mustEncode(t, &mailboxv1.Request{}),
		"version 2":  mustProto(t, &mailboxv1.Request{Version: 2, Op: &mailboxv1.Request_GetChunk{GetChunk: &mailboxv1.GetChunk{ChunkId: make([]byte, 32)}}}),
		"short ID":   mustEncode(t, &mailboxv1.Request{Op: &mailboxv1.Request_GetChunk{GetChunk: &mailboxv1.GetChunk{ChunkId: make([]byte, 5)}}}),
		"zero token": mustEncode(t, &mailboxv1.Request{Op: &mailboxv1.Request_DeleteChunk{DeleteChunk: &mailboxv1.DeleteChunk{ChunkId: make([]byte, 32), DeleteToken: make([]byte, 32)}}}),
		"oversized":  make([]byte, 40000),
	}
	for name, b := range cases {
		_, err := ParseRequest(b)
		if !errors.Is(err, StatusMalformed) && !errors.Is(err, StatusVersion) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := ParseRequest(cases["version 2"]); !errors.Is(err, StatusVersion) {
		t.Errorf("version 2: err = %v, want StatusVersion", err)
	}
}

func mustProto(t *testing.T, m *mailboxv1.Request) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustEncode(t *testing.T, m *mailboxv1.Request) []byte {
	b, err := encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestResponses(t *testing.T) {
	env := bytes.Repeat([]byte{3}, EnvelopeSize)
	r := &Response{Status: StatusOK, Envelopes: []Envelope{{Seq: 1, Data: env}, {Seq: 2, Data: env}}}
	b, err := EncodeResponse(r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseResponse(b)
	if err != nil || got.Err() != nil || len(got.Envelopes) != 2 || got.Envelopes[1].Seq != 2 {
		t.Fatalf("got %+v, %v", got, err)
	}
	b, _ = EncodeResponse(&Response{Status: StatusCounter, LastCounter: 41})
	got, _ = ParseResponse(b)
	if !errors.Is(got.Err(), StatusCounter) || got.LastCounter != 41 {
		t.Fatalf("counter refusal read as %+v", got)
	}
	for name, p := range map[string]*mailboxv1.Response{
		"version":        {Version: 3},
		"status":         {Version: 1, Status: 200},
		"three":          {Version: 1, Envelopes: []*mailboxv1.Envelope{{Data: env}, {Data: env}, {Data: env}}},
		"short envelope": {Version: 1, Envelopes: []*mailboxv1.Envelope{{Data: env[1:]}}},
		"short chunk":    {Version: 1, Chunk: []byte{1}},
	} {
		b, _ := proto.Marshal(p)
		if _, err := ParseResponse(b); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestStatusNames(t *testing.T) {
	seen := map[string]bool{}
	for s := StatusOK; s < statusCount; s++ {
		name := s.String()
		if name == "" || seen[name] || strings.HasPrefix(name, "unknown") {
			t.Errorf("status %d has name %q", s, name)
		}
		seen[name] = true
	}
	if !strings.Contains(Status(200).String(), "unknown") {
		t.Error("out-of-range status has a name")
	}
	var err error = fmt.Errorf("send: %w", StatusQueueFull)
	if !errors.Is(err, StatusQueueFull) || errors.Is(err, StatusRelayFull) {
		t.Error("errors.Is does not tell statuses apart")
	}
	if !StatusRateLimited.Temporary() || StatusAuth.Temporary() {
		t.Error("Temporary is wrong")
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	q := newQueue(t, false)
	tok, _ := NewDeleteToken(nil)
	seed := fmt.Sprintf("%x", q.Auth.Seed())
	for _, v := range []any{q, *q, q.Auth, *q.Auth, q.Recipient, tok} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%x"} {
			out := fmt.Sprintf(verb, v)
			for _, secret := range []string{seed, fmt.Sprintf("%x", q.Recipient.Bytes()), fmt.Sprintf("%x", tok.Bytes()), fmt.Sprintf("%x", q.Sender.Bytes())} {
				if strings.Contains(out, secret) {
					t.Errorf("%s of %T prints a secret", verb, v)
				}
			}
		}
	}
}
