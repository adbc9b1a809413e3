// Package auth decides who is calling the connector: nobody in particular
// (mode none, no Authenticator at all), the holder of a static API key
// (apikey), or the subject of an OAuth 2.1 access token issued by an existing
// identity provider (oauth), for which the connector is the resource server.
//
// A caller that passes is recorded in the request context twice: as go-sdk's
// auth.TokenInfo, so that auth.TokenInfoFromContext(ctx).UserID names it (the
// token's subject, or "apikey:" and the first 8 hex digits of the key's
// SHA-256, not a secret, for API keys), which rate limits and SSE sessions
// are keyed by; and as the access.Caller whose principals the stores check
// documents' access lists against (access.FromContext).
package auth

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	mcpauth "github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/connectorhq/connector/internal/access"
)

// Mode is how callers authenticate.
type Mode string

const (
	ModeNone   Mode = "none"
	ModeAPIKey Mode = "apikey"
	ModeOAuth  Mode = "oauth"
)

// Reasons a request is refused, passed to Options.OnFailure; they are
// stable metric label values.
const (
	ReasonMissingToken      = "missing_token"      // no credentials sent
	ReasonInvalidToken      = "invalid_token"      // malformed, disallowed alg, missing claims
	ReasonExpired           = "expired"            // exp passed (beyond the clock skew)
	ReasonNotYetValid       = "not_yet_valid"      // nbf or iat in the future (beyond the clock skew)
	ReasonWrongIssuer       = "wrong_issuer"       // iss is not OAUTH_ISSUER
	ReasonWrongAudience     = "wrong_audience"     // aud names another resource
	ReasonBadSignature      = "bad_signature"      // signature does not verify
	ReasonUnknownKey        = "unknown_key"        // kid not in the issuer's JWKS, even after a refresh
	ReasonKeysUnavailable   = "jwks_unavailable"   // the issuer's JWKS cannot be loaded
	ReasonInsufficientScope = "insufficient_scope" // a required scope is missing
	ReasonBadAPIKey         = "bad_api_key"        // no configured key matches
)

// MinAPIKeyLen is the shortest API key accepted.
const MinAPIKeyLen = 32

// Options configure an Authenticator.
type Options struct {
	Mode Mode // ModeAPIKey or ModeOAuth

	// APIKeys are the accepted keys (ModeAPIKey), each optionally followed
	// by the principals its holder gets, separated by spaces (ParseAPIKey).
	// Only the keys' SHA-256 is kept.
	APIKeys []string

	// PublicBaseURL is the server's public URL, e.g. https://docs.example.com
	// (ModeOAuth): the protected resource's identifier.
	PublicBaseURL string
	// Issuer is the authorization server's issuer, exactly as in the iss
	// claim (ModeOAuth).
	Issuer string
	// Audiences are the aud values accepted. Empty means PublicBaseURL and
	// PublicBaseURL+"/mcp" and +"/sse", the resources the metadata names.
	// A trailing slash is ignored on both sides.
	Audiences []string
	// RequiredScopes must all be granted, in the scope (string) or scp
	// (array or string) claim.
	RequiredScopes []string
	// GroupsClaim and RolesClaim name the access token claims whose values
	// become group: and role: principals; empty means "groups" and "roles".
	// A name is looked up as a literal key first (Auth0's namespaced
	// "https://example.com/groups"), then as a dotted path into nested
	// objects (Keycloak's "realm_access.roles").
	GroupsClaim, RolesClaim string
	// ClockSkew is the tolerance on exp, nbf and iat; 0 means none.
	ClockSkew time.Duration
	// JWKSURL skips discovery and loads the signing keys from this URL.
	JWKSURL string
	// KeyRefreshInterval is the least time between two loads of the JWKS
	// caused by tokens with unknown key ids; 0 means 30s.
	KeyRefreshInterval time.Duration
	// KeyMaxAge is how long a loaded JWKS is used before it is reloaded on
	// the next request; 0 means an hour.
	KeyMaxAge time.Duration
	// HTTPClient fetches discovery documents and the JWKS; nil means a
	// client with a 10s timeout.
	HTTPClient *http.Client

	// OnFailure, when set, is called with the reason of every refused request.
	OnFailure func(reason string)
	Logger    *slog.Logger
	// Now is the clock; nil means time.Now. Tests set it.
	Now func() time.Time
}

// Authenticator checks the credentials of requests to protected routes.
type Authenticator struct {
	opts   Options
	logger *slog.Logger
	keys   []apiKey     // ModeAPIKey
	jwt    *jwtVerifier // ModeOAuth
	attach func(http.Handler) http.Handler
}

// New checks opts and returns an Authenticator. It does no I/O: in oauth mode
// the issuer's keys are loaded on first use or by Ready.
func New(opts Options) (*Authenticator, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	a := &Authenticator{opts: opts, logger: opts.Logger.With("component", "auth")}
	switch opts.Mode {
	case ModeAPIKey:
		keys, err := hashAPIKeys(opts.APIKeys)
		if err != nil {
			return nil, err
		}
		a.keys = keys
	case ModeOAuth:
		v, err := newJWTVerifier(opts)
		if err != nil {
			return nil, err
		}
		a.jwt = v
	default:
		return nil, fmt.Errorf("auth mode %q: want %q or %q (mode %q needs no Authenticator)", opts.Mode, ModeAPIKey, ModeOAuth, ModeNone)
	}
	// go-sdk keeps TokenInfo under a private context key that only its
	// RequireBearerToken sets: run it with a verifier that hands over the
	// TokenInfo this package has already checked.
	a.attach = mcpauth.RequireBearerToken(func(ctx context.Context, _ string, _ *http.Request) (*mcpauth.TokenInfo, error) {
		if ti, ok := ctx.Value(checkedKey{}).(*mcpauth.TokenInfo); ok {
			return ti, nil
		}
		return nil, mcpauth.ErrInvalidToken
	}, &mcpauth.RequireBearerTokenOptions{AllowMissingExpiration: true, ClockSkew: opts.ClockSkew})
	return a, nil
}

type checkedKey struct{}

// Mode returns the mode the Authenticator enforces.
func (a *Authenticator) Mode() Mode { return a.opts.Mode }

// Wrap returns next guarded by the credential check: a request without valid
// credentials gets 401 (403 for missing scopes) and never reaches next.
func (a *Authenticator) Wrap(next http.Handler) http.Handler {
	inner := a.attach(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ti, caller, f := a.check(r)
		if f != nil {
			a.refuse(w, r, f)
			return
		}
		ctx := context.WithValue(r.Context(), checkedKey{}, ti)
		r = r.WithContext(access.NewContext(ctx, caller))
		if !hasBearer(r.Header) {
			// The key came in X-API-Key; go-sdk's middleware reads only
			// Authorization. The placeholder is never checked against anything.
			r.Header = r.Header.Clone()
			r.Header.Set("Authorization", "Bearer checked")
		}
		inner.ServeHTTP(w, r)
	})
}

// Allows reports whether r carries valid credentials, without answering r
// or counting a failure: for open routes that show more to known callers.
func (a *Authenticator) Allows(r *http.Request) bool {
	_, _, f := a.check(r)
	return f == nil
}

// Ready reports whether requests can be authenticated: in oauth mode, whether
// the issuer's signing keys are loaded or can be loaded now.
func (a *Authenticator) Ready(ctx context.Context) error {
	if a.jwt == nil {
		return nil
	}
	return a.jwt.keys.ready(ctx)
}

// failure is a refused request: its status, reason and challenge.
type failure struct {
	status int
	reason string
	// oauthErr is the RFC 6750 error code for the challenge ("" when no
	// credentials were sent).
	oauthErr string
	message  string // for the caller: what is wrong and what to do
	detail   error  // for the log only
}

// check verifies r's credentials and returns who sent them: the TokenInfo
// go-sdk keeps and the Caller whose principals the stores check.
func (a *Authenticator) check(r *http.Request) (*mcpauth.TokenInfo, access.Caller, *failure) {
	token, ok := bearer(r.Header)
	if !ok && a.opts.Mode == ModeAPIKey {
		token = strings.TrimSpace(r.Header.Get("X-API-Key"))
		ok = token != ""
	}
	if !ok {
		return nil, access.Caller{}, &failure{status: http.StatusUnauthorized, reason: ReasonMissingToken, message: a.missingMessage()}
	}
	if a.opts.Mode == ModeAPIKey {
		return a.checkAPIKey(token)
	}
	return a.jwt.verify(r.Context(), token)
}

func (a *Authenticator) missingMessage() string {
	if a.opts.Mode == ModeAPIKey {
		return "this server needs an API key: send it as Authorization: Bearer <key> or X-API-Key: <key>"
	}
	return "this server needs an OAuth access token: send Authorization: Bearer <token> from your identity provider"
}

// bearer returns the token of an Authorization: Bearer header.
func bearer(h http.Header) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h.Get("Authorization")), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}

func hasBearer(h http.Header) bool {
	_, ok := bearer(h)
	return ok
}

// refuse answers a failed check with its status, an RFC 6750 challenge and a
// short JSON body. It never echoes the credentials.
func (a *Authenticator) refuse(w http.ResponseWriter, r *http.Request, f *failure) {
	if a.opts.OnFailure != nil {
		a.opts.OnFailure(f.reason)
	}
	a.logger.DebugContext(r.Context(), "request refused", "reason", f.reason, "path", r.URL.Path, "err", f.detail)
	var params []string
	if a.opts.Mode == ModeAPIKey {
		params = append(params, `realm="connector"`)
	}
	if f.oauthErr != "" {
		params = append(params, fmt.Sprintf("error=%q", f.oauthErr))
	}
	if a.opts.Mode == ModeOAuth {
		if len(a.opts.RequiredScopes) > 0 && f.status != http.StatusServiceUnavailable {
			params = append(params, fmt.Sprintf("scope=%q", strings.Join(a.opts.RequiredScopes, " ")))
		}
		params = append(params, fmt.Sprintf("resource_metadata=%q", a.MetadataURL(r.URL.Path)))
	}
	h := w.Header()
	if f.status == http.StatusServiceUnavailable {
		h.Set("Retry-After", "30")
	} else {
		h.Set("WWW-Authenticate", "Bearer "+strings.Join(params, ", "))
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(f.status)
	code := cmp.Or(f.oauthErr, "unauthorized")
	if f.status == http.StatusServiceUnavailable {
		code = "temporarily_unavailable"
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": f.message})
}
