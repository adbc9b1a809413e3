package httpserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

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
	if resp, body := post(t, ts.base+endpoint, "", searchBatch(3)); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("batch posted into an SSE session: %d %s, want 400", resp.StatusCode, body)
	}
	if n := st.Calls(); n != 0 {
		t.Errorf("the batch ran %d searches", n)
	}
}
