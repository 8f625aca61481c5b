// SPDX-License-Identifier: AGPL-3.0-or-later

package metrics

import (
	"net/http"
)

// BackupContentType is the media type of /backup's answer: a bbolt file.
const BackupContentType = "application/vnd.hush.relay-store"

// backupHandler streams backup. A failure before the first byte is a 500;
// a failure after it aborts the response, so the client sees a broken
// stream and never a short copy that looks complete.
func backupHandler(backup Backup) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", BackupContentType)
		w.Header().Set("Content-Disposition", `attachment; filename="relay.db"`)
		w.Header().Set("Cache-Control", "no-store")
		cw := &countingWriter{w: w}
		if _, err := backup(r.Context(), cw); err != nil {
			if cw.n == 0 {
				w.Header().Del("Content-Disposition")
				http.Error(w, "backup failed: "+err.Error(), http.StatusInternalServerError)
				return
			}
			panic(http.ErrAbortHandler)
		}
	})
}

type countingWriter struct {
	w http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
