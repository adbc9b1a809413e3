package httpserver

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/docurl"
	"github.com/connectorhq/connector/internal/mcpserver"
	"github.com/connectorhq/connector/internal/metrics"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/store/storetest"
)

var testDocs = []store.Document{
	{ID: "guides/tunnels.md", Title: "Tunnels <& more>", Text: "Use ngrok or cloudflared. <script>alert(1)</script>"},
	{ID: "faq-1", Title: "Refunds", Text: "Annual plans are refunded within thirty days.", URL: "https://example.com/refunds"},
	{ID: "odd/../id", Title: "Odd id", Text: "an id with dot segments"},
}

// testLog sends server logs to the test's log, shown when it fails.
type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

type testServer struct {
	base   string // http://127.0.0.1:port
	cancel context.CancelFunc
	done   chan error
	mcp    *mcpserver.Server
}

// start runs a server on a loopback port until the test ends.
func start(t *testing.T, st store.Store, tweak func(*Options)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	linker, _ := docurl.NewLinker(base)
	m := mcpserver.New(st, mcpserver.Options{Version: "test", Linker: linker, ToolTimeout: 5 * time.Second})
	opts := Options{Version: "test", Store: st, MCP: m, Linker: linker, ToolTimeout: 5 * time.Second,
		SSEKeepAlive: time.Second, ShutdownTimeout: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	if tweak != nil {
		tweak(&opts)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{base: base, cancel: cancel, done: make(chan error, 1), mcp: m}
	go func() { ts.done <- New(opts).Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-ts.done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ts
}

func connect(t *testing.T, transport mcp.Transport) *mcp.ClientSession {
	t.Helper()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "openai-mcp", Version: "1.0.0"}, nil).Connect(t.Context(), transport, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func toolText(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	if len(res.Content) != 1 {
		t.Fatalf("got %d content items, want 1", len(res.Content))
	}
	return res.Content[0].(*mcp.TextContent).Text
}

// TestBothTransportsAllPaths drives the real go-sdk client over every path.
func TestBothTransportsAllPaths(t *testing.T) {
	ts := start(t, &storetest.Fake{Docs: testDocs}, nil)
	transports := map[string]func() mcp.Transport{
		"/mcp":  func() mcp.Transport { return &mcp.StreamableClientTransport{Endpoint: ts.base + "/mcp"} },
		"/mcp/": func() mcp.Transport { return &mcp.StreamableClientTransport{Endpoint: ts.base + "/mcp/"} },
		"/sse":  func() mcp.Transport { return &mcp.SSEClientTransport{Endpoint: ts.base + "/sse"} },
		"/sse/": func() mcp.Transport { return &mcp.SSEClientTransport{Endpoint: ts.base + "/sse/"} },
		"/sse/ (streamable client)": func() mcp.Transport {
			return &mcp.StreamableClientTransport{Endpoint: ts.base + "/sse/"}
		},
	}
	for name, transport := range transports {
		t.Run(name, func(t *testing.T) {
			cs := connect(t, transport())
			tools, err := cs.ListTools(t.Context(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(tools.Tools) != 2 {
				t.Fatalf("got %d tools", len(tools.Tools))
			}
			res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"query": "refunded annual"}})
			if err != nil || res.IsError {
				t.Fatalf("search: %v %v", err, res)
			}
			var out struct {
				Results []struct{ ID, URL string }
			}
			if err := json.Unmarshal([]byte(toolText(t, res)), &out); err != nil || len(out.Results) == 0 || out.Results[0].ID != "faq-1" {
				t.Fatalf("search results: %s (%v)", toolText(t, res), err)
			}
			res, err = cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "fetch", Arguments: map[string]any{"id": "guides/tunnels.md"}})
			if err != nil || res.IsError {
				t.Fatalf("fetch: %v %v", err, res)
			}
			var doc struct{ ID, URL, Text string }
			json.Unmarshal([]byte(toolText(t, res)), &doc)
			if doc.URL != ts.base+"/docs/guides/tunnels.md" || !strings.Contains(doc.Text, "cloudflared") {
				t.Errorf("fetched %+v", doc)
			}
			res, err = cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "fetch", Arguments: map[string]any{"id": "missing"}})
			if err != nil || !res.IsError || !strings.Contains(toolText(t, res), "search") {
				t.Errorf("unknown id: err=%v res=%v, want a tool error pointing at search", err, res)
			}
		})
	}
}

// post sends one JSON-RPC message the way a session-less client does.
func post(t *testing.T, url, accept, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

const callSearch = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"search","arguments":{"query":"refund"}}}`

// TestSessionlessCalls: every request stands alone, whatever the client accepts.
func TestSessionlessCalls(t *testing.T) {
	ts := start(t, &storetest.Fake{Docs: testDocs}, nil)
	for _, accept := range []string{"application/json", "*/*", "", "application/json, text/event-stream", "text/event-stream, application/json"} {
		for _, path := range []string{"/mcp", "/mcp/", "/sse/"} {
			resp, body := post(t, ts.base+path, accept, callSearch, "Mcp-Session-Id", "deleted-session-from-earlier")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("POST %s Accept %q: %d %s", path, accept, resp.StatusCode, body)
			}
			ct := resp.Header.Get("Content-Type")
			if !strings.Contains(accept, "event-stream") && !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Accept %q: Content-Type %q, want JSON", accept, ct)
			}
			if !strings.Contains(body, `"faq-1"`) || !strings.Contains(body, `"id":7`) {
				t.Errorf("POST %s Accept %q: body %s", path, accept, body)
			}
		}
	}
	// A client that omits Content-Type is still understood.
	req, _ := http.NewRequest(http.MethodPost, ts.base+"/mcp", strings.NewReader(callSearch))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("no Content-Type: %v %v", resp.Status, err)
	}
	resp.Body.Close()
}

func TestNoRedirects(t *testing.T) {
	ts := start(t, &storetest.Fake{Docs: testDocs}, nil)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/mcp", "/mcp/", "/sse", "/sse/"} {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.base+path, nil)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := client.Do(req)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			t.Errorf("GET %s: redirect %d", path, resp.StatusCode)
		}
		if strings.HasPrefix(path, "/sse") && resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d, want the SSE stream", path, resp.StatusCode)
		}
		resp.Body.Close()
		cancel()
	}
}

// readEvents reads SSE lines from a GET stream until n comment or event lines matched.
func openStream(t *testing.T, url string) (*bufio.Reader, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		cancel()
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return bufio.NewReader(resp.Body), func() { cancel(); resp.Body.Close() }
}

func TestSSEKeepAliveAndTimeouts(t *testing.T) {
	ts := start(t, &storetest.Fake{Docs: testDocs}, func(o *Options) {
		o.SSEKeepAlive = 100 * time.Millisecond
		o.ReadTimeout = 300 * time.Millisecond
		o.WriteTimeout = 300 * time.Millisecond
	})
	r, closeStream := openStream(t, ts.base+"/sse/")
	defer closeStream()
	var endpoint string
	deadline := time.Now().Add(2 * time.Second) // well past both server timeouts
	pings := 0
	for time.Now().Before(deadline) {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream ended after %d keep-alives: %v", pings, err)
		}
		if strings.HasPrefix(line, "data: /sse/?sessionid=") {
			endpoint = strings.TrimSpace(strings.TrimPrefix(line, "data: "))
		}
		if line == ": keep-alive\n" {
			pings++
		}
	}
	if endpoint == "" || pings < 5 {
		t.Fatalf("endpoint %q, %d keep-alives in 2s at 100ms", endpoint, pings)
	}
	// The session still works after the timeouts passed.
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`
	if resp, body := post(t, ts.base+endpoint, "", init); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("post to session: %d %s", resp.StatusCode, body)
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, "data: ") && strings.Contains(line, `"serverInfo"`) {
			break
		}
	}
}

func TestHostGuard(t *testing.T) {
	ts := start(t, &storetest.Fake{Docs: testDocs}, func(o *Options) {
		o.AllowedHosts = []string{"abc.ngrok-free.app", "*.trycloudflare.com"}
		o.Metrics = metrics.New()
	})
	port := strings.TrimPrefix(ts.base, "http://127.0.0.1")
	tests := []struct {
		host, origin string
		want         int
	}{
		{host: "127.0.0.1" + port, want: 200},
		{host: "localhost" + port, want: 200},
		{host: "[::1]" + port, want: 200},
		{host: "evil.example", want: 403},
		{host: "evil.example" + port, origin: "http://evil.example", want: 403},
		{host: "localhost" + port, origin: "http://evil.example", want: 403},
		{host: "localhost" + port, origin: "http://localhost:6274", want: 200},
		{host: "abc.ngrok-free.app", want: 200},
		{host: "ABC.ngrok-free.app:443", want: 200},
		{host: "x.trycloudflare.com", origin: "https://x.trycloudflare.com", want: 200},
		{host: "ngrok-free.app", want: 403},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodPost, ts.base+"/mcp", strings.NewReader(callSearch))
		req.Host = tt.host
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		if tt.origin != "" {
			req.Header.Set("Origin", tt.origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("Host %q Origin %q: %d, want %d (%s)", tt.host, tt.origin, resp.StatusCode, tt.want, body)
		}
		if tt.want == 403 && !strings.Contains(string(body), "ALLOWED_HOSTS") {
			t.Errorf("403 body does not say how to fix it: %s", body)
		}
	}
	// Health checks and metrics accept an IP-literal Host (probes and
	// scrapers use pod IPs), but no other name: DNS rebinding would let a
	// web page read them.
	for _, tc := range []struct {
		path, host string
		want       int
	}{
		{"/healthz", "10.1.2.3:8000", 200},
		{"/readyz", "10.1.2.3:8000", 200},
		{"/metrics", "[fd00::7]:8000", 200},
		{"/healthz", "evil.example", 403},
		{"/readyz", "evil.example" + port, 403},
		{"/metrics", "evil.example", 403},
		{"/readyz", "abc.ngrok-free.app", 200},
		{"/", "10.1.2.3:8000", 403}, // only probes take an IP
	} {
		req, _ := http.NewRequest(http.MethodGet, ts.base+tc.path, nil)
		req.Host = tc.host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s Host %q: %d, want %d", tc.path, tc.host, resp.StatusCode, tc.want)
		}
	}
}

// TestMetricsListenerHostGuard: the METRICS_ADDR listener checks Host too.
func TestMetricsListenerHostGuard(t *testing.T) {
	s := New(Options{Metrics: metrics.New()})
	h := s.MetricsHandler(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9090})
	for host, want := range map[string]int{"localhost:9090": 200, "10.1.2.3:9090": 200, "evil.example:9090": 403} {
		w := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		req.Host = host
		h.ServeHTTP(w, req)
		if w.Code != want {
			t.Errorf("Host %s: %d, want %d", host, w.Code, want)
		}
	}
}

func TestHostGuardOffForPublicListeners(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for _, tc := range []struct {
		loopback bool
		allowed  []string
		host     string
		want     int
	}{
		{false, nil, "docs.example.com", 200},
		{false, []string{"docs.example.com"}, "docs.example.com", 200},
		{false, []string{"docs.example.com"}, "other.example.com", 403},
		{true, []string{"*"}, "anything.example", 200},
		{true, nil, "anything.example", 403},
	} {
		g := newHostGuard(tc.loopback, tc.allowed, slog.New(slog.DiscardHandler))
		rec := &recorder{header: http.Header{}}
		req, _ := http.NewRequest(http.MethodGet, "http://x/mcp", nil)
		req.Host = tc.host
		g.wrap(next).ServeHTTP(rec, req)
		if got := rec.code(); got != tc.want {
			t.Errorf("loopback=%v allowed=%v host=%s: %d, want %d", tc.loopback, tc.allowed, tc.host, got, tc.want)
		}
	}
}

type recorder struct {
	header http.Header
	status int
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(code int)        { r.status = code }
func (r *recorder) code() int {
	if r.status == 0 {
		return 200
	}
	return r.status
}

func TestDocView(t *testing.T) {
	ts := start(t, &storetest.Fake{Docs: testDocs}, nil)
	get := func(path string) (int, string, http.Header) {
		resp, err := http.Get(ts.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	code, body, h := get("/docs/guides/tunnels.md")
	if code != 200 || !strings.Contains(body, "Tunnels &lt;&amp; more&gt;") || strings.Contains(body, "<script>") {
		t.Errorf("view: %d, escaped title and text expected:\n%s", code, body)
	}
	if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("no CSP: %v", h)
	}
	linker, _ := docurl.NewLinker(ts.base)
	u := linker.URL("odd/../id", "")
	if !strings.Contains(u, "?id=") {
		t.Fatalf("dot-segment id gets URL %s, want the query form", u)
	}
	code, body, _ = get(strings.TrimPrefix(u, ts.base))
	if code != 200 || !strings.Contains(body, "an id with dot segments") {
		t.Errorf("query-form view: %d %s", code, body)
	}
	if code, _, _ := get("/docs/nope"); code != 404 {
		t.Errorf("missing document: %d, want 404", code)
	}
}

// failingStore is a store whose backend is down.
type failingStore struct{ storetest.Fake }

func (*failingStore) Ready(context.Context) (store.Status, error) {
	return store.Status{}, errors.New("open /secret/path: permission denied")
}

func TestHealth(t *testing.T) {
	ts := start(t, &storetest.Fake{Docs: testDocs}, nil)
	resp, err := http.Get(ts.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	var ready struct {
		Status string
		Store  store.Status
	}
	json.NewDecoder(resp.Body).Decode(&ready)
	resp.Body.Close()
	if resp.StatusCode != 200 || ready.Status != "ready" || ready.Store.Documents != 3 {
		t.Errorf("readyz: %d %+v", resp.StatusCode, ready)
	}

	down := start(t, &failingStore{}, nil)
	resp, err = http.Get(down.base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || strings.Contains(string(b), "secret") {
		t.Errorf("readyz with a failing store: %d %s", resp.StatusCode, b)
	}
	if resp, err := http.Get(down.base + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Errorf("healthz: %v %v", resp, err)
	}
}

// slowStore makes every search take a while.
type slowStore struct {
	storetest.Fake
	delay   time.Duration
	started chan struct{}
}

func (s *slowStore) Search(ctx context.Context, who access.Caller, q string, n int) ([]store.Hit, error) {
	s.started <- struct{}{}
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.Fake.Search(ctx, who, q, n)
}

// TestGracefulShutdown: calls in flight on both transports finish after
// shutdown begins; then the server stops.
func TestGracefulShutdown(t *testing.T) {
	st := &slowStore{Fake: storetest.Fake{Docs: testDocs}, delay: 500 * time.Millisecond, started: make(chan struct{}, 2)}
	ts := start(t, st, nil)
	sessions := map[string]*mcp.ClientSession{
		"streamable": connect(t, &mcp.StreamableClientTransport{Endpoint: ts.base + "/mcp"}),
		"sse":        connect(t, &mcp.SSEClientTransport{Endpoint: ts.base + "/sse/"}),
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(sessions))
	for name, cs := range sessions {
		wg.Go(func() {
			res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"query": "refund"}})
			switch {
			case err != nil:
				errs <- fmt.Errorf("%s: %w", name, err)
			case res.IsError:
				errs <- fmt.Errorf("%s: tool error: %s", name, res.Content[0].(*mcp.TextContent).Text)
			}
		})
	}
	<-st.started
	<-st.started
	ts.cancel() // SIGTERM
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("call in flight during shutdown: %v", err)
	}
	select {
	case err := <-ts.done:
		ts.done <- err // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("server did not stop after its calls finished")
	}
	if _, err := http.Get(ts.base + "/healthz"); err == nil {
		t.Error("server still accepts connections after shutdown")
	}
}
