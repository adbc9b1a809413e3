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
	"sync"
	"time"

	"github.com/connectorhq/connector/internal/docurl"
	"github.com/connectorhq/connector/internal/mcpserver"
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
	// deadlines for their own connection.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout time.Duration
}

// Server is the connector's HTTP server.
type Server struct {
	opts   Options
	logger *slog.Logger
	sse    *sseHandler // set by Handler
	fresh  freshConns
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
	return &Server{opts: opts, logger: opts.Logger.With("component", "http")}
}

// Handler returns the HTTP handler for a listener at addr (the address the
// listener is bound to: it decides whether DNS-rebinding protection is on).
func (s *Server) Handler(addr net.Addr) http.Handler {
	mux := http.NewServeMux()
	mcpHandler := newStreamableHandler(s.opts.MCP.MCP, s.logger)
	sse := newSSEHandler(s.opts.MCP.MCP, mcpHandler, s.opts.SSEKeepAlive, s.logger)
	s.sse = sse
	for _, p := range []string{"/mcp", "/mcp/{$}"} {
		mux.Handle(p, mcpHandler)
	}
	for _, p := range []string{"/sse", "/sse/{$}"} {
		mux.Handle(p, sse)
	}
	view := docView{store: s.opts.Store, logger: s.logger}
	mux.Handle("GET "+docurl.ViewPath+"{id...}", view)
	mux.HandleFunc("GET /{$}", s.home)
	guard := newHostGuard(isLoopbackAddr(addr), s.opts.AllowedHosts, s.logger)

	health := http.NewServeMux()
	health.HandleFunc("GET /healthz", s.healthz)
	health.HandleFunc("GET /readyz", s.readyz)
	health.Handle("/", guard.wrap(mux))
	return recoverer(s.logger, accessLog(s.logger, health))
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
