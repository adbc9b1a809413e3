package httpserver

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/mcpserver"
	"github.com/connectorhq/connector/internal/metrics"
	"github.com/connectorhq/connector/internal/requestid"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/store/storetest"
)

func mustPrefixes(t *testing.T, s string) []netip.Prefix {
	t.Helper()
	p, err := ParseTrustedProxies(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRateLimitPerClient: a client over its rate gets 429 with Retry-After,
// another client is unaffected; clients are told apart by X-Forwarded-For
// only because the peer (127.0.0.1) is a trusted proxy.
func TestRateLimitPerClient(t *testing.T) {
	m := metrics.New()
	ts := start(t, &storetest.Fake{Docs: testDocs}, func(o *Options) {
		o.RateLimit, o.RateBurst = 0.5, 2 // a token every 2 s
		o.TrustedProxies = mustPrefixes(t, "127.0.0.1")
		o.Metrics = m
	})
	for i := range 2 {
		if resp, body := post(t, ts.base+"/mcp", "", callSearch, "X-Forwarded-For", "203.0.113.7"); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d within the burst: %d %s", i+1, resp.StatusCode, body)
		}
	}
	resp, body := post(t, ts.base+"/mcp", "", callSearch, "X-Forwarded-For", "203.0.113.7")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third request: %d %s, want 429", resp.StatusCode, body)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "2" {
		t.Errorf("Retry-After = %q, want 2 (seconds, rounded up)", ra)
	}
	if !strings.Contains(body, "rate limit") || !strings.Contains(body, "retry after") {
		t.Errorf("429 body does not say which limit and what to do: %q", body)
	}
	// Another client, and the SSE endpoint of the same client.
	if resp, body := post(t, ts.base+"/mcp", "", callSearch, "X-Forwarded-For", "198.51.100.9"); resp.StatusCode != http.StatusOK {
		t.Fatalf("another client: %d %s", resp.StatusCode, body)
	}
	if resp, _ := post(t, ts.base+"/sse/", "", callSearch, "X-Forwarded-For", "203.0.113.7"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("same client on /sse/: %d, want 429", resp.StatusCode)
	}
	// A caller on this machine itself (no forwarded address) is not limited.
	for i := range 5 {
		if resp, body := post(t, ts.base+"/mcp", "", callSearch); resp.StatusCode != http.StatusOK {
			t.Fatalf("local request %d: %d %s, want no limit for a caller on this machine", i+1, resp.StatusCode, body)
		}
	}
	// Probes are never limited.
	for range 5 {
		r, err := http.Get(ts.base + "/healthz")
		if err != nil || r.StatusCode != http.StatusOK {
			t.Fatalf("healthz: %v %v", r.Status, err)
		}
		r.Body.Close()
	}
	if got := scrape(t, ts.base, ""); !strings.Contains(got, `connector_limited_requests_total{limit="rate"} 2`) {
		t.Errorf("metrics lack two rate-limited requests:\n%s", grepLines(got, "connector_limited"))
	}
}

// TestRateLimitBySubject: with a verified token the bucket is the token's
// subject, whatever the address; without one it is the address.
func TestRateLimitBySubject(t *testing.T) {
	l := newRateLimiter(1, 1, clientIPs{}, nil)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	verify := func(_ context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
		return &auth.TokenInfo{UserID: token, Expiration: time.Now().Add(time.Hour)}, nil
	}
	h := auth.RequireBearerToken(verify, nil)(l.wrap(ok))
	do := func(token, remote string) int {
		req := httptest.NewRequest(http.MethodPost, "/mcp", nil)
		req.RemoteAddr = remote
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	if c := do("alice", "192.0.2.1:1000"); c != 200 {
		t.Fatalf("alice first: %d", c)
	}
	if c := do("alice", "192.0.2.2:1000"); c != 429 {
		t.Errorf("alice from another address: %d, want 429 (one bucket per subject)", c)
	}
	if c := do("bob", "192.0.2.1:1000"); c != 200 {
		t.Errorf("bob from alice's address: %d, want 200", c)
	}
}

func TestClientIP(t *testing.T) {
	ips := clientIPs{trusted: mustPrefixes(t, "10.0.0.0/8, 192.168.1.7, fd00::/8")}
	tests := []struct {
		name, remote string
		xff          []string
		want         string
	}{
		{"no proxy", "203.0.113.5:4000", nil, "203.0.113.5"},
		{"spoofed XFF from an untrusted peer is ignored", "203.0.113.5:4000", []string{"1.2.3.4"}, "203.0.113.5"},
		{"trusted proxy", "10.1.2.3:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"client-forged entries left of the real one", "10.1.2.3:4000", []string{"6.6.6.6, 198.51.100.1"}, "198.51.100.1"},
		{"chain of trusted proxies", "10.1.2.3:4000", []string{"198.51.100.1, 192.168.1.7", "10.9.9.9"}, "198.51.100.1"},
		{"every hop trusted: the leftmost", "10.1.2.3:4000", []string{"10.0.0.1, 10.0.0.2"}, "10.0.0.1"},
		{"garbage stops at the hop that sent it", "10.1.2.3:4000", []string{"198.51.100.1, not-an-ip"}, "10.1.2.3"},
		{"port in XFF", "10.1.2.3:4000", []string{"198.51.100.1:5555"}, "198.51.100.1"},
		{"IPv6 client cut to /64", "[fd00::1]:4000", []string{"2001:db8:1:2:aaaa::1"}, "2001:db8:1:2::"},
		{"IPv4-mapped peer", "[::ffff:203.0.113.5]:4000", nil, "203.0.113.5"},
		{"trusted proxy without XFF", "10.1.2.3:4000", nil, "10.1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			if got := ips.clientIP(req).String(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	if _, err := ParseTrustedProxies("10.0.0.0/8, nonsense"); err == nil || !strings.Contains(err.Error(), "CIDR") {
		t.Errorf("bad proxy list: err = %v", err)
	}
}

// TestRateLimiterEvictsIdle: clients idle long enough to have a full bucket
// again are forgotten, so the map stays bounded.
func TestRateLimiterEvictsIdle(t *testing.T) {
	l := newRateLimiter(10, 20, clientIPs{}, nil)
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	l.lastSweep = now
	for i := range 500 {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, byte(i >> 8), byte(i)}), 1).String()
		if l.reserve(req, 1) != 0 {
			t.Fatal("first request limited")
		}
	}
	if n := l.size(); n != 500 {
		t.Fatalf("tracking %d clients, want 500", n)
	}
	now = now.Add(limiterSweepEvery + time.Second)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.RemoteAddr = "198.51.100.1:1"
	l.reserve(req, 1)
	if n := l.size(); n != 1 {
		t.Errorf("after the idle sweep: %d clients, want 1", n)
	}
}

// TestBodyLimit: bodies over MAX_BODY_BYTES get 413 on /mcp and on the SSE
// message endpoint, with or without Content-Length.
func TestBodyLimit(t *testing.T) {
	ts := start(t, &storetest.Fake{Docs: testDocs}, func(o *Options) { o.MaxBodyBytes = 1024; o.Metrics = metrics.New() })
	big := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search","arguments":{"query":"` + strings.Repeat("x", 2000) + `"}}}`
	for _, path := range []string{"/mcp", "/sse/"} {
		resp, body := post(t, ts.base+path, "", big)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(body, "MAX_BODY_BYTES") {
			t.Errorf("POST %s with Content-Length over the limit: %d %q, want 413 naming MAX_BODY_BYTES", path, resp.StatusCode, body)
		}
		// Chunked: no Content-Length, so the read hits http.MaxBytesReader.
		req, _ := http.NewRequest(http.MethodPost, ts.base+path, io.MultiReader(strings.NewReader(big)))
		req.Header.Set("Content-Type", "application/json")
		req.ContentLength = -1
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "MAX_BODY_BYTES") {
			t.Errorf("POST %s chunked over the limit: %d %q, want 413 naming MAX_BODY_BYTES", path, r.StatusCode, b)
		}
	}
	if resp, body := post(t, ts.base+"/mcp", "", callSearch); resp.StatusCode != http.StatusOK {
		t.Errorf("small body: %d %s", resp.StatusCode, body)
	}
	if got := scrape(t, ts.base, ""); !strings.Contains(got, `connector_limited_requests_total{limit="body_size"} 4`) {
		t.Errorf("metrics lack the four refused bodies:\n%s", grepLines(got, "connector_limited"))
	}

	// The SSE message endpoint a stream names.
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
	resp, body := post(t, ts.base+endpoint, "", big)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("SSE message endpoint: %d %q, want 413", resp.StatusCode, body)
	}
	req, _ := http.NewRequest(http.MethodPost, ts.base+endpoint, io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "MAX_BODY_BYTES") {
		t.Errorf("SSE message endpoint, chunked: %d %q, want 413 naming MAX_BODY_BYTES", r.StatusCode, b)
	}
}

// TestSSESessionCap: with MAX_SSE_SESSIONS=2 a third stream gets 503 with
// Retry-After, the first two keep working, and a freed slot is reused.
func TestSSESessionCap(t *testing.T) {
	m := metrics.New()
	ts := start(t, &storetest.Fake{Docs: testDocs}, func(o *Options) { o.MaxSSESessions = 2; o.Metrics = m })
	client := mcp.NewClient(&mcp.Implementation{Name: "openai-mcp", Version: "1.0.0"}, nil)
	var sessions []*mcp.ClientSession
	for range 2 {
		cs, err := client.Connect(t.Context(), &mcp.SSEClientTransport{Endpoint: ts.base + "/sse/"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cs.Close()
		sessions = append(sessions, cs)
	}
	if got := scrape(t, ts.base, ""); !strings.Contains(got, "connector_sse_sessions 2") {
		t.Errorf("gauge:\n%s", grepLines(got, "connector_sse_sessions"))
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.base+"/sse/", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(string(body), "MAX_SSE_SESSIONS") || !strings.Contains(string(body), "/mcp") {
		t.Fatalf("third stream: %d Retry-After=%q %q, want 503 naming the limit and /mcp", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	for i, cs := range sessions {
		if res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"query": "refund"}}); err != nil || res.IsError {
			t.Fatalf("session %d after the refusal: %v %v", i, err, res)
		}
	}
	// Streamable HTTP on /sse/ is not a stream, and not capped.
	if resp, body := post(t, ts.base+"/sse/", "", callSearch); resp.StatusCode != http.StatusOK {
		t.Errorf("POST /sse/ while streams are full: %d %s", resp.StatusCode, body)
	}
	sessions[0].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		cs, err := client.Connect(t.Context(), &mcp.SSEClientTransport{Endpoint: ts.base + "/sse/"}, nil)
		if err == nil {
			defer cs.Close()
			if res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"query": "refund"}}); err != nil || res.IsError {
				t.Fatalf("session in the freed slot: %v %v", err, res)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the freed slot was never reusable: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // the server sees the close a moment later
	}
	// One refusal above, maybe more while the server had not yet seen the close.
	if got := scrape(t, ts.base, ""); !regexp.MustCompile(`connector_limited_requests_total\{limit="sse_sessions"\} [1-9]`).MatchString(got) {
		t.Errorf("metrics lack the refused stream:\n%s", grepLines(got, "connector_limited"))
	}
}

// TestSSESessionsPerClient: one client gets at most
// MAX_SSE_SESSIONS_PER_CLIENT streams (429 past it) while others still
// connect; a closed stream frees its slot.
func TestSSESessionsPerClient(t *testing.T) {
	m := metrics.New()
	ts := start(t, &storetest.Fake{Docs: testDocs}, func(o *Options) {
		o.MaxSSESessions, o.MaxSSESessionsPerClient = 10, 2
		o.TrustedProxies = mustPrefixes(t, "127.0.0.1")
		o.Metrics = m
	})
	client := mcp.NewClient(&mcp.Implementation{Name: "openai-mcp", Version: "1.0.0"}, nil)
	from := func(ip string) mcp.Transport {
		return &mcp.SSEClientTransport{Endpoint: ts.base + "/sse/", HTTPClient: clientWith("X-Forwarded-For", ip)}
	}
	var first *mcp.ClientSession
	for i := range 2 {
		cs, err := client.Connect(t.Context(), from("203.0.113.7"), nil)
		if err != nil {
			t.Fatalf("stream %d of the client: %v", i+1, err)
		}
		defer cs.Close()
		first = cmp.Or(first, cs)
	}
	stream := func(ip string) (*http.Response, string) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, ts.base+"/sse/", nil)
		req.Header.Set("X-Forwarded-For", ip)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return resp, ""
		}
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := stream("203.0.113.7")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "MAX_SSE_SESSIONS_PER_CLIENT") {
		t.Fatalf("third stream of one client: %d Retry-After=%q %q, want 429 naming the limit", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	// Another client, and callers on this machine, still get streams.
	for _, tr := range []mcp.Transport{from("198.51.100.9"), &mcp.SSEClientTransport{Endpoint: ts.base + "/sse/"},
		&mcp.SSEClientTransport{Endpoint: ts.base + "/sse/"}, &mcp.SSEClientTransport{Endpoint: ts.base + "/sse/"}} {
		cs, err := client.Connect(t.Context(), tr, nil)
		if err != nil {
			t.Fatalf("another client while the first is at its cap: %v", err)
		}
		defer cs.Close()
	}
	first.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		cs, err := client.Connect(t.Context(), from("203.0.113.7"), nil)
		if err == nil {
			cs.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the client's freed slot was never reusable: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // the server sees the close a moment later
	}
	if got := scrape(t, ts.base, ""); !regexp.MustCompile(`connector_limited_requests_total\{limit="sse_sessions_per_client"\} [1-9]`).MatchString(got) {
		t.Errorf("metrics lack the refused stream:\n%s", grepLines(got, "connector_limited"))
	}
}

func TestCORS(t *testing.T) {
	ts := start(t, &storetest.Fake{Docs: testDocs}, func(o *Options) {
		o.CORSOrigins = []string{"https://app.example.com", "https://*.inspector.example"}
	})
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, ts.base+"/mcp", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,last-event-id,mcp-protocol-version,mcp-session-id,x-api-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, origin := range []string{"https://app.example.com", "https://a.inspector.example", "http://localhost:6274"} {
		resp := preflight(origin)
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != origin {
			t.Errorf("preflight from %s: %d ACAO=%q", origin, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
		}
		allowed := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
		for _, h := range []string{"authorization", "mcp-session-id", "mcp-protocol-version", "last-event-id", "x-api-key"} {
			if !strings.Contains(allowed, h) {
				t.Errorf("preflight from %s does not allow %s: %q", origin, h, allowed)
			}
		}
	}
	if resp := preflight("https://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("preflight from a forbidden origin: %d, want 403", resp.StatusCode)
	}

	resp, body := post(t, ts.base+"/mcp", "", callSearch, "Origin", "https://app.example.com")
	expose := resp.Header.Get("Access-Control-Expose-Headers")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		!strings.Contains(expose, "Mcp-Session-Id") || !strings.Contains(expose, "Www-Authenticate") {
		t.Errorf("allowed origin: %d ACAO=%q expose=%q %s", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), expose, body)
	}
	for _, path := range []string{"/mcp", "/sse/"} {
		resp, body = post(t, ts.base+path, "", callSearch, "Origin", "https://evil.example")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "CORS_ORIGINS") {
			t.Errorf("forbidden origin on %s: %d %q, want 403 naming CORS_ORIGINS", path, resp.StatusCode, body)
		}
	}
	// Server-to-server clients send no Origin.
	if resp, body = post(t, ts.base+"/mcp", "", callSearch); resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("no Origin: %d ACAO=%q %s", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"), body)
	}

	for _, tc := range []struct {
		in, err string
	}{
		{"*", ""}, {"https://a.example, http://localhost:6274/", ""}, {"https://*.example.com", ""},
		{"a.example.com", "scheme://host"}, {"https://a.example.com/path", "no path"}, {"ftp://x", "scheme://host"},
	} {
		_, err := ParseCORSOrigins(tc.in)
		if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseCORSOrigins(%q) = %v, want error containing %q", tc.in, err, tc.err)
		}
	}
}

// TestCORSPublicListenerDefault: with no CORS_ORIGINS on a public listener,
// no browser origin may use the tools (loopback pages only pass on loopback).
func TestCORSPublicListenerDefault(t *testing.T) {
	p := newOriginPolicy(nil, false)
	for _, o := range []string{"http://localhost:6274", "https://chatgpt.com", "null"} {
		if p.allows(o) {
			t.Errorf("%s allowed by default on a public listener", o)
		}
	}
	if !p.allows("") {
		t.Error("requests without Origin refused")
	}
	if p := newOriginPolicy([]string{"*"}, false); !p.allows("https://anything.example") {
		t.Error(`"*" does not allow any origin`)
	}
}

// scrape returns the /metrics exposition.
func scrape(t *testing.T, base, token string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s %s", resp.Status, b)
	}
	return string(b)
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestMetrics: the exposition holds the named metrics after real tool calls
// from the go-sdk client over both transports.
func TestMetrics(t *testing.T) {
	m := metrics.New()
	st := &storetest.Fake{Docs: testDocs}
	m.WatchStore(metrics.StoreOptions{Ready: st.Ready, Size: func() (int64, error) { return 4096, nil }})
	ts := start(t, st, func(o *Options) {
		o.Metrics = m
		o.MCP = mcpserver.New(o.Store, mcpserver.Options{Version: "test", Linker: o.Linker, Metrics: m})
	})
	calls := []struct {
		tool string
		args map[string]any
	}{
		{"search", map[string]any{"query": "refunded annual"}},
		{"search", map[string]any{"query": "zebra"}},
		{"fetch", map[string]any{"id": "faq-1"}},
		{"fetch", map[string]any{"id": "no-such-id"}},
	}
	for _, transport := range []mcp.Transport{
		&mcp.StreamableClientTransport{Endpoint: ts.base + "/mcp"},
		&mcp.SSEClientTransport{Endpoint: ts.base + "/sse/"},
	} {
		cs := connect(t, transport)
		for _, c := range calls {
			if _, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: c.tool, Arguments: c.args}); err != nil {
				t.Fatal(err)
			}
		}
	}
	got := scrape(t, ts.base, "")
	for _, want := range []string{
		`connector_tool_calls_total{outcome="ok",tool="search"} 4`,
		`connector_tool_calls_total{outcome="ok",tool="fetch"} 2`,
		`connector_tool_calls_total{outcome="tool_error",tool="fetch"} 2`,
		`connector_tool_calls_total{outcome="timeout",tool="search"} 0`,
		`connector_tool_call_duration_seconds_count{tool="search"} 4`,
		`connector_search_results_count 4`,
		`connector_search_results_bucket{le="0"} 2`,
		`connector_search_zero_results_total 2`,
		`connector_fetch_response_bytes_count 2`,
		`connector_sse_sessions 1`,
		`connector_http_requests_total{code="200",route="mcp"}`,
		`connector_limited_requests_total{limit="rate"} 0`,
		`connector_store_ready{backend="fake"} 1`,
		`connector_index_documents{backend="fake"} 3`,
		`connector_index_size_bytes 4096`,
		`go_goroutines`,
		`process_start_time_seconds`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("exposition lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("exposition:\n%s", grepLines(got, "connector_"))
	}
}

func TestMetricsToken(t *testing.T) {
	ts := start(t, &storetest.Fake{Docs: testDocs}, func(o *Options) { o.Metrics = metrics.New(); o.MetricsToken = "s3cret-token" })
	for _, auth := range []string{"", "Bearer wrong", "s3cret-token"} {
		req, _ := http.NewRequest(http.MethodGet, ts.base+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), "METRICS_TOKEN") || strings.Contains(string(b), "s3cret") {
			t.Errorf("Authorization %q: %d %q, want 401 naming METRICS_TOKEN", auth, resp.StatusCode, b)
		}
	}
	if got := scrape(t, ts.base, "s3cret-token"); !strings.Contains(got, "connector_tool_calls_total") {
		t.Error("the right token does not get the metrics")
	}
	// Without Metrics there is no endpoint.
	plain := start(t, &storetest.Fake{Docs: testDocs}, nil)
	resp, err := http.Get(plain.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/metrics without Metrics: %d, want 404", resp.StatusCode)
	}
}

// logBuffer collects JSON log lines, safe for concurrent writers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// records returns the decoded log records whose msg is msg.
func (b *logBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func captureLogs(level slog.Level) (*logBuffer, *slog.Logger) {
	b := &logBuffer{}
	return b, slog.New(requestid.Handler(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: level})))
}

// TestRequestID: every response has X-Request-Id, a sane incoming one is
// kept, and the access log line and the tool call's line carry it.
func TestRequestID(t *testing.T) {
	logs, logger := captureLogs(slog.LevelDebug)
	ts := start(t, &storetest.Fake{Docs: testDocs}, func(o *Options) {
		o.Logger = logger
		o.MCP = mcpserver.New(o.Store, mcpserver.Options{Version: "test", Linker: o.Linker, Logger: logger})
	})
	generated := regexp.MustCompile(`^[A-Za-z0-9]{10}-[0-9a-z]+$`)
	for _, tc := range []struct{ in, want string }{
		{"", ""}, // generated
		{"nginx-4f1c.9_a", "nginx-4f1c.9_a"},
		{"bad id\twith spaces", ""},
		{strings.Repeat("a", 129), ""},
	} {
		var hdr []string
		if tc.in != "" {
			hdr = []string{"X-Request-Id", tc.in}
		}
		resp, body := post(t, ts.base+"/mcp", "", callSearch, hdr...)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		id := resp.Header.Get("X-Request-Id")
		switch {
		case tc.want != "" && id != tc.want:
			t.Errorf("incoming %q: response id %q, want it kept", tc.in, id)
		case tc.want == "" && !generated.MatchString(id):
			t.Errorf("incoming %q: response id %q, want a generated one", tc.in, id)
		}
		for _, msg := range []string{"http request", "tool call"} {
			found := false
			for _, rec := range logs.records(t, msg) {
				found = found || rec["request_id"] == id
			}
			if !found {
				t.Errorf("no %q log line with request_id %q:\n%s", msg, id, logs.String())
			}
		}
	}
	// Over SSE the tool call's line carries the stream's id.
	before := len(logs.records(t, "tool call"))
	cs := connect(t, &mcp.SSEClientTransport{Endpoint: ts.base + "/sse/"})
	if _, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"query": "refund"}}); err != nil {
		t.Fatal(err)
	}
	recs := logs.records(t, "tool call")
	if len(recs) <= before || recs[len(recs)-1]["request_id"] == nil {
		t.Errorf("SSE tool call logged without request_id:\n%s", logs.String())
	}
}

// TestNoQueryTextAtInfo: at info level no log line holds the query, the
// bearer token or the X-API-Key.
func TestNoQueryTextAtInfo(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		logs, logger := captureLogs(level)
		ts := start(t, &storetest.Fake{Docs: testDocs}, func(o *Options) {
			o.Logger = logger
			o.MCP = mcpserver.New(o.Store, mcpserver.Options{Version: "test", Linker: o.Linker, Logger: logger})
		})
		const query = "confidential-merger-plans"
		body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search","arguments":{"query":"` + query + `"}}}`
		post(t, ts.base+"/mcp", "", body, "Authorization", "Bearer tok-SECRET-1", "X-API-Key", "key-SECRET-2")
		post(t, ts.base+"/mcp", "", body, "Origin", "https://evil.example", "Authorization", "Bearer tok-SECRET-1") // refused: logged at info
		out := logs.String()
		if strings.Contains(out, "SECRET") {
			t.Errorf("level %v: a credential reached the log:\n%s", level, out)
		}
		if level == slog.LevelInfo && strings.Contains(out, query) {
			t.Errorf("query text logged at info level:\n%s", out)
		}
		if level == slog.LevelDebug && !strings.Contains(out, query) {
			t.Errorf("query text not logged at debug level (the tool's debug attribute is gone?)")
		}
	}
}

// TestToolTimeoutBothTransports: TOOL_TIMEOUT stops a slow call over
// Streamable HTTP and over SSE alike, as a tool error the model can read,
// counted as a timeout.
func TestToolTimeoutBothTransports(t *testing.T) {
	m := metrics.New()
	st := &slowStore{Fake: storetest.Fake{Docs: testDocs}, delay: time.Minute, started: make(chan struct{}, 4)}
	ts := start(t, st, func(o *Options) {
		o.Metrics = m
		o.MCP = mcpserver.New(o.Store, mcpserver.Options{Version: "test", Linker: o.Linker, ToolTimeout: 50 * time.Millisecond, Metrics: m})
	})
	for _, transport := range []mcp.Transport{
		&mcp.StreamableClientTransport{Endpoint: ts.base + "/mcp"},
		&mcp.SSEClientTransport{Endpoint: ts.base + "/sse/"},
	} {
		cs := connect(t, transport)
		res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"query": "refund"}})
		if err != nil || !res.IsError || !strings.Contains(toolText(t, res), "took too long") {
			t.Fatalf("%T: %v %+v, want a timeout tool error", transport, err, res)
		}
	}
	if got := scrape(t, ts.base, ""); !strings.Contains(got, `connector_tool_calls_total{outcome="timeout",tool="search"} 2`) {
		t.Errorf("timeouts not counted:\n%s", grepLines(got, "connector_tool_calls_total"))
	}
}

// TestSSEStalledReader: a client that opens an SSE stream and stops reading
// loses it once a write has waited WriteTimeout, rather than holding the
// session and its unwritten answers for ever.
func TestSSEStalledReader(t *testing.T) {
	m := metrics.New()
	big := strings.Repeat("lorem ipsum ", 50_000) // 600 KB of text, twice in each answer
	ts := start(t, &storetest.Fake{Docs: []store.Document{{ID: "big", Title: "Big", Text: big}}}, func(o *Options) {
		o.MCP = mcpserver.New(o.Store, mcpserver.Options{Version: "test", MaxFetchChars: len(big), ToolTimeout: 5 * time.Second})
		o.Metrics = m
		o.WriteTimeout = 500 * time.Millisecond
		o.SSEKeepAlive = 0
	})
	conn, err := net.Dial("tcp", strings.TrimPrefix(ts.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(conn, "GET /sse/ HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", strings.TrimPrefix(ts.base, "http://"))
	r := bufio.NewReader(conn)
	endpoint := ""
	for endpoint == "" {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if after, ok := strings.CutPrefix(line, "data: "); ok {
			endpoint = strings.TrimSpace(after)
		}
	}
	// From here on the client reads nothing. Its session answers fetches
	// of 1.2 MB until it takes no more calls (maxPendingCalls): far more
	// than the socket buffers hold.
	post(t, ts.base+endpoint, "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	post(t, ts.base+endpoint, "", `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	for i := range 100 {
		if resp, body := post(t, ts.base+endpoint, "", fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"fetch","arguments":{"id":"big"}}}`, i+2)); resp.StatusCode != http.StatusAccepted {
			if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusTooManyRequests || strings.Contains(body, "session closed") {
				break // the session ended, or holds all the calls it takes
			}
			t.Fatalf("post %d: %d %s", i, resp.StatusCode, body)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(scrape(t, ts.base, ""), "connector_sse_sessions 0") {
		if time.Now().After(deadline) {
			t.Fatal("the stalled stream is still open 10 s after its writes stalled")
		}
		time.Sleep(20 * time.Millisecond) // poll: the stall is detected by a write deadline
	}
}

// heldStore answers searches only once release is closed.
type heldStore struct {
	storetest.Fake
	release chan struct{}
}

func (s *heldStore) Search(ctx context.Context, who access.Caller, q string, n int) ([]store.Hit, error) {
	select {
	case <-s.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.Fake.Search(ctx, who, q, n)
}

// TestSSEPendingCalls: one SSE session takes at most maxPendingCalls calls
// awaiting answers; past that a call gets 429 with a JSON-RPC error, and
// answered calls free their places.
func TestSSEPendingCalls(t *testing.T) {
	st := &heldStore{Fake: storetest.Fake{Docs: testDocs}, release: make(chan struct{})}
	ts := start(t, st, nil)
	events, stop := openStream(t, ts.base+"/sse")
	defer stop()
	next := func() string { // the data of the next event
		for {
			line, err := events.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if after, ok := strings.CutPrefix(line, "data: "); ok {
				return strings.TrimSpace(after)
			}
		}
	}
	endpoint := ts.base + next()
	post(t, endpoint, "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	if answer := next(); !strings.Contains(answer, `"id":1`) {
		t.Fatalf("initialize: %s", answer)
	}
	post(t, endpoint, "", `{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	search := func(id int) (*http.Response, string) {
		return post(t, endpoint, "", fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":{"name":"search","arguments":{"query":"refund"}}}`, id))
	}
	for i := range maxPendingCalls {
		if resp, body := search(100 + i); resp.StatusCode != http.StatusAccepted {
			t.Fatalf("call %d: %d %s", i+1, resp.StatusCode, body)
		}
	}
	resp, body := search(999)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("call %d: %d %s, want 429", maxPendingCalls+1, resp.StatusCode, body)
	}
	if id, _, msg := rpcError(t, resp, body); id != float64(999) || !strings.Contains(msg, "awaiting answers") {
		t.Errorf("429 for call 999: id %v %q, want the call's id and why", id, msg)
	}
	if resp, body := post(t, endpoint, "", `{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}`); resp.StatusCode != http.StatusAccepted {
		t.Errorf("a notification while calls are pending: %d %s", resp.StatusCode, body)
	}
	close(st.release)
	for range maxPendingCalls {
		if answer := next(); !strings.Contains(answer, `"result"`) {
			t.Fatalf("answer: %s", answer)
		}
	}
	// The answers free their places (a moment after they are written).
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, body := search(1000)
		if resp.StatusCode == http.StatusAccepted {
			break
		}
		if resp.StatusCode != http.StatusTooManyRequests || time.Now().After(deadline) {
			t.Fatalf("a call after the answers: %d %s", resp.StatusCode, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
