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
	relayv1 "github.com/hushchat/hush/proto/relay/v1"
	"github.com/hushchat/hush/proto/relay/v1/relayv1connect"
	"github.com/hushchat/hush/services/relay/internal/metrics"
	"github.com/hushchat/hush/services/relay/internal/peer"
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
)

// Config is what a Service is made of. Every field but Log is required.
type Config struct {
	Ring      Opener
	Exit      ExitHandler
	Peers     Forwarder
	Publisher Publisher
	Metrics   *metrics.Relay
	Log       *slog.Logger // nil: silent
}

// Service implements relayv1connect.RelayHandler.
type Service struct {
	cfg    Config
	log    *slog.Logger
	base   context.Context
	cancel context.CancelFunc
}

var _ relayv1connect.RelayHandler = (*Service)(nil)

// New returns the service. Close it after the server stopped.
func New(cfg Config) *Service {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base, cancel := context.WithCancel(context.Background())
	return &Service{cfg: cfg, log: log, base: base, cancel: cancel}
}

// Close cancels every call to a next relay and every exit request still
// running: the relay is going away.
func (s *Service) Close() { s.cancel() }

// Handler mounts the service, gRPC health checking and server reflection
// on one handler.
func Handler(s *Service) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(relayv1connect.NewRelayHandler(s, connect.WithReadMaxBytes(maxRequestBytes)))
	mux.Handle(grpchealth.NewHandler(grpchealth.NewStaticChecker(relayv1connect.RelayName)))
	reflector := grpcreflect.NewStaticReflector(relayv1connect.RelayName)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))
	return mux
}

// Forward opens one packet and answers it (see the package doc).
func (s *Service) Forward(_ context.Context, req *connect.Request[relayv1.ForwardRequest]) (*connect.Response[relayv1.ForwardResponse], error) {
	if req.Msg.GetVersion() != MessageVersion {
		return nil, connect.NewError(connect.CodeInvalidArgument, ErrVersion)
	}
	start := time.Now()
	o, err := s.cfg.Ring.Open(req.Msg.GetPacket())
	if err != nil {
		reason := onion.Reason(err)
		s.cfg.Metrics.Dropped(reason)
		s.log.Debug("packet dropped", "reason", reason.String())
		return nil, connect.NewError(dropStatus(reason), err)
	}
	var resp []byte
	if o.IsExit() {
		resp, err = s.exit(o)
	} else {
		resp, err = s.forward(o)
	}
	s.cfg.Metrics.Observe(time.Since(start))
	if err != nil {
		s.log.Error("cannot answer a packet", "err", err)
		return nil, connect.NewError(connect.CodeInternal, err)
	}
	return connect.NewResponse(&relayv1.ForwardResponse{Version: MessageVersion, Packet: resp}), nil
}

func dropStatus(r onion.DropReason) connect.Code {
	switch r {
	case onion.DropUnknownEpoch, onion.DropExpiredEpoch:
		return connect.CodeFailedPrecondition
	case onion.DropInternal:
		return connect.CodeUnavailable
	default:
		return connect.CodeInvalidArgument
	}
}

func (s *Service) exit(o *onion.Opened) ([]byte, error) {
	ctx, cancel := context.WithTimeout(s.base, MaxExitWait+exitMargin)
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

func (s *Service) forward(o *onion.Opened) ([]byte, error) {
	addr, ok := s.cfg.Publisher.Address(o.Next)
	if !ok {
		return s.fail(o.Reply, onion.CodeUnreachable)
	}
	ctx, cancel := context.WithTimeout(s.base, ForwardTimeout)
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
