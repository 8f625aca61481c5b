// SPDX-License-Identifier: AGPL-3.0-or-later

package relay_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectpb "google.golang.org/grpc/reflection/grpc_reflection_v1"

	"github.com/hushchat/hush/pkg/onion"
	"github.com/hushchat/hush/pkg/onion/directory"
	"github.com/hushchat/hush/pkg/onion/tlspin"
	relayv1 "github.com/hushchat/hush/proto/relay/v1"
	"github.com/hushchat/hush/proto/relay/v1/relayv1connect"
	"github.com/hushchat/hush/services/relay"
	"github.com/hushchat/hush/services/relay/config"
)

func TestDirectoryServedByEveryRelay(t *testing.T) {
	tn := startNet(t, 5, false)
	for i := range tn.Relays {
		d := tn.fetchDirectory(t, i)
		if len(d.Relays) != 5 || len(d.Skipped) != 0 {
			t.Fatalf("relay %d serves %d descriptors (%d skipped), want 5", i, len(d.Relays), len(d.Skipped))
		}
		for _, r := range tn.Relays {
			got, ok := d.Lookup(r.ID())
			if !ok || !bytes.Equal(got.Signed(), r.Descriptor()) {
				t.Fatalf("relay %d's directory lacks relay %s's current descriptor", i, r.ID())
			}
			if got.Address != r.Addr() || got.WebAddress != r.WebURL() || !got.Has(directory.CapWeb) || !got.Has(directory.CapMailbox) {
				t.Fatalf("descriptor of %s: %+v", r.ID(), got)
			}
		}
	}
}

func TestHealthAndReflection(t *testing.T) {
	tn := startNet(t, 1, false)
	r := tn.Relays[0]
	conn, err := grpc.NewClient("passthrough:///"+r.Addr(), grpc.WithTransportCredentials(credentials.NewTLS(tlspin.ClientConfig(r.ID()))))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, svc := range []string{"", relayv1connect.RelayName} {
		resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health of %q: %v %v", svc, resp.GetStatus(), err)
		}
	}
	stream, err := reflectpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&reflectpb.ServerReflectionRequest{MessageRequest: &reflectpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	if len(names) != 1 || names[0] != relayv1connect.RelayName {
		t.Fatalf("reflection lists %v, want [%s]", names, relayv1connect.RelayName)
	}
}

func TestGRPCWebListener(t *testing.T) {
	tn := startNet(t, 3, false)
	r := tn.Relays[0]
	client := relayv1connect.NewRelayClient(http.DefaultClient, strings.TrimSuffix(r.WebURL(), "/"), connect.WithGRPCWeb())
	ctx := context.Background()
	d, err := client.Descriptor(ctx, connect.NewRequest(&relayv1.DescriptorRequest{Version: 1}))
	if err != nil {
		t.Fatalf("descriptor over gRPC-Web: %v", err)
	}
	if !bytes.Equal(d.Msg.GetSignedDescriptor(), r.Descriptor()) {
		t.Fatal("gRPC-Web serves another descriptor")
	}
	packet, opener, err := onion.Wrap(tn.path(t, 0, 1, 2), []byte("from a browser"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Forward(ctx, connect.NewRequest(&relayv1.ForwardRequest{Version: 1, Packet: packet}))
	if err != nil {
		t.Fatalf("forward over gRPC-Web: %v", err)
	}
	got, err := opener.Open(resp.Msg.GetPacket())
	if err != nil || string(got) != "from a browser" {
		t.Fatalf("reply %q, %v", got, err)
	}
	_, err = client.Directory(ctx, connect.NewRequest(&relayv1.DirectoryRequest{Version: 7}))
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("unknown version: got %v", err)
	}
}

func TestCORSPreflight(t *testing.T) {
	tn := startNet(t, 1, false)
	req, _ := http.NewRequest(http.MethodOptions, tn.Relays[0].WebURL()+relayv1connect.RelayForwardProcedure[1:], nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-grpc-web")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(h.Get("Access-Control-Allow-Headers"), "X-Grpc-Web") ||
		!strings.Contains(h.Get("Access-Control-Expose-Headers"), "Grpc-Status") {
		t.Fatalf("preflight: %d %v", resp.StatusCode, h)
	}
}

func TestAdminListener(t *testing.T) {
	tn := startNet(t, 3, true)
	if _, err := tn.roundTrip(t, []byte("count me"), 0, 1, 2); err != nil {
		t.Fatal(err)
	}
	entry := tn.Relays[0]
	tn.client.Forward(context.Background(), entry.ID(), entry.Addr(), make([]byte, onion.PacketSize))
	body := get(t, "http://"+entry.AdminAddr()+"/metrics")
	for _, want := range []string{
		"hush_relay_packets_forwarded_total 1",
		`hush_relay_packets_dropped_total{reason="version"} 1`,
		"hush_relay_forward_seconds_count 1",
		"hush_relay_descriptors_published_total 1",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("entry /metrics lacks %q", want)
		}
	}
	if body := get(t, "http://"+tn.Relays[2].AdminAddr()+"/metrics"); !strings.Contains(body, "hush_relay_exits_handled_total 1") {
		t.Error("exit /metrics does not count the exit")
	}
	if body := get(t, "http://"+entry.AdminAddr()+"/healthz"); body != "ok\n" {
		t.Fatalf("/healthz: %q", body)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// blockingExit holds every request until release is closed.
type blockingExit struct {
	started chan struct{}
	release chan struct{}
}

func (b *blockingExit) HandleExit(_ context.Context, req []byte) []byte {
	b.started <- struct{}{}
	<-b.release
	return req
}

// oneRelay starts a relay alone with exit, and returns it, a packet to
// it as the exit (one hop) carrying payload with the opener of its reply,
// and a gRPC connection to it.
func oneRelay(t *testing.T, exit relay.ExitHandler, store onion.Store, payload string) (*relay.Relay, []byte, *onion.ResponseOpener, *grpc.ClientConn) {
	t.Helper()
	key, _ := directory.GenerateSigningKey(nil)
	c := config.Defaults()
	c.Relay.Listen, c.Web.Enabled, c.Admin.Listen = "127.0.0.1:0", false, ""
	r, err := relay.New(relay.Options{Config: c, Key: key, Backend: relay.Backend{Ring: store, Exit: exit}})
	if err != nil {
		t.Fatal(err)
	}
	r.Start()
	d, err := directory.ParseDescriptor(r.Descriptor(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	hop, _ := d.HopAt(time.Now())
	packet, opener, _ := onion.Wrap([]onion.Hop{hop}, []byte(payload))
	conn, err := grpc.NewClient("passthrough:///"+r.Addr(), grpc.WithTransportCredentials(credentials.NewTLS(tlspin.ClientConfig(r.ID()))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return r, packet, opener, conn
}

func TestGracefulShutdown(t *testing.T) {
	store := &onion.MemStore{}
	exit := &blockingExit{started: make(chan struct{}, 1), release: make(chan struct{})}
	r, packet, opener, conn := oneRelay(t, exit, store, "in flight")
	var (
		wg   sync.WaitGroup
		resp relayv1.ForwardResponse
		ferr error
	)
	wg.Go(func() {
		ferr = conn.Invoke(context.Background(), relayv1connect.RelayForwardProcedure, &relayv1.ForwardRequest{Version: 1, Packet: packet}, &resp)
	})
	<-exit.started
	shutdownDone := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shutdownDone <- r.Shutdown(ctx)
	}()
	select {
	case err := <-shutdownDone:
		t.Fatalf("Shutdown returned (%v) while a request was in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(exit.release)
	wg.Wait()
	if ferr != nil {
		t.Fatalf("the request in flight failed: %v", ferr)
	}
	if got, err := opener.Open(resp.GetPacket()); err != nil || string(got) != "in flight" {
		t.Fatalf("reply %q, %v", got, err)
	}
	if err := <-shutdownDone; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	st, err := store.Load()
	if err != nil || st == nil || !st.Clean {
		t.Fatalf("the key ring was not saved clean: %+v, %v", st, err)
	}
}

// longPollExit holds every request, like a long-poll on an empty queue,
// until Drain.
type longPollExit struct {
	started chan struct{}
	drained chan struct{}
	once    sync.Once
}

func (e *longPollExit) HandleExit(_ context.Context, req []byte) []byte {
	e.started <- struct{}{}
	<-e.drained
	return req
}

func (e *longPollExit) Drain() { e.once.Do(func() { close(e.drained) }) }

// TestShutdownDrainsLongPolls: Shutdown tells an exit that can drain to
// end its long-polls, so it answers them and stops at once instead of
// waiting out their wait.
func TestShutdownDrainsLongPolls(t *testing.T) {
	exit := &longPollExit{started: make(chan struct{}, 1), drained: make(chan struct{})}
	r, packet, opener, conn := oneRelay(t, exit, &onion.MemStore{}, "long-poll")
	var resp relayv1.ForwardResponse
	ferr := make(chan error, 1)
	go func() {
		ferr <- conn.Invoke(context.Background(), relayv1connect.RelayForwardProcedure, &relayv1.ForwardRequest{Version: 1, Packet: packet}, &resp)
	}()
	<-exit.started
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	if err := r.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Shutdown took %v with a long-poll in flight, want it drained at once", took)
	}
	if err := <-ferr; err != nil {
		t.Fatalf("the drained long-poll failed: %v", err)
	}
	if got, err := opener.Open(resp.GetPacket()); err != nil || string(got) != "long-poll" {
		t.Fatalf("reply %q, %v", got, err)
	}
}
