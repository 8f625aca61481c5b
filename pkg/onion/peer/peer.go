// SPDX-License-Identifier: AGPL-3.0-or-later

//go:build !js

package peer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/directory"
	"github.com/hushchat/hush/pkg/onion/tlspin"
	relayv1 "github.com/hushchat/hush/proto/relay/v1"
	"github.com/hushchat/hush/proto/relay/v1/relayv1connect"
)

// MessageVersion is the version of every hush.relay.v1 message.
const MessageVersion = 1

// maxRecv bounds what a call accepts: a directory document and its
// envelope (a tag and a length).
const maxRecv = directory.MaxDirectorySize + 16

var (
	// ErrClosed is returned by a Pool after Close.
	ErrClosed = errors.New("peer: connection pool is closed")
	// ErrVersion is returned for an answer in an unknown message version.
	ErrVersion = errors.New("peer: relay answered in an unknown message version")
)

type target struct {
	id   onion.RelayID
	addr string
}

// connectParams shorten grpc-go's reconnection backoff (by default it
// grows to 120 s): a relay that restarts is reached again within seconds,
// and a message waiting for it is not held back by a stale backoff.
var connectParams = grpc.ConnectParams{
	Backoff:           backoff.Config{BaseDelay: 500 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 5 * time.Second},
	MinConnectTimeout: 5 * time.Second,
}

// Pool keeps one connection per relay and address, made on first use and
// reused for every later call: gRPC multiplexes calls over it (long-polls
// share it). It is safe for concurrent use.
type Pool struct {
	mu     sync.Mutex
	conns  map[target]*grpc.ClientConn
	closed bool
}

// NewPool returns an empty pool.
func NewPool() *Pool { return &Pool{conns: make(map[target]*grpc.ClientConn)} }

func (p *Pool) conn(id onion.RelayID, addr string) (*grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	t := target{id, addr}
	if c, ok := p.conns[t]; ok {
		return c, nil
	}
	c, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(credentials.NewTLS(tlspin.ClientConfig(id))),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxRecv), grpc.ForceCodecV2(codec{})),
		grpc.WithConnectParams(connectParams),
	)
	if err != nil {
		return nil, fmt.Errorf("peer: connection to %s at %s: %w", id, addr, err)
	}
	p.conns[t] = c
	return c, nil
}

// Forward sends packet to relay id at addr and returns the response packet.
func (p *Pool) Forward(ctx context.Context, id onion.RelayID, addr string, packet []byte) ([]byte, error) {
	c, err := p.conn(id, addr)
	if err != nil {
		return nil, err
	}
	var resp relayv1.ForwardResponse
	req := &relayv1.ForwardRequest{Version: MessageVersion, Packet: packet}
	if err := c.Invoke(ctx, relayv1connect.RelayForwardProcedure, req, &resp); err != nil {
		return nil, err
	}
	if resp.GetVersion() != MessageVersion {
		return nil, fmt.Errorf("%w: %d", ErrVersion, resp.GetVersion())
	}
	return resp.GetPacket(), nil
}

// Descriptor asks relay id at addr for its signed descriptor.
func (p *Pool) Descriptor(ctx context.Context, id onion.RelayID, addr string) ([]byte, error) {
	c, err := p.conn(id, addr)
	if err != nil {
		return nil, err
	}
	var resp relayv1.DescriptorResponse
	req := &relayv1.DescriptorRequest{Version: MessageVersion}
	if err := c.Invoke(ctx, relayv1connect.RelayDescriptorProcedure, req, &resp); err != nil {
		return nil, err
	}
	if resp.GetVersion() != MessageVersion {
		return nil, fmt.Errorf("%w: %d", ErrVersion, resp.GetVersion())
	}
	return resp.GetSignedDescriptor(), nil
}

// Directory asks relay id at addr for the directory document.
func (p *Pool) Directory(ctx context.Context, id onion.RelayID, addr string) ([]byte, error) {
	c, err := p.conn(id, addr)
	if err != nil {
		return nil, err
	}
	var resp relayv1.DirectoryResponse
	req := &relayv1.DirectoryRequest{Version: MessageVersion}
	if err := c.Invoke(ctx, relayv1connect.RelayDirectoryProcedure, req, &resp); err != nil {
		return nil, err
	}
	if resp.GetVersion() != MessageVersion {
		return nil, fmt.Errorf("%w: %d", ErrVersion, resp.GetVersion())
	}
	return resp.GetDirectory(), nil
}

// Close closes every connection; later calls return ErrClosed.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	var errs []error
	for t, c := range p.conns {
		errs = append(errs, c.Close())
		delete(p.conns, t)
	}
	return errors.Join(errs...)
}

// FailCode is the onion error code a hop reports when its call to the next
// relay failed with err: the next relay could not be reached, did not
// answer in time, was over capacity, or refused the packet.
func FailCode(err error) onion.Code {
	if errors.Is(err, context.DeadlineExceeded) {
		return onion.CodeTimeout
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.Canceled:
		return onion.CodeUnreachable
	case codes.DeadlineExceeded:
		return onion.CodeTimeout
	case codes.ResourceExhausted:
		return onion.CodeOverloaded
	case codes.InvalidArgument, codes.FailedPrecondition:
		return onion.CodeRefused
	default:
		return onion.CodeInternal
	}
}
