package auth

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	mcpauth "github.com/modelcontextprotocol/go-sdk/auth"
)

// signingAlgs are the algorithms a token may be signed with: asymmetric only,
// so "none" and HS256 (whose key would be the public key) are refused.
var signingAlgs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512,
	jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512,
	jose.EdDSA,
}

// jwtVerifier checks JWT access tokens against the issuer's keys.
type jwtVerifier struct {
	issuer    string
	audiences []string // without trailing slashes
	scopes    []string
	skew      time.Duration
	now       func() time.Time
	keys      *keySource
}

func newJWTVerifier(opts Options) (*jwtVerifier, error) {
	var errs []error
	if opts.PublicBaseURL == "" {
		errs = append(errs, errors.New("oauth mode needs the public base URL (PUBLIC_BASE_URL)"))
	}
	if opts.Issuer == "" {
		errs = append(errs, errors.New("oauth mode needs the issuer (OAUTH_ISSUER)"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(opts.PublicBaseURL, "/")
	auds := opts.Audiences
	if len(auds) == 0 {
		auds = defaultAudiences(base)
	}
	v := &jwtVerifier{issuer: opts.Issuer, scopes: opts.RequiredScopes, skew: opts.ClockSkew, now: opts.Now}
	for _, a := range auds {
		v.audiences = append(v.audiences, strings.TrimSuffix(a, "/"))
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	v.keys = &keySource{
		issuer: opts.Issuer, jwksURL: opts.JWKSURL, client: client, now: opts.Now,
		minRefresh: opts.KeyRefreshInterval, maxAge: opts.KeyMaxAge, logger: opts.Logger.With("component", "auth"),
	}
	if v.keys.minRefresh <= 0 {
		v.keys.minRefresh = 30 * time.Second
	}
	if v.keys.maxAge <= 0 {
		v.keys.maxAge = time.Hour
	}
	return v, nil
}

// defaultAudiences are the resource identifiers of the protected resource
// metadata: the base URL and its /mcp and /sse endpoints (with or without a
// trailing slash: audiences are compared without it).
func defaultAudiences(base string) []string {
	return []string{base, base + "/mcp", base + "/sse"}
}

// claims are the registered claims plus the scope forms IdPs use.
type claims struct {
	jwt.Claims
	Scope    string          `json:"scope"`     // RFC 8693/9068: space-separated
	SCP      json.RawMessage `json:"scp"`       // Okta: array; Entra: space-separated string
	ClientID string          `json:"client_id"` // RFC 9068
	AZP      string          `json:"azp"`       // OpenID Connect authorized party
}

func (c claims) scopes() []string {
	out := strings.Fields(c.Scope)
	var list []string
	var s string
	switch {
	case json.Unmarshal(c.SCP, &list) == nil:
		out = append(out, list...)
	case json.Unmarshal(c.SCP, &s) == nil:
		out = append(out, strings.Fields(s)...)
	}
	return out
}

func invalid(reason, message string, detail error) *failure {
	return &failure{status: http.StatusUnauthorized, reason: reason, oauthErr: "invalid_token", message: message, detail: detail}
}

const getNewToken = "; sign in again to get a new access token from your identity provider"

// verify checks a JWT access token: algorithm, signature, iss, aud, exp, nbf,
// iat, then the required scopes.
func (v *jwtVerifier) verify(ctx context.Context, raw string) (*mcpauth.TokenInfo, *failure) {
	tok, err := jwt.ParseSigned(raw, signingAlgs)
	if err != nil {
		return nil, invalid(ReasonInvalidToken, "the access token is not a JWT signed with an asymmetric algorithm (RS256, PS256, ES256, EdDSA...)"+getNewToken, err)
	}
	if len(tok.Headers) != 1 {
		return nil, invalid(ReasonInvalidToken, "the access token must have exactly one signature", nil)
	}
	hdr := tok.Headers[0]
	keys, err := v.keys.lookup(ctx, hdr.KeyID)
	switch {
	case errors.Is(err, errUnknownKey):
		return nil, invalid(ReasonUnknownKey, "the access token is signed with a key the identity provider does not publish"+getNewToken, fmt.Errorf("kid %q: %w", hdr.KeyID, err))
	case err != nil:
		return nil, &failure{status: http.StatusServiceUnavailable, reason: ReasonKeysUnavailable,
			message: "the server cannot load the identity provider's signing keys; try again shortly", detail: err}
	}
	var c claims
	verified := false
	for _, key := range keys {
		if key.Algorithm != "" && key.Algorithm != hdr.Algorithm {
			continue
		}
		if err = tok.Claims(key.Key, &c); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, invalid(ReasonBadSignature, "the access token's signature does not verify"+getNewToken, err)
	}

	now := v.now()
	switch {
	case c.Issuer != v.issuer:
		return nil, invalid(ReasonWrongIssuer, "the access token was issued by another identity provider than the one this server trusts"+getNewToken,
			fmt.Errorf("iss %q, want %q", c.Issuer, v.issuer))
	case !v.audienceOK(c.Audience):
		return nil, invalid(ReasonWrongAudience, "the access token is meant for another resource: request it with resource (or audience) set to this server's URL",
			fmt.Errorf("aud %q, want one of %q", []string(c.Audience), v.audiences))
	case c.Expiry == nil:
		return nil, invalid(ReasonInvalidToken, "the access token has no expiry (exp)", nil)
	case now.After(c.Expiry.Time().Add(v.skew)):
		return nil, invalid(ReasonExpired, "the access token has expired"+getNewToken, fmt.Errorf("exp %s", c.Expiry.Time().UTC()))
	case c.NotBefore != nil && now.Add(v.skew).Before(c.NotBefore.Time()):
		return nil, invalid(ReasonNotYetValid, "the access token is not valid yet (nbf); check the clocks of this server and the identity provider",
			fmt.Errorf("nbf %s", c.NotBefore.Time().UTC()))
	case c.IssuedAt != nil && now.Add(v.skew).Before(c.IssuedAt.Time()):
		return nil, invalid(ReasonNotYetValid, "the access token was issued in the future (iat); check the clocks of this server and the identity provider",
			fmt.Errorf("iat %s", c.IssuedAt.Time().UTC()))
	}
	subject := c.Subject
	if subject == "" {
		subject = cmp.Or(c.ClientID, c.AZP)
		if subject == "" {
			return nil, invalid(ReasonInvalidToken, "the access token names no subject (sub) or client (client_id)", nil)
		}
		subject = "client:" + subject
	}
	granted := c.scopes()
	var missing []string
	for _, s := range v.scopes {
		if !slices.Contains(granted, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return nil, &failure{status: http.StatusForbidden, reason: ReasonInsufficientScope, oauthErr: "insufficient_scope",
			message: fmt.Sprintf("the access token lacks the scope %s: sign in again and grant it", strings.Join(missing, " ")),
			detail:  fmt.Errorf("sub %q granted %q", subject, granted)}
	}
	return &mcpauth.TokenInfo{
		UserID:     subject,
		Scopes:     granted,
		Expiration: c.Expiry.Time(),
		Extra:      map[string]any{"iss": c.Issuer, "client_id": cmp.Or(c.ClientID, c.AZP)},
	}, nil
}

func (v *jwtVerifier) audienceOK(aud jwt.Audience) bool {
	for _, a := range aud {
		if slices.Contains(v.audiences, strings.TrimSuffix(a, "/")) {
			return true
		}
	}
	return false
}
