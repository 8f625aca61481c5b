// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build !js

package peer

import "github.com/hushchat/hush/pkg/onion/relaynet"

// A Pool carries a native client's packets: pass it, with FailCode as
// Classify, in relaynet.Config.
var _ relaynet.Transport = (*Pool)(nil)
