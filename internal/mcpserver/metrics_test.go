package mcpserver_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/mcpserver"
	"github.com/connectorhq/connector/internal/metrics"
	"github.com/connectorhq/connector/internal/requestid"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/store/storetest"
)

// TestToolMetrics: each outcome of a tool call is counted under its name.
func TestToolMetrics(t *testing.T) {
	m := metrics.New()
	docs := []store.Document{{ID: "d1", Title: "Refunds", Text: "refund policy for annual plans"}}
	call := func(st store.Store, tool string, args map[string]any) {
		t.Helper()
		srv := mcpserver.New(st, mcpserver.Options{Version: "test", Metrics: m})
		sT, cT := mcp.NewInMemoryTransports()
		ss, err := srv.MCP.Connect(access.NewContext(t.Context(), access.Everyone()), sT, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ss.Close()
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "v0"}, nil).Connect(t.Context(), cT, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cs.Close()
		_, _ = cs.CallTool(t.Context(), &mcp.CallToolParams{Name: tool, Arguments: args})
	}
	call(&storetest.Fake{Docs: docs}, "search", map[string]any{"query": "refund"})
	call(&storetest.Fake{Docs: docs}, "search", map[string]any{"query": "zebra"})
	call(&storetest.Fake{Err: context.DeadlineExceeded}, "search", map[string]any{"query": "refund"})
	call(&storetest.Fake{Err: fmt.Errorf("store: %w", context.Canceled)}, "fetch", map[string]any{"id": "d1"})
	call(&storetest.Fake{Err: errors.New("disk on fire")}, "fetch", map[string]any{"id": "d1"})
	call(&storetest.Fake{Docs: docs}, "fetch", map[string]any{"id": "d1"})
	call(&storetest.Fake{Docs: docs}, "search", map[string]any{"query": nil}) // an argument error
	call(&storetest.Fake{Docs: docs}, "delete_everything", nil)               // no such tool

	w := httptest.NewRecorder()
	m.Handler("").ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(w.Body)
	got := string(body)
	for _, want := range []string{
		`connector_tool_calls_total{outcome="ok",tool="search"} 2`,
		`connector_tool_calls_total{outcome="timeout",tool="search"} 1`,
		`connector_tool_calls_total{outcome="tool_error",tool="search"} 1`,
		`connector_tool_calls_total{outcome="canceled",tool="fetch"} 1`,
		`connector_tool_calls_total{outcome="tool_error",tool="fetch"} 1`,
		`connector_tool_calls_total{outcome="ok",tool="fetch"} 1`,
		`connector_tool_calls_total{outcome="protocol_error",tool="other"} 1`,
		`connector_search_results_sum 1`,
		`connector_search_zero_results_total 1`,
		`connector_fetch_response_bytes_count 1`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("exposition lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(got)
	}
}

// TestToolLogCarriesRequestID: the tool's log line has the id of the
// context the call came in with.
func TestToolLogCarriesRequestID(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(requestid.Handler(slog.NewJSONHandler(&buf, nil)))
	srv := mcpserver.New(&storetest.Fake{}, mcpserver.Options{Version: "test", Logger: logger})
	sT, cT := mcp.NewInMemoryTransports()
	ss, err := srv.MCP.Connect(requestid.With(access.NewContext(t.Context(), access.Everyone()), "req-42"), sT, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "v0"}, nil).Connect(t.Context(), cT, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	if _, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"query": "secret words"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"msg":"tool call"`) || !strings.Contains(buf.String(), `"request_id":"req-42"`) {
		t.Errorf("tool call log without the request id:\n%s", buf.String())
	}
	if strings.Contains(buf.String(), "secret words") {
		t.Errorf("query logged at info level:\n%s", buf.String())
	}
}
