// SPDX-License-Identifier: AGPL-3.0-or-later

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/hushchat/hush/services/relay/internal/metrics"
	"github.com/hushchat/hush/services/relay/internal/store"
	"github.com/hushchat/hush/services/relay/internal/store/boltstore"
)

func cmdBackup(args []string, stdout, stderr io.Writer) int {
	set := flags("backup", stderr)
	admin := set.String("admin", "", "the running relay's admin listener, host:port")
	out := set.String("out", "", "the file to write the copy to")
	if err := set.Parse(args); err != nil || *admin == "" || *out == "" || set.NArg() != 0 {
		fmt.Fprint(stderr, "hush-relay: backup needs --admin HOST:PORT and --out FILE\n")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	n, st, err := backup(ctx, *admin, *out)
	if err != nil {
		return fail(stderr, "%v", err)
	}
	fmt.Fprintf(stdout, "backup: %s (%d bytes): %d queues, %d envelopes, %d chunks, %d bytes of envelopes and chunks\n",
		*out, n, st.Queues, st.Envelopes, st.Chunks, st.Bytes)
	return 0
}

// backup copies the store of the relay whose admin listener is admin to
// out: into a temporary file beside out, synced, checked by opening it as
// a store, then renamed over out. On error out is untouched.
func backup(ctx context.Context, admin, out string) (int64, store.Stats, error) {
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".partial-*")
	if err != nil {
		return 0, store.Stats{}, fmt.Errorf("backup: %w", err)
	}
	tmp := f.Name()
	n, err := fetchBackup(ctx, admin, f)
	err = errors.Join(err, f.Sync(), f.Close())
	var st store.Stats
	if err == nil {
		st, err = verifyBackup(ctx, tmp)
	}
	if err == nil {
		err = os.Rename(tmp, out)
	}
	if err != nil {
		os.Remove(tmp)
		return 0, store.Stats{}, err
	}
	return n, st, syncDir(filepath.Dir(out))
}

// fetchBackup streams GET http://admin/backup into w.
func fetchBackup(ctx context.Context, admin string, w io.Writer) (int64, error) {
	url := "http://" + strings.TrimSuffix(strings.TrimPrefix(admin, "http://"), "/") + "/backup"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("backup: %w (hint: --admin is the relay's [admin] listen address)", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return 0, fmt.Errorf("backup: %s answered %s: %s", url, resp.Status, strings.TrimSpace(string(msg)))
	}
	if ct := resp.Header.Get("Content-Type"); ct != metrics.BackupContentType {
		return 0, fmt.Errorf("backup: %s sent %q, not a relay store", url, ct)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("backup: the copy broke off after %d bytes: %w", n, err)
	}
	return n, nil
}

// verifyBackup opens the copy as a store, checks every page, and returns
// its counts.
func verifyBackup(ctx context.Context, path string) (store.Stats, error) {
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		return store.Stats{}, fmt.Errorf("backup: the copy does not open: %w", err)
	}
	err = s.Check(ctx)
	st, serr := s.Stats(ctx)
	if err = errors.Join(err, serr, s.Close()); err != nil {
		return store.Stats{}, fmt.Errorf("backup: the copy is damaged: %w", err)
	}
	return st, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("backup: sync %s: %w", dir, err)
	}
	return nil
}
