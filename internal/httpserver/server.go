// Package httpserver serves the connector over HTTP: the MCP tools on
// Streamable HTTP (/mcp) and HTTP+SSE (/sse), the read-only document view
// that citation URLs point at, and health checks.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/connectorhq/connector/internal/auth"
	"github.com/connectorhq/connector/internal/docurl"
	"github.com/connectorhq/connector/internal/mcpserver"
	"github.com/connectorhq/connector/internal/metrics"
	"github.com/connectorhq/connector/internal/requestid"
	"github.com/connectorhq/connector/internal/store"
)

// Options configure the server.
type Options struct {
	Version string
	Store   store.Store
	MCP     *mcpserver.Server
	Linker  docurl.Linker
	Logger  *slog.Logger

	// AllowedHosts are Host names accepted besides loopback names: exact
	// names, "*.example.com" for subdomains, or "*" for any host. When empty,
	// a loopback listener accepts only loopback hosts (DNS-rebinding
	// protection) and any other listener accepts any host.
	AllowedHosts []string
	// SSEKeepAlive is the interval of keep-alive comments on SSE streams, so
	// that proxies do not close an idle stream. 0 disables them.
	SSEKeepAlive time.Duration
	// ShutdownTimeout bounds a graceful shutdown: tool calls in flight get
	// this long to finish.
	ShutdownTimeout time.Duration
	// ToolTimeout is the per-call limit the tools apply; write timeouts are
	// derived from it.
	ToolTimeout time.Duration
	// ReadHeaderTimeout, ReadTimeout and WriteTimeout bound reading a
	// request and writing its response; zero means 10s, 30s and twice
	// ToolTimeout (at least a minute). SSE streams lift the read and write
	// deadlines for their own connection; instead, a stream ends when one of
	// its writes waits WriteTimeout for a client that reads nothing.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout time.Duration

	// Metrics records the server's metrics and is served at /metrics; nil
	// serves none. MetricsToken, when set, is the bearer token /metrics
	// requires; unset, /metrics needs MCP credentials when Auth is set, and
	// is open otherwise.
	Metrics      *metrics.Metrics
	MetricsToken string
	// NoMetricsRoute keeps /metrics off this listener (another one serves it).
	NoMetricsRoute bool
	// RateLimit is the requests per second each client may make to the MCP
	// endpoints and the document view, in bursts of up to RateBurst; 0
	// disables the limit. A client is the authenticated subject, else the
	// client IP.
	RateLimit float64
	RateBurst int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For header is
	// believed when finding a client's IP.
	TrustedProxies []netip.Prefix
	// MaxSSESessions caps the open SSE streams (0: no cap); more get 503.
	MaxSSESessions int
	// MaxSSESessionsPerClient caps the open SSE streams of one client
	// (keyed as for RateLimit; unauthenticated callers on this machine are
	// exempt), so that one client cannot take them all (0: no cap); more
	// get 429.
	MaxSSESessionsPerClient int
	// MaxBodyBytes caps a request body (0: the SDK's default of 4 MiB); more get 413.
	MaxBodyBytes int64
	// CORSOrigins are the browser origins ("https://app.example.com",
	// "https://*.example.com", "*") allowed to call the MCP endpoints; other
	// origins get 403 there. Requests without Origin are not from browsers
	// and pass.
	CORSOrigins []string

	// Auth, when set, requires credentials (an API key or an OAuth access
	// token) on the MCP endpoints and the document view, and serves the
	// OAuth protected resource metadata; nil (AUTH_MODE=none) leaves them open.
	// Health checks, the metadata and the home page stay open; /readyz shows
	// its detail only to authenticated callers (or with MetricsToken).
	Auth *auth.Authenticator

	// Refresh, when set (serve --watch), returns the state of the refreshes
	// of watched sources, which /readyz shows in its detail as "refresh". A
	// failed refresh does not make /readyz fail: the previous index serves.
	Refresh func() any
}

// Server is the connector's HTTP server.
type Server struct {
	opts    Options
	logger  *slog.Logger
	sse     *sseHandler  // set by Handler
	limiter *rateLimiter // set by Handler; nil when RateLimit is 0
	ids     *requestid.Generator
	fresh   freshConns
}

// New returns a server; call Serve to run it.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 15 * time.Second
	}
	if opts.ReadHeaderTimeout <= 0 {
		opts.ReadHeaderTimeout = 10 * time.Second
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = 30 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = max(2*opts.ToolTimeout, time.Minute)
	}
	return &Server{opts: opts, logger: opts.Logger.With("component", "http"), ids: requestid.NewGenerator()}
}

// Handler returns the HTTP handler for a listener at addr (the address the
// listener is bound to: it decides whether DNS-rebinding protection is on).
func (s *Server) Handler(addr net.Addr) http.Handler {
	mux := http.NewServeMux()
	s.limiter = newRateLimiter(s.opts.RateLimit, s.opts.RateBurst, clientIPs{trusted: s.opts.TrustedProxies}, s.opts.Metrics)
	gate := &rpcGate{maxBody: s.opts.MaxBodyBytes, limiter: s.limiter, metrics: s.opts.Metrics}
	mcpHandler := newStreamableHandler(s.opts.MCP.MCP, gate, s.logger)
	sse := newSSEHandler(s.opts.MCP.MCP, mcpHandler, s.opts.SSEKeepAlive, s.logger)
	sse.stall = s.opts.WriteTimeout
	sse.maxSessions, sse.maxPerClient, sse.ips = s.opts.MaxSSESessions, s.opts.MaxSSESessionsPerClient, clientIPs{trusted: s.opts.TrustedProxies}
	sse.maxBody, sse.gate, sse.metrics = s.opts.MaxBodyBytes, gate, s.opts.Metrics
	s.sse = sse
	for _, p := range []string{"/mcp", "/mcp/{$}"} {
		mux.Handle(p, s.authenticate(s.protect(mcpHandler)))
	}
	for _, p := range []string{"/sse", "/sse/{$}"} {
		mux.Handle(p, s.authenticate(s.protect(sse)))
	}
	view := docView{store: s.opts.Store, links: s.opts.Linker, render: newRenderer(), logger: s.logger}
	if view.links.Signing() {
		// A browser opening a citation sends no token: the link's signature
		// is checked instead.
		mux.Handle("GET "+docurl.ViewPath+"{id...}", s.limiter.wrap(view))
	} else {
		mux.Handle("GET "+docurl.ViewPath+"{id...}", s.authenticate(s.limiter.wrap(view)))
	}
	if s.opts.Auth != nil {
		s.opts.Auth.Register(mux) // /.well-known/oauth-protected-resource[/mcp|/sse]
	}
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if s.opts.Metrics != nil && !s.opts.NoMetricsRoute {
		mux.Handle("GET /metrics", s.metricsHandler())
	}
	guard := s.hostGuard(addr)
	origins := newOriginPolicy(s.opts.CORSOrigins, isLoopbackAddr(addr))
	guard.origins = origins.allows
	// Outermost first: the request id (so every later log line has it),
	// panics, the access log and HTTP metrics (so refusals are counted),
	// then CORS: preflights carry no credentials and are answered before
	// authentication, and browser origins not allowed are refused on the
	// MCP routes. Per-route limits follow in protect.
	return requestIDs(s.ids, recoverer(s.logger, accessLog(s.logger, s.opts.Metrics,
		corsHandler(origins, s.opts.Metrics, s.logger, guard.wrap(mux)))))
}

// hostGuard returns the DNS-rebinding protection of a listener at addr; it
// guards every route, health checks and metrics included.
func (s *Server) hostGuard(addr net.Addr) *hostGuard {
	return newHostGuard(isLoopbackAddr(addr), s.opts.AllowedHosts, s.logger)
}

// MetricsHandler serves /metrics on a listener of its own at addr
// (METRICS_ADDR), behind the same Host check as the main listener.
func (s *Server) MetricsHandler(addr net.Addr) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metricsHandler())
	return s.hostGuard(addr).wrap(mux)
}

// protect applies the abuse limits of the MCP routes: the per-client rate
// limit, then the body size cap. Authentication goes first, outside protect,
// so that the limiter can key on the token's subject:
// mux.Handle(p, s.authenticate(s.protect(h))).
func (s *Server) protect(h http.Handler) http.Handler {
	return s.limiter.wrap(limitBody(s.opts.MaxBodyBytes, s.opts.Metrics, h))
}

// Serve answers requests on ln until ctx is done, then shuts down
// gracefully: it stops accepting connections, lets tool calls in flight
// finish within ShutdownTimeout, then ends SSE streams.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(ln.Addr()),
		ReadHeaderTimeout: s.opts.ReadHeaderTimeout,
		ReadTimeout:       s.opts.ReadTimeout,
		WriteTimeout:      s.opts.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		ConnState:         s.fresh.track,
	}
	hs.RegisterOnShutdown(func() {
		// SSE streams carry their sessions' answers: each ends once the
		// calls it has read are answered, or at the deadline.
		deadline, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
		go func() {
			defer cancel()
			for s.sse.open() > 0 && deadline.Err() == nil {
				time.Sleep(10 * time.Millisecond)
			}
			if s.sse.open() > 0 {
				s.logger.Warn("SSE streams cut at the shutdown deadline", "streams", s.sse.open())
			}
		}()
		s.sse.shutdown(deadline)
	})
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	s.logger.Info("shutting down", "timeout", s.opts.ShutdownTimeout.String(), "tool_calls_in_flight", s.opts.MCP.InFlight())
	// Connections a client opened but has sent nothing on would hold
	// Shutdown for 5 s; with the listener closed they can carry nothing.
	go func() {
		time.Sleep(50 * time.Millisecond)
		s.fresh.closeAll()
	}()
	shutdown, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout+time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		s.logger.Warn("graceful shutdown timed out; closing remaining connections", "err", err)
		_ = hs.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	}
	return nil
}

// isLoopbackAddr reports whether a listener address is a loopback one.
func isLoopbackAddr(addr net.Addr) bool {
	if addr == nil {
		return false
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		host = addr.String()
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// freshConns tracks connections that have not yet sent a request.
type freshConns struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (f *freshConns) track(c net.Conn, st http.ConnState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conns == nil {
		f.conns = map[net.Conn]struct{}{}
	}
	if st == http.StateNew {
		f.conns[c] = struct{}{}
	} else {
		delete(f.conns, c)
	}
}

func (f *freshConns) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.conns {
		_ = c.Close()
	}
}
