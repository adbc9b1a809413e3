// Package metrics holds the connector's Prometheus metrics on a registry of
// its own (no global state), with the Go runtime and process collectors, and
// serves them at /metrics. Every method is safe on a nil *Metrics, which
// records nothing, so packages take an optional *Metrics.
package metrics

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/connectorhq/connector/internal/store"
)

// Tool call outcomes.
const (
	OutcomeOK            = "ok"
	OutcomeToolError     = "tool_error" // an isError result: bad arguments, unknown id, store failure
	OutcomeTimeout       = "timeout"    // TOOL_TIMEOUT passed
	OutcomeCanceled      = "canceled"   // the client went away or cancelled
	OutcomeProtocolError = "protocol_error"
)

// Limits, the values of connector_limited_requests_total's limit label.
const (
	LimitRate        = "rate"                    // RATE_LIMIT / RATE_BURST
	LimitSSESessions = "sse_sessions"            // MAX_SSE_SESSIONS
	LimitBodySize    = "body_size"               // MAX_BODY_BYTES
	LimitOrigin      = "origin"                  // CORS_ORIGINS
	LimitBatch       = "batch"                   // messages per JSON-RPC batch
	LimitSSEClient   = "sse_sessions_per_client" // MAX_SSE_SESSIONS_PER_CLIENT
	LimitSSEPending  = "sse_pending_calls"       // calls awaiting answers on one SSE session
)

var (
	tools    = []string{"search", "fetch", "other"}
	outcomes = []string{OutcomeOK, OutcomeToolError, OutcomeTimeout, OutcomeCanceled, OutcomeProtocolError}
)

// Metrics is the set of the connector's metrics.
type Metrics struct {
	reg *prometheus.Registry

	toolCalls     [3][5]prometheus.Counter // by tool, outcome: resolved up front, no lookup per call
	toolDuration  [3]prometheus.Observer
	searchResults prometheus.Observer
	zeroResults   prometheus.Counter
	fetchBytes    prometheus.Observer

	upstreamRequests *prometheus.CounterVec
	upstreamRetries  *prometheus.CounterVec
	upstreamDuration *prometheus.HistogramVec

	httpRequests *prometheus.CounterVec
	sseSessions  prometheus.Gauge
	limited      *prometheus.CounterVec
	authFailures *prometheus.CounterVec

	refreshRuns        *prometheus.CounterVec
	refreshLastRun     *prometheus.GaugeVec
	refreshLastSuccess *prometheus.GaugeVec
	refreshDuration    *prometheus.GaugeVec
	refreshDocuments   *prometheus.GaugeVec
}

// New returns the metrics on a new registry.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &Metrics{reg: reg}

	calls := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "connector_tool_calls_total",
		Help: "MCP tool calls by tool and outcome (ok, tool_error, timeout, canceled, protocol_error).",
	}, []string{"tool", "outcome"})
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "connector_tool_call_duration_seconds",
		Help:    "Time to answer an MCP tool call, by tool.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"tool"})
	for i, t := range tools {
		for j, o := range outcomes {
			m.toolCalls[i][j] = calls.WithLabelValues(t, o)
		}
		m.toolDuration[i] = dur.WithLabelValues(t)
	}
	f(calls)
	f(dur)
	results := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "connector_search_results",
		Help:    "Results returned per successful search call.",
		Buckets: []float64{0, 1, 2, 3, 5, 10, 20, 50},
	})
	m.searchResults = results
	m.zeroResults = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "connector_search_zero_results_total",
		Help: "Successful search calls that found nothing.",
	})
	fetch := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "connector_fetch_response_bytes",
		Help:    "Size of each successful fetch result (its JSON text); the sum is the bytes fetch returned.",
		Buckets: prometheus.ExponentialBuckets(1024, 4, 8), // 1 KiB to 16 MiB
	})
	m.fetchBytes = fetch
	f(results)
	f(m.zeroResults)
	f(fetch)

	m.upstreamRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "connector_upstream_requests_total",
		Help: "HTTP attempts to the OpenAI API (retries included) by operation and status class (2xx, 4xx, 429, 5xx, network_error).",
	}, []string{"operation", "status"})
	m.upstreamRetries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "connector_upstream_retries_total",
		Help: "Attempts to the OpenAI API that were retries of an earlier attempt, by operation.",
	}, []string{"operation"})
	m.upstreamDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "connector_upstream_request_duration_seconds",
		Help:    "Time of each HTTP attempt to the OpenAI API, by operation.",
		Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 20, 60},
	}, []string{"operation"})
	f(m.upstreamRequests)
	f(m.upstreamRetries)
	f(m.upstreamDuration)

	m.httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "connector_http_requests_total",
		Help: "HTTP requests by route (mcp, sse, doc, health, metrics, other) and status code.",
	}, []string{"route", "code"})
	m.sseSessions = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "connector_sse_sessions",
		Help: "Open HTTP+SSE sessions (streams on /sse).",
	})
	m.limited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "connector_limited_requests_total",
		Help: "Requests refused by an abuse limit: rate (429), sse_sessions (503), sse_sessions_per_client (429), sse_pending_calls (429), body_size (413), origin (403), batch (400).",
	}, []string{"limit"})
	for _, l := range []string{LimitRate, LimitSSESessions, LimitSSEClient, LimitSSEPending, LimitBodySize, LimitOrigin, LimitBatch} {
		m.limited.WithLabelValues(l) // export zeros, so rate() works from the start
	}
	m.authFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "connector_auth_failures_total",
		Help: "Requests refused by authentication, by reason.",
	}, []string{"reason"})
	f(m.httpRequests)
	f(m.sseSessions)
	f(m.limited)
	f(m.authFailures)

	m.refreshRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "connector_refresh_runs_total",
		Help: "Refreshes of watched sources (serve --watch) by sources (files, websites) and outcome (ok, error).",
	}, []string{"sources", "outcome"})
	m.refreshLastRun = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "connector_refresh_last_run_timestamp_seconds",
		Help: "When the last refresh of watched sources ended (Unix time), failed or not.",
	}, []string{"sources"})
	m.refreshLastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "connector_refresh_last_success_timestamp_seconds",
		Help: "When the last successful refresh of watched sources ended (Unix time); alert on its age.",
	}, []string{"sources"})
	m.refreshDuration = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "connector_refresh_last_duration_seconds",
		Help: "How long the last refresh of watched sources took.",
	}, []string{"sources"})
	m.refreshDocuments = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "connector_refresh_last_documents",
		Help: "Documents the last successful refresh added, updated, deleted, or could not index (errors).",
	}, []string{"sources", "change"})
	f(m.refreshRuns)
	f(m.refreshLastRun)
	f(m.refreshLastSuccess)
	f(m.refreshDuration)
	f(m.refreshDocuments)
	return m
}

// RefreshRun is one finished refresh of watched sources.
type RefreshRun struct {
	Sources                         string // "files" or "websites"
	End                             time.Time
	Duration                        time.Duration
	Added, Updated, Deleted, Errors int
	Failed                          bool // the run failed: the counts are not set
}

// Refreshed records a finished refresh of watched sources.
func (m *Metrics) Refreshed(r RefreshRun) {
	if m == nil {
		return
	}
	outcome := "ok"
	if r.Failed {
		outcome = "error"
	}
	m.refreshRuns.WithLabelValues(r.Sources, outcome).Inc()
	m.refreshLastRun.WithLabelValues(r.Sources).Set(float64(r.End.UnixMilli()) / 1000)
	m.refreshDuration.WithLabelValues(r.Sources).Set(r.Duration.Seconds())
	if r.Failed {
		return
	}
	m.refreshLastSuccess.WithLabelValues(r.Sources).Set(float64(r.End.UnixMilli()) / 1000)
	for change, n := range map[string]int{"added": r.Added, "updated": r.Updated, "deleted": r.Deleted, "errors": r.Errors} {
		m.refreshDocuments.WithLabelValues(r.Sources, change).Set(float64(n))
	}
}

// Registry returns the registry, to register more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format. When token is
// not empty, requests must carry "Authorization: Bearer <token>".
func (m *Metrics) Handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "401 Unauthorized: /metrics needs the header \"Authorization: Bearer <METRICS_TOKEN>\"", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func toolIndex(tool string) int {
	switch tool {
	case "search":
		return 0
	case "fetch":
		return 1
	}
	return 2
}

func outcomeIndex(outcome string) int {
	for i, o := range outcomes {
		if o == outcome {
			return i
		}
	}
	return 1 // tool_error
}

// ToolCall records one tool call.
func (m *Metrics) ToolCall(tool, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	t := toolIndex(tool)
	m.toolCalls[t][outcomeIndex(outcome)].Inc()
	m.toolDuration[t].Observe(d.Seconds())
}

// SearchResults records the result count of a successful search.
func (m *Metrics) SearchResults(n int) {
	if m == nil {
		return
	}
	m.searchResults.Observe(float64(n))
	if n == 0 {
		m.zeroResults.Inc()
	}
}

// FetchBytes records the size of a successful fetch result.
func (m *Metrics) FetchBytes(n int) {
	if m == nil {
		return
	}
	m.fetchBytes.Observe(float64(n))
}

// UpstreamAttempt records one HTTP attempt to the OpenAI API: operation
// names the call, retry is the attempt's retry count (0 for the first
// attempt), status the HTTP status (0 when no response came back).
func (m *Metrics) UpstreamAttempt(operation string, retry, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.upstreamRequests.WithLabelValues(operation, statusClass(status)).Inc()
	if retry > 0 {
		m.upstreamRetries.WithLabelValues(operation).Inc()
	}
	m.upstreamDuration.WithLabelValues(operation).Observe(d.Seconds())
}

func statusClass(status int) string {
	switch {
	case status == 429:
		return "429"
	case status >= 200 && status < 300:
		return "2xx"
	case status >= 300 && status < 400:
		return "3xx"
	case status >= 400 && status < 500:
		return "4xx"
	case status >= 500 && status < 600:
		return "5xx"
	}
	return "network_error"
}

// HTTPRequest counts an answered HTTP request.
func (m *Metrics) HTTPRequest(route string, code int) {
	if m == nil {
		return
	}
	m.httpRequests.WithLabelValues(route, codeText(code)).Inc()
}

// codeText avoids an allocation for the usual codes.
func codeText(code int) string {
	switch code {
	case 200:
		return "200"
	case 202:
		return "202"
	case 204:
		return "204"
	case 400:
		return "400"
	case 401:
		return "401"
	case 403:
		return "403"
	case 404:
		return "404"
	case 405:
		return "405"
	case 413:
		return "413"
	case 429:
		return "429"
	case 500:
		return "500"
	case 503:
		return "503"
	}
	return strconv.Itoa(code)
}

// SSESessionOpened and SSESessionClosed track the open SSE sessions.
func (m *Metrics) SSESessionOpened() {
	if m != nil {
		m.sseSessions.Inc()
	}
}

// SSESessionClosed: see SSESessionOpened.
func (m *Metrics) SSESessionClosed() {
	if m != nil {
		m.sseSessions.Dec()
	}
}

// Limited counts a request refused by an abuse limit (one of the Limit constants).
func (m *Metrics) Limited(limit string) {
	if m != nil {
		m.limited.WithLabelValues(limit).Inc()
	}
}

// AuthFailure counts a request refused by authentication. reason is a short
// snake_case word such as "missing_token", "invalid_token", "expired",
// "wrong_audience"; anything else is counted as "other", so that a label
// never carries request data.
func (m *Metrics) AuthFailure(reason string) {
	if m == nil {
		return
	}
	if !isLabelWord(reason) {
		reason = "other"
	}
	m.authFailures.WithLabelValues(reason).Inc()
}

func isLabelWord(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == ""
}

// StoreOptions say how to read the index gauges at scrape time.
type StoreOptions struct {
	// Ready is the store's readiness check (store.Store.Ready).
	Ready func(context.Context) (store.Status, error)
	// Size returns the index size in bytes; nil when unknown.
	Size func() (int64, error)
	// Timeout bounds each check; 0 means 2s.
	Timeout time.Duration
}

// WatchStore exports connector_store_ready, connector_index_documents and
// connector_index_size_bytes, read from the store at each scrape.
func (m *Metrics) WatchStore(opts StoreOptions) {
	if m == nil || opts.Ready == nil {
		return
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	m.reg.MustRegister(storeCollector{opts})
}

var (
	readyDesc = prometheus.NewDesc("connector_store_ready",
		"1 when the document store answered its readiness check at this scrape, else 0.", []string{"backend"}, nil)
	docsDesc = prometheus.NewDesc("connector_index_documents",
		"Documents the store serves (from its readiness check).", []string{"backend"}, nil)
	sizeDesc = prometheus.NewDesc("connector_index_size_bytes",
		"Size of the local index on disk, in bytes.", nil, nil)
)

type storeCollector struct{ opts StoreOptions }

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- readyDesc
	ch <- docsDesc
	ch <- sizeDesc
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
	defer cancel()
	st, err := c.opts.Ready(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, 0, st.Backend)
	} else {
		ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, 1, st.Backend)
		if st.Documents >= 0 {
			ch <- prometheus.MustNewConstMetric(docsDesc, prometheus.GaugeValue, float64(st.Documents), st.Backend)
		}
	}
	if c.opts.Size != nil {
		if n, err := c.opts.Size(); err == nil {
			ch <- prometheus.MustNewConstMetric(sizeDesc, prometheus.GaugeValue, float64(n))
		}
	}
}
