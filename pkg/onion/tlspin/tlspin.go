// SPDX-License-Identifier: AGPL-3.0-or-later

// Package tlspin is how Hush relays prove who they are on the wire
// (ARCHITECTURE.md, "The relay"): each relay's TLS certificate is
// self-signed with its Ed25519 identity key, and whoever connects to it
// pins that key in tls.Config.VerifyConnection. There is no certificate
// authority: the network file says which identity lives at which address,
// and a relay presenting any other key is refused.
//
// Relays use Certificate and ServerConfig for their listener; relays
// forwarding to the next hop and native clients use ClientConfig.
package tlspin

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/directory"
)

// ALPN is the only application protocol relays speak: HTTP/2.
const ALPN = "h2"

// Certificate lifetime. The certificate proves nothing by its dates (the
// peer checks the key, not a chain), so it is valid from a day ago (clocks
// differ) for long enough never to be the reason a connection fails; a
// relay makes a new one at every start.
const (
	certBackdate = 24 * time.Hour
	certLifetime = 10 * 365 * 24 * time.Hour
	serialBits   = 128
)

var (
	// ErrNoCertificate is returned when a peer presented no certificate.
	ErrNoCertificate = errors.New("tlspin: relay presented no certificate")
	// ErrWrongRelay is wrapped by a *MismatchError.
	ErrWrongRelay = errors.New("tlspin: relay presented another identity key than the one pinned")
	// ErrNotEd25519 is returned for a certificate whose key is not Ed25519.
	ErrNotEd25519 = errors.New("tlspin: relay certificate key is not Ed25519")
)

// MismatchError is returned by the pinning check when the peer's key is a
// valid Ed25519 key of another relay than the one expected.
type MismatchError struct {
	Want, Got onion.RelayID
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("tlspin: expected relay %s but the peer presented %s (wrong address in the network file, or an impostor)", e.Want, e.Got)
}

// Unwrap returns ErrWrongRelay.
func (e *MismatchError) Unwrap() error { return ErrWrongRelay }

// Certificate makes the relay's self-signed TLS certificate from its
// identity key.
func Certificate(k *directory.SigningKey) (tls.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), serialBits))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlspin: certificate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: k.Relay().String()},
		NotBefore:    now.Add(-certBackdate),
		NotAfter:     now.Add(certLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	signer := k.Signer()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, signer.Public(), signer)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlspin: make certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("tlspin: read back certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: signer, Leaf: leaf}, nil
}

// ServerConfig is the relay listener's TLS configuration: TLS 1.3 only,
// HTTP/2 only, the relay's own certificate.
func ServerConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		NextProtos:   []string{ALPN},
		Certificates: []tls.Certificate{cert},
	}
}

// ClientConfig is the configuration to connect to relay want: TLS 1.3,
// HTTP/2, and the peer's certificate key pinned to want.
//
// InsecureSkipVerify only turns off the chain and host name checks, which
// have nothing to check here; the TLS 1.3 handshake still proves that the
// peer holds the private key of its certificate, and VerifyConnection
// requires that key to be want.
func ClientConfig(want onion.RelayID) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		NextProtos:         []string{ALPN},
		InsecureSkipVerify: true,
		VerifyConnection:   func(cs tls.ConnectionState) error { return Verify(cs, want) },
	}
}

// Verify checks that the connection's peer presented want's key.
func Verify(cs tls.ConnectionState, want onion.RelayID) error {
	if len(cs.PeerCertificates) == 0 {
		return ErrNoCertificate
	}
	pub, ok := cs.PeerCertificates[0].PublicKey.(ed25519.PublicKey)
	if !ok {
		return ErrNotEd25519
	}
	// Public keys: no need for a constant-time comparison.
	if bytes.Equal(pub, want.Bytes()) {
		return nil
	}
	got, err := onion.NewRelayID(pub)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotEd25519, err)
	}
	return &MismatchError{Want: want, Got: got}
}
