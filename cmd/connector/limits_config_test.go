package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLimitsConfigDefaults(t *testing.T) {
	c, err := loadConfig(func(string) string { return "" }, nil, nil, forServe)
	if err != nil {
		t.Fatal(err)
	}
	if c.RateLimit != 20 || c.RateBurst != 40 || len(c.TrustedProxies) != 2 || c.MaxSSESessions != 1000 ||
		c.MaxBodyBytes != 1<<20 || c.ReadHeaderTimeout != 10*time.Second || len(c.CORSOrigins) != 0 || c.MetricsToken != "" {
		t.Errorf("defaults = rate %v burst %d proxies %v sse %d body %d header %v cors %v",
			c.RateLimit, c.RateBurst, c.TrustedProxies, c.MaxSSESessions, c.MaxBodyBytes, c.ReadHeaderTimeout, c.CORSOrigins)
	}
}

func TestLimitsConfigParses(t *testing.T) {
	env := map[string]string{
		"RATE_LIMIT": "0.5", "RATE_BURST": "3", "TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8", "MAX_SSE_SESSIONS": "0",
		"MAX_BODY_BYTES": "65536", "READ_HEADER_TIMEOUT": "2s", "CORS_ORIGINS": "https://a.example, *", "METRICS_TOKEN": "m-secret",
	}
	c, err := loadConfig(func(k string) string { return env[k] }, nil, nil, forServe)
	if err != nil {
		t.Fatal(err)
	}
	if c.RateLimit != 0.5 || c.RateBurst != 3 || len(c.TrustedProxies) != 2 || c.TrustedProxies[0].String() != "127.0.0.1/32" ||
		c.MaxSSESessions != 0 || c.MaxBodyBytes != 65536 || c.ReadHeaderTimeout != 2*time.Second ||
		strings.Join(c.CORSOrigins, " ") != "https://a.example *" || c.MetricsToken != "m-secret" {
		t.Errorf("got %+v", c)
	}
	env["TRUSTED_PROXIES"] = "none"
	if c, err := loadConfig(func(k string) string { return env[k] }, nil, nil, forServe); err != nil || len(c.TrustedProxies) != 0 {
		t.Errorf(`TRUSTED_PROXIES=none: %v %v`, c.TrustedProxies, err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", c)
	if strings.Contains(buf.String(), "m-secret") || !strings.Contains(buf.String(), `"metrics_token_set":true`) {
		t.Errorf("log line: %s", buf.String())
	}
}

func TestLimitsConfigErrors(t *testing.T) {
	env := map[string]string{
		"RATE_LIMIT": "fast", "RATE_BURST": "0", "TRUSTED_PROXIES": "10.0.0.0/33", "MAX_SSE_SESSIONS": "-1",
		"MAX_BODY_BYTES": "10", "READ_HEADER_TIMEOUT": "0", "CORS_ORIGINS": "app.example.com", "METRICS_ADDR": "9090",
	}
	_, err := loadConfig(func(k string) string { return env[k] }, nil, nil, forServe)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		"RATE_LIMIT", "requests per second", "RATE_BURST", "TRUSTED_PROXIES", "CIDR", "MAX_SSE_SESSIONS",
		"MAX_BODY_BYTES", "1048576", "READ_HEADER_TIMEOUT", "CORS_ORIGINS", "https://app.example.com", "METRICS_ADDR", ":9090",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
}

// TestSSESessionsPerClientConfig: "auto" is a quarter of MAX_SSE_SESSIONS,
// at least 1, and no cap when MAX_SSE_SESSIONS has none.
func TestSSESessionsPerClientConfig(t *testing.T) {
	for _, tc := range []struct {
		total, perClient string
		want             int
	}{
		{"", "", 250},
		{"100", "auto", 25},
		{"2", "", 1},
		{"0", "", 0},
		{"1000", "7", 7},
		{"1000", "0", 0},
	} {
		env := map[string]string{"MAX_SSE_SESSIONS": tc.total, "MAX_SSE_SESSIONS_PER_CLIENT": tc.perClient}
		c, err := loadConfig(func(k string) string { return env[k] }, nil, nil, forServe)
		if err != nil || c.MaxSSESessionsPerClient != tc.want {
			t.Errorf("MAX_SSE_SESSIONS=%q MAX_SSE_SESSIONS_PER_CLIENT=%q: %d %v, want %d", tc.total, tc.perClient, c.MaxSSESessionsPerClient, err, tc.want)
		}
	}
	for _, bad := range []string{"-1", "lots"} {
		env := map[string]string{"MAX_SSE_SESSIONS_PER_CLIENT": bad}
		if _, err := loadConfig(func(k string) string { return env[k] }, nil, nil, forServe); err == nil || !strings.Contains(err.Error(), "MAX_SSE_SESSIONS_PER_CLIENT") {
			t.Errorf("MAX_SSE_SESSIONS_PER_CLIENT=%s: %v, want an error naming it", bad, err)
		}
	}
}
