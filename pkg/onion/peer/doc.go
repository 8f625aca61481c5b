// SPDX-License-Identifier: AGPL-3.0-or-later

// Package peer is the native side of calls to relays, for relays
// forwarding to the next hop and for native clients: one pooled grpc-go
// connection per relay, TLS pinned to the relay's identity (tlspin), and
// the three RPCs of hush.relay.v1 called by their full method names with
// ClientConn.Invoke (no grpc-go stubs are generated). Pool.Forward is the
// entry point; a *Pool is a relaynet.Transport.
//
// Everything but this file is built only for native targets (!js): grpc-go
// adds megabytes to a browser download, so under GOOS=js the package is
// empty and the browser carries packets over gRPC-Web instead.
package peer
