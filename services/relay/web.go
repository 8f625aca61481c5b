// SPDX-License-Identifier: AGPL-3.0-or-later

package relay

import (
	"net/http"
	"slices"
	"strings"

	connectcors "connectrpc.com/cors"
)

// corsMaxAge is how long a browser may cache a preflight answer, in
// seconds.
const corsMaxAge = "7200"

// withCORS answers CORS preflights and marks responses for the allowed
// origins ("*" allows every origin: the relay uses no cookies or other
// ambient credentials), with the methods and headers gRPC-Web and Connect
// need (connectrpc.com/cors).
func withCORS(origins []string, h http.Handler) http.Handler {
	all := slices.Contains(origins, "*")
	methods := strings.Join(connectcors.AllowedMethods(), ", ")
	headers := strings.Join(connectcors.AllowedHeaders(), ", ")
	exposed := strings.Join(connectcors.ExposedHeaders(), ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		origin := req.Header.Get("Origin")
		if origin == "" || !(all || slices.Contains(origins, origin)) {
			h.ServeHTTP(w, req)
			return
		}
		hd := w.Header()
		if all {
			hd.Set("Access-Control-Allow-Origin", "*")
		} else {
			hd.Set("Access-Control-Allow-Origin", origin)
			hd.Add("Vary", "Origin")
		}
		hd.Set("Access-Control-Expose-Headers", exposed)
		if req.Method == http.MethodOptions && req.Header.Get("Access-Control-Request-Method") != "" {
			hd.Set("Access-Control-Allow-Methods", methods)
			hd.Set("Access-Control-Allow-Headers", headers)
			hd.Set("Access-Control-Max-Age", corsMaxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.ServeHTTP(w, req)
	})
}
