package httpserver

import (
	"context"
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
// the identity provider's signing keys are loaded; 503 otherwise.
// The body never carries error details: they may hold paths or upstream
// messages, so they go to the log.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	st, err := s.opts.Store.Ready(ctx)
	if err != nil {
		s.logger.WarnContext(ctx, "readiness check failed", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "error": "the document store is not answering; see the server log"})
		return
	}
	if s.opts.Auth != nil {
		if err := s.opts.Auth.Ready(ctx); err != nil {
			s.logger.WarnContext(ctx, "readiness check failed: the identity provider's signing keys (JWKS) cannot be loaded", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "error": "the identity provider's signing keys cannot be loaded; see the server log"})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "store": st})
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
