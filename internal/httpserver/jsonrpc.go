package httpserver

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/metrics"
)

// maxBatch is the most messages one JSON-RPC batch may hold. Batches exist
// only in MCP 2025-03-26, and OpenAI's clients never send them; the SDK runs
// a batch's calls at once and, answering in JSON, holds every answer until
// the last is done, so this bounds the work and memory of one request.
const maxBatch = 10

// rpcGate reads a POSTed JSON-RPC body before the SDK does, to apply what
// the SDK does not know of: each message of a batch costs what a single
// message costs against the client's rate limit (the route's limiter has
// charged one), and a batch holds at most maxBatch messages.
type rpcGate struct {
	maxBody int64        // MAX_BODY_BYTES; 0 means the SDK's default
	limiter *rateLimiter // nil when the rate limit is off
	metrics *metrics.Metrics
}

// admit reads r's body and decides whether it goes on to the SDK. If it
// does, admit returns r with the body it read; if not, it has answered r.
func (g *rpcGate) admit(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	limit := cmp.Or(g.maxBody, mcp.DefaultMaxRequestBodyBytes)
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			tooLarge(w, -1, limit)
			return nil, false
		}
		http.Error(w, "failed to read body", http.StatusBadRequest)
		return nil, false
	}
	if n, ok := batchLen(raw); ok && !g.admitBatch(w, r, n) {
		return nil, false
	}
	r2 := *r
	r2.Body = io.NopCloser(bytes.NewReader(raw))
	r2.ContentLength = int64(len(raw))
	return &r2, true
}

// admitBatch charges the client one token for each message of a batch of
// n past the first, or answers r with why it cannot.
func (g *rpcGate) admitBatch(w http.ResponseWriter, r *http.Request, n int) bool {
	switch l := g.limiter; {
	case n > maxBatch:
		g.metrics.Limited(metrics.LimitBatch)
		writeRPCError(w, http.StatusBadRequest, nil, jsonrpc.CodeInvalidRequest,
			fmt.Sprintf("a JSON-RPC batch of %d messages is over this server's limit of %d messages per batch; send the calls in separate requests", n, maxBatch))
		return false
	case l != nil && n > l.burst:
		l.metrics.Limited(metrics.LimitRate)
		http.Error(w, fmt.Sprintf("429 Too Many Requests: a batch of %d messages is more than this client may send at once (RATE_BURST %d); send fewer messages per batch",
			n, l.burst), http.StatusTooManyRequests)
		return false
	}
	if wait := g.limiter.reserve(r, n-1); wait > 0 {
		g.limiter.refuse(w, wait)
		return false
	}
	return true
}

// batchLen returns the number of messages of a body that is a JSON array.
func batchLen(raw []byte) (int, bool) {
	if trimmed := bytes.TrimLeft(raw, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '[' {
		return 0, false
	}
	var batch []json.RawMessage
	if json.Unmarshal(raw, &batch) != nil {
		return 0, false
	}
	return len(batch), true
}

// writeRPCError answers with a JSON-RPC error object; id is nil (null) when
// the request's id is unknown.
func writeRPCError(w http.ResponseWriter, status int, id any, code int64, message string) {
	body, _ := json.Marshal(struct {
		JSONRPC string        `json:"jsonrpc"`
		ID      any           `json:"id"`
		Error   jsonrpc.Error `json:"error"`
	}{"2.0", id, jsonrpc.Error{Code: code, Message: message}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
