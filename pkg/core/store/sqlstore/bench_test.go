// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build cgo && !js

package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hushchat/hush/pkg/core/content"
	"github.com/hushchat/hush/pkg/core/store"
)

// BenchmarkOpen opens an existing store with its key and closes it: the
// lock, the file, the key, the check read, the pragmas and the migration
// check. The store holds 1,000 messages so it is not trivially small.
func BenchmarkOpen(b *testing.B) {
	ctx := context.Background()
	p := filepath.Join(b.TempDir(), "hush.db")
	k := newKey(b)
	s := openAt(b, p, k)
	cid := addContact(b, s, "bench")
	err := s.Transact(ctx, func(ctx context.Context) error {
		for i := range 1000 {
			m := store.Message{ID: content.ID{byte(i), byte(i >> 8)}, Contact: cid, Direction: store.Outgoing,
				SentAt: time.UnixMilli(int64(i)), Kind: store.KindText, Body: fmt.Appendf(nil, "message %d", i), State: store.Sent}
			if err := s.AddMessage(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	b.ReportAllocs()
	for b.Loop() {
		s, err := Open(ctx, p, k)
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkNextCounter is one durable counter step: a transaction with
// an fsync of the WAL.
func BenchmarkNextCounter(b *testing.B) {
	ctx := context.Background()
	s, _, _ := tempStore(b)
	qid := addQueue(b, s)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.NextCounter(ctx, qid, 1); err != nil {
			b.Fatal(err)
		}
	}
}
