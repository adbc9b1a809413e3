package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	mcpauth "github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/connectorhq/connector/internal/auth"
	"github.com/connectorhq/connector/internal/auth/authtest"
)

const base = "https://docs.example.com"

// whoami answers with the caller go-sdk sees.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	ti := mcpauth.TokenInfoFromContext(r.Context())
	if ti == nil {
		http.Error(w, "no TokenInfo", http.StatusInternalServerError)
		return
	}
	io.WriteString(w, ti.UserID)
})

// failures records OnFailure reasons.
type failures struct {
	mu      sync.Mutex
	reasons []string
}

func (f *failures) add(r string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reasons = append(f.reasons, r)
}

func (f *failures) last() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reasons) == 0 {
		return ""
	}
	return f.reasons[len(f.reasons)-1]
}

type result struct {
	status              int
	body, www, userID   string
	errorCode, errorMsg string
}

func call(t *testing.T, h http.Handler, path string, header map[string]string) result {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader("{}"))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := result{status: rec.Code, body: rec.Body.String(), www: rec.Header().Get("WWW-Authenticate")}
	if rec.Code == http.StatusOK {
		res.userID = res.body
		return res
	}
	var m map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("refusal body is not JSON: %q", res.body)
	}
	res.errorCode, res.errorMsg = m["error"], m["error_description"]
	return res
}

func TestAPIKey(t *testing.T) {
	key1, key2 := strings.Repeat("k", 40), "0123456789abcdef0123456789abcdef"
	var f failures
	a, err := auth.New(auth.Options{Mode: auth.ModeAPIKey, APIKeys: []string{key1, key2}, OnFailure: f.add})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(key2))
	id2 := "apikey:" + hex.EncodeToString(sum[:])[:8]
	h := a.Wrap(whoami)
	tests := []struct {
		name       string
		header     map[string]string
		wantStatus int
		wantUser   string
		wantReason string
	}{
		{name: "bearer", header: map[string]string{"Authorization": "Bearer " + key2}, wantStatus: 200, wantUser: id2},
		{name: "bearer, lower-case scheme", header: map[string]string{"Authorization": "bearer " + key1}, wantStatus: 200, wantUser: auth.APIKeyID(key1)},
		{name: "X-API-Key", header: map[string]string{"X-API-Key": key2}, wantStatus: 200, wantUser: id2},
		{name: "wrong key", header: map[string]string{"Authorization": "Bearer " + strings.Repeat("x", 40)}, wantStatus: 401, wantReason: auth.ReasonBadAPIKey},
		{name: "wrong X-API-Key", header: map[string]string{"X-API-Key": key2 + "x"}, wantStatus: 401, wantReason: auth.ReasonBadAPIKey},
		{name: "prefix of a key", header: map[string]string{"X-API-Key": key2[:31]}, wantStatus: 401, wantReason: auth.ReasonBadAPIKey},
		{name: "no key", wantStatus: 401, wantReason: auth.ReasonMissingToken},
		{name: "basic auth is not a key", header: map[string]string{"Authorization": "Basic " + key1}, wantStatus: 401, wantReason: auth.ReasonMissingToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := call(t, h, "/mcp", tt.header)
			if res.status != tt.wantStatus || res.userID != tt.wantUser {
				t.Fatalf("got %d %q, want %d %q", res.status, res.body, tt.wantStatus, tt.wantUser)
			}
			if tt.wantReason == "" {
				return
			}
			if f.last() != tt.wantReason {
				t.Errorf("OnFailure reason %q, want %q", f.last(), tt.wantReason)
			}
			if !strings.HasPrefix(res.www, `Bearer realm="connector"`) || strings.Contains(res.www, "resource_metadata") {
				t.Errorf("WWW-Authenticate %q", res.www)
			}
			if (tt.wantReason == auth.ReasonBadAPIKey) != strings.Contains(res.www, `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate %q: error=invalid_token only when a key was sent", res.www)
			}
			if strings.Contains(res.body, key1) || strings.Contains(res.body, key2[:20]) || !strings.Contains(res.errorMsg, "X-API-Key") {
				t.Errorf("body %q: must say how to send a key and never echo one", res.body)
			}
		})
	}
}

func TestCheckAPIKeys(t *testing.T) {
	short := "short-secret-123"
	err := auth.CheckAPIKeys([]string{strings.Repeat("a", 32), short, strings.Repeat("b", 31) + "é"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"key 2 of 3 is 16 characters", "at least 32", "openssl rand -hex 32", "key 3 of 3"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if strings.Contains(err.Error(), short) {
		t.Errorf("error quotes a key: %v", err)
	}
	if err := auth.CheckAPIKeys(nil); err == nil {
		t.Error("no keys must be an error")
	}
	if _, err := auth.New(auth.Options{Mode: auth.ModeAPIKey, APIKeys: []string{short}}); err == nil {
		t.Error("New accepted a short key")
	}
}

// oauthSetup is a provider and an Authenticator trusting it.
type oauthSetup struct {
	p        *authtest.Provider
	a        *auth.Authenticator
	h        http.Handler
	failures *failures
	clock    *clock
}

type clock struct {
	mu sync.Mutex
	d  time.Duration // added to the real time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.d)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.d += d
}

func newOAuth(t testing.TB, tweak func(*auth.Options)) *oauthSetup {
	t.Helper()
	p := authtest.New(t, []string{base, base + "/mcp", base + "/sse", "https://other.example.com"}, []string{"docs.read", "docs.write"})
	s := &oauthSetup{p: p, failures: &failures{}, clock: &clock{}}
	opts := auth.Options{Mode: auth.ModeOAuth, PublicBaseURL: base, Issuer: p.URL, RequiredScopes: []string{"docs.read"},
		ClockSkew: time.Minute, OnFailure: s.failures.add, Now: s.clock.now, KeyRefreshInterval: time.Minute}
	if tweak != nil {
		tweak(&opts)
	}
	a, err := auth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.a, s.h = a, a.Wrap(whoami)
	return s
}

func TestOAuthLoginFlow(t *testing.T) {
	s := newOAuth(t, nil)
	for _, resource := range []string{base + "/mcp", base + "/sse", base} {
		tok, err := s.p.Login(t.Context(), resource, "docs.read")
		if err != nil {
			t.Fatal(err)
		}
		res := call(t, s.h, "/mcp", map[string]string{"Authorization": "Bearer " + tok})
		if res.status != 200 || res.userID != "user-alice" {
			t.Errorf("resource %s: got %d %q, want 200 user-alice", resource, res.status, res.body)
		}
	}
	// A token for another resource of the same provider is refused.
	tok, err := s.p.Login(t.Context(), "https://other.example.com", "docs.read")
	if err != nil {
		t.Fatal(err)
	}
	if res := call(t, s.h, "/mcp", map[string]string{"Authorization": "Bearer " + tok}); res.status != 401 || s.failures.last() != auth.ReasonWrongAudience {
		t.Errorf("token for another resource: %d %q (reason %s)", res.status, res.body, s.failures.last())
	}
	// Without the scope: 403.
	tok, err = s.p.Login(t.Context(), base+"/mcp", "docs.write")
	if err != nil {
		t.Fatal(err)
	}
	res := call(t, s.h, "/mcp", map[string]string{"Authorization": "Bearer " + tok})
	if res.status != 403 || !strings.Contains(res.www, `error="insufficient_scope"`) || !strings.Contains(res.www, `scope="docs.read"`) {
		t.Errorf("token without the scope: %d %q %q", res.status, res.www, res.body)
	}
}

func TestOAuthRefusals(t *testing.T) {
	s := newOAuth(t, nil)
	p := s.p
	valid := func(edit func(map[string]any)) string {
		c := p.Claims(base+"/mcp", "openid docs.read")
		edit(c)
		return p.Mint(c)
	}
	now := time.Now()
	stranger := authtest.NewKey(t, "key-1", jose.RS256) // same kid as the provider's key, not its key
	forged, _ := authtest.Sign(stranger, p.Claims(base+"/mcp", "docs.read"))
	unknownKid, _ := authtest.Sign(authtest.NewKey(t, "key-from-nowhere", jose.ES256), p.Claims(base+"/mcp", "docs.read"))
	tests := []struct {
		name, token, path string
		wantStatus        int
		wantReason        string
	}{
		{name: "valid, scope string", token: valid(func(map[string]any) {}), wantStatus: 200},
		{name: "valid, scp array (Okta)", token: valid(func(c map[string]any) { delete(c, "scope"); c["scp"] = []string{"docs.read"} }), wantStatus: 200},
		{name: "valid, scp string (Entra)", token: valid(func(c map[string]any) { delete(c, "scope"); c["scp"] = "x docs.read" }), wantStatus: 200},
		{name: "valid, aud list with a trailing slash", token: valid(func(c map[string]any) { c["aud"] = []string{"other", base + "/sse/"} }), wantStatus: 200},
		{name: "valid, expired within the clock skew", token: valid(func(c map[string]any) { c["exp"] = now.Add(-30 * time.Second).Unix() }), wantStatus: 200},
		{name: "no token", wantStatus: 401, wantReason: auth.ReasonMissingToken},
		{name: "not a JWT", token: "opaque-token-abc", wantStatus: 401, wantReason: auth.ReasonInvalidToken},
		{name: "wrong audience", token: valid(func(c map[string]any) { c["aud"] = "https://other.example.com" }), wantStatus: 401, wantReason: auth.ReasonWrongAudience},
		{name: "no audience", token: valid(func(c map[string]any) { delete(c, "aud") }), wantStatus: 401, wantReason: auth.ReasonWrongAudience},
		{name: "expired", token: valid(func(c map[string]any) { c["exp"] = now.Add(-2 * time.Minute).Unix() }), wantStatus: 401, wantReason: auth.ReasonExpired},
		{name: "no exp", token: valid(func(c map[string]any) { delete(c, "exp") }), wantStatus: 401, wantReason: auth.ReasonInvalidToken},
		{name: "not yet valid", token: valid(func(c map[string]any) { c["nbf"] = now.Add(5 * time.Minute).Unix() }), wantStatus: 401, wantReason: auth.ReasonNotYetValid},
		{name: "issued in the future", token: valid(func(c map[string]any) { c["iat"] = now.Add(5 * time.Minute).Unix() }), wantStatus: 401, wantReason: auth.ReasonNotYetValid},
		{name: "wrong issuer", token: valid(func(c map[string]any) { c["iss"] = p.URL + "/other" }), wantStatus: 401, wantReason: auth.ReasonWrongIssuer},
		{name: "bad signature", token: forged, wantStatus: 401, wantReason: auth.ReasonBadSignature},
		{name: "tampered payload", token: tamper(t, valid(func(map[string]any) {})), wantStatus: 401, wantReason: auth.ReasonBadSignature},
		{name: "unknown key", token: unknownKid, wantStatus: 401, wantReason: auth.ReasonUnknownKey},
		{name: "alg none", token: algNone(p.Claims(base+"/mcp", "docs.read")), wantStatus: 401, wantReason: auth.ReasonInvalidToken},
		{name: "HS256 with the public key as secret", token: hs256(t, p, p.Claims(base+"/mcp", "docs.read")), wantStatus: 401, wantReason: auth.ReasonInvalidToken},
		{name: "missing scope", token: valid(func(c map[string]any) { c["scope"] = "openid" }), wantStatus: 403, wantReason: auth.ReasonInsufficientScope},
		{name: "no subject", token: valid(func(c map[string]any) { delete(c, "sub"); delete(c, "client_id") }), wantStatus: 401, wantReason: auth.ReasonInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.token != "" {
				hdr["Authorization"] = "Bearer " + tt.token
			}
			path := cmpOr(tt.path, "/mcp")
			res := call(t, s.h, path, hdr)
			if res.status != tt.wantStatus {
				t.Fatalf("got %d %q, want %d", res.status, res.body, tt.wantStatus)
			}
			if tt.wantStatus == 200 {
				if res.userID != "user-alice" {
					t.Errorf("user %q", res.userID)
				}
				return
			}
			if s.failures.last() != tt.wantReason {
				t.Errorf("reason %q, want %q", s.failures.last(), tt.wantReason)
			}
			wantMeta := `resource_metadata="` + base + `/.well-known/oauth-protected-resource/mcp"`
			if !strings.Contains(res.www, wantMeta) || !strings.HasPrefix(res.www, "Bearer ") {
				t.Errorf("WWW-Authenticate %q lacks %s", res.www, wantMeta)
			}
			switch {
			case tt.wantReason == auth.ReasonMissingToken && strings.Contains(res.www, "error="):
				t.Errorf("no token sent, yet WWW-Authenticate %q has an error", res.www)
			case tt.wantStatus == 401 && tt.wantReason != auth.ReasonMissingToken && !strings.Contains(res.www, `error="invalid_token"`):
				t.Errorf("WWW-Authenticate %q lacks error=invalid_token", res.www)
			case tt.wantStatus == 403 && !strings.Contains(res.www, `error="insufficient_scope", scope="docs.read"`):
				t.Errorf("WWW-Authenticate %q", res.www)
			}
			if tt.token != "" && strings.Contains(res.body, tt.token[:min(20, len(tt.token))]) {
				t.Errorf("the body echoes the token: %q", res.body)
			}
			if res.errorMsg == "" {
				t.Errorf("body %q says nothing", res.body)
			}
		})
	}
	// The challenge names the metadata of the endpoint called.
	res := call(t, s.h, "/sse/", nil)
	if !strings.Contains(res.www, `resource_metadata="`+base+`/.well-known/oauth-protected-resource/sse/"`) ||
		!strings.Contains(res.errorMsg, "Authorization: Bearer") {
		t.Errorf("/sse/: %q %q", res.www, res.body)
	}
	res = call(t, s.h, "/docs/x", nil)
	if !strings.Contains(res.www, `resource_metadata="`+base+`/.well-known/oauth-protected-resource"`) {
		t.Errorf("/docs/x: %q", res.www)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// tamper changes the payload of a signed token, keeping the signature.
func tamper(t *testing.T, tok string) string {
	parts := strings.Split(tok, ".")
	var claims map[string]any
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	claims["sub"] = "admin"
	raw, _ = json.Marshal(claims)
	parts[1] = base64.RawURLEncoding.EncodeToString(raw)
	return strings.Join(parts, ".")
}

func algNone(claims map[string]any) string {
	hdr := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT","kid":"key-1"}`))
	body, _ := json.Marshal(claims)
	return hdr + "." + base64.RawURLEncoding.EncodeToString(body) + "."
}

// hs256 signs with HMAC keyed by the provider's published public key, the
// classic algorithm-confusion attack.
func hs256(t *testing.T, p *authtest.Provider, claims map[string]any) string {
	res, err := http.Get(p.URL + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	secret, _ := io.ReadAll(res.Body)
	res.Body.Close()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret},
		(&jose.SignerOptions{}).WithHeader("kid", "key-1"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestKeyRotation: a token signed with a new key is accepted once the JWKS
// is reloaded, and tokens with made-up key ids reload it at most once per
// refresh interval.
func TestKeyRotation(t *testing.T) {
	s := newOAuth(t, nil)
	p := s.p
	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	if res := call(t, s.h, "/mcp", bearer(p.Mint(p.Claims(base, "docs.read")))); res.status != 200 {
		t.Fatalf("first token: %d %s", res.status, res.body)
	}
	if n := p.JWKSRequests(); n != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", n)
	}
	s.clock.advance(2 * time.Minute) // past the refresh interval, within the cache age
	p.Rotate(jose.ES256)
	for i := range 3 {
		if res := call(t, s.h, "/mcp", bearer(p.Mint(p.Claims(base, "docs.read")))); res.status != 200 {
			t.Fatalf("token %d signed with the new key: %d %s", i, res.status, res.body)
		}
	}
	if n := p.JWKSRequests(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2 (one reload for the new key)", n)
	}
	// Garbage key ids: at most one reload per interval.
	for i := range 50 {
		tok, _ := authtest.Sign(authtest.NewKey(t, "garbage-"+strings.Repeat("x", i%3), jose.ES256), p.Claims(base, "docs.read"))
		if res := call(t, s.h, "/mcp", bearer(tok)); res.status != 401 || s.failures.last() != auth.ReasonUnknownKey {
			t.Fatalf("garbage kid: %d %s %s", res.status, res.body, s.failures.last())
		}
	}
	if n := p.JWKSRequests(); n != 2 {
		t.Errorf("JWKS fetched %d times after garbage key ids, want still 2", n)
	}
	s.clock.advance(2 * time.Minute)
	tok, _ := authtest.Sign(authtest.NewKey(t, "garbage", jose.ES256), p.Claims(base, "docs.read"))
	call(t, s.h, "/mcp", bearer(tok))
	if n := p.JWKSRequests(); n != 3 {
		t.Errorf("JWKS fetched %d times, want 3 (one more after the interval)", n)
	}
	// The set is reloaded when older than KeyMaxAge (an hour), so removed keys go.
	s.clock.advance(2 * time.Hour)
	call(t, s.h, "/mcp", bearer(p.Mint(p.Claims(base, "docs.read"))))
	if n := p.JWKSRequests(); n != 4 {
		t.Errorf("JWKS fetched %d times, want 4 (stale set reloaded)", n)
	}
}

func TestReady(t *testing.T) {
	s := newOAuth(t, nil)
	s.p.SetJWKSDown(true)
	ctx := t.Context()
	if err := s.a.Ready(ctx); err == nil {
		t.Fatal("Ready with the JWKS down: no error")
	}
	res := call(t, s.h, "/mcp", map[string]string{"Authorization": "Bearer " + s.p.Mint(s.p.Claims(base, "docs.read"))})
	if res.status != http.StatusServiceUnavailable || s.failures.last() != auth.ReasonKeysUnavailable {
		t.Errorf("token while the JWKS cannot be loaded: %d %q %s", res.status, res.body, s.failures.last())
	}
	s.p.SetJWKSDown(false)
	s.clock.advance(time.Minute + time.Second)
	if err := s.a.Ready(ctx); err != nil {
		t.Fatalf("Ready with the JWKS up: %v", err)
	}
	// Once loaded, the keys serve while the provider is away.
	s.p.SetJWKSDown(true)
	s.clock.advance(5 * time.Minute)
	if err := s.a.Ready(ctx); err != nil {
		t.Errorf("Ready with keys loaded: %v", err)
	}

	// An issuer nobody answers for.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	a, err := auth.New(auth.Options{Mode: auth.ModeOAuth, PublicBaseURL: base, Issuer: dead.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := a.Ready(ctx); err == nil {
		t.Error("Ready with the issuer unreachable: no error")
	}
}

func TestDiscoveryAndOverride(t *testing.T) {
	// OAUTH_JWKS_URL skips discovery.
	p := authtest.New(t, []string{base}, []string{"docs.read"})
	a, err := auth.New(auth.Options{Mode: auth.ModeOAuth, PublicBaseURL: base, Issuer: "https://idp.invalid/realms/x", JWKSURL: p.URL + "/jwks"})
	if err != nil {
		t.Fatal(err)
	}
	c := p.Claims(base, "")
	c["iss"] = "https://idp.invalid/realms/x"
	if res := call(t, a.Wrap(whoami), "/mcp", map[string]string{"Authorization": "Bearer " + p.Mint(c)}); res.status != 200 {
		t.Errorf("with OAUTH_JWKS_URL: %d %s", res.status, res.body)
	}
	// Discovery refuses metadata naming another issuer.
	a, _ = auth.New(auth.Options{Mode: auth.ModeOAuth, PublicBaseURL: base, Issuer: p.URL + "/"})
	if err := a.Ready(t.Context()); err == nil || !strings.Contains(err.Error(), "OAUTH_ISSUER") {
		t.Errorf("issuer mismatch: %v", err)
	}
	// OAUTH_AUDIENCE replaces the default audiences.
	a, _ = auth.New(auth.Options{Mode: auth.ModeOAuth, PublicBaseURL: base, Issuer: p.URL, Audiences: []string{"api://connector"}})
	for aud, want := range map[string]int{"api://connector": 200, base: 401} {
		c := p.Claims(aud, "")
		if res := call(t, a.Wrap(whoami), "/mcp", map[string]string{"Authorization": "Bearer " + p.Mint(c)}); res.status != want {
			t.Errorf("aud %s: got %d, want %d", aud, res.status, want)
		}
	}
	if _, err := auth.New(auth.Options{Mode: auth.ModeOAuth}); err == nil ||
		!strings.Contains(err.Error(), "PUBLIC_BASE_URL") || !strings.Contains(err.Error(), "OAUTH_ISSUER") {
		t.Errorf("missing settings: %v", err)
	}
}

func TestMetadata(t *testing.T) {
	s := newOAuth(t, nil)
	mux := http.NewServeMux()
	s.a.Register(mux)
	for path, resource := range map[string]string{
		"/.well-known/oauth-protected-resource":       base,
		"/.well-known/oauth-protected-resource/mcp":   base + "/mcp",
		"/.well-known/oauth-protected-resource/sse":   base + "/sse",
		"/.well-known/oauth-protected-resource/mcp/":  base + "/mcp/",
		"/.well-known/oauth-protected-resource/sse/":  base + "/sse/",
		"/.well-known/oauth-protected-resource/sse/x": "",
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if resource == "" {
			if rec.Code != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", path, rec.Code)
			}
			continue
		}
		var meta map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &meta); err != nil || rec.Code != 200 {
			t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
		}
		want := map[string]any{"resource": resource, "authorization_servers": []any{s.p.URL},
			"scopes_supported": []any{"docs.read"}, "bearer_methods_supported": []any{"header"}}
		for k, v := range want {
			if got, _ := json.Marshal(meta[k]); string(got) != mustJSON(v) {
				t.Errorf("%s: %s = %s, want %s", path, k, got, mustJSON(v))
			}
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// FuzzBearer: no Authorization header, however malformed, gets through or
// makes the check panic.
func FuzzBearer(f *testing.F) {
	s := newOAuth(f, nil)
	valid := s.p.Mint(s.p.Claims(base, "docs.read"))
	parts := strings.Split(valid, ".")
	for _, seed := range []string{"", "Bearer ", "Bearer a.b.c", "Bearer " + parts[0] + ".." + parts[2], "bearer " + parts[0] + "." + parts[1] + ".",
		"Bearer " + parts[0] + ".e30." + parts[2], "Bearer eyJhbGciOiJub25lIn0.e30.", "Bearer " + valid[:len(valid)-2]} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		req := httptest.NewRequest(http.MethodPost, "/mcp", nil)
		req.Header["Authorization"] = []string{header}
		rec := httptest.NewRecorder()
		s.h.ServeHTTP(rec, req)
		if rec.Code == http.StatusOK && header != "Bearer "+valid {
			t.Fatalf("accepted %q", header)
		}
	})
}
