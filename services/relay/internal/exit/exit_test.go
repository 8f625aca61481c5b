// SPDX-License-Identifier: AGPL-3.0-or-later

package exit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"path/filepath"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/mailbox"
	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/services/relay/internal/store"
	"github.com/hushchat/hush/services/relay/internal/store/boltstore"
)

type fixture struct {
	h     *Handler
	relay onion.RelayID
}

func newFixture(t *testing.T, limits store.Limits, rates Limits) *fixture {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "relay.db"), boltstore.Options{Limits: limits})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	pub, _, _ := ed25519.GenerateKey(nil)
	relay, _ := onion.NewRelayID(pub)
	return &fixture{h: New(relay, st, rates, nil), relay: relay}
}

// must returns a request its builder made, failing on an error.
func must(req []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return req
}

func (f *fixture) do(t *testing.T, req []byte) *mailbox.Response {
	t.Helper()
	resp, err := mailbox.ParseResponse(f.h.HandleExit(context.Background(), req))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (f *fixture) want(t *testing.T, what string, resp *mailbox.Response, s mailbox.Status) {
	t.Helper()
	if resp.Status != s {
		t.Fatalf("%s: status %q, want %q", what, resp.Status, s)
	}
}

func (f *fixture) queue(t *testing.T, contact bool) *mailbox.Queue {
	t.Helper()
	q, err := mailbox.NewQueue(f.relay, contact)
	if err != nil {
		t.Fatal(err)
	}
	f.want(t, "create", f.do(t, must(q.CreateRequest())), mailbox.StatusOK)
	return q
}

func envelope(b byte) []byte { return bytes.Repeat([]byte{b}, mailbox.EnvelopeSize) }

func TestQueueLife(t *testing.T) {
	f := newFixture(t, store.Limits{}, Limits{})
	q := f.queue(t, false)
	f.want(t, "create retried", f.do(t, must(q.CreateRequest())), mailbox.StatusOK)
	resp := f.do(t, must(mailbox.SendRequest(q.Sender, mailbox.MessageID{1}, envelope(1))))
	f.want(t, "send", resp, mailbox.StatusOK)
	if resp.Duplicate {
		t.Fatal("first send reported as duplicate")
	}
	if resp := f.do(t, must(mailbox.SendRequest(q.Sender, mailbox.MessageID{1}, envelope(1)))); !resp.Duplicate || resp.Status != mailbox.StatusOK {
		t.Fatalf("resent message: %+v", resp)
	}
	f.want(t, "second message", f.do(t, must(mailbox.SendRequest(q.Sender, mailbox.MessageID{2}, envelope(2)))), mailbox.StatusOK)
	fetch := must(q.FetchRequest(0, 2))
	resp = f.do(t, fetch)
	f.want(t, "fetch", resp, mailbox.StatusOK)
	if len(resp.Envelopes) != 2 || resp.Envelopes[0].Data[0] != 1 || resp.Envelopes[1].Data[0] != 2 {
		t.Fatalf("fetched %d envelopes, want both, oldest first", len(resp.Envelopes))
	}
	// Not acked: delivered again.
	if resp := f.do(t, must(q.FetchRequest(0, 1))); len(resp.Envelopes) != 1 || resp.Envelopes[0].Data[0] != 1 {
		t.Fatal("an unacked envelope was not delivered again")
	}
	f.want(t, "ack", f.do(t, must(q.AckRequest([]uint64{resp.Envelopes[0].Seq}))), mailbox.StatusOK)
	// The next fetch acknowledges the second one and finds nothing.
	if resp := f.do(t, must(q.AckFetchRequest([]uint64{resp.Envelopes[1].Seq}, 0, 2))); resp.Status != mailbox.StatusOK || len(resp.Envelopes) != 0 {
		t.Fatalf("fetch acknowledging the last envelope: %v with %d envelopes, want none", resp.Status, len(resp.Envelopes))
	}
	if resp := f.do(t, must(q.FetchRequest(0, 2))); len(resp.Envelopes) != 0 {
		t.Fatal("acked envelopes came back")
	}
	// The first fetch, replayed, is refused and says where the counter is.
	resp = f.do(t, fetch)
	f.want(t, "replayed fetch", resp, mailbox.StatusCounter)
	if resp.LastCounter != q.Counter {
		t.Errorf("last counter %d, want %d", resp.LastCounter, q.Counter)
	}
	f.want(t, "delete", f.do(t, must(q.DeleteRequest())), mailbox.StatusOK)
	f.want(t, "fetch after delete", f.do(t, must(q.FetchRequest(0, 1))), mailbox.StatusNoQueue)
	f.want(t, "send after delete", f.do(t, must(mailbox.SendRequest(q.Sender, mailbox.MessageID{3}, envelope(3)))), mailbox.StatusNoQueue)
}

func TestForgedOwnerRefused(t *testing.T) {
	f := newFixture(t, store.Limits{}, Limits{})
	q := f.queue(t, false)
	mallory := *q
	mallory.Auth, _ = mailbox.NewAuthKey(nil)
	f.want(t, "fetch signed by another key", f.do(t, must(mallory.FetchRequest(0, 1))), mailbox.StatusAuth)
	elsewhere := *q
	pub, _, _ := ed25519.GenerateKey(nil)
	elsewhere.Relay, _ = onion.NewRelayID(pub)
	f.want(t, "fetch signed for another relay", f.do(t, must(elsewhere.FetchRequest(0, 1))), mailbox.StatusAuth)
	taken, _ := mailbox.NewQueue(f.relay, false)
	taken.Recipient = q.Recipient
	f.want(t, "create over an existing queue", f.do(t, must(taken.CreateRequest())), mailbox.StatusExists)
	// The owner's own fetch moves the counter on; a forged request with a
	// stale counter must still learn nothing of it.
	f.want(t, "owner's fetch", f.do(t, must(q.FetchRequest(0, 1))), mailbox.StatusOK)
	stale := *q
	stale.Auth, _ = mailbox.NewAuthKey(nil)
	stale.Counter = 0
	resp := f.do(t, must(stale.FetchRequest(0, 1)))
	f.want(t, "forged fetch with a stale counter", resp, mailbox.StatusAuth)
	if resp.LastCounter != 0 {
		t.Error("a forged request learned the counter")
	}
}

func TestLongPollReturnsOnArrival(t *testing.T) {
	f := newFixture(t, store.Limits{}, Limits{})
	q := f.queue(t, false)
	fetch, err := q.FetchRequest(10*time.Second, 2)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan *mailbox.Response)
	start := time.Now()
	go func() {
		resp, _ := mailbox.ParseResponse(f.h.HandleExit(context.Background(), fetch))
		done <- resp
	}()
	time.Sleep(100 * time.Millisecond)
	f.want(t, "send", f.do(t, must(mailbox.SendRequest(q.Sender, mailbox.MessageID{9}, envelope(9)))), mailbox.StatusOK)
	resp := <-done
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("long-poll answered after %v", took)
	}
	if resp == nil || len(resp.Envelopes) != 1 || resp.Envelopes[0].Data[0] != 9 {
		t.Fatalf("long-poll answered %+v", resp)
	}
	// An empty queue answers empty after the wait.
	start = time.Now()
	f.do(t, must(q.AckRequest([]uint64{resp.Envelopes[0].Seq})))
	resp = f.do(t, must(q.FetchRequest(200*time.Millisecond, 1)))
	if took := time.Since(start); len(resp.Envelopes) != 0 || took < 200*time.Millisecond || took > 3*time.Second {
		t.Fatalf("empty long-poll: %d envelopes after %v", len(resp.Envelopes), took)
	}
}

func TestContactRequestQueue(t *testing.T) {
	f := newFixture(t, store.Limits{}, Limits{})
	q := f.queue(t, true)
	f.want(t, "first", f.do(t, must(mailbox.SendRequest(q.Sender, mailbox.MessageID{1}, envelope(1)))), mailbox.StatusOK)
	f.want(t, "second", f.do(t, must(mailbox.SendRequest(q.Sender, mailbox.MessageID{2}, envelope(2)))), mailbox.StatusContactRequestUsed)
}

func TestQuotasAndRates(t *testing.T) {
	f := newFixture(t, store.Limits{MaxQueueEnvelopes: 2, MaxQueues: 2}, Limits{CreatesPerSecond: 1, Burst: 2 * time.Second})
	q := f.queue(t, false)
	for i := range 2 {
		f.want(t, "send", f.do(t, must(mailbox.SendRequest(q.Sender, mailbox.MessageID{byte(i)}, envelope(1)))), mailbox.StatusOK)
	}
	f.want(t, "third send", f.do(t, must(mailbox.SendRequest(q.Sender, mailbox.MessageID{5}, envelope(1)))), mailbox.StatusQueueFull)
	f.queue(t, false)
	over, _ := mailbox.NewQueue(f.relay, false)
	f.want(t, "third queue", f.do(t, must(over.CreateRequest())), mailbox.StatusRateLimited)
}

func TestRelayQueueLimit(t *testing.T) {
	f := newFixture(t, store.Limits{MaxQueues: 1}, Limits{})
	f.queue(t, false)
	over, _ := mailbox.NewQueue(f.relay, false)
	f.want(t, "second queue", f.do(t, must(over.CreateRequest())), mailbox.StatusTooManyQueues)
}

func TestChunks(t *testing.T) {
	f := newFixture(t, store.Limits{}, Limits{})
	id := mailbox.ChunkID{7}
	tok, _ := mailbox.NewDeleteToken(nil)
	data := bytes.Repeat([]byte{5}, mailbox.ChunkSize)
	f.want(t, "put", f.do(t, must(mailbox.PutChunkRequest(id, data, time.Hour, tok))), mailbox.StatusOK)
	f.want(t, "put again", f.do(t, must(mailbox.PutChunkRequest(id, data, time.Hour, tok))), mailbox.StatusExists)
	resp := f.do(t, must(mailbox.GetChunkRequest(id)))
	if resp.Status != mailbox.StatusOK || !bytes.Equal(resp.Chunk, data) {
		t.Fatalf("get: %v", resp.Status)
	}
	other, _ := mailbox.NewDeleteToken(nil)
	f.want(t, "delete with another token", f.do(t, must(mailbox.DeleteChunkRequest(id, other))), mailbox.StatusBadToken)
	f.want(t, "delete", f.do(t, must(mailbox.DeleteChunkRequest(id, tok))), mailbox.StatusOK)
	f.want(t, "get after delete", f.do(t, must(mailbox.GetChunkRequest(id))), mailbox.StatusNoChunk)
}

func TestBadRequests(t *testing.T) {
	f := newFixture(t, store.Limits{}, Limits{})
	f.want(t, "garbage", f.do(t, []byte{0xff, 0x01}), mailbox.StatusMalformed)
	f.want(t, "empty", f.do(t, nil), mailbox.StatusMalformed)
	f.want(t, "version 9", f.do(t, []byte{0x08, 0x09}), mailbox.StatusVersion)
	var seen []string
	f.h.OnResult = func(op string, s mailbox.Status) { seen = append(seen, op+"="+s.String()) }
	f.do(t, []byte{0xff})
	if len(seen) != 1 || seen[0] != "malformed=request is malformed" {
		t.Errorf("OnResult saw %q", seen)
	}
}

// TestWaitingLongPollsPerQueue: a third long-poll on one queue is answered
// at once instead of waiting. The long-polls start one after the other,
// since each must carry a higher counter than the last one the relay saw.
func TestWaitingLongPollsPerQueue(t *testing.T) {
	f := newFixture(t, store.Limits{}, Limits{})
	q := f.queue(t, false)
	waiting := func() int {
		f.h.mu.Lock()
		defer f.h.mu.Unlock()
		return f.h.waiting[q.Recipient.Array()]
	}
	done := make(chan struct{})
	for i := range MaxWaitingPerQueue {
		req := must(q.FetchRequest(3*time.Second, 1))
		go func() {
			f.h.HandleExit(context.Background(), req)
			done <- struct{}{}
		}()
		deadline := time.Now().Add(2 * time.Second)
		for waiting() != i+1 {
			if time.Now().After(deadline) {
				t.Fatalf("%d long-polls waiting, want %d", waiting(), i+1)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	start := time.Now()
	resp := f.do(t, must(q.FetchRequest(3*time.Second, 1)))
	if took := time.Since(start); resp.Status != mailbox.StatusOK || took > time.Second {
		t.Fatalf("third long-poll: %v after %v, want an immediate empty answer", resp.Status, took)
	}
	for range MaxWaitingPerQueue {
		<-done
	}
}

// TestDrain: Drain answers a waiting long-poll at once with an empty OK,
// and later long-polls do not wait; a message stored before is still
// fetched.
func TestDrain(t *testing.T) {
	f := newFixture(t, store.Limits{}, Limits{})
	q := f.queue(t, false)
	done := make(chan *mailbox.Response, 1)
	req := must(q.FetchRequest(mailbox.MaxWait, 1))
	go func() { done <- f.do(t, req) }()
	deadline := time.Now().Add(2 * time.Second)
	for {
		f.h.mu.Lock()
		n := f.h.waiting[q.Recipient.Array()]
		f.h.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the long-poll is not waiting")
		}
		time.Sleep(5 * time.Millisecond)
	}
	f.h.Drain()
	select {
	case resp := <-done:
		if resp.Status != mailbox.StatusOK || len(resp.Envelopes) != 0 {
			t.Fatalf("drained long-poll: %v with %d envelopes, want an empty OK", resp.Status, len(resp.Envelopes))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Drain did not end the waiting long-poll")
	}
	f.h.Drain() // twice is harmless
	start := time.Now()
	if resp := f.do(t, must(q.FetchRequest(mailbox.MaxWait, 1))); resp.Status != mailbox.StatusOK || time.Since(start) > time.Second {
		t.Fatalf("a long-poll after Drain: %v after %v, want an immediate answer", resp.Status, time.Since(start))
	}
	f.want(t, "send while draining", f.do(t, must(mailbox.SendRequest(q.Sender, mailbox.MessageID{1}, envelope(1)))), mailbox.StatusOK)
	if resp := f.do(t, must(q.FetchRequest(mailbox.MaxWait, 1))); resp.Status != mailbox.StatusOK || len(resp.Envelopes) != 1 {
		t.Fatalf("fetch of a stored message after Drain: %v with %d envelopes, want 1", resp.Status, len(resp.Envelopes))
	}
}

func TestSendAndChunkRatesAndRelayLimits(t *testing.T) {
	f := newFixture(t, store.Limits{MaxChunks: 1}, Limits{SendsPerSecond: 1, ChunksPerSecond: 1, Burst: time.Second})
	q := f.queue(t, false)
	f.want(t, "send", f.do(t, must(mailbox.SendRequest(q.Sender, mailbox.MessageID{1}, envelope(1)))), mailbox.StatusOK)
	f.want(t, "second send at once", f.do(t, must(mailbox.SendRequest(q.Sender, mailbox.MessageID{2}, envelope(1)))), mailbox.StatusRateLimited)
	tok, _ := mailbox.NewDeleteToken(nil)
	data := bytes.Repeat([]byte{1}, mailbox.ChunkSize)
	f.want(t, "put", f.do(t, must(mailbox.PutChunkRequest(mailbox.ChunkID{1}, data, time.Hour, tok))), mailbox.StatusOK)
	f.want(t, "second put at once", f.do(t, must(mailbox.PutChunkRequest(mailbox.ChunkID{2}, data, time.Hour, tok))), mailbox.StatusRateLimited)
	time.Sleep(1100 * time.Millisecond) // one token back
	f.want(t, "put over the relay's chunk limit", f.do(t, must(mailbox.PutChunkRequest(mailbox.ChunkID{2}, data, time.Hour, tok))), mailbox.StatusTooManyChunks)
}

func TestRelayFull(t *testing.T) {
	f := newFixture(t, store.Limits{MaxBytes: mailbox.ChunkSize + mailbox.EnvelopeSize + store.SendMetaBytes}, Limits{})
	q := f.queue(t, false)
	tok, _ := mailbox.NewDeleteToken(nil)
	data := bytes.Repeat([]byte{1}, mailbox.ChunkSize)
	f.want(t, "put", f.do(t, must(mailbox.PutChunkRequest(mailbox.ChunkID{1}, data, time.Hour, tok))), mailbox.StatusOK)
	f.want(t, "send", f.do(t, must(mailbox.SendRequest(q.Sender, mailbox.MessageID{1}, envelope(1)))), mailbox.StatusOK)
	f.want(t, "send over the budget", f.do(t, must(mailbox.SendRequest(q.Sender, mailbox.MessageID{2}, envelope(1)))), mailbox.StatusRelayFull)
}
