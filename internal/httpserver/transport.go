package httpserver

import (
	"context"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// streamableHandler serves Streamable HTTP statelessly: every POST stands on
// its own, as OpenAI's clients drop and reuse sessions (CLIENTS.md). Clients
// that accept only JSON (Accept: application/json, */* or none) get a plain
// JSON response instead of the SDK's 400, which the Responses API reports as
// HTTP 424.
type streamableHandler struct {
	stream http.Handler // answers with text/event-stream
	json   http.Handler // answers with application/json
	gate   *rpcGate
}

// The gate's maxBody caps a request body (MAX_BODY_BYTES): past it, 413;
// 0 means the SDK's default.
func newStreamableHandler(srv *mcp.Server, gate *rpcGate, logger *slog.Logger) *streamableHandler {
	get := func(*http.Request) *mcp.Server { return srv }
	opts := func(jsonResponse bool) *mcp.StreamableHTTPOptions {
		return &mcp.StreamableHTTPOptions{
			Stateless:    true,
			JSONResponse: jsonResponse,
			// Host checks are ours (hostGuard): the SDK's would refuse every
			// tunnelled request on a loopback listener.
			DisableLocalhostProtection: true,
			MaxRequestBodyBytes:        gate.maxBody,
			Logger:                     logger,
		}
	}
	return &streamableHandler{
		stream: mcp.NewStreamableHTTPHandler(get, opts(false)),
		json:   mcp.NewStreamableHTTPHandler(get, opts(true)),
		gate:   gate,
	}
}

func (h *streamableHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		h.stream.ServeHTTP(w, r) // the SDK answers 405 with Allow: POST
		return
	}
	r, _, ok := h.gate.admit(w, normalizePost(r), true)
	if !ok {
		return
	}
	if acceptsEventStream(r.Header.Values("Accept")) {
		h.stream.ServeHTTP(w, r)
		return
	}
	r.Header.Set("Accept", "application/json, text/event-stream")
	h.json.ServeHTTP(w, r)
}

// normalizePost returns r with a copy of its headers in which a missing
// Content-Type is taken to be JSON, the only body MCP posts.
func normalizePost(r *http.Request) *http.Request {
	r2 := *r
	r2.Header = r.Header.Clone()
	if r2.Header.Get("Content-Type") == "" {
		r2.Header.Set("Content-Type", "application/json")
	}
	return &r2
}

// acceptsEventStream reports whether an Accept header names text/event-stream.
func acceptsEventStream(values []string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err == nil && mt == "text/event-stream" && params["q"] != "0" {
				return true
			}
		}
	}
	return false
}

// keepAliveWriter serialises the SDK's event writes with keep-alive comments.
type keepAliveWriter struct {
	http.ResponseWriter
	// stall bounds each write and flush: a client that reads nothing for
	// this long would otherwise hold its stream, its session and every
	// answer waiting to be written, for ever. 0 means no bound.
	stall time.Duration
	fail  func() // called when a write or flush fails: ends the stream

	mu    sync.Mutex
	wrote bool
}

func (k *keepAliveWriter) Write(p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.wrote = true
	k.setDeadline()
	n, err := k.ResponseWriter.Write(p)
	k.failed(err)
	return n, err
}

// setDeadline gives the next write stall to complete; k.mu is held.
func (k *keepAliveWriter) setDeadline() {
	if k.stall > 0 {
		_ = http.NewResponseController(k.ResponseWriter).SetWriteDeadline(time.Now().Add(k.stall))
	}
}

// failed ends the stream after a failed write; k.mu is held.
func (k *keepAliveWriter) failed(err error) {
	if err != nil && k.fail != nil {
		k.fail()
	}
}

func (k *keepAliveWriter) WriteHeader(code int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.wrote = true
	k.ResponseWriter.WriteHeader(code)
}

func (k *keepAliveWriter) FlushError() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.setDeadline()
	err := http.NewResponseController(k.ResponseWriter).Flush()
	k.failed(err)
	return err
}

func (k *keepAliveWriter) Unwrap() http.ResponseWriter { return k.ResponseWriter }

// ping writes an SSE comment every interval until ctx is done; a failed
// write means the client is gone, and ends the stream.
func (k *keepAliveWriter) ping(ctx context.Context, interval time.Duration, fail func()) {
	if interval <= 0 {
		<-ctx.Done()
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := k.comment(ctx); err != nil {
				fail()
				return
			}
		}
	}
}

func (k *keepAliveWriter) comment(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.wrote || ctx.Err() != nil { // headers not sent yet, or stream over
		return nil
	}
	k.setDeadline()
	if _, err := k.ResponseWriter.Write([]byte(": keep-alive\n\n")); err != nil {
		return err
	}
	return http.NewResponseController(k.ResponseWriter).Flush()
}
