package bench

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/mcpserver"
)

// TestClientsAgree runs the same calls through both benchmark clients: the
// same search results, the same fetched text, the same tool errors.
func TestClientsAgree(t *testing.T) {
	ctx := t.Context()
	servers := map[string]*server{}
	for _, kind := range []string{ClientHTTP, ClientSDK} {
		s, err := startServer(ctx, defaultConstant, 0, kind)
		if err != nil {
			t.Fatalf("%s client: %v", kind, err)
		}
		t.Cleanup(s.stop)
		servers[kind] = s
	}
	type answer struct {
		ids     []string
		text    string
		isError bool
	}
	ask := func(s *server) answer {
		if all, err := s.search(ctx, "many results"); err != nil || len(all) != 10 {
			t.Fatalf("search: %d results, %v", len(all), err)
		}
		ids, err := s.search(ctx, "any words")
		if err != nil {
			t.Fatal(err)
		}
		text, _, err := s.client.callTool(ctx, "fetch", map[string]string{"id": ids[0]})
		if err != nil {
			t.Fatal(err)
		}
		errText, isError, err := s.client.callTool(ctx, "fetch", map[string]string{"id": ""})
		if err != nil {
			t.Fatal(err)
		}
		return answer{ids, text + "|" + errText, isError}
	}
	a, b := ask(servers[ClientHTTP]), ask(servers[ClientSDK])
	port := regexp.MustCompile(`127\.0\.0\.1:\d+`)
	a.text, b.text = port.ReplaceAllString(a.text, "server"), port.ReplaceAllString(b.text, "server")
	if !slices.Equal(a.ids, b.ids) || a.text != b.text || a.isError != b.isError || len(a.ids) != 10 || !a.isError {
		t.Errorf("http client: %+v\nsdk client:  %+v", a, b)
	}
}

// TestHTTPClientJSONResponses checks the lean client against a server that
// answers with JSON bodies instead of SSE streams, and its errors.
func TestHTTPClientJSONResponses(t *testing.T) {
	m := mcpserver.New(defaultConstant, mcpserver.Options{Version: "test"})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return m.MCP },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	ts := httptest.NewServer(h)
	defer ts.Close()
	ctx := context.Background()
	c, err := newHTTPCaller(ctx, ts.URL, ts.Client())
	if err != nil {
		t.Fatal(err)
	}
	if c.version != requestedVersion {
		t.Errorf("negotiated %q, want %q", c.version, requestedVersion)
	}
	text, isError, err := c.callTool(ctx, "search", map[string]string{"query": "x"})
	if err != nil || isError || !strings.Contains(text, `"results"`) {
		t.Errorf("search: %q %v %v", text, isError, err)
	}
	if _, _, err := c.callTool(ctx, "nope", nil); err == nil || !strings.Contains(err.Error(), "JSON-RPC error") {
		t.Errorf("unknown tool: err = %v, want a JSON-RPC error", err)
	}
	if _, err := newHTTPCaller(ctx, ts.URL+"/missing/..", &http.Client{Transport: failing{}}); err == nil {
		t.Error("a client whose requests fail: no error")
	}
}

type failing struct{}

func (failing) RoundTrip(*http.Request) (*http.Response, error) { return nil, http.ErrHandlerTimeout }

// TestHTTPClientLongEvents reads answers longer than its line buffer: the
// 100 results of the quality run arrive as one long SSE data line.
func TestHTTPClientLongEvents(t *testing.T) {
	s, err := startServer(t.Context(), defaultConstant, 100, ClientHTTP)
	if err != nil {
		t.Fatal(err)
	}
	defer s.stop()
	for range 3 {
		if ids, err := s.search(t.Context(), "x"); err != nil || len(ids) != 100 {
			t.Fatalf("search: %d results, %v; want 100", len(ids), err)
		}
	}
}

// TestHTTPClientReusesConnections checks that calls answered on SSE streams
// go over one kept-alive connection: a client that closed each stream
// before its end would dial anew for every call, and the benchmark would
// measure connection set-up instead of the server.
func TestHTTPClientReusesConnections(t *testing.T) {
	m := mcpserver.New(defaultConstant, mcpserver.Options{Version: "test"})
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return m.MCP },
		&mcp.StreamableHTTPOptions{Stateless: true})
	var conns atomic.Int32
	ts := httptest.NewUnstartedServer(h)
	ts.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			conns.Add(1)
		}
	}
	ts.Start()
	defer ts.Close()
	ctx := t.Context()
	c, err := newHTTPCaller(ctx, ts.URL, ts.Client())
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, _, err := c.callTool(ctx, "search", map[string]string{"query": "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("initialize and 5 calls opened %d connections, want 1", n)
	}
}
