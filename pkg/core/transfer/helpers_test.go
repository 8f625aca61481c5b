// SPDX-License-Identifier: AGPL-3.0-or-later

package transfer

import (
	"bytes"
	"testing"

	"github.com/hushchat/hush/pkg/core/attach"
	"github.com/hushchat/hush/pkg/onion"
)

// testRelays returns k distinct relay IDs: relay r (from 0) is 32 bytes of value r+1.
func testRelays(t testing.TB, k int) []onion.RelayID {
	t.Helper()
	var out []onion.RelayID
	for r := range k {
		id, err := onion.NewRelayID(bytes.Repeat([]byte{byte(r + 1)}, onion.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

func newKey(t testing.TB) attach.Key {
	t.Helper()
	k, err := attach.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}
