// SPDX-License-Identifier: AGPL-3.0-or-later

package boltstore

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/hushchat/hush/services/relay/internal/store"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

func openAt(t testing.TB, path string, lim store.Limits) *Store {
	t.Helper()
	s, err := Open(path, Options{Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openTemp(t testing.TB, lim store.Limits) *Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "relay.db"), lim)
}

func randID() (id store.QueueID) {
	rand.Read(id[:])
	return id
}

func randMsg() (m store.MessageID) {
	rand.Read(m[:])
	return m
}

// mkQueue creates a queue with fresh IDs and returns it.
func mkQueue(t testing.TB, s *Store, contactRequest bool) store.NewQueue {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	q := store.NewQueue{Recipient: randID(), Sender: randID(), AuthKey: pub, ContactRequest: contactRequest}
	if err := s.CreateQueue(ctx, q, t0); err != nil {
		t.Fatalf("CreateQueue: %v", err)
	}
	return q
}

// envelope is an envelope-sized buffer filled with b.
func envelope(b byte) []byte { return bytes.Repeat([]byte{b}, store.EnvelopeSize) }

func send(t testing.TB, s *Store, q store.NewQueue, msg store.MessageID, fill byte, now time.Time) store.SendResult {
	t.Helper()
	res, err := s.Send(ctx, q.Sender, msg, envelope(fill), now)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	return res
}

func stats(t testing.TB, s *Store) store.Stats {
	t.Helper()
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st.FileBytes = 0 // compared by count, not by file size
	return st
}

func wantErr(t testing.TB, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
}

// refusedUnchanged runs op, wants err, and checks the store's counts did
// not move.
func refusedUnchanged(t testing.TB, s *Store, what string, want error, op func() error) {
	t.Helper()
	before := stats(t, s)
	wantErr(t, what, op(), want)
	if after := stats(t, s); after != before {
		t.Fatalf("%s: stats changed on refusal: %+v → %+v", what, before, after)
	}
}

// fetchSeqs fetches and returns the sequence numbers and first bytes.
func fetchSeqs(t testing.TB, s *Store, q store.NewQueue, counter uint64, max int) (seqs []uint64, fills []byte) {
	t.Helper()
	envs, err := s.Fetch(ctx, q.Recipient, counter, nil, max)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	for _, e := range envs {
		if len(e.Data) != store.EnvelopeSize || !bytes.Equal(e.Data, envelope(e.Data[0])) {
			t.Fatalf("envelope %d is not one fill byte of %d", e.Seq, store.EnvelopeSize)
		}
		seqs = append(seqs, e.Seq)
		fills = append(fills, e.Data[0])
	}
	return seqs, fills
}

// slogTo is a logger that writes text to w.
func slogTo(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
