// SPDX-License-Identifier: AGPL-3.0-or-later

package publish

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/directory"
)

// Refresh asks every other relay of the network file for its descriptor
// now, and keeps each one that verifies and is newer than the one held.
// It returns the failures joined, each naming its relay.
func (p *Publisher) Refresh(ctx context.Context) error {
	p.mu.RLock()
	network := p.network
	p.mu.RUnlock()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, fetchParallel)
	)
	for _, r := range network.Relays {
		if r.ID == p.cfg.Key.Relay() {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := p.fetch(ctx, network, r); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	p.mu.Lock()
	p.rebuildLocked(time.Now())
	p.mu.Unlock()
	return errors.Join(errs...)
}

func (p *Publisher) fetch(ctx context.Context, n directory.NetworkFile, r directory.NetworkRelay) error {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	signed, err := p.cfg.Fetch.Descriptor(ctx, r.ID, r.Address)
	if err != nil {
		return fmt.Errorf("publish: descriptor of %s: %w", r.ID, err)
	}
	d, err := n.Verify(signed, time.Now())
	if err != nil {
		return fmt.Errorf("publish: descriptor of %s: %w", r.ID, err)
	}
	if d.Relay != r.ID {
		return fmt.Errorf("%w: asked %s, got %s", ErrWrongRelay, r.ID, d.Relay)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if old, ok := p.others[r.ID]; !ok || newer(d, old) {
		p.others[r.ID] = d
	}
	return nil
}

// newer reports whether d replaces old: published later or, within the
// same second (descriptor times are whole seconds), with a higher epoch.
// A relay restarted after an unclean stop starts new epochs at once; if
// it republished within the second, only the epochs tell the new
// descriptor from the old.
func newer(d, old *directory.Descriptor) bool {
	if !d.Published.Equal(old.Published) {
		return d.Published.After(old.Published)
	}
	return maxEpoch(d) > maxEpoch(old)
}

func maxEpoch(d *directory.Descriptor) onion.Epoch {
	var m onion.Epoch
	for _, k := range d.Keys {
		m = max(m, k.Epoch)
	}
	return m
}

// Run runs the key ring's schedule every TickInterval and refreshes the
// other relays' descriptors every Refresh (sooner after a failure), until
// ctx is done.
func (p *Publisher) Run(ctx context.Context) {
	tick := time.NewTicker(TickInterval)
	defer tick.Stop()
	refresh := time.NewTimer(0)
	defer refresh.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if err := p.Tick(now); err != nil {
				p.log.Error("key ring schedule failed", "err", err)
			}
		case <-refresh.C:
			next := jitter(p.cfg.Refresh)
			if err := p.Refresh(ctx); err != nil {
				p.log.Warn("some relays' descriptors could not be refreshed", "err", err)
				next = min(next, retryInterval)
			}
			refresh.Reset(next)
		}
	}
}

// jitter spreads d by ±10%, so relays do not all ask each other at once.
func jitter(d time.Duration) time.Duration {
	spread := int64(d / 5)
	if spread <= 0 {
		return d
	}
	return d - d/10 + time.Duration(rand.Int64N(spread))
}
