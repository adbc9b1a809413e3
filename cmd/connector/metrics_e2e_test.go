package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/store/openaistore/openaitest"
)

func getMetrics(t *testing.T, base, token string) (int, string) {
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
	return resp.StatusCode, string(b)
}

// TestServeMetrics: the binary serves /metrics behind METRICS_TOKEN, with
// tool calls, the index gauges and the auth failure counter wired.
func TestServeMetrics(t *testing.T) {
	const token = "metrics-e2e-token"
	const apiKey = "e2e-api-key-0123456789abcdef0123456789"
	p := serve(t, t.TempDir(), "METRICS_TOKEN="+token, "AUTH_MODE=apikey", "API_KEYS="+apiKey)
	if code, body := getMetrics(t, p.base, ""); code != http.StatusUnauthorized || strings.Contains(body, "connector_") {
		t.Fatalf("/metrics without the token: %d %.200s", code, body)
	}
	// One refused call, then two good ones.
	resp, err := http.Post(p.base+"/mcp", "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	hc := &http.Client{Transport: headerTransport{"Authorization": "Bearer " + apiKey}}
	cs := connectClient(t, &mcp.StreamableClientTransport{Endpoint: p.base + "/mcp", HTTPClient: hc})
	callJSON(t, cs, "search", map[string]any{"query": "deep research"}, nil)
	callJSON(t, cs, "search", map[string]any{"query": "xyzzyplugh"}, nil)

	code, body := getMetrics(t, p.base, token)
	if code != http.StatusOK {
		t.Fatalf("/metrics with the token: %d", code)
	}
	for _, want := range []string{
		`connector_tool_calls_total{outcome="ok",tool="search"} 2`,
		`connector_search_zero_results_total 1`,
		`connector_auth_failures_total{reason="missing_token"} 1`,
		`connector_store_ready{backend="bleve"} 1`,
		`connector_index_documents{backend="bleve"}`,
		`connector_index_size_bytes`,
		`connector_http_requests_total{code="401",route="mcp"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(p.log(), apiKey) || strings.Contains(p.log(), token) {
		t.Error("a key or the metrics token reached the log")
	}
}

// TestServeMetricsUpstream: with STORE=openai, the OpenAI API calls and
// their retries are counted.
func TestServeMetricsUpstream(t *testing.T) {
	const apiKey = "sk-e2e-metrics-secret"
	api := openaitest.NewServer(t, apiKey)
	work := t.TempDir()
	writeFiles(t, work, map[string]string{"docs/a.md": "# Quokkas\n\nThe quokka policy applies to everyone."})
	env := []string{"OPENAI_API_KEY=" + apiKey, "OPENAI_BASE_URL=" + api.URL(), "STORE=openai"}
	out, stderr, code := runCLI(t, work, env, "index", "docs")
	if code != 0 {
		t.Fatalf("index: exit %d\n%s\n%s", code, out, stderr)
	}
	vs := strings.TrimSpace(out[strings.LastIndex(out, "VECTOR_STORE_ID=")+len("VECTOR_STORE_ID="):])
	p := serve(t, work, append(env, "VECTOR_STORE_ID="+vs)...)
	api.Fail("POST /vector_stores/*/search", 1, 500, map[string]string{"retry-after-ms": "1"})
	cs := connectClient(t, &mcp.StreamableClientTransport{Endpoint: p.base + "/mcp"})
	if isErr, text := callJSON(t, cs, "search", map[string]any{"query": "quokka"}, nil); isErr {
		t.Fatalf("search: %s", text)
	}
	_, body := getMetrics(t, p.base, "")
	for _, want := range []string{
		`connector_upstream_requests_total{operation="search",status="5xx"} 1`,
		`connector_upstream_requests_total{operation="search",status="2xx"} 1`,
		`connector_upstream_retries_total{operation="search"} 1`,
		`connector_index_documents{backend="openai"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s\n%s", want, grepMetrics(body, "connector_upstream"))
		}
	}
}

func grepMetrics(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// headerTransport adds fixed headers to every request.
type headerTransport map[string]string

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestServeMetricsAddr: METRICS_ADDR moves /metrics to its own listener.
func TestServeMetricsAddr(t *testing.T) {
	p := serve(t, t.TempDir(), "METRICS_ADDR=127.0.0.1:0")
	if code, _ := getMetrics(t, p.base, ""); code != http.StatusNotFound {
		t.Errorf("/metrics on ADDR with METRICS_ADDR set: %d, want 404", code)
	}
	addr := metricsAddr(t, p)
	if code, body := getMetrics(t, "http://"+addr, ""); code != http.StatusOK || !strings.Contains(body, "connector_tool_calls_total") {
		t.Errorf("/metrics on METRICS_ADDR: %d %.200s", code, body)
	}
	// The metrics listener checks Host like the main one (DNS rebinding).
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
	req.Host = "evil.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("/metrics on METRICS_ADDR with Host evil.example: %d, want 403", resp.StatusCode)
	}
}

// metricsAddr is the METRICS_ADDR listener's address, from its log line.
func metricsAddr(t *testing.T, p *proc) string {
	t.Helper()
	for _, line := range strings.Split(p.log(), "\n") {
		var rec struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "metrics listening" {
			return rec.Addr
		}
	}
	t.Fatalf("no \"metrics listening\" line:\n%s", p.log())
	return ""
}

// TestServeMetricsAddrAuth: with authentication on and no METRICS_TOKEN,
// the METRICS_ADDR listener wants the tools' credentials.
func TestServeMetricsAddrAuth(t *testing.T) {
	const apiKey = "e2e-api-key-0123456789abcdef0123456789"
	p := serve(t, t.TempDir(), "METRICS_ADDR=127.0.0.1:0", "AUTH_MODE=apikey", "API_KEYS="+apiKey)
	addr := metricsAddr(t, p)
	if code, body := getMetrics(t, "http://"+addr, ""); code != http.StatusUnauthorized || strings.Contains(body, "connector_") {
		t.Errorf("/metrics on METRICS_ADDR without credentials: %d %.200s, want 401", code, body)
	}
	if code, body := getMetrics(t, "http://"+addr, apiKey); code != http.StatusOK || !strings.Contains(body, "connector_tool_calls_total") {
		t.Errorf("/metrics on METRICS_ADDR with the API key: %d %.200s", code, body)
	}
}
