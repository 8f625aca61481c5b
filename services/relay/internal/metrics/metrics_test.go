// SPDX-License-Identifier: AGPL-3.0-or-later

package metrics

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hushchat/hush/pkg/mailbox"
)

func TestStatusLabels(t *testing.T) {
	seen := map[string]mailbox.Status{}
	for s := mailbox.StatusOK; s <= mailbox.StatusInternal; s++ {
		l := StatusLabel(s)
		if l == "" || l == "unknown" || strings.ToLower(l) != l || strings.ContainsAny(l, " ()?") {
			t.Errorf("status %d has label %q", s, l)
		}
		if o, dup := seen[l]; dup {
			t.Errorf("statuses %d and %d share the label %q", o, s, l)
		}
		seen[l] = s
	}
	if l := StatusLabel(mailbox.StatusInternal + 1); l != "unknown" {
		t.Errorf("a status past the last: %q", l)
	}
}

func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Host = "127.0.0.1:7490"
	h.ServeHTTP(rec, req)
	return rec
}

// TestBackupLoopbackHostOnly: a page on the relay's host that reaches the
// admin listener through DNS rebinding sends its own name as Host.
func TestBackupLoopbackHostOnly(t *testing.T) {
	ok := func(_ context.Context, w io.Writer) (int64, error) {
		n, err := w.Write([]byte("store bytes"))
		return int64(n), err
	}
	h := Handler(New(false), func() error { return nil }, ok)
	for host, want := range map[string]int{
		"127.0.0.1:7490":        http.StatusOK,
		"localhost:7490":        http.StatusOK,
		"[::1]:7490":            http.StatusOK,
		"attacker.example:7490": http.StatusForbidden,
		"192.168.1.20:7490":     http.StatusForbidden,
		"127.0.0.1.nip.io:7490": http.StatusForbidden,
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/backup", nil)
		req.Host = host
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Host %s: %d, want %d", host, rec.Code, want)
		}
	}
}

func TestBackupEndpoint(t *testing.T) {
	healthy := func() error { return nil }
	if rec := get(t, Handler(New(false), healthy, nil), "/backup"); rec.Code != http.StatusNotFound {
		t.Errorf("no backup function: /backup answered %d", rec.Code)
	}
	ok := func(_ context.Context, w io.Writer) (int64, error) {
		n, err := w.Write([]byte("store bytes"))
		return int64(n), err
	}
	rec := get(t, Handler(New(false), healthy, ok), "/backup")
	if rec.Code != http.StatusOK || rec.Body.String() != "store bytes" || rec.Header().Get("Content-Type") != BackupContentType {
		t.Errorf("backup: %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	boom := errors.New("disk on fire")
	early := func(context.Context, io.Writer) (int64, error) { return 0, boom }
	rec = get(t, Handler(New(false), healthy, early), "/backup")
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "disk on fire") ||
		rec.Header().Get("Content-Type") == BackupContentType {
		t.Errorf("failed before the first byte: %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	late := func(_ context.Context, w io.Writer) (int64, error) {
		w.Write([]byte("half"))
		return 4, boom
	}
	defer func() {
		if r := recover(); r != http.ErrAbortHandler {
			t.Errorf("failed mid-stream: recovered %v, want http.ErrAbortHandler", r)
		}
	}()
	get(t, Handler(New(false), healthy, late), "/backup")
}
