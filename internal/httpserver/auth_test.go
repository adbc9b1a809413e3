package httpserver

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/connectorhq/connector/internal/auth"
	"github.com/connectorhq/connector/internal/auth/authtest"
	"github.com/connectorhq/connector/internal/store/storetest"
)

// headerTransport adds headers to every request, as the Responses API does
// with the mcp tool's authorization or headers fields.
type headerTransport http.Header

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h {
		r.Header[k] = v
	}
	return http.DefaultTransport.RoundTrip(r)
}

// reasonLog records OnFailure reasons, which the server's goroutines report.
type reasonLog struct {
	mu      sync.Mutex
	reasons []string
}

func (l *reasonLog) add(r string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reasons = append(l.reasons, r)
}

func (l *reasonLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.reasons, " ")
}

func clientWith(header ...string) *http.Client {
	h := http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return &http.Client{Transport: headerTransport(h)}
}

// mcpTransports are the four endpoints, each with the client of its transport.
func mcpTransports(base string, c *http.Client) map[string]mcp.Transport {
	return map[string]mcp.Transport{
		"/mcp":  &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: c},
		"/mcp/": &mcp.StreamableClientTransport{Endpoint: base + "/mcp/", HTTPClient: c},
		"/sse":  &mcp.SSEClientTransport{Endpoint: base + "/sse", HTTPClient: c},
		"/sse/": &mcp.SSEClientTransport{Endpoint: base + "/sse/", HTTPClient: c},
	}
}

// useBothTools lists the tools and calls search and fetch.
func useBothTools(t *testing.T, cs *mcp.ClientSession) {
	t.Helper()
	tools, err := cs.ListTools(t.Context(), nil)
	if err != nil || len(tools.Tools) != 2 {
		t.Fatalf("tools/list: %v %v", err, tools)
	}
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"query": "refunded annual"}})
	if err != nil || res.IsError || !strings.Contains(toolText(t, res), `"faq-1"`) {
		t.Fatalf("search: %v %v", err, res)
	}
	res, err = cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "fetch", Arguments: map[string]any{"id": "faq-1"}})
	if err != nil || res.IsError || !strings.Contains(toolText(t, res), "thirty days") {
		t.Fatalf("fetch: %v %v", err, res)
	}
}

func get(t *testing.T, c *http.Client, method, url string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return res, string(b)
}

// TestOAuth runs the connector as an OAuth resource server for a real
// authorization server, the way ChatGPT meets it: an unauthenticated call,
// the challenge, the protected resource metadata, the authorization server's
// metadata, sign-in with authorization code and PKCE for the resource, then
// both tools over both transports with the token.
func TestOAuth(t *testing.T) {
	p := authtest.New(t, nil, []string{"docs.read", "offline_access"})
	var reasons reasonLog
	ts := start(t, &storetest.Fake{Docs: testDocs}, func(o *Options) {
		base := o.Linker.Base()
		p.SetResources(base, base+"/mcp", base+"/sse/")
		a, err := auth.New(auth.Options{Mode: auth.ModeOAuth, PublicBaseURL: base, Issuer: p.URL,
			RequiredScopes: []string{"docs.read"}, ClockSkew: time.Minute, Logger: o.Logger,
			OnFailure: reasons.add})
		if err != nil {
			t.Fatal(err)
		}
		o.Auth = a
	})
	anon := &http.Client{}

	// Health, readiness and the home page stay open.
	for _, path := range []string{"/healthz", "/readyz", "/"} {
		if res, body := get(t, anon, http.MethodGet, ts.base+path); res.StatusCode != 200 {
			t.Errorf("GET %s without a token: %d %s", path, res.StatusCode, body)
		}
	}

	// Every MCP route and the document view answer 401 with a challenge
	// naming their metadata.
	for _, tc := range []struct{ method, path, meta string }{
		{"POST", "/mcp", "/mcp"}, {"POST", "/mcp/", "/mcp/"}, {"GET", "/mcp", "/mcp"},
		{"GET", "/sse", "/sse"}, {"GET", "/sse/", "/sse/"}, {"POST", "/sse/", "/sse/"}, {"POST", "/sse/?sessionid=abc", "/sse/"},
		{"GET", "/docs/faq-1", ""},
	} {
		res, body := get(t, anon, tc.method, ts.base+tc.path)
		want := `Bearer scope="docs.read", resource_metadata="` + ts.base + "/.well-known/oauth-protected-resource" + tc.meta + `"`
		if res.StatusCode != 401 || res.Header.Get("WWW-Authenticate") != want {
			t.Errorf("%s %s: %d %q, want 401 %q", tc.method, tc.path, res.StatusCode, res.Header.Get("WWW-Authenticate"), want)
		}
		if !strings.Contains(body, "Authorization: Bearer") || strings.Contains(body, "faq") {
			t.Errorf("%s %s: body %q", tc.method, tc.path, body)
		}
	}

	// For the URL a user gives (ChatGPT's tutorials use .../sse/, the
	// Responses API .../mcp), the client follows the challenge to the
	// resource metadata, whose resource is that URL (go-sdk's client checks
	// it), then to the authorization server's metadata, signs in for the
	// resource, and uses both tools over every transport with the token.
	for _, endpoint := range []string{ts.base + "/mcp", ts.base + "/sse/"} {
		res, _ := get(t, anon, http.MethodPost, endpoint)
		challenges, err := oauthex.ParseWWWAuthenticate(res.Header.Values("WWW-Authenticate"))
		if err != nil || len(challenges) != 1 {
			t.Fatalf("challenge: %v %v", challenges, err)
		}
		prm, err := oauthex.GetProtectedResourceMetadata(t.Context(), challenges[0].Params["resource_metadata"], endpoint, anon)
		if err != nil {
			t.Fatal(err)
		}
		if len(prm.AuthorizationServers) != 1 || prm.AuthorizationServers[0] != p.URL ||
			strings.Join(prm.ScopesSupported, " ") != "docs.read" || strings.Join(prm.BearerMethodsSupported, " ") != "header" {
			t.Fatalf("resource metadata: %+v", prm)
		}
		asm, err := oauthex.GetAuthServerMeta(t.Context(), prm.AuthorizationServers[0]+"/.well-known/oauth-authorization-server", p.URL, anon)
		if err != nil || asm == nil || asm.JWKSURI == "" || asm.CodeChallengeMethodsSupported[0] != "S256" {
			t.Fatalf("authorization server metadata: %v %v", asm, err)
		}
		resource := prm.Resource
		token, err := p.Login(t.Context(), resource, strings.Join(prm.ScopesSupported, " "))
		if err != nil {
			t.Fatal(err)
		}
		for name, tr := range mcpTransports(ts.base, clientWith("Authorization", "Bearer "+token)) {
			t.Run(strings.TrimPrefix(resource, ts.base)+" token on "+name, func(t *testing.T) {
				useBothTools(t, connect(t, tr))
			})
		}
		res, body := get(t, clientWith("Authorization", "Bearer "+token), http.MethodGet, ts.base+"/docs/faq-1")
		if res.StatusCode != 200 || !strings.Contains(body, "thirty days") {
			t.Errorf("document view with a token: %d", res.StatusCode)
		}
	}

	// Without a token, or with a bad one, the SDK client cannot connect.
	for name, tr := range mcpTransports(ts.base, clientWith("Authorization", "Bearer "+p.Mint(p.Claims("https://elsewhere.example", "docs.read")))) {
		if cs, err := mcp.NewClient(&mcp.Implementation{Name: "openai-mcp", Version: "1"}, nil).Connect(t.Context(), tr, nil); err == nil {
			cs.Close()
			t.Errorf("%s: connected with a token for another resource", name)
		}
	}
	if got := reasons.String(); !strings.HasSuffix(got, auth.ReasonWrongAudience) {
		t.Errorf("failure reasons %q, want wrong_audience last", got)
	}

	// A token without the required scope: 403 insufficient_scope.
	token, err := p.Login(t.Context(), ts.base+"/mcp", "offline_access")
	if err != nil {
		t.Fatal(err)
	}
	res, _ := get(t, clientWith("Authorization", "Bearer "+token), http.MethodPost, ts.base+"/mcp")
	if res.StatusCode != 403 || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), `Bearer error="insufficient_scope", scope="docs.read", resource_metadata=`) {
		t.Errorf("token without the scope: %d %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}
}

// TestOAuthReadyz: readiness fails while the identity provider's keys
// cannot be loaded, and liveness does not.
func TestOAuthReadyz(t *testing.T) {
	p := authtest.New(t, nil, nil)
	p.SetJWKSDown(true)
	var skew atomic.Int64 // added to the clock of the Authenticator
	ts := start(t, &storetest.Fake{Docs: testDocs}, func(o *Options) {
		a, err := auth.New(auth.Options{Mode: auth.ModeOAuth, PublicBaseURL: o.Linker.Base(), Issuer: p.URL,
			KeyRefreshInterval: time.Minute, Logger: o.Logger,
			Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
		if err != nil {
			t.Fatal(err)
		}
		o.Auth = a
	})
	if res, body := get(t, http.DefaultClient, http.MethodGet, ts.base+"/readyz"); res.StatusCode != 503 || !strings.Contains(body, `"reason":"jwks"`) {
		t.Errorf("readyz with the JWKS down: %d %s", res.StatusCode, body)
	}
	if res, _ := get(t, http.DefaultClient, http.MethodGet, ts.base+"/healthz"); res.StatusCode != 200 {
		t.Errorf("healthz: %d", res.StatusCode)
	}
	p.SetJWKSDown(false)
	if res, _ := get(t, http.DefaultClient, http.MethodGet, ts.base+"/readyz"); res.StatusCode != 503 {
		t.Errorf("readyz retried the JWKS within the refresh interval: %d", res.StatusCode)
	}
	skew.Store(int64(2 * time.Minute)) // past the refresh interval
	if res, body := get(t, http.DefaultClient, http.MethodGet, ts.base+"/readyz"); res.StatusCode != 200 {
		t.Errorf("readyz with the JWKS up: %d %s", res.StatusCode, body)
	}
}

// TestAPIKeyAuth: both header forms the Responses API can send, on both
// transports; a wrong key gets 401.
func TestAPIKeyAuth(t *testing.T) {
	const key = "test-key-0123456789abcdef0123456789abcdef"
	var reasons reasonLog
	ts := start(t, &storetest.Fake{Docs: testDocs}, func(o *Options) {
		a, err := auth.New(auth.Options{Mode: auth.ModeAPIKey, APIKeys: []string{key}, Logger: o.Logger,
			OnFailure: reasons.add})
		if err != nil {
			t.Fatal(err)
		}
		o.Auth = a
	})
	for _, header := range [][]string{{"Authorization", "Bearer " + key}, {"X-API-Key", key}} {
		for name, tr := range mcpTransports(ts.base, clientWith(header...)) {
			t.Run(header[0]+" on "+name, func(t *testing.T) { useBothTools(t, connect(t, tr)) })
		}
	}
	for _, header := range [][]string{{"Authorization", "Bearer " + strings.Repeat("x", 40)}, {"X-API-Key", "nope"}, {}} {
		for _, path := range []string{"/mcp", "/sse/", "/docs/faq-1"} {
			res, body := get(t, clientWith(header...), http.MethodPost, ts.base+path)
			if path == "/docs/faq-1" {
				res, body = get(t, clientWith(header...), http.MethodGet, ts.base+path)
			}
			if res.StatusCode != 401 || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), `Bearer realm="connector"`) ||
				!strings.Contains(body, "X-API-Key") || strings.Contains(body, key) {
				t.Errorf("%v on %s: %d %q %s", header, path, res.StatusCode, res.Header.Get("WWW-Authenticate"), body)
			}
		}
	}
	if res, _ := get(t, http.DefaultClient, http.MethodGet, ts.base+"/.well-known/oauth-protected-resource"); res.StatusCode != 404 {
		t.Errorf("resource metadata in apikey mode: %d, want 404", res.StatusCode)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if res, _ := get(t, http.DefaultClient, http.MethodGet, ts.base+path); res.StatusCode != 200 {
			t.Errorf("%s: %d", path, res.StatusCode)
		}
	}
	if got := reasons.String(); !strings.Contains(got, auth.ReasonBadAPIKey) || !strings.Contains(got, auth.ReasonMissingToken) {
		t.Errorf("failure reasons %q", got)
	}
}

// TestSSESessionBoundToCaller: a message posted into an SSE session by
// another authenticated caller is refused as if the session did not exist.
func TestSSESessionBoundToCaller(t *testing.T) {
	keyA, keyB := strings.Repeat("a", 32), strings.Repeat("b", 32)
	ts := start(t, &storetest.Fake{Docs: testDocs}, func(o *Options) {
		a, err := auth.New(auth.Options{Mode: auth.ModeAPIKey, APIKeys: []string{keyA, keyB}})
		if err != nil {
			t.Fatal(err)
		}
		o.Auth = a
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.base+"/sse/", nil)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("X-API-Key", keyA)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("open the stream: %v %v", err, resp)
	}
	defer resp.Body.Close()
	var endpoint string
	for br := bufio.NewReader(resp.Body); endpoint == ""; {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if e, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok {
			endpoint = e
		}
	}
	post := func(key string) int {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, ts.base+endpoint,
			strings.NewReader(`{"jsonrpc":"2.0","method":"notifications/initialized"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-API-Key", key)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := post(keyB); code != http.StatusNotFound {
		t.Errorf("another caller's post: %d, want 404", code)
	}
	if code := post(keyA); code != http.StatusAccepted {
		t.Errorf("the owner's post: %d, want 202", code)
	}
}
