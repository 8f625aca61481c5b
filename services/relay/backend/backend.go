// SPDX-License-Identifier: AGPL-3.0-or-later

// Package backend opens what a relay stores and does as the exit: the one
// bbolt store in its data directory (which also keeps the onion key ring),
// a loop removing what has expired, and the mailbox exit answering over
// the store. `hush-relay run` opens it with the relay's configuration;
// devnet opens it with the defaults.
package backend

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hushchat/hush/services/relay"
	"github.com/hushchat/hush/services/relay/config"
	"github.com/hushchat/hush/services/relay/internal/exit"
	"github.com/hushchat/hush/services/relay/internal/keyfile"
	"github.com/hushchat/hush/services/relay/internal/metrics"
	"github.com/hushchat/hush/services/relay/internal/store"
	"github.com/hushchat/hush/services/relay/internal/store/boltstore"
)

// StoreFileName is the relay's store (bbolt) in its data directory.
const StoreFileName = "relay.db"

// expireEvery is how often expired envelopes, chunks and message IDs are
// removed.
const expireEvery = 10 * time.Minute

// Open is the one place a relay's data is chosen: it opens relay dir's
// backend with c's [store] and [limits] (config.Defaults() for a devnet):
// one bbolt file in dir that also keeps the onion key ring, and the exit
// answering mailbox requests over it as the relay whose key is in dir
// (keyfile.FileName). Its metrics (commits, requests by status, counts
// against the limits) and its backup go to the admin listener. Close
// stops the expire loop and closes the store. log nil is silent.
func Open(dir string, c config.Config, log *slog.Logger) (relay.Backend, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	key, err := keyfile.Load(filepath.Join(dir, keyfile.FileName))
	if err != nil {
		return relay.Backend{}, err
	}
	limits := c.Store.StoreLimits()
	var st *boltstore.Store
	m := metrics.NewStore(limits, func(ctx context.Context) (store.Stats, error) { return st.Stats(ctx) })
	st, err = boltstore.Open(filepath.Join(dir, StoreFileName), boltstore.Options{Limits: limits, OnCommit: m.Commit, OnCheckpoint: m.Checkpoint, Logger: log})
	if err != nil {
		return relay.Backend{}, fmt.Errorf("open store: %w", err)
	}
	stop := expireLoop(st, log)
	ex := exit.New(key.Relay(), st, c.Limits.ExitLimits(), log)
	ex.OnResult = m.Result
	return relay.Backend{
		Ring:       st.OnionStore(),
		Exit:       ex,
		Collectors: []prometheus.Collector{m},
		Backup:     st.Backup,
		Close: func() error {
			stop()
			return st.Close()
		},
	}, nil
}

// expireLoop removes what has expired now and every expireEvery, until
// the returned stop is called.
func expireLoop(st *boltstore.Store, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(expireEvery)
		defer t.Stop()
		for {
			for {
				s, err := st.Expire(ctx, time.Now())
				if err != nil {
					if ctx.Err() == nil {
						log.Warn("expire", "err", err)
					}
					break
				}
				if !s.More {
					break
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}
