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
// charged one), and a batch holds at most maxBatch messages. It also
// answers bodies the SDK would refuse in plain text with JSON-RPC errors:
// -32700 for one that is not JSON, -32600 for one that is no JSON-RPC
// message, -32601 for a call of a method the server does not serve.
type rpcGate struct {
	maxBody int64        // MAX_BODY_BYTES; 0 means the SDK's default
	limiter *rateLimiter // nil when the rate limit is off
	metrics *metrics.Metrics
}

// admit reads r's body and decides whether it goes on to the SDK. If it
// does, admit returns r with the body it read, and the messages in it; if
// not, it has answered r. batches says whether the transport takes JSON-RPC
// batches: Streamable HTTP does, the HTTP+SSE message endpoint does not.
func (g *rpcGate) admit(w http.ResponseWriter, r *http.Request, batches bool) (*http.Request, []jsonrpc.Message, bool) {
	limit := cmp.Or(g.maxBody, mcp.DefaultMaxRequestBodyBytes)
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			tooLarge(w, -1, limit)
			return nil, nil, false
		}
		http.Error(w, "failed to read body", http.StatusBadRequest)
		return nil, nil, false
	}
	if !json.Valid(raw) {
		writeRPCError(w, http.StatusBadRequest, false, nil, jsonrpc.CodeParseError,
			"parse error: the body is not JSON; POST one JSON-RPC 2.0 message, e.g. {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}")
		return nil, nil, false
	}
	var msgs []jsonrpc.Message
	n, batch := batchLen(raw)
	switch {
	case batch && !batches:
		writeRPCError(w, http.StatusBadRequest, false, nil, jsonrpc.CodeInvalidRequest,
			"the HTTP+SSE transport takes one JSON-RPC message per POST, not a batch: post the messages one by one")
		return nil, nil, false
	case batch && n == 0:
		writeRPCError(w, http.StatusBadRequest, false, nil, jsonrpc.CodeInvalidRequest, "invalid request: the batch is empty")
		return nil, nil, false
	case batch:
		if !g.admitBatch(w, r, n) {
			return nil, nil, false
		}
		var items []json.RawMessage
		_ = json.Unmarshal(raw, &items) // valid: batchLen read it
		for _, item := range items {
			msg, err := jsonrpc.DecodeMessage(item)
			if err != nil {
				writeRPCError(w, http.StatusBadRequest, true, nil, jsonrpc.CodeInvalidRequest, invalidMessage(err))
				return nil, nil, false
			}
			msgs = append(msgs, msg)
		}
	default:
		msg, err := jsonrpc.DecodeMessage(raw)
		if err != nil {
			writeRPCError(w, http.StatusBadRequest, false, nil, jsonrpc.CodeInvalidRequest, invalidMessage(err))
			return nil, nil, false
		}
		msgs = []jsonrpc.Message{msg}
	}
	// From 2026-07-28 on the SDK answers unknown methods itself, with the
	// status that revision asks for.
	if r.Header.Get("Mcp-Protocol-Version") < "2026-07-28" {
		for _, msg := range msgs {
			if req, ok := msg.(*jsonrpc.Request); ok && req.IsCall() && !servedMethods[req.Method] {
				writeRPCError(w, http.StatusBadRequest, batch, req.ID.Raw(), jsonrpc.CodeMethodNotFound,
					fmt.Sprintf("method %q not found: this MCP server serves initialize, ping, tools/list and tools/call (with the tools search and fetch)", req.Method))
				return nil, nil, false
			}
		}
	}
	r2 := *r
	r2.Body = io.NopCloser(bytes.NewReader(raw))
	r2.ContentLength = int64(len(raw))
	return &r2, msgs, true
}

// invalidMessage explains a JSON body that is no JSON-RPC message.
func invalidMessage(err error) string {
	return fmt.Sprintf(`invalid request (%v): send a JSON-RPC 2.0 message with "jsonrpc":"2.0", a "method" and, for a call, an "id"`, err)
}

// servedMethods are the methods go-sdk v1.8.0 serves (its serverMethodInfos):
// a call of any other method gets -32601 instead of the SDK's plain-text
// 400. TestServedMethods checks the list against the SDK.
var servedMethods = map[string]bool{
	"initialize": true, "ping": true, "tools/list": true, "tools/call": true,
	"prompts/list": true, "prompts/get": true, "resources/list": true, "resources/templates/list": true,
	"resources/read": true, "resources/subscribe": true, "resources/unsubscribe": true,
	"completion/complete": true, "logging/setLevel": true, "server/discover": true, "subscriptions/listen": true,
	"notifications/initialized": true, "notifications/cancelled": true, "notifications/progress": true,
	"notifications/roots/list_changed": true,
}

// admitBatch charges the client one token for each message of a batch of
// n past the first, or answers r with why it cannot.
func (g *rpcGate) admitBatch(w http.ResponseWriter, r *http.Request, n int) bool {
	switch l := g.limiter; {
	case n > maxBatch:
		g.metrics.Limited(metrics.LimitBatch)
		writeRPCError(w, http.StatusBadRequest, false, nil, jsonrpc.CodeInvalidRequest,
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

// writeRPCError answers with a JSON-RPC error object, in an array when the
// request was a batch; id is nil (null) when the request's id is unknown.
func writeRPCError(w http.ResponseWriter, status int, batch bool, id any, code int64, message string) {
	type errorResponse struct {
		JSONRPC string        `json:"jsonrpc"`
		ID      any           `json:"id"`
		Error   jsonrpc.Error `json:"error"`
	}
	var v any = errorResponse{"2.0", id, jsonrpc.Error{Code: code, Message: message}}
	if batch {
		v = []any{v}
	}
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
