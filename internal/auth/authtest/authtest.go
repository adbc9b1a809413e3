// Package authtest runs a real OAuth 2.1 authorization server for tests, the
// way an identity provider (Keycloak, Auth0, Okta...) would be set up for the
// connector: github.com/go-oauth2/oauth2's authorization code grant with PKCE
// (S256 only), a login form and a consent form driven over HTTP, RFC 8707
// resource indicators stamped into the aud of JWT access tokens (RFC 9068
// style, signed with a key published at the JWKS endpoint), and discovery
// metadata at both well-known paths.
package authtest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/go-oauth2/oauth2/v4"
	oerrors "github.com/go-oauth2/oauth2/v4/errors"
	"github.com/go-oauth2/oauth2/v4/manage"
	"github.com/go-oauth2/oauth2/v4/models"
	"github.com/go-oauth2/oauth2/v4/server"
	"github.com/go-oauth2/oauth2/v4/store"
	xoauth2 "golang.org/x/oauth2"
)

// The registered client: ChatGPT's redirect URL, as a connector's OAuth
// client is registered at the identity provider.
const (
	ClientID     = "chatgpt-connector"
	ClientSecret = "client-secret-for-tests"
	RedirectURL  = "https://chatgpt.com/connector_platform_oauth_redirect"
	Username     = "alice"
	Password     = "correct horse battery staple"
)

// Key is a signing key of the provider.
type Key struct {
	ID  string
	Alg jose.SignatureAlgorithm
	Pub crypto.PublicKey
	key crypto.Signer
}

// NewKey returns a fresh key: RS256 (RSA 2048) or ES256 (P-256).
func NewKey(t testing.TB, id string, alg jose.SignatureAlgorithm) *Key {
	t.Helper()
	var k crypto.Signer
	var err error
	switch alg {
	case jose.RS256, jose.PS256:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		t.Fatalf("authtest: no key type for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return &Key{ID: id, Alg: alg, Pub: k.Public(), key: k}
}

// Provider is a running authorization server.
type Provider struct {
	URL string // the issuer: http://127.0.0.1:port
	// Scopes are the scopes the provider knows.
	Scopes []string

	t   testing.TB
	srv *server.Server

	mu sync.Mutex
	// resources are the resource indicators (RFC 8707) clients may request;
	// a token's aud is the one requested.
	resources []string
	signing   *Key
	published []*Key
	sessions  map[string]*session // by cookie value

	jwksRequests atomic.Int64
	jwksDown     atomic.Bool
}

type session struct {
	user    string
	consent map[string]bool // client_id + " " + scope
}

// New starts a provider for resources, until the test ends.
func New(t testing.TB, resources []string, scopes []string) *Provider {
	t.Helper()
	p := &Provider{t: t, resources: resources, Scopes: scopes, sessions: map[string]*session{}}
	p.signing = NewKey(t, "key-1", jose.RS256)
	p.published = []*Key{p.signing}

	manager := manage.NewDefaultManager()
	manager.SetAuthorizeCodeTokenCfg(&manage.Config{AccessTokenExp: 10 * time.Minute})
	manager.MustTokenStorage(store.NewMemoryTokenStore())
	manager.MapAccessGenerate(jwtGenerator{p})
	manager.SetValidateURIHandler(func(registered, redirect string) error {
		if registered != redirect { // exact match, as OAuth 2.1 requires
			return oerrors.ErrInvalidRedirectURI
		}
		return nil
	})
	clients := store.NewClientStore()
	_ = clients.Set(ClientID, &models.Client{ID: ClientID, Secret: ClientSecret, Domain: RedirectURL})
	manager.MapClientStorage(clients)

	cfg := server.NewConfig()
	cfg.ForcePKCE = true
	cfg.AllowedResponseTypes = []oauth2.ResponseType{oauth2.Code}
	cfg.AllowedGrantTypes = []oauth2.GrantType{oauth2.AuthorizationCode}
	cfg.AllowedCodeChallengeMethods = []oauth2.CodeChallengeMethod{oauth2.CodeChallengeS256}
	p.srv = server.NewServer(cfg, manager)
	p.srv.SetUserAuthorizationHandler(func(w http.ResponseWriter, r *http.Request) (string, error) {
		s := p.session(r)
		if s == nil {
			return "", oerrors.ErrAccessDenied // the /authorize wrapper sends the user to log in first
		}
		return s.user, nil
	})
	p.srv.SetClientScopeHandler(func(tgr *oauth2.TokenGenerateRequest) (bool, error) {
		for _, s := range strings.Fields(tgr.Scope) {
			if !slices.Contains(p.Scopes, s) {
				return false, nil
			}
		}
		return true, nil
	})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("GET /login", p.loginPage)
	mux.HandleFunc("POST /login", p.login)
	mux.HandleFunc("GET /consent", p.consentPage)
	mux.HandleFunc("POST /consent", p.consent)
	mux.HandleFunc("POST /token", p.token)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /.well-known/openid-configuration", p.metadata)
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", p.metadata)
	ts := httptest.NewUnstartedServer(mux)
	p.URL = "http://" + ts.Listener.Addr().String() // before any request is served
	ts.Start()
	t.Cleanup(ts.Close)
	return p
}

// jwtGenerator mints the access tokens: RFC 9068 claims, aud from the
// resource parameter of the token request (RFC 8707).
type jwtGenerator struct{ p *Provider }

func (g jwtGenerator) Token(_ context.Context, data *oauth2.GenerateBasic, _ bool) (string, string, error) {
	aud := data.Request.FormValue("resource")
	if aud == "" {
		aud = data.Client.GetID()
	}
	now := data.TokenInfo.GetAccessCreateAt()
	claims := map[string]any{
		"iss": g.p.URL, "sub": data.UserID, "aud": aud, "client_id": data.Client.GetID(),
		"scope": data.TokenInfo.GetScope(), "jti": rand.Text(),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(data.TokenInfo.GetAccessExpiresIn()).Unix(),
	}
	g.p.mu.Lock()
	key := g.p.signing
	g.p.mu.Unlock()
	tok, err := Sign(key, claims)
	return tok, "", err
}

// Sign signs claims with key, as the provider does (typ at+jwt).
func Sign(key *Key, claims map[string]any) (string, error) {
	opts := (&jose.SignerOptions{}).WithType("at+jwt").WithHeader(jose.HeaderKey("kid"), key.ID)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: key.Alg, Key: key.key}, opts)
	if err != nil {
		return "", err
	}
	return jwt.Signed(signer).Claims(claims).Serialize()
}

// Claims returns the claims of a valid token for resource, valid from now
// on for ten minutes, for tests to alter and Mint.
func (p *Provider) Claims(resource, scope string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": p.URL, "sub": "user-" + Username, "aud": resource, "client_id": ClientID, "scope": scope,
		"jti": rand.Text(), "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
	}
}

// Mint signs claims with the provider's current signing key.
func (p *Provider) Mint(claims map[string]any) string {
	p.t.Helper()
	p.mu.Lock()
	key := p.signing
	p.mu.Unlock()
	tok, err := Sign(key, claims)
	if err != nil {
		p.t.Fatal(err)
	}
	return tok
}

// Rotate makes a new key the signing key and publishes it alongside the old
// one, the way identity providers rotate keys.
func (p *Provider) Rotate(alg jose.SignatureAlgorithm) *Key {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := NewKey(p.t, fmt.Sprintf("key-%d", len(p.published)+1), alg)
	p.signing = k
	p.published = append(p.published, k)
	return k
}

// SetResources replaces the resource indicators clients may request.
func (p *Provider) SetResources(resources ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resources = resources
}

func (p *Provider) knownResource(r string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Contains(p.resources, r)
}

// JWKSRequests returns how often the JWKS was fetched.
func (p *Provider) JWKSRequests() int64 { return p.jwksRequests.Load() }

// SetJWKSDown makes the JWKS endpoint answer 503 (or answer again).
func (p *Provider) SetJWKSDown(down bool) { p.jwksDown.Store(down) }

func (p *Provider) metadata(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{
		"issuer":                                p.URL,
		"authorization_endpoint":                p.URL + "/authorize",
		"token_endpoint":                        p.URL + "/token",
		"jwks_uri":                              p.URL + "/jwks",
		"scopes_supported":                      p.Scopes,
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	p.jwksRequests.Add(1)
	if p.jwksDown.Load() {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	p.mu.Lock()
	var set jose.JSONWebKeySet
	for _, k := range p.published {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Pub, KeyID: k.ID, Algorithm: string(k.Alg), Use: "sig"})
	}
	p.mu.Unlock()
	writeJSON(w, set)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

const sessionCookie = "authtest_session"

func (p *Provider) session(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sessions[c.Value]
}

// authorize sends the user to log in and to consent first; then go-oauth2
// checks the request (client, redirect URI, PKCE) and issues the code.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if res := q.Get("resource"); res != "" && !p.knownResource(res) {
		// RFC 8707 §2: an unknown resource is an invalid_target error.
		u, _ := url.Parse(q.Get("redirect_uri"))
		if u == nil || q.Get("redirect_uri") != RedirectURL {
			http.Error(w, "invalid_target", http.StatusBadRequest)
			return
		}
		u.RawQuery = url.Values{"error": {"invalid_target"}, "state": {q.Get("state")}}.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
		return
	}
	s := p.session(r)
	next := url.QueryEscape(r.URL.RequestURI())
	switch {
	case s == nil:
		http.Redirect(w, r, "/login?next="+next, http.StatusFound)
		return
	case !s.consent[q.Get("client_id")+" "+q.Get("scope")]:
		http.Redirect(w, r, "/consent?next="+next, http.StatusFound)
		return
	}
	if err := p.srv.HandleAuthorizeRequest(w, r); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
	}
}

var loginForm = template.Must(template.New("login").Parse(`<!doctype html><title>Sign in</title>
<form method="post" action="/login"><input type="hidden" name="next" value="{{.}}">
<input name="username"> <input name="password" type="password"> <button>Sign in</button></form>`))

var consentForm = template.Must(template.New("consent").Parse(`<!doctype html><title>Allow access</title>
<p>{{.Client}} asks for: {{.Scope}}</p>
<form method="post" action="/consent"><input type="hidden" name="next" value="{{.Next}}">
<button name="decision" value="allow">Allow</button> <button name="decision" value="deny">Deny</button></form>`))

func (p *Provider) loginPage(w http.ResponseWriter, r *http.Request) {
	_ = loginForm.Execute(w, r.URL.Query().Get("next"))
}

func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	if r.FormValue("username") != Username || r.FormValue("password") != Password {
		http.Error(w, "wrong user name or password", http.StatusUnauthorized)
		return
	}
	id := rand.Text()
	p.mu.Lock()
	p.sessions[id] = &session{user: "user-" + Username, consent: map[string]bool{}}
	p.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true})
	http.Redirect(w, r, localPath(r.FormValue("next")), http.StatusFound)
}

func (p *Provider) consentPage(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	u, _ := url.Parse(next)
	_ = consentForm.Execute(w, map[string]string{"Next": next, "Client": u.Query().Get("client_id"), "Scope": u.Query().Get("scope")})
}

func (p *Provider) consent(w http.ResponseWriter, r *http.Request) {
	s := p.session(r)
	if s == nil {
		http.Error(w, "sign in first", http.StatusUnauthorized)
		return
	}
	next := localPath(r.FormValue("next"))
	u, _ := url.Parse(next)
	if r.FormValue("decision") != "allow" {
		http.Error(w, "access denied", http.StatusForbidden)
		return
	}
	p.mu.Lock()
	s.consent[u.Query().Get("client_id")+" "+u.Query().Get("scope")] = true
	p.mu.Unlock()
	http.Redirect(w, r, next, http.StatusFound)
}

// localPath keeps redirects on this server.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return "/"
	}
	return next
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if res := r.FormValue("resource"); res != "" && !p.knownResource(res) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":"invalid_target"}`)
		return
	}
	if err := p.srv.HandleTokenRequest(w, r); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// Login signs in as the test user through the provider's pages, the way a
// person does in a browser when ChatGPT connects: authorization code with
// PKCE (S256) and the RFC 8707 resource, then the code exchange. It returns
// the access token.
func (p *Provider) Login(ctx context.Context, resource, scope string) (string, error) {
	cfg := xoauth2.Config{
		ClientID: ClientID, ClientSecret: ClientSecret, RedirectURL: RedirectURL,
		Endpoint: xoauth2.Endpoint{AuthURL: p.URL + "/authorize", TokenURL: p.URL + "/token", AuthStyle: xoauth2.AuthStyleInHeader},
	}
	if scope != "" {
		cfg.Scopes = strings.Fields(scope)
	}
	verifier := xoauth2.GenerateVerifier()
	state := rand.Text()
	authURL := cfg.AuthCodeURL(state, xoauth2.S256ChallengeOption(verifier), xoauth2.SetAuthURLParam("resource", resource))

	jar, _ := cookiejar.New(nil)
	var callback *url.URL
	browser := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), RedirectURL) {
			callback = req.URL // the browser would now load ChatGPT's page
			return http.ErrUseLastResponse
		}
		return nil
	}}
	step := func(method, u string, form url.Values) (string, error) {
		var res *http.Response
		var err error
		if method == http.MethodPost {
			res, err = browser.PostForm(u, form)
		} else {
			req, _ := http.NewRequestWithContext(ctx, method, u, nil)
			res, err = browser.Do(req)
		}
		if err != nil {
			return "", err
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if callback == nil && res.StatusCode != http.StatusOK {
			return "", fmt.Errorf("%s %s: %s: %s", method, u, res.Status, body)
		}
		return res.Request.URL.String(), nil
	}

	loginURL, err := step(http.MethodGet, authURL, nil)
	if err != nil {
		return "", err
	}
	lu, _ := url.Parse(loginURL)
	if lu.Path != "/login" {
		return "", fmt.Errorf("expected the login page, got %s", loginURL)
	}
	consentURL, err := step(http.MethodPost, p.URL+"/login", url.Values{
		"username": {Username}, "password": {Password}, "next": {lu.Query().Get("next")}})
	if err != nil {
		return "", err
	}
	cu, _ := url.Parse(consentURL)
	if cu.Path != "/consent" {
		return "", fmt.Errorf("expected the consent page, got %s", consentURL)
	}
	if _, err := step(http.MethodPost, p.URL+"/consent", url.Values{"decision": {"allow"}, "next": {cu.Query().Get("next")}}); err != nil {
		return "", err
	}
	if callback == nil {
		return "", errors.New("the provider did not redirect to the client")
	}
	q := callback.Query()
	if e := q.Get("error"); e != "" {
		return "", fmt.Errorf("authorization failed: %s", e)
	}
	if q.Get("state") != state {
		return "", errors.New("state mismatch")
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), xoauth2.VerifierOption(verifier), xoauth2.SetAuthURLParam("resource", resource))
	if err != nil {
		return "", fmt.Errorf("exchange the code: %w", err)
	}
	return tok.AccessToken, nil
}
