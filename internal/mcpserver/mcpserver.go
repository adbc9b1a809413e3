// Package mcpserver builds the connector's MCP server: the search and fetch
// tools over a store, the instructions clients show the model, and the
// bookkeeping a graceful shutdown needs.
package mcpserver

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/docurl"
	"github.com/connectorhq/connector/internal/fetch"
	"github.com/connectorhq/connector/internal/metrics"
	"github.com/connectorhq/connector/internal/requestid"
	"github.com/connectorhq/connector/internal/search"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/toolcall"
)

// Instructions is sent to clients at initialization. ChatGPT shows the model
// only the start, so the first 512 characters stand on their own.
const Instructions = `This server gives read-only access to a private document collection through two tools. Call search with keywords or a question to find relevant documents; each result has an id, title, url and a short excerpt. Then call fetch with a result's id to read the full text before answering, and cite the document's url. Search again with other words when results are off-topic. Ids come only from search.

Details: results are ranked by relevance (BM25 full-text matching with English stemming), so specific terms work better than long sentences; several short searches beat one long one. A blank query returns no results. The url of a result is the document's own link when it has one, otherwise a link to a read-only view of the document on this server, and empty when neither exists; do not cite an empty url. Very long documents are returned in parts: when fetch's metadata.truncated is "true", fetch metadata.next_id for the next part.`

// Options configure the server.
type Options struct {
	Version       string
	MaxResults    int
	MaxQueryBytes int
	MaxFetchChars int
	ToolTimeout   time.Duration
	Linker        docurl.Linker
	Logger        *slog.Logger
	// Metrics records tool calls; nil records nothing.
	Metrics *metrics.Metrics
	// Private marks cacheable results (the list methods, server/discover)
	// cacheScope "private": with authentication on, no shared cache may
	// hand one caller's answer to another.
	Private bool
}

// Server is the MCP server with a count of the tool calls in flight.
type Server struct {
	MCP      *mcp.Server
	inFlight atomic.Int64
	metrics  *metrics.Metrics
}

// New returns the MCP server for the store.
func New(st store.Store, opts Options) *Server {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{metrics: opts.Metrics}
	so := &mcp.ServerOptions{
		Instructions: Instructions,
		Logger:       sdkLogger(logger.With("component", "mcp")),
		Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}},
	}
	if opts.Private {
		so.SetCacheable = func(_ context.Context, _ mcp.Request, c *mcp.Cacheable) { c.CacheScope = "private" }
	}
	s.MCP = mcp.NewServer(&mcp.Implementation{Name: "connector", Title: "Document connector", Version: opts.Version}, so)
	s.MCP.AddReceivingMiddleware(s.track, recoverPanics(logger))
	search.Register(s.MCP, st, search.Options{
		MaxResults: opts.MaxResults, MaxQueryBytes: opts.MaxQueryBytes, Timeout: opts.ToolTimeout,
		Linker: opts.Linker, Logger: logger,
	})
	fetch.Register(s.MCP, st, fetch.Options{
		MaxChars: opts.MaxFetchChars, Timeout: opts.ToolTimeout, Linker: opts.Linker, Logger: logger,
	})
	return s
}

// InFlight returns the number of tool calls running now.
func (s *Server) InFlight() int64 { return s.inFlight.Load() }

// track counts tool calls in flight (reported at shutdown) and records
// their metrics. A call's context carries the request id the HTTP server
// gave it (over SSE, the stream's), so the tool's log line has it; when it
// does not, a sane X-Request-Id header of the call is used.
func (s *Server) track(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method != "tools/call" {
			return next(ctx, method, req)
		}
		s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		if requestid.From(ctx) == "" {
			if extra := req.GetExtra(); extra != nil && extra.Header != nil {
				if id := extra.Header.Get(requestid.Header); requestid.Valid(id) {
					ctx = requestid.With(ctx, id)
				}
			}
		}
		if s.metrics == nil {
			return next(ctx, method, req)
		}
		o := &toolcall.Outcome{}
		start := time.Now()
		res, err := next(toolcall.WithOutcome(ctx, o), method, req)
		s.observe(req, res, err, o, time.Since(start))
		return res, err
	}
}

// observe records a finished tool call.
func (s *Server) observe(req mcp.Request, res mcp.Result, err error, o *toolcall.Outcome, d time.Duration) {
	tool := ""
	if p, ok := req.GetParams().(*mcp.CallToolParamsRaw); ok && p != nil {
		tool = p.Name
	}
	ctr, _ := res.(*mcp.CallToolResult)
	outcome := metrics.OutcomeOK
	switch {
	case err != nil || ctr == nil:
		outcome = metrics.OutcomeProtocolError
	case ctr.IsError && (o.Class == toolcall.ClassTimeout || o.Class == "upstream_timeout"):
		outcome = metrics.OutcomeTimeout
	case ctr.IsError && o.Class == toolcall.ClassCanceled:
		outcome = metrics.OutcomeCanceled
	case ctr.IsError:
		outcome = metrics.OutcomeToolError
	}
	s.metrics.ToolCall(tool, outcome, d)
	if outcome != metrics.OutcomeOK {
		return
	}
	switch tool {
	case search.Name:
		s.metrics.SearchResults(o.Results)
	case fetch.Name:
		if len(ctr.Content) == 1 {
			if text, ok := ctr.Content[0].(*mcp.TextContent); ok {
				s.metrics.FetchBytes(len(text.Text))
			}
		}
	}
}

// recoverPanics turns a panic in any method handler into a JSON-RPC internal
// error for that request (tool handlers recover on their own and return a
// tool error), so one bad request never takes the process down.
func recoverPanics(logger *slog.Logger) mcp.Middleware {
	return func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (res mcp.Result, err error) {
			defer func() {
				if r := recover(); r != nil {
					logger.ErrorContext(ctx, "panic in request handler", "method", method, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
					res, err = nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: "internal error"}
				}
			}()
			return next(ctx, method, req)
		}
	}
}
