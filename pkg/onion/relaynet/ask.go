// SPDX-License-Identifier: AGPL-3.0-or-later

package relaynet

import (
	"context"
	"errors"
	"fmt"

	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/path"
)

// Ask sends request (a mailbox request, at most onion.RequestCapacity
// bytes) to the exit through a fresh path and returns the exit's answer.
//
// It first refreshes the directory if it has none, the network file
// changed, or the directory is stale. Each attempt chooses a path
// (path.Selector with the guard store, relays seen failing in the last
// DownFor left out), wraps the request for it (onion.Wrap), forwards it
// to the entry through the Transport and opens the response.
//
// When a relay of the path fails (the entry cannot be reached, or a hop
// answers with an onion error code naming it), Ask leaves that relay out
// of new paths for DownFor (see Down) and tries another path, up to
// Config.Attempts paths. The exit is fixed: when it is the one failing,
// other paths to it are tried all the same, and if it failed on the last
// one the error wraps ErrExitUnreachable and names it. When a relay drops
// the packet (an onion key the client no longer should use), Ask fetches
// the directory again, once per call, and retries without counting an
// attempt.
//
// Errors: ErrExitUnreachable, ErrUnknownExit, ErrNoPath or ErrUnreachable
// (no directory could be fetched), each wrapped with what was tried; a
// *HopError when every attempt failed at a relay other than the exit (or
// at once, for an exit that refused the request); ctx.Err() as soon as
// ctx is done, which matters for a long-poll's long ctx.
func (n *Net) Ask(ctx context.Context, exit onion.RelayID, request []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if exit.IsZero() {
		return nil, fmt.Errorf("%w: no exit given", ErrUnknownExit)
	}
	var (
		last          *HopError // the last attempt's failure
		failed        int       // attempts that failed at a relay
		keyRefreshed  bool      // refreshed for a dropped packet
		exitRefreshed bool      // refreshed for an unknown exit
	)
	for failed < n.cfg.Attempts {
		if err := n.ensureDirectory(ctx, exit); err != nil {
			return nil, n.stop(ctx, err, last)
		}
		hops, version, err := n.selectPath(ctx, exit)
		if errors.Is(err, path.ErrUnknownExit) && !exitRefreshed {
			// The exit may have joined since the directory was fetched.
			exitRefreshed = true
			if err := n.refreshAfter(ctx, exit, version); err != nil && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			continue
		}
		if err != nil {
			return nil, n.stop(ctx, err, last)
		}
		reply, fail, err := n.try(ctx, hops, request)
		if err != nil {
			return nil, err
		}
		if fail == nil {
			n.markUp(hops)
			return reply, nil
		}
		n.log.Debug("path failed", "hop", fail.Hop, "relay", fail.Relay, "code", fail.Code.String(), "attempt", failed+1)
		if fail.Code == onion.CodeRefused {
			if fail.exitRefused() {
				return nil, fail // the exit's decision: another path will not change it
			}
			if !keyRefreshed {
				keyRefreshed = true
				if err := n.refreshAfter(ctx, exit, version); err != nil && ctx.Err() != nil {
					return nil, ctx.Err()
				}
				continue
			}
		}
		n.markDown(fail.Relay, n.cfg.Now())
		last = fail
		failed++
	}
	if last.IsExit() {
		return nil, fmt.Errorf("%w: %s failed on %d paths: %w", ErrExitUnreachable, n.name(exit), failed, last)
	}
	return nil, last
}

// selectPath chooses a path to exit over the current directory. It also
// returns the directory's version, for refreshAfter.
func (n *Net) selectPath(ctx context.Context, exit onion.RelayID) ([]onion.Hop, uint64, error) {
	now := n.cfg.Now()
	n.mu.Lock()
	req := path.Request{
		Network:   n.nf, // replaced whole, never changed in place: no copy needed
		Directory: n.dir,
		Health:    n.downLocked(now, exit),
		Exit:      exit,
		Hops:      n.cfg.Hops,
		Now:       now,
	}
	version := n.version
	n.mu.Unlock()
	hops, err := n.sel.Select(ctx, req)
	return hops, version, err
}

// try sends request over one path. It returns the reply, or the relay
// that failed, or an error that ends Ask (ctx done, a request that
// cannot be wrapped).
func (n *Net) try(ctx context.Context, hops []onion.Hop, request []byte) ([]byte, *HopError, error) {
	packet, opener, err := onion.Wrap(hops, request)
	if err != nil {
		return nil, nil, fmt.Errorf("relaynet: wrap the request: %w", err)
	}
	entry := hops[0].ID
	resp, err := n.cfg.Transport.Forward(ctx, entry, n.address(entry), packet)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, &HopError{Hop: 0, Hops: len(hops), Relay: entry, Code: n.cfg.Classify(err), Err: err, by: -1}, nil
	}
	reply, err := opener.Open(resp)
	var he *onion.HopError
	switch {
	case err == nil:
		return reply, nil, nil
	case ctx.Err() != nil:
		// The relays gave up because the client did: no one failed.
		return nil, nil, ctx.Err()
	case errors.As(err, &he):
		return nil, blame(hops, he), nil
	default:
		// A response that is neither a hop's error nor the exit's reply
		// was damaged on the way; the entry is the one relay that could
		// tell the client apart, so it is left out.
		return nil, &HopError{Hop: 0, Hops: len(hops), Relay: entry, Code: onion.CodeInternal, Err: err, by: -1}, nil
	}
}

// blame turns the error response of hop he.Hop into the relay that
// failed: the next one for "could not reach / no answer from / dropped
// by the next relay", the hop itself otherwise.
func blame(hops []onion.Hop, he *onion.HopError) *HopError {
	i := he.Hop
	switch he.Code {
	case onion.CodeUnreachable, onion.CodeTimeout, onion.CodeRefused:
		if i+1 < len(hops) {
			i++
		}
	}
	return &HopError{Hop: i, Hops: len(hops), Relay: hops[i].ID, Code: he.Code, by: he.Hop}
}

// address is where relay id is reached: its descriptor's signed address,
// else the network file's.
func (n *Net) address(id onion.RelayID) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.dir != nil {
		if d, ok := n.dir.Lookup(id); ok && d.Address != "" {
			return d.Address
		}
	}
	r, _ := n.nf.Lookup(id)
	return r.Address
}

// stop makes the error that ends Ask when no path can be tried, saying
// what failed before, if anything did.
func (n *Net) stop(ctx context.Context, err error, last *HopError) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	switch {
	case errors.Is(err, path.ErrUnknownExit):
		err = fmt.Errorf("%w: %w", ErrUnknownExit, err)
	case errors.Is(err, path.ErrNoPath):
		err = fmt.Errorf("%w: %w", ErrNoPath, err)
	}
	if last != nil {
		return fmt.Errorf("%w (after: %w)", err, last)
	}
	return err
}
