package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/connectorhq/connector/internal/metrics"
	"github.com/connectorhq/connector/internal/store"
)

func exposition(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	w := httptest.NewRecorder()
	m.Handler("").ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	b, _ := io.ReadAll(w.Body)
	return string(b)
}

func TestRecorders(t *testing.T) {
	m := metrics.New()
	m.ToolCall("search", metrics.OutcomeOK, 3*time.Millisecond)
	m.ToolCall("search", metrics.OutcomeTimeout, time.Second)
	m.ToolCall("fetch", metrics.OutcomeCanceled, time.Millisecond)
	m.ToolCall("made-up-tool", metrics.OutcomeProtocolError, time.Millisecond)
	m.SearchResults(0)
	m.SearchResults(7)
	m.FetchBytes(5000)
	m.UpstreamAttempt("search", 0, 429, 10*time.Millisecond)
	m.UpstreamAttempt("search", 1, 200, 10*time.Millisecond)
	m.UpstreamAttempt("file_content", 0, 0, time.Millisecond)
	m.SSESessionOpened()
	m.SSESessionOpened()
	m.SSESessionClosed()
	m.Limited(metrics.LimitRate)
	m.AuthFailure("expired_token")
	m.AuthFailure("Bearer eyJhbGciOi...") // request data never becomes a label
	m.HTTPRequest("mcp", 200)
	m.HTTPRequest("mcp", 418)
	m.WatchStore(metrics.StoreOptions{Ready: func(context.Context) (store.Status, error) {
		return store.Status{Backend: "openai"}, errors.New("down")
	}})
	got := exposition(t, m)
	for _, want := range []string{
		`connector_tool_calls_total{outcome="ok",tool="search"} 1`,
		`connector_tool_calls_total{outcome="timeout",tool="search"} 1`,
		`connector_tool_calls_total{outcome="canceled",tool="fetch"} 1`,
		`connector_tool_calls_total{outcome="protocol_error",tool="other"} 1`,
		`connector_search_zero_results_total 1`,
		`connector_search_results_sum 7`,
		`connector_fetch_response_bytes_sum 5000`,
		`connector_upstream_requests_total{operation="search",status="429"} 1`,
		`connector_upstream_requests_total{operation="search",status="2xx"} 1`,
		`connector_upstream_requests_total{operation="file_content",status="network_error"} 1`,
		`connector_upstream_retries_total{operation="search"} 1`,
		`connector_upstream_request_duration_seconds_count{operation="search"} 2`,
		`connector_sse_sessions 1`,
		`connector_limited_requests_total{limit="rate"} 1`,
		`connector_auth_failures_total{reason="expired_token"} 1`,
		`connector_auth_failures_total{reason="other"} 1`,
		`connector_http_requests_total{code="418",route="mcp"} 1`,
		`connector_store_ready{backend="openai"} 0`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("exposition lacks %s", want)
		}
	}
	if strings.Contains(got, "eyJ") {
		t.Error("an auth failure reason carried request data into a label")
	}
	if strings.Contains(got, "connector_index_documents") {
		t.Error("documents exported for a store that is not ready")
	}
}

// TestNil: a nil *Metrics records nothing and does not panic.
func TestNil(t *testing.T) {
	var m *metrics.Metrics
	m.ToolCall("search", metrics.OutcomeOK, time.Millisecond)
	m.SearchResults(1)
	m.FetchBytes(1)
	m.UpstreamAttempt("search", 0, 200, time.Millisecond)
	m.SSESessionOpened()
	m.SSESessionClosed()
	m.Limited(metrics.LimitRate)
	m.AuthFailure("x")
	m.HTTPRequest("mcp", 200)
	m.WatchStore(metrics.StoreOptions{})
}

// TestRegistriesAreSeparate: two servers in one process do not share state.
func TestRegistriesAreSeparate(t *testing.T) {
	a, b := metrics.New(), metrics.New()
	a.Limited(metrics.LimitRate)
	if strings.Contains(exposition(t, b), `connector_limited_requests_total{limit="rate"} 1`) {
		t.Error("a's count shows in b")
	}
}

func TestHandlerToken(t *testing.T) {
	h := metrics.New().Handler("tok")
	for auth, want := range map[string]int{"": 401, "Bearer nope": 401, "Bearer tok": 200, "bearer tok ": 401} {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != want {
			t.Errorf("Authorization %q: %d, want %d", auth, w.Code, want)
		}
		if want == 401 && w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("Authorization %q: no WWW-Authenticate", auth)
		}
	}
}

func BenchmarkToolCall(b *testing.B) {
	m := metrics.New()
	for b.Loop() {
		m.ToolCall("search", metrics.OutcomeOK, time.Millisecond)
		m.SearchResults(5)
		m.HTTPRequest("mcp", 200)
	}
}

// TestRefreshed: a refresh sets the last run's time, duration and counts;
// a failed one counts as an error and leaves the last success's counts.
func TestRefreshed(t *testing.T) {
	m := metrics.New()
	end := time.Unix(1700000000, 0)
	m.Refreshed(metrics.RefreshRun{Sources: "files", End: end, Duration: 1500 * time.Millisecond, Added: 2, Updated: 1, Deleted: 3})
	m.Refreshed(metrics.RefreshRun{Sources: "files", End: end.Add(time.Minute), Duration: time.Second, Failed: true})
	text := exposition(t, m)
	for _, want := range []string{
		`connector_refresh_runs_total{outcome="ok",sources="files"} 1`,
		`connector_refresh_runs_total{outcome="error",sources="files"} 1`,
		`connector_refresh_last_run_timestamp_seconds{sources="files"} 1.70000006e+09`,
		`connector_refresh_last_success_timestamp_seconds{sources="files"} 1.7e+09`,
		`connector_refresh_last_duration_seconds{sources="files"} 1`,
		`connector_refresh_last_documents{change="added",sources="files"} 2`,
		`connector_refresh_last_documents{change="deleted",sources="files"} 3`,
		`connector_refresh_last_documents{change="errors",sources="files"} 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %s", want)
		}
	}
	var nilM *metrics.Metrics
	nilM.Refreshed(metrics.RefreshRun{}) // records nothing, does not panic
}
