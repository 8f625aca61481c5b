// SPDX-License-Identifier: AGPL-3.0-or-later

package relaynet

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/directory"
)

// Refresh fetches the directory from the relays of the network file,
// tried in random order until one answers with a document that verifies
// against the file (directory.ParseDirectory), and keeps it. If none
// does, it returns an error wrapping ErrUnreachable that says what each
// relay said, on one line; the directory it had is kept.
func (n *Net) Refresh(ctx context.Context) error {
	return n.refresh(ctx, onion.RelayID{}, nil)
}

// refresh is Refresh, asking avoid (the exit of the request that needs
// the directory) last, and doing nothing once it holds the refresh lock
// if skip says the directory it finds then is good enough (another
// refresh got there first).
func (n *Net) refresh(ctx context.Context, avoid onion.RelayID, skip func() bool) error {
	select {
	case n.refreshing <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-n.refreshing }()

	n.mu.Lock()
	if skip != nil && skip() {
		n.mu.Unlock()
		return nil
	}
	nf := n.nf // replaced whole, never changed in place
	n.tried = n.cfg.Now()
	n.mu.Unlock()
	if len(nf.Relays) == 0 {
		return ErrNoRelays
	}

	order := rand.Perm(len(nf.Relays))
	for i, j := range order { // avoid goes last
		if nf.Relays[j].ID == avoid {
			order = append(append(order[:i:i], order[i+1:]...), j)
			break
		}
	}
	var said []string
	for _, j := range order {
		r := nf.Relays[j]
		dir, err := n.fetch(ctx, nf, r)
		if err == nil {
			n.keep(nf, dir)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		n.log.Debug("directory fetch failed", "relay", r.ID, "addr", r.Address, "err", err)
		who := "relay " + r.ID.String()
		if r.Name != "" {
			who = fmt.Sprintf("relay %q (%s)", r.Name, r.ID)
		}
		said = append(said, fmt.Sprintf("%s at %s: %v", who, r.Address, oneLine(err)))
	}
	n.log.Warn("directory refresh failed: no relay of the network file answered", "tried", len(said))
	return fmt.Errorf("%w (%d tried: %s)", ErrUnreachable, len(said), strings.Join(said, "; "))
}

// fetch asks one relay for the directory and verifies it.
func (n *Net) fetch(ctx context.Context, nf directory.NetworkFile, r directory.NetworkRelay) (*directory.Directory, error) {
	fctx, cancel := context.WithTimeout(ctx, DirectoryTimeout)
	defer cancel()
	doc, err := n.cfg.Transport.Directory(fctx, r.ID, r.Address)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, fmt.Errorf("no answer within %v", DirectoryTimeout)
		}
		return nil, err
	}
	dir, err := directory.ParseDirectory(doc, nf, n.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("directory refused: %w", err)
	}
	return dir, nil
}

// keep makes dir, verified against nf, the directory, unless the network
// file changed meanwhile (the next Ask refreshes again).
func (n *Net) keep(nf directory.NetworkFile, dir *directory.Directory) {
	now := n.cfg.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	changed := !slices.Equal(nf.Relays, n.nf.Relays)
	n.dir, n.staleAt = dir, staleAt(dir, now)
	n.version++
	n.netChanged = changed
	n.log.Info("directory refreshed", "relays", len(dir.Relays), "skipped", len(dir.Skipped), "exits", len(n.exitsLocked(now)))
}

// staleAt is when a directory fetched at now should be replaced: after
// MaxDirectoryAge, or StaleMargin before any descriptor in it expires or
// runs out of onion keys. Descriptors already that close when it was
// fetched (a relay gone for a day) do not count: fetching again would
// bring the same ones back.
func staleAt(dir *directory.Directory, now time.Time) time.Time {
	at := now.Add(MaxDirectoryAge)
	for _, d := range dir.Relays {
		until := d.Expires
		if len(d.Keys) > 0 && d.Keys[len(d.Keys)-1].End.Before(until) {
			until = d.Keys[len(d.Keys)-1].End
		}
		if t := until.Add(-StaleMargin); t.After(now) && t.Before(at) {
			at = t
		}
	}
	return at
}

// ensureDirectory refreshes before a path is chosen if there is no
// directory, the network file changed, or the directory is stale (at most
// once per MinRefreshGap). A failed refresh with a directory still in
// hand is logged and the old directory used: its relays may well work.
func (n *Net) ensureDirectory(ctx context.Context, exit onion.RelayID) error {
	need := func() bool {
		now := n.cfg.Now()
		return n.dir == nil || n.netChanged || (!now.Before(n.staleAt) && now.Sub(n.tried) >= MinRefreshGap)
	}
	n.mu.Lock()
	needed := need()
	n.mu.Unlock()
	if !needed {
		return nil
	}
	err := n.refresh(ctx, exit, func() bool { return !need() })
	if err == nil || ctx.Err() != nil {
		return err
	}
	n.mu.Lock()
	have := n.dir != nil
	n.mu.Unlock()
	if have && !errors.Is(err, ErrNoRelays) {
		n.log.Warn("directory refresh failed: using the previous directory")
		return nil
	}
	return err
}

// refreshAfter refreshes unless the directory was replaced since version
// seen (by another request's refresh).
func (n *Net) refreshAfter(ctx context.Context, exit onion.RelayID, seen uint64) error {
	return n.refresh(ctx, exit, func() bool { return n.version != seen })
}

// oneLine keeps an error's message on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
