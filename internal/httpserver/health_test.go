package httpserver

import (
	"net/http"
	"strings"
	"testing"

	"github.com/connectorhq/connector/internal/auth"
	"github.com/connectorhq/connector/internal/metrics"
	"github.com/connectorhq/connector/internal/store/storetest"
)

// TestOperatorDetailAccess: /readyz shows its status to anyone and the
// store's detail only to callers who may read the metrics; /metrics needs
// METRICS_TOKEN when set, else MCP credentials when authentication is on.
func TestOperatorDetailAccess(t *testing.T) {
	const key, token = "test-key-0123456789abcdef0123456789abcdef", "metrics-token"
	withKey := []string{"Authorization", "Bearer " + key}
	withToken := []string{"Authorization", "Bearer " + token}
	type check struct {
		header      []string
		readyDetail bool
		metrics     int
	}
	tests := []struct {
		name         string
		auth         bool
		metricsToken string
		checks       []check
	}{
		{name: "open server", checks: []check{{header: nil, readyDetail: true, metrics: 200}}},
		{name: "METRICS_TOKEN only", metricsToken: token, checks: []check{
			{header: nil, readyDetail: false, metrics: 401},
			{header: withToken, readyDetail: true, metrics: 200},
		}},
		{name: "auth on", auth: true, checks: []check{
			{header: nil, readyDetail: false, metrics: 401},
			{header: []string{"Authorization", "Bearer wrong-key-0123456789abcdef0123456789"}, readyDetail: false, metrics: 401},
			{header: withKey, readyDetail: true, metrics: 200},
		}},
		{name: "auth on and METRICS_TOKEN", auth: true, metricsToken: token, checks: []check{
			{header: nil, readyDetail: false, metrics: 401},
			{header: withKey, readyDetail: true, metrics: 401},
			{header: withToken, readyDetail: true, metrics: 200},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := start(t, &storetest.Fake{Docs: testDocs}, func(o *Options) {
				o.Metrics, o.MetricsToken = metrics.New(), tt.metricsToken
				o.Refresh = func() any { return map[string]any{"files": map[string]any{"last_refresh_error": "disk full"}} }
				if tt.auth {
					a, err := auth.New(auth.Options{Mode: auth.ModeAPIKey, APIKeys: []string{key}})
					if err != nil {
						t.Fatal(err)
					}
					o.Auth = a
				}
			})
			for _, c := range tt.checks {
				res, body := get(t, clientWith(c.header...), http.MethodGet, ts.base+"/readyz")
				if res.StatusCode != 200 || !strings.Contains(body, `"status":"ready"`) {
					t.Errorf("%v: readyz %d %s", c.header, res.StatusCode, body)
				}
				if got := strings.Contains(body, `"documents"`); got != c.readyDetail {
					t.Errorf("%v: readyz shows detail %v, want %v: %s", c.header, got, c.readyDetail, body)
				}
				if got := strings.Contains(body, `"last_refresh_error"`); got != c.readyDetail {
					t.Errorf("%v: readyz shows the refresh %v, want %v: %s", c.header, got, c.readyDetail, body)
				}
				if res, body := get(t, clientWith(c.header...), http.MethodGet, ts.base+"/metrics"); res.StatusCode != c.metrics {
					t.Errorf("%v: metrics %d, want %d: %.200s", c.header, res.StatusCode, c.metrics, body)
				}
			}
			if res, body := get(t, http.DefaultClient, http.MethodGet, ts.base+"/healthz"); res.StatusCode != 200 {
				t.Errorf("healthz: %d %s", res.StatusCode, body)
			}
		})
	}
	// A failing store: anyone learns which part is down, in one word.
	down := start(t, &failingStore{}, func(o *Options) { o.MetricsToken = token })
	res, body := get(t, http.DefaultClient, http.MethodGet, down.base+"/readyz")
	if res.StatusCode != 503 || !strings.Contains(body, `"reason":"store"`) || strings.Contains(body, "error") {
		t.Errorf("readyz with a failing store, no token: %d %s", res.StatusCode, body)
	}
}
