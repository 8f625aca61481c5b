// SPDX-License-Identifier: AGPL-3.0-or-later

package path

import (
	"github.com/hushchat/hush/pkg/onion"
)

// view is the directory as one request sees it: the relays whose
// descriptors are current and have a key for now, in directory order.
type view struct {
	order   []onion.RelayID
	hops    map[onion.RelayID]onion.Hop
	members map[onion.RelayID]bool // the network file's relays
	health  Health
}

func newView(req Request) *view {
	v := &view{hops: map[onion.RelayID]onion.Hop{}, members: map[onion.RelayID]bool{}, health: req.Health}
	if v.health == nil {
		v.health = allUp{}
	}
	for _, r := range req.Network.Relays {
		v.members[r.ID] = true
	}
	if req.Directory == nil {
		return v
	}
	for _, d := range req.Directory.Relays {
		if d.Expired(req.Now) {
			continue
		}
		hop, err := d.HopAt(req.Now)
		if err != nil {
			continue
		}
		if _, dup := v.hops[d.Relay]; !dup && v.members[d.Relay] {
			v.order = append(v.order, d.Relay)
			v.hops[d.Relay] = hop
		}
	}
	return v
}

func (v *view) down(id onion.RelayID) bool {
	_, down := v.health.DownSince(id)
	return down
}

// usable returns the relays that are listed, not down and not excluded.
func (v *view) usable(exclude map[onion.RelayID]bool) []onion.RelayID {
	var out []onion.RelayID
	for _, id := range v.order {
		if !exclude[id] && !v.down(id) {
			out = append(out, id)
		}
	}
	return out
}

// entry returns the first guard that is listed, up and not the exit: the
// first guard carries every path while it works, so as few relays as
// possible ever see the client's address.
func (v *view) entry(guards []onion.RelayID, exit onion.RelayID) (onion.RelayID, bool) {
	for _, g := range guards {
		if _, ok := v.hops[g]; ok && g != exit && !v.down(g) {
			return g, true
		}
	}
	return onion.RelayID{}, false
}
