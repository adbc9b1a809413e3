package main

import (
	"bytes"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/auth/authtest"
)

func TestAuthConfig(t *testing.T) {
	const key = "0123456789abcdef0123456789abcdef-secret"
	tests := []struct {
		name     string
		env      map[string]string
		wantErrs []string // substrings; none means valid
	}{
		{name: "none by default", env: map[string]string{}},
		{name: "apikey", env: map[string]string{"AUTH_MODE": "apikey", "API_KEYS": key + ", " + key + "2"}},
		{name: "oauth", env: map[string]string{"AUTH_MODE": "OAuth", "PUBLIC_BASE_URL": "https://docs.example.com",
			"OAUTH_ISSUER": "https://idp.example.com/realms/x", "OAUTH_REQUIRED_SCOPES": "docs.read, openid"}},
		{name: "unknown mode", env: map[string]string{"AUTH_MODE": "basic"}, wantErrs: []string{"AUTH_MODE", `"apikey"`}},
		{name: "apikey without keys", env: map[string]string{"AUTH_MODE": "apikey"},
			wantErrs: []string{"AUTH_MODE=apikey needs API_KEYS", "openssl rand -hex 32"}},
		{name: "short key", env: map[string]string{"AUTH_MODE": "apikey", "API_KEYS": key + ",tooshort"},
			wantErrs: []string{"API_KEYS", "key 2 of 2 is 8 characters", "at least 32"}},
		{name: "oauth without base URL and issuer", env: map[string]string{"AUTH_MODE": "oauth"},
			wantErrs: []string{"AUTH_MODE=oauth needs PUBLIC_BASE_URL", "AUTH_MODE=oauth needs OAUTH_ISSUER", "iss claim"}},
		{name: "keys without apikey mode", env: map[string]string{"API_KEYS": key},
			wantErrs: []string{"API_KEYS is set but AUTH_MODE=none", "set AUTH_MODE=apikey"}},
		{name: "issuer without oauth mode", env: map[string]string{"AUTH_MODE": "apikey", "API_KEYS": key, "OAUTH_ISSUER": "https://idp.example.com"},
			wantErrs: []string{"OAUTH_ISSUER is set but AUTH_MODE=apikey"}},
		{name: "bad issuer and skew", env: map[string]string{"AUTH_MODE": "oauth", "PUBLIC_BASE_URL": "https://docs.example.com",
			"OAUTH_ISSUER": "idp.example.com", "OAUTH_CLOCK_SKEW": "1h"}, wantErrs: []string{"OAUTH_ISSUER", "OAUTH_CLOCK_SKEW", "10m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkAuthConfig(t, tt.env, tt.wantErrs, key[:16]) })
	}
	c, _ := loadConfig(func(k string) string {
		return map[string]string{"OAUTH_REQUIRED_SCOPES": "docs.read, openid  x", "OAUTH_AUDIENCE": "a, b"}[k]
	}, nil, nil, forServe)
	if strings.Join(c.OAuthScopes, "|") != "docs.read|openid|x" || strings.Join(c.OAuthAudiences, "|") != "a|b" || c.OAuthClockSkew.Seconds() != 60 {
		t.Errorf("scopes %q audiences %q skew %s", c.OAuthScopes, c.OAuthAudiences, c.OAuthClockSkew)
	}
}

func TestAuthConfigNeverLogsKeys(t *testing.T) {
	const key = "never-log-this-key-0123456789abcdef"
	c, err := loadConfig(func(k string) string {
		return map[string]string{"AUTH_MODE": "apikey", "API_KEYS": key}[k]
	}, nil, nil, forServe)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Info("starting", "config", c)
	a, err := command{cfg: c, logger: logger}.authenticator(nil)
	if err != nil {
		t.Fatal(err)
	}
	logAuth(t.Context(), logger, a, &net.TCPAddr{IP: net.IPv4(0, 0, 0, 0), Port: 8000}, c)
	if strings.Contains(buf.String(), key) || !strings.Contains(buf.String(), `"api_keys":1`) {
		t.Errorf("log: %s", buf.String())
	}
}

func TestAuthNoneWarning(t *testing.T) {
	for _, tc := range []struct {
		ip   net.IP
		warn bool
	}{{net.IPv4(0, 0, 0, 0), true}, {net.IPv4(192, 0, 2, 1), true}, {net.IPv4(127, 0, 0, 1), false}, {net.IPv6loopback, false}} {
		var buf bytes.Buffer
		logAuth(t.Context(), slog.New(slog.NewTextHandler(&buf, nil)), nil, &net.TCPAddr{IP: tc.ip, Port: 8000}, config{})
		if got := strings.Contains(buf.String(), "level=WARN") && strings.Contains(buf.String(), "AUTH_MODE=none"); got != tc.warn {
			t.Errorf("%s: warned=%v, want %v: %s", tc.ip, got, tc.warn, buf.String())
		}
	}
}

// TestServeWithAuth runs `connector serve` with each mode set in the
// environment, as an operator would.
func TestServeWithAuth(t *testing.T) {
	status := func(url string, header ...string) (int, http.Header) {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Header
	}
	withHeader := func(k, v string) *http.Client {
		return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			r = r.Clone(r.Context())
			r.Header.Set(k, v)
			return http.DefaultTransport.RoundTrip(r)
		})}
	}

	t.Run("apikey", func(t *testing.T) {
		const key = "e2e-key-0123456789abcdef0123456789abcdef"
		p := serve(t, t.TempDir(), "AUTH_MODE=apikey", "API_KEYS="+key)
		if code, _ := status(p.base + "/mcp"); code != 401 {
			t.Errorf("no key: %d", code)
		}
		cs := connectClient(t, &mcp.StreamableClientTransport{Endpoint: p.base + "/mcp", HTTPClient: withHeader("X-API-Key", key)})
		if _, err := cs.ListTools(t.Context(), nil); err != nil {
			t.Error(err)
		}
		var out searchOut
		if isErr, text := callJSON(t, cs, "search", map[string]any{"query": "connect ChatGPT custom connector"}, &out); isErr || len(out.Results) == 0 {
			t.Fatalf("search: %s", text)
		}
		// A browser opening a citation sends no key: links to the document
		// view are signed, open without one, and only as given.
		for _, r := range out.Results {
			if !strings.Contains(r.URL, "/docs/") {
				continue
			}
			if !strings.Contains(r.URL, "sig=") {
				t.Errorf("search result %s links the document view unsigned: %s", r.ID, r.URL)
			}
			res, err := http.Get(r.URL)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !strings.Contains(string(body), html.EscapeString(r.Title)) {
				t.Errorf("signed link %s: %d %.200s", r.URL, res.StatusCode, body)
			}
			res, err = http.Get(strings.Replace(r.URL, "sig=", "sig=x", 1))
			if err != nil {
				t.Fatal(err)
			}
			body, _ = io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 403 || !strings.Contains(string(body), "expired") || strings.Contains(string(body), html.EscapeString(r.Title)) {
				t.Errorf("tampered link %s: %d %.200s", r.URL, res.StatusCode, body)
			}
		}
		if strings.Contains(p.log(), key) {
			t.Error("the log holds the key")
		}
	})

	t.Run("oauth", func(t *testing.T) {
		const public = "https://docs.example.com"
		idp := authtest.New(t, []string{public + "/mcp", public + "/sse"}, []string{"docs.read"})
		p := serve(t, t.TempDir(), "AUTH_MODE=oauth", "PUBLIC_BASE_URL="+public, "OAUTH_ISSUER="+idp.URL, "OAUTH_REQUIRED_SCOPES=docs.read")
		code, hdr := status(p.base + "/mcp")
		if want := `Bearer scope="docs.read", resource_metadata="` + public + `/.well-known/oauth-protected-resource/mcp"`; code != 401 || hdr.Get("WWW-Authenticate") != want {
			t.Errorf("no token: %d %q", code, hdr.Get("WWW-Authenticate"))
		}
		token, err := idp.Login(t.Context(), public+"/sse", "docs.read")
		if err != nil {
			t.Fatal(err)
		}
		cs := connectClient(t, &mcp.SSEClientTransport{Endpoint: p.base + "/sse/", HTTPClient: withHeader("Authorization", "Bearer "+token)})
		if _, err := cs.ListTools(t.Context(), nil); err != nil {
			t.Error(err)
		}
		if res, err := http.Get(p.base + "/readyz"); err != nil || res.StatusCode != 200 {
			t.Errorf("readyz: %v %v", err, res)
		}
	})

	t.Run("config errors", func(t *testing.T) {
		_, stderr, code := runCLI(t, t.TempDir(), []string{"AUTH_MODE=oauth", "ADDR=127.0.0.1:0"}, "serve")
		if code == 0 || !strings.Contains(stderr, "PUBLIC_BASE_URL") || !strings.Contains(stderr, "OAUTH_ISSUER") {
			t.Errorf("exit %d: %s", code, stderr)
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// checkAuthConfig loads env as serve's configuration: with no wantErrs it
// must be valid and make an Authenticator; else its error must hold each of
// wantErrs and quote no key (none holds secret, nor "tooshort").
func checkAuthConfig(t *testing.T, env map[string]string, wantErrs []string, secret string) {
	t.Helper()
	c, err := loadConfig(func(k string) string { return env[k] }, nil, nil, forServe)
	if len(wantErrs) == 0 {
		if err != nil {
			t.Fatal(err)
		}
		if _, err := (command{cfg: c, logger: slog.New(slog.DiscardHandler)}).authenticator(nil); err != nil {
			t.Errorf("authenticator: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range wantErrs {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "tooshort") {
		t.Errorf("error quotes a key:\n%v", err)
	}
}

// TestAPIKeysFileConfig: API_KEYS_FILE and principals in API_KEYS reach the
// Authenticator; mistakes name the file and line and never quote a key.
func TestAPIKeysFileConfig(t *testing.T) {
	const keyA, keyB = "0123456789abcdef0123456789abcdef-keyA", "0123456789abcdef0123456789abcdef-keyB"
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", "# engineering\n"+keyA+" group:eng\n")
	bad := write("bad", "# keys\n\ntooshort-keyC group:eng\n"+keyA+" team:x\n")
	tests := []struct {
		name     string
		env      map[string]string
		wantErrs []string
	}{
		{name: "file and API_KEYS with principals", env: map[string]string{"AUTH_MODE": "apikey", "API_KEYS_FILE": good, "API_KEYS": keyB + " group:hr role:admin"}},
		{name: "file only", env: map[string]string{"AUTH_MODE": "apikey", "API_KEYS_FILE": good}},
		{name: "missing file", env: map[string]string{"AUTH_MODE": "apikey", "API_KEYS_FILE": filepath.Join(dir, "nope")},
			wantErrs: []string{"API_KEYS_FILE", "no such file"}},
		{name: "bad lines", env: map[string]string{"AUTH_MODE": "apikey", "API_KEYS_FILE": bad},
			wantErrs: []string{"API_KEYS_FILE: " + bad + ":3: the key is 13 characters", bad + ":4: principal 1 is not group:NAME"}},
		{name: "a key in both", env: map[string]string{"AUTH_MODE": "apikey", "API_KEYS_FILE": good, "API_KEYS": keyA + " group:hr"},
			wantErrs: []string{"API_KEYS and API_KEYS_FILE give the same key"}},
		{name: "bad principal in API_KEYS", env: map[string]string{"AUTH_MODE": "apikey", "API_KEYS": keyA + " group:eng none"},
			wantErrs: []string{"API_KEYS: key 1 of 1: principal 2 is none, which names nobody"}},
		{name: "file without apikey mode", env: map[string]string{"API_KEYS_FILE": good},
			wantErrs: []string{"API_KEYS_FILE is set but AUTH_MODE=none"}},
		{name: "claim name with a space", env: map[string]string{"OAUTH_GROUPS_CLAIM": "my groups"},
			wantErrs: []string{"OAUTH_GROUPS_CLAIM", "no spaces"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkAuthConfig(t, tt.env, tt.wantErrs, "0123456789abcdef") })
	}
	c, err := loadConfig(func(k string) string {
		return map[string]string{"OAUTH_ROLES_CLAIM": "realm_access.roles"}[k]
	}, nil, nil, forServe)
	if err != nil || c.OAuthGroupsClaim != "groups" || c.OAuthRolesClaim != "realm_access.roles" {
		t.Errorf("claims %q %q: %v", c.OAuthGroupsClaim, c.OAuthRolesClaim, err)
	}
}
