// SPDX-License-Identifier: AGPL-3.0-or-later

package rpc

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"

	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/peer"
	relayv1 "github.com/hushchat/hush/proto/relay/v1"
	"github.com/hushchat/hush/proto/relay/v1/relayv1connect"
	"github.com/hushchat/hush/services/relay/internal/metrics"
)

// MessageVersion is the version of every hush.relay.v1 message.
const MessageVersion = peer.MessageVersion

var (
	// ErrVersion is the cause of the InvalidArgument status for a message
	// in another version.
	ErrVersion = errors.New("rpc: unknown message version (want 1)")
	// ErrNotReady is the cause of the Unavailable status before the relay
	// has signed its first descriptor.
	ErrNotReady = errors.New("rpc: relay has no descriptor yet")
	// ErrDropped is all a caller learns of a packet that did not open:
	// telling tampered from replayed or from another epoch would tell an
	// attacker which relay a captured packet was for. Metrics count the
	// reason.
	ErrDropped = errors.New("rpc: packet dropped")
)

// DefaultMaxInFlight bounds the packets a relay answers at once; beyond
// it a packet is answered at once with CodeOverloaded, so no one can hold
// every stream to a next relay and make everyone else's packets wait.
const DefaultMaxInFlight = 1024

// Config is what a Service is made of. Every field but Log is required.
type Config struct {
	Ring      Opener
	Exit      ExitHandler
	Peers     Forwarder
	Publisher Publisher
	Metrics   *metrics.Relay
	Log       *slog.Logger // nil: silent
	// MaxInFlight bounds packets being answered (forwarded or handled as
	// the exit) at once; 0 means DefaultMaxInFlight.
	MaxInFlight int
}

// Service implements relayv1connect.RelayHandler.
type Service struct {
	cfg    Config
	log    *slog.Logger
	base   context.Context
	cancel context.CancelFunc
	slots  chan struct{} // one per packet being answered
}

var _ relayv1connect.RelayHandler = (*Service)(nil)

// New returns the service. Close it after the server stopped.
func New(cfg Config) *Service {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base, cancel := context.WithCancel(context.Background())
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	return &Service{cfg: cfg, log: log, base: base, cancel: cancel, slots: make(chan struct{}, cfg.MaxInFlight)}
}

// Close cancels every call to a next relay and every exit request still
// running: the relay is going away.
func (s *Service) Close() { s.cancel() }

// Handler mounts the service, gRPC health checking and server reflection
// on one handler.
func Handler(s *Service) http.Handler {
	mux := http.NewServeMux()
	limit := connect.WithReadMaxBytes(maxRequestBytes) // on every handler
	mux.Handle(relayv1connect.NewRelayHandler(s, limit))
	mux.Handle(grpchealth.NewHandler(grpchealth.NewStaticChecker(relayv1connect.RelayName), limit))
	reflector := grpcreflect.NewStaticReflector(relayv1connect.RelayName)
	mux.Handle(grpcreflect.NewHandlerV1(reflector, limit))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector, limit))
	return mux
}

// Forward opens one packet and answers it (see the package doc).
func (s *Service) Forward(in context.Context, req *connect.Request[relayv1.ForwardRequest]) (*connect.Response[relayv1.ForwardResponse], error) {
	if req.Msg.GetVersion() != MessageVersion {
		return nil, connect.NewError(connect.CodeInvalidArgument, ErrVersion)
	}
	start := time.Now()
	o, err := s.cfg.Ring.Open(req.Msg.GetPacket())
	if err != nil {
		reason := onion.Reason(err)
		s.cfg.Metrics.Dropped(reason)
		s.log.Debug("packet dropped", "reason", reason.String())
		return nil, connect.NewError(dropStatus(reason), ErrDropped)
	}
	var resp []byte
	select {
	case s.slots <- struct{}{}:
		if o.IsExit() {
			resp, err = s.exit(in, o)
		} else {
			resp, err = s.forward(in, o)
		}
		<-s.slots
	default:
		resp, err = s.fail(o.Reply, onion.CodeOverloaded)
	}
	s.cfg.Metrics.Observe(time.Since(start))
	if err != nil {
		s.log.Error("cannot answer a packet", "err", err)
		return nil, connect.NewError(connect.CodeInternal, err)
	}
	return connect.NewResponse(&relayv1.ForwardResponse{Version: MessageVersion, Packet: resp}), nil
}

// dropStatus is the same for every reason a packet fails to open, except
// a relay shutting down (its ring closed), which says nothing of the
// packet.
func dropStatus(r onion.DropReason) connect.Code {
	if r == onion.DropInternal {
		return connect.CodeUnavailable
	}
	return connect.CodeInvalidArgument
}

// detach returns a context with the relay's own fixed timeout, cancelled
// too when the incoming request goes away (the caller gave up, or the
// previous hop's own fixed timeout ended). No deadline is passed on: a
// shrinking deadline would mark the packet's position in its path.
func (s *Service) detach(in context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(s.base, timeout)
	stop := context.AfterFunc(in, cancel)
	return ctx, func() {
		stop()
		cancel()
	}
}

func (s *Service) exit(in context.Context, o *onion.Opened) ([]byte, error) {
	ctx, cancel := s.detach(in, MaxExitWait+exitMargin)
	defer cancel()
	reply := s.cfg.Exit.HandleExit(ctx, o.Request)
	s.cfg.Metrics.Exit()
	resp, err := o.Reply.Reply(reply)
	if errors.Is(err, onion.ErrTooLarge) {
		s.log.Error("exit handler returned a reply over the response capacity", "bytes", len(reply))
		return s.fail(o.Reply, onion.CodeInternal)
	}
	return resp, err
}

func (s *Service) forward(in context.Context, o *onion.Opened) ([]byte, error) {
	addr, ok := s.cfg.Publisher.Address(o.Next)
	if !ok {
		return s.fail(o.Reply, onion.CodeUnreachable)
	}
	ctx, cancel := s.detach(in, ForwardTimeout)
	defer cancel()
	next, err := s.cfg.Peers.Forward(ctx, o.Next, addr, o.Packet)
	if err != nil {
		s.log.Debug("next relay failed", "err", err)
		return s.fail(o.Reply, peer.FailCode(err))
	}
	resp, err := o.Reply.Relay(next)
	if err != nil {
		// A response of the wrong size: Relay used no keys, Fail can.
		s.log.Warn("next relay answered with a malformed response", "err", err)
		return s.fail(o.Reply, onion.CodeInternal)
	}
	s.cfg.Metrics.Forwarded()
	return resp, nil
}

func (s *Service) fail(r *onion.Replier, code onion.Code) ([]byte, error) {
	s.cfg.Metrics.Failed(code)
	return r.Fail(code)
}

// Directory serves the directory document.
func (s *Service) Directory(_ context.Context, req *connect.Request[relayv1.DirectoryRequest]) (*connect.Response[relayv1.DirectoryResponse], error) {
	if req.Msg.GetVersion() != MessageVersion {
		return nil, connect.NewError(connect.CodeInvalidArgument, ErrVersion)
	}
	doc := s.cfg.Publisher.Directory()
	if doc == nil {
		return nil, connect.NewError(connect.CodeUnavailable, ErrNotReady)
	}
	return connect.NewResponse(&relayv1.DirectoryResponse{Version: MessageVersion, Directory: doc}), nil
}

// Descriptor serves the relay's own signed descriptor.
func (s *Service) Descriptor(_ context.Context, req *connect.Request[relayv1.DescriptorRequest]) (*connect.Response[relayv1.DescriptorResponse], error) {
	if req.Msg.GetVersion() != MessageVersion {
		return nil, connect.NewError(connect.CodeInvalidArgument, ErrVersion)
	}
	d := s.cfg.Publisher.Descriptor()
	if d == nil {
		return nil, connect.NewError(connect.CodeUnavailable, ErrNotReady)
	}
	return connect.NewResponse(&relayv1.DescriptorResponse{Version: MessageVersion, SignedDescriptor: d}), nil
}
