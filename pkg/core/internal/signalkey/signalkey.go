// SPDX-License-Identifier: AGPL-3.0-or-later

// Package signalkey hands pkg/core/session the libsignal form of an
// identity key pair without package identity exporting it: libsignal's key
// types print their raw bytes through fmt, so they stay inside pkg/core.
package signalkey

import sigid "go.mau.fi/libsignal/keys/identity"

// KeyPair converts an *identity.PrivateKey (passed as any, to avoid an
// import cycle) to libsignal's key pair. Package identity sets it in init.
// The result must be kept secret.
var KeyPair func(k any) *sigid.KeyPair
