package httpserver

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/mcpserver"
	"github.com/connectorhq/connector/internal/metrics"
	"github.com/connectorhq/connector/internal/store/storetest"
)

// searchBatch is a JSON-RPC batch of n search calls.
func searchBatch(n int) string {
	calls := make([]string, n)
	for i := range calls {
		calls[i] = fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"search","arguments":{"query":"refund"}}}`, i+1)
	}
	return "[" + strings.Join(calls, ",") + "]"
}

// rpcError decodes a JSON-RPC error answer, failing the test if body is not one.
func rpcError(t *testing.T, resp *http.Response, body string) (id any, code int, message string) {
	t.Helper()
	var e struct {
		JSONRPC string
		ID      any
		Error   *struct {
			Code    int
			Message string
		}
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json: %s", ct, body)
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.JSONRPC != "2.0" || e.Error == nil || !strings.Contains(body, `"id":`) {
		t.Fatalf("not a JSON-RPC error object: %v %s", err, body)
	}
	return e.ID, e.Error.Code, e.Error.Message
}

// TestBatchCharged: every message of a JSON-RPC batch costs one token of
// the client's rate limit, as a single call does.
func TestBatchCharged(t *testing.T) {
	m := metrics.New()
	ts := start(t, &storetest.Fake{Docs: testDocs}, func(o *Options) {
		o.RateLimit, o.RateBurst = 0.001, 5 // no token comes back during the test
		o.TrustedProxies = mustPrefixes(t, "127.0.0.1")
		o.Metrics = m
	})
	client := []string{"X-Forwarded-For", "203.0.113.7"}
	resp, body := post(t, ts.base+"/mcp", "application/json", searchBatch(3), client...)
	var answers []json.RawMessage
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &answers) != nil || len(answers) != 3 {
		t.Fatalf("batch of 3 within the burst of 5: %d %.300s", resp.StatusCode, body)
	}
	// 2 tokens left: a second batch of 3 is refused as a fourth single call would be.
	if resp, body := post(t, ts.base+"/mcp", "application/json", searchBatch(3), client...); resp.StatusCode != http.StatusTooManyRequests ||
		resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "rate limit") {
		t.Fatalf("second batch of 3: %d %s, want 429 with Retry-After", resp.StatusCode, body)
	}
	// The refused batch cost its route's token: one is left.
	if resp, body := post(t, ts.base+"/mcp", "application/json", callSearch, client...); resp.StatusCode != http.StatusOK {
		t.Fatalf("single call with one token left: %d %s", resp.StatusCode, body)
	}
	if resp, _ := post(t, ts.base+"/mcp", "application/json", callSearch, client...); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("single call with no token left: %d, want 429", resp.StatusCode)
	}
	// More messages than the burst can never pass: say so.
	resp, body = post(t, ts.base+"/mcp", "application/json", searchBatch(6), "X-Forwarded-For", "198.51.100.9")
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "RATE_BURST") {
		t.Errorf("batch of 6 over a burst of 5: %d %s, want 429 naming RATE_BURST", resp.StatusCode, body)
	}
}

// TestBatchCap: a batch of more than maxBatch messages is refused with a
// JSON-RPC error before any of its calls runs, on /mcp and on /sse/, from
// callers the rate limit does not apply to as well.
func TestBatchCap(t *testing.T) {
	m := metrics.New()
	st := &storetest.Fake{Docs: testDocs}
	ts := start(t, st, func(o *Options) { o.Metrics = m })
	for _, path := range []string{"/mcp", "/sse/"} {
		for _, accept := range []string{"application/json", "application/json, text/event-stream"} {
			resp, body := post(t, ts.base+path, accept, searchBatch(5000))
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("POST %s Accept %q, batch of 5000: %d %.300s, want 400", path, accept, resp.StatusCode, body)
			}
			id, code, msg := rpcError(t, resp, body)
			if id != nil || code != -32600 || !strings.Contains(msg, fmt.Sprint(maxBatch)) {
				t.Errorf("POST %s: id %v code %d %q, want id null, -32600 naming the limit", path, id, code, msg)
			}
		}
	}
	if n := st.Calls(); n != 0 {
		t.Errorf("the refused batches ran %d searches", n)
	}
	resp, body := post(t, ts.base+"/mcp", "application/json", searchBatch(maxBatch))
	var answers []json.RawMessage
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &answers) != nil || len(answers) != maxBatch {
		t.Errorf("batch of %d: %d %.300s", maxBatch, resp.StatusCode, body)
	}
	if got := scrape(t, ts.base, ""); !strings.Contains(got, `connector_limited_requests_total{limit="batch"} 4`) {
		t.Errorf("metrics lack the four refused batches:\n%s", grepLines(got, "connector_limited"))
	}
}

// TestBatchOnSSESession: the HTTP+SSE transport takes one message per POST;
// a batch posted into a session runs nothing.
func TestBatchOnSSESession(t *testing.T) {
	st := &storetest.Fake{Docs: testDocs}
	ts := start(t, st, nil)
	endpoint := sseEndpoint(t, ts.base)
	if resp, body := post(t, endpoint, "", searchBatch(3)); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("batch posted into an SSE session: %d %s, want 400", resp.StatusCode, body)
	}
	if n := st.Calls(); n != 0 {
		t.Errorf("the batch ran %d searches", n)
	}
}

// sseEndpoint opens an SSE stream and returns its message endpoint's URL.
func sseEndpoint(t *testing.T, base string) string {
	t.Helper()
	events, stop := openStream(t, base+"/sse")
	t.Cleanup(stop)
	for {
		line, err := events.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if after, ok := strings.CutPrefix(line, "data: "); ok {
			return base + strings.TrimSpace(after)
		}
	}
}

// TestJSONRPCErrors: a body that is not JSON, not a JSON-RPC message, or
// calls a method the server does not serve gets a JSON-RPC error object
// (HTTP 400, application/json) on every transport, not a plain-text 400.
func TestJSONRPCErrors(t *testing.T) {
	st := &storetest.Fake{Docs: testDocs}
	ts := start(t, st, nil)
	tests := []struct {
		name, body string
		wantCode   int
		wantID     any
	}{
		{"truncated JSON", `{"jsonrpc":`, -32700, nil},
		{"not JSON", `tools/list please`, -32700, nil},
		{"empty body", ``, -32700, nil},
		{"JSON but no message", `{"foo":1}`, -32600, nil},
		{"unknown method", `{"jsonrpc":"2.0","id":5,"method":"nope/x","params":{}}`, -32601, float64(5)},
		{"unknown method, string id", `{"jsonrpc":"2.0","id":"a","method":"tools/lst"}`, -32601, "a"},
	}
	endpoints := map[string]string{"/mcp": ts.base + "/mcp", "/sse/ (Streamable HTTP)": ts.base + "/sse/", "SSE session": sseEndpoint(t, ts.base)}
	for name, url := range endpoints {
		for _, tt := range tests {
			for _, accept := range []string{"application/json", "application/json, text/event-stream"} {
				resp, body := post(t, url, accept, tt.body)
				if resp.StatusCode != http.StatusBadRequest {
					t.Errorf("%s, %s, Accept %q: %d %s, want 400", name, tt.name, accept, resp.StatusCode, body)
					continue
				}
				if id, code, msg := rpcError(t, resp, body); code != tt.wantCode || id != tt.wantID || msg == "" {
					t.Errorf("%s, %s: id %v code %d %q, want id %v code %d", name, tt.name, id, code, msg, tt.wantID, tt.wantCode)
				}
			}
		}
	}
	// In a batch, the answer is a batch too.
	resp, body := post(t, ts.base+"/mcp", "application/json", `[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":2,"method":"nope"}]`)
	var answers []struct {
		ID    any
		Error struct{ Code int }
	}
	if resp.StatusCode != http.StatusBadRequest || json.Unmarshal([]byte(body), &answers) != nil || len(answers) != 1 ||
		answers[0].ID != float64(2) || answers[0].Error.Code != -32601 {
		t.Errorf("batch with an unknown method: %d %s", resp.StatusCode, body)
	}
	// A batch posted into an SSE session says the transport takes none.
	resp, body = post(t, endpoints["SSE session"], "", searchBatch(2))
	if _, code, msg := rpcError(t, resp, body); resp.StatusCode != http.StatusBadRequest || code != -32600 || !strings.Contains(msg, "one JSON-RPC message per POST") {
		t.Errorf("batch into an SSE session: %d %s", resp.StatusCode, body)
	}
	// From 2026-07-28 on, the SDK's own answer stands.
	resp, body = post(t, ts.base+"/mcp", "application/json", `{"jsonrpc":"2.0","id":9,"method":"nope/x","params":{}}`, "Mcp-Protocol-Version", "2026-07-28")
	if _, code, _ := rpcError(t, resp, body); resp.StatusCode != http.StatusNotFound || code != -32601 {
		t.Errorf("unknown method at 2026-07-28: %d %s, want the SDK's 404 -32601", resp.StatusCode, body)
	}
	if n := st.Calls(); n != 0 {
		t.Errorf("refused messages reached the store %d times", n)
	}
	// Good messages still pass on every transport.
	for name, url := range endpoints {
		if resp, body := post(t, url, "application/json", callSearch); resp.StatusCode/100 != 2 {
			t.Errorf("%s: a good call: %d %s", name, resp.StatusCode, body)
		}
	}
}

// TestServedMethods checks servedMethods against the SDK: it serves each
// of them, and refuses a method that is not among them as unsupported.
func TestServedMethods(t *testing.T) {
	srv := mcp.NewServer(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	refused := func(method string, call bool) string {
		id := ""
		if call {
			id = `"id":1,`
		}
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"jsonrpc":"2.0",`+id+`"method":"`+method+`","params":{}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code == http.StatusBadRequest && strings.Contains(w.Body.String(), "unsupported") {
			return w.Body.String()
		}
		return ""
	}
	for m := range servedMethods {
		if msg := refused(m, !strings.HasPrefix(m, "notifications/")); msg != "" {
			t.Errorf("servedMethods lists %q, which the SDK does not serve: %s", m, msg)
		}
	}
	if refused("nope/x", true) == "" {
		t.Error("the SDK does not call nope/x unsupported: this test no longer tells served methods apart")
	}
}

// TestCallBeforeInitializeOnSSE: tools/list posted into an SSE session
// before initialize is the client's mistake: it gets a JSON-RPC error on
// the stream, and the server logs it below error level.
func TestCallBeforeInitializeOnSSE(t *testing.T) {
	logs, logger := captureLogs(slog.LevelDebug)
	ts := start(t, &storetest.Fake{Docs: testDocs}, func(o *Options) {
		o.MCP = mcpserver.New(o.Store, mcpserver.Options{Version: "test", Linker: o.Linker, Logger: logger})
	})
	events, stop := openStream(t, ts.base+"/sse")
	defer stop()
	endpoint := ""
	for endpoint == "" {
		line, err := events.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if after, ok := strings.CutPrefix(line, "data: "); ok {
			endpoint = strings.TrimSpace(after)
		}
	}
	if resp, body := post(t, ts.base+endpoint, "", `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("post tools/list: %d %s", resp.StatusCode, body)
	}
	var answer struct {
		ID    int
		Error *struct {
			Code    int
			Message string
		}
	}
	for answer.ID == 0 {
		line, err := events.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if after, ok := strings.CutPrefix(line, "data: "); ok {
			if err := json.Unmarshal([]byte(after), &answer); err != nil {
				t.Fatalf("event %q: %v", line, err)
			}
		}
	}
	if answer.ID != 3 || answer.Error == nil || !strings.Contains(answer.Error.Message, "initializ") {
		t.Fatalf("answer to tools/list before initialize: %+v", answer)
	}
	var found bool
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec struct{ Level, Msg, Method string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec.Level == "ERROR" {
			t.Errorf("logged at error level: %s", line)
		}
		if strings.Contains(rec.Msg, "before initialize") && rec.Method == "tools/list" {
			found = true
			if rec.Level != "WARN" && rec.Level != "DEBUG" {
				t.Errorf("logged at %s: %s", rec.Level, line)
			}
		}
	}
	if !found {
		t.Errorf("no log line says the client called tools/list before initialize:\n%s", logs.String())
	}
}
