package httpserver

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/connectorhq/connector/internal/docurl"
	"github.com/connectorhq/connector/internal/metrics"
	"github.com/connectorhq/connector/internal/requestid"
)

// requestIDs gives every request an id: a sane incoming X-Request-Id (from
// nginx or Caddy), else a new one. It is echoed in the response header and
// put in the context: every log line written with it carries request_id,
// tool calls over Streamable HTTP included (the SDK serves a stateless
// request in a session made from the request's context).
func requestIDs(gen *requestid.Generator, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(requestid.Header)
		if !requestid.Valid(id) {
			id = gen.Next()
		}
		w.Header().Set(requestid.Header, id)
		next.ServeHTTP(w, r.WithContext(requestid.With(r.Context(), id)))
	})
}

// recoverer turns a panic in a handler into a 500 for that request.
func recoverer(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger.ErrorContext(r.Context(), "panic in HTTP handler", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// accessLog counts each request in the metrics and logs it at debug level,
// and refused ones (4xx other than 404 and 429, which an abusive client
// could turn into a flood of lines; the metrics count them) at info level,
// without query strings: an SSE session id there lets anyone post into that
// session.
func accessLog(logger *slog.Logger, m *metrics.Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		m.HTTPRequest(routeOf(r.URL.Path), sw.code())
		level := slog.LevelDebug
		if sw.status >= 400 && sw.status < 500 && sw.status != http.StatusNotFound && sw.status != http.StatusTooManyRequests {
			level = slog.LevelInfo
		}
		if !logger.Enabled(r.Context(), level) {
			return
		}
		logger.Log(r.Context(), level, "http request", "method", r.Method, "path", r.URL.Path, "status", sw.code(),
			"duration_ms", float64(time.Since(start).Microseconds())/1000, "remote", r.RemoteAddr, "user_agent", r.UserAgent())
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// routeOf names a path's route for the metrics, from a fixed set.
func routeOf(path string) string {
	switch path {
	case "/mcp", "/mcp/":
		return "mcp"
	case "/sse", "/sse/":
		return "sse"
	case "/healthz", "/readyz":
		return "health"
	case "/metrics":
		return "metrics"
	case "/":
		return "home"
	}
	if strings.HasPrefix(path, docurl.ViewPath) {
		return "doc"
	}
	return "other"
}

func (s *statusWriter) code() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}
