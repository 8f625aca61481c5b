// SPDX-License-Identifier: AGPL-3.0-or-later

package tlspin

import (
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/hushchat/hush/pkg/onion/directory"
)

// serve accepts TLS connections with k's certificate until the listener
// closes, completing each handshake.
func serve(t *testing.T, k *directory.SigningKey) string {
	t.Helper()
	cert, err := Certificate(k)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", ServerConfig(cert))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.(*tls.Conn).Handshake()
			}()
		}
	}()
	return ln.Addr().String()
}

func newKey(t *testing.T) *directory.SigningKey {
	t.Helper()
	k, err := directory.GenerateSigningKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestPinnedKeyAccepted(t *testing.T) {
	k := newKey(t)
	addr := serve(t, k)
	c, err := tls.Dial("tcp", addr, ClientConfig(k.Relay()))
	if err != nil {
		t.Fatalf("dial the pinned relay: %v", err)
	}
	defer c.Close()
	st := c.ConnectionState()
	if st.Version != tls.VersionTLS13 || st.NegotiatedProtocol != ALPN {
		t.Fatalf("got version %#x protocol %q, want TLS 1.3 and h2", st.Version, st.NegotiatedProtocol)
	}
}

func TestOtherKeyRefused(t *testing.T) {
	real, impostor := newKey(t), newKey(t)
	addr := serve(t, impostor)
	_, err := tls.Dial("tcp", addr, ClientConfig(real.Relay()))
	var mm *MismatchError
	if !errors.As(err, &mm) || !errors.Is(err, ErrWrongRelay) {
		t.Fatalf("dial an impostor: got %v, want a *MismatchError", err)
	}
	if mm.Want != real.Relay() || mm.Got != impostor.Relay() {
		t.Fatalf("mismatch names want %s got %s; expected want %s got %s", mm.Want, mm.Got, real.Relay(), impostor.Relay())
	}
	if !strings.Contains(err.Error(), real.Relay().String()) {
		t.Fatalf("error %q does not name the expected relay", err)
	}
}

func TestNoCertificateOrWrongType(t *testing.T) {
	k := newKey(t)
	if err := Verify(tls.ConnectionState{}, k.Relay()); !errors.Is(err, ErrNoCertificate) {
		t.Fatalf("no certificate: got %v", err)
	}
}

func TestClientRefusesTLS12(t *testing.T) {
	k := newKey(t)
	cert, err := Certificate(k)
	if err != nil {
		t.Fatal(err)
	}
	cfg := ServerConfig(cert)
	cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS12, tls.VersionTLS12
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := tls.Client(conn, ClientConfig(k.Relay()))
	defer c.Close()
	if err := c.Handshake(); err == nil {
		t.Fatal("a TLS 1.2 relay was accepted")
	}
}
