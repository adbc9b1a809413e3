package httpserver

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// healthz answers while the process is up.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "version": s.opts.Version})
}

// readyz answers 200 when the store is open and answering and, with OAuth,
// the identity provider's signing keys are loaded; 503 otherwise. Anyone
// gets the status and a one-word reason; the store's kind, id, document
// count and generation go only to callers that may read the metrics (see
// seesDetail), as does the state of the refreshes of watched sources. The
// status never carries error details: they may hold paths or upstream
// messages, so they go to the log; only the detail names why the last
// refresh failed, to the operators who may see it.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	detail := s.seesDetail(r)
	unavailable := func(reason, explain string) {
		body := map[string]any{"status": "unavailable", "reason": reason}
		if detail {
			body["error"] = explain
		}
		writeJSON(w, http.StatusServiceUnavailable, body)
	}
	st, err := s.opts.Store.Ready(ctx)
	if err != nil {
		s.logger.WarnContext(ctx, "readiness check failed", "err", err)
		unavailable("store", "the document store is not answering; see the server log")
		return
	}
	if s.opts.Auth != nil {
		if err := s.opts.Auth.Ready(ctx); err != nil {
			s.logger.WarnContext(ctx, "readiness check failed: the identity provider's signing keys (JWKS) cannot be loaded", "err", err)
			unavailable("jwks", "the identity provider's signing keys cannot be loaded; see the server log")
			return
		}
	}
	body := map[string]any{"status": "ready"}
	if detail {
		body["store"] = st
		if s.opts.Refresh != nil {
			body["refresh"] = s.opts.Refresh()
		}
	}
	writeJSON(w, http.StatusOK, body)
}

// seesDetail reports whether r may see operational detail on /readyz: it
// presents METRICS_TOKEN, or valid MCP credentials when authentication is
// on. With neither METRICS_TOKEN nor authentication set the whole server
// is open, and so is the detail.
func (s *Server) seesDetail(r *http.Request) bool {
	switch {
	case s.opts.MetricsToken != "" && hasBearer(r, s.opts.MetricsToken):
		return true
	case s.opts.Auth != nil:
		return s.opts.Auth.Allows(r)
	}
	return s.opts.MetricsToken == ""
}

// metricsHandler serves the metrics: with METRICS_TOKEN, to callers that
// present it; else, with authentication on, to callers with valid MCP
// credentials; else to anyone (serve warns about that at start).
func (s *Server) metricsHandler() http.Handler {
	h := s.opts.Metrics.Handler(s.opts.MetricsToken)
	if s.opts.MetricsToken == "" && s.opts.Auth != nil {
		h = s.opts.Auth.Wrap(h)
	}
	return h
}

// hasBearer reports whether r carries "Authorization: Bearer token",
// compared in constant time.
func hasBearer(r *http.Request, token string) bool {
	return subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+token)) == 1
}

// home tells a person who opens the server's URL what it is and where the
// MCP endpoints are.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	base := s.opts.Linker.Base()
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, `connector %s: an MCP server with search and fetch tools over a private document collection.

MCP endpoints:
  %s/mcp    Streamable HTTP (Responses API, deep research, Prompts dashboard)
  %s/sse/   HTTP+SSE (ChatGPT connectors)

Health: %s/healthz  Readiness: %s/readyz
`, s.opts.Version, base, base, base, base)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
