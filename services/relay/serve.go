// SPDX-License-Identifier: AGPL-3.0-or-later

package relay

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/hushchat/hush/pkg/onion/tlspin"
	"github.com/hushchat/hush/services/relay/internal/metrics"
	"github.com/hushchat/hush/services/relay/internal/rpc"
)

// HTTP server limits.
const (
	// MaxConcurrentStreams is the HTTP/2 stream limit per connection,
	// well above the usual 250: relays share one connection per next hop
	// and every long-poll holds a stream for up to MaxExitWait.
	MaxConcurrentStreams = 4096
	readHeaderTimeout    = 10 * time.Second
	// idleTimeout closes connections idle this long; more than a
	// long-poll, so pooled connections between relays stay up.
	idleTimeout = 5 * time.Minute
)

// server is one listener and its HTTP server.
type server struct {
	name string
	ln   net.Listener
	srv  *http.Server
	tls  bool
}

func (s *server) serve() error {
	if s.tls {
		return s.srv.ServeTLS(s.ln, "", "")
	}
	return s.srv.Serve(s.ln)
}

func (s *server) shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.srv.Close()
		return fmt.Errorf("relay: %s listener: requests still running at the shutdown deadline were cut: %w", s.name, err)
	}
	return nil
}

func (s *server) close() {
	s.ln.Close()
	if s.srv != nil {
		s.srv.Close()
	}
}

// listen binds every listener; the addresses in the descriptor are the
// configured public ones, or the bound ones (a port 0 resolved).
func (r *Relay) listen() error {
	c := r.cfg
	ln, err := net.Listen("tcp", c.Relay.Listen)
	if err != nil {
		return fmt.Errorf("relay: gRPC listener: %w", err)
	}
	r.servers = append(r.servers, &server{name: "grpc", ln: ln, tls: true})
	r.grpcAddr = c.Relay.PublicAddress
	if r.grpcAddr == "" {
		r.grpcAddr = ln.Addr().String()
	}
	if c.Web.Enabled {
		ln, err := net.Listen("tcp", c.Web.Listen)
		if err != nil {
			return fmt.Errorf("relay: web listener: %w", err)
		}
		r.servers = append(r.servers, &server{name: "web", ln: ln, tls: c.Web.CertFile != ""})
		r.webURL = c.Web.PublicURL
		if r.webURL == "" {
			scheme := "http"
			if c.Web.CertFile != "" {
				scheme = "https"
			}
			r.webURL = scheme + "://" + ln.Addr().String() + "/"
		}
	}
	if c.Admin.Listen != "" {
		ln, err := net.Listen("tcp", c.Admin.Listen)
		if err != nil {
			return fmt.Errorf("relay: admin listener: %w", err)
		}
		r.servers = append(r.servers, &server{name: "admin", ln: ln})
		r.adminAddr = ln.Addr().String()
	}
	return nil
}

// attachHandlers makes each listener's HTTP server.
func (r *Relay) attachHandlers() error {
	handler := rpc.Handler(r.svc)
	// Server errors (e.g. TLS handshake failures) name the client's
	// address: debug level only.
	errLog := slog.NewLogLogger(r.log.Handler(), slog.LevelDebug)
	for _, s := range r.servers {
		s.srv = &http.Server{ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: idleTimeout, ErrorLog: errLog}
		switch s.name {
		case "grpc":
			cert, err := tlspin.Certificate(r.key)
			if err != nil {
				return err
			}
			s.srv.Handler = handler
			s.srv.TLSConfig = tlspin.ServerConfig(cert)
			s.srv.Protocols = protocols(false, true, false)
			s.srv.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: MaxConcurrentStreams}
		case "web":
			if err := r.webServer(s, handler); err != nil {
				return err
			}
		case "admin":
			s.srv.Handler = metrics.Handler(r.metrics, r.healthy, r.backup)
		}
	}
	return nil
}

func (r *Relay) webServer(s *server, handler http.Handler) error {
	c := r.cfg.Web
	s.srv.Handler = withCORS(c.CORSOrigins, handler)
	s.srv.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: MaxConcurrentStreams}
	if !s.tls {
		s.srv.Protocols = protocols(true, false, true)
		return nil
	}
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return fmt.Errorf("relay: web listener certificate: %w", err)
	}
	s.srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}}
	s.srv.Protocols = protocols(true, true, false)
	return nil
}

func protocols(http1, http2, h2c bool) *http.Protocols {
	var p http.Protocols
	p.SetHTTP1(http1)
	p.SetHTTP2(http2)
	p.SetUnencryptedHTTP2(h2c)
	return &p
}
