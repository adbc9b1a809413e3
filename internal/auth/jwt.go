package auth

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	mcpauth "github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/connectorhq/connector/internal/access"
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

	groupsClaim, rolesClaim string
	logger                  *slog.Logger
	overage                 overageWarnings
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
	v := &jwtVerifier{issuer: opts.Issuer, scopes: opts.RequiredScopes, skew: opts.ClockSkew, now: opts.Now,
		groupsClaim: cmp.Or(opts.GroupsClaim, "groups"), rolesClaim: cmp.Or(opts.RolesClaim, "roles"),
		logger: opts.Logger.With("component", "auth")}
	for _, a := range auds {
		v.audiences = append(v.audiences, strings.TrimSuffix(a, "/"))
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	v.keys = &keySource{
		issuer: opts.Issuer, jwksURL: opts.JWKSURL, client: client, now: opts.Now,
		minRefresh: opts.KeyRefreshInterval, maxAge: opts.KeyMaxAge, logger: v.logger,
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
// iat, then the required scopes, and returns the caller its claims prove.
func (v *jwtVerifier) verify(ctx context.Context, raw string) (*mcpauth.TokenInfo, access.Caller, *failure) {
	tok, err := jwt.ParseSigned(raw, signingAlgs)
	if err != nil {
		return nil, access.Caller{}, invalid(ReasonInvalidToken, "the access token is not a JWT signed with an asymmetric algorithm (RS256, PS256, ES256, EdDSA...)"+getNewToken, err)
	}
	if len(tok.Headers) != 1 {
		return nil, access.Caller{}, invalid(ReasonInvalidToken, "the access token must have exactly one signature", nil)
	}
	hdr := tok.Headers[0]
	keys, err := v.keys.lookup(ctx, hdr.KeyID)
	switch {
	case errors.Is(err, errUnknownKey):
		return nil, access.Caller{}, invalid(ReasonUnknownKey, "the access token is signed with a key the identity provider does not publish"+getNewToken, fmt.Errorf("kid %q: %w", hdr.KeyID, err))
	case err != nil:
		return nil, access.Caller{}, &failure{status: http.StatusServiceUnavailable, reason: ReasonKeysUnavailable,
			message: "the server cannot load the identity provider's signing keys; try again shortly", detail: err}
	}
	var c claims
	var all map[string]any // every claim, for email, groups and roles
	verified := false
	for _, key := range keys {
		if key.Algorithm != "" && key.Algorithm != hdr.Algorithm {
			continue
		}
		if err = tok.Claims(key.Key, &c, &all); err == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, access.Caller{}, invalid(ReasonBadSignature, "the access token's signature does not verify"+getNewToken, err)
	}

	now := v.now()
	switch {
	case c.Issuer != v.issuer:
		return nil, access.Caller{}, invalid(ReasonWrongIssuer, "the access token was issued by another identity provider than the one this server trusts"+getNewToken,
			fmt.Errorf("iss %q, want %q", c.Issuer, v.issuer))
	case !v.audienceOK(c.Audience):
		return nil, access.Caller{}, invalid(ReasonWrongAudience, "the access token is meant for another resource: request it with resource (or audience) set to this server's URL",
			fmt.Errorf("aud %q, want one of %q", []string(c.Audience), v.audiences))
	case c.Expiry == nil:
		return nil, access.Caller{}, invalid(ReasonInvalidToken, "the access token has no expiry (exp)", nil)
	case now.After(c.Expiry.Time().Add(v.skew)):
		return nil, access.Caller{}, invalid(ReasonExpired, "the access token has expired"+getNewToken, fmt.Errorf("exp %s", c.Expiry.Time().UTC()))
	case c.NotBefore != nil && now.Add(v.skew).Before(c.NotBefore.Time()):
		return nil, access.Caller{}, invalid(ReasonNotYetValid, "the access token is not valid yet (nbf); check the clocks of this server and the identity provider",
			fmt.Errorf("nbf %s", c.NotBefore.Time().UTC()))
	case c.IssuedAt != nil && now.Add(v.skew).Before(c.IssuedAt.Time()):
		return nil, access.Caller{}, invalid(ReasonNotYetValid, "the access token was issued in the future (iat); check the clocks of this server and the identity provider",
			fmt.Errorf("iat %s", c.IssuedAt.Time().UTC()))
	}
	subject := c.Subject
	if subject == "" {
		subject = cmp.Or(c.ClientID, c.AZP)
		if subject == "" {
			return nil, access.Caller{}, invalid(ReasonInvalidToken, "the access token names no subject (sub) or client (client_id)", nil)
		}
		subject = "client:" + subject
	}
	caller := v.caller(ctx, subject, all)
	granted := c.scopes()
	var missing []string
	for _, s := range v.scopes {
		if !slices.Contains(granted, s) {
			missing = append(missing, s)
		}
	}
	if len(missing) > 0 {
		return nil, access.Caller{}, &failure{status: http.StatusForbidden, reason: ReasonInsufficientScope, oauthErr: "insufficient_scope",
			message: fmt.Sprintf("the access token lacks the scope %s: sign in again and grant it", strings.Join(missing, " ")),
			detail:  fmt.Errorf("caller %s granted %q", caller.LogID(), granted)}
	}
	return &mcpauth.TokenInfo{
		UserID:     subject,
		Scopes:     granted,
		Expiration: c.Expiry.Time(),
		Extra:      map[string]any{"iss": c.Issuer, "client_id": cmp.Or(c.ClientID, c.AZP)},
	}, caller, nil
}

func (v *jwtVerifier) audienceOK(aud jwt.Audience) bool {
	for _, a := range aud {
		if slices.Contains(v.audiences, strings.TrimSuffix(a, "/")) {
			return true
		}
	}
	return false
}

// caller builds the caller a verified token proves: user:subject, user:email
// when the provider vouches for the address, group: and role: for the values
// of the configured claims.
func (v *jwtVerifier) caller(ctx context.Context, subject string, all map[string]any) access.Caller {
	groupsValue, hasGroups := claimAt(all, v.groupsClaim)
	rolesValue, _ := claimAt(all, v.rolesClaim)
	c := access.NewCaller(subject, verifiedEmail(all), access.ClaimValues(groupsValue), access.ClaimValues(rolesValue))
	if !hasGroups && groupsOverage(all, v.groupsClaim) && v.overage.first(c.LogID()) {
		v.logger.WarnContext(ctx, "the access token carries too many groups to list them (Entra ID groups overage: _claim_names names "+v.groupsClaim+"), "+
			"so this caller gets no group principals and reads only what its user and role principals allow; "+
			"in the app registration's token configuration, emit only the groups assigned to the application (groupMembershipClaims ApplicationGroup), "+
			"or give access by app roles (role:NAME) instead", "caller", c.LogID())
	}
	return c
}

// claimAt returns the claim name: the top-level key spelled exactly so
// (namespaced URLs such as Auth0's "https://example.com/groups" hold dots),
// else, only when that key is absent, the value at name read as a dotted path
// into nested objects (Keycloak's "realm_access.roles").
func claimAt(all map[string]any, name string) (any, bool) {
	if v, ok := all[name]; ok {
		return v, true
	}
	if !strings.Contains(name, ".") {
		return nil, false
	}
	var cur any = all
	for part := range strings.SplitSeq(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// verifiedEmail returns the email claim only when email_verified is true
// (JSON true, or "true" as some providers send it): an address the provider
// has not checked could be anyone's. preferred_username and upn (Entra) are
// never taken for an email: users or admins may set them freely.
func verifiedEmail(all map[string]any) string {
	email, _ := all["email"].(string)
	switch ev := all["email_verified"].(type) {
	case bool:
		if ev {
			return email
		}
	case string:
		if strings.EqualFold(ev, "true") {
			return email
		}
	}
	return ""
}

// groupsOverage reports whether the token says its groups claim was left
// out for being too long: Entra ID then names it in _claim_names and points
// to the Graph API, which this server does not call (it fails closed).
func groupsOverage(all map[string]any, groupsClaim string) bool {
	names, _ := all["_claim_names"].(map[string]any)
	_, ok := names[groupsClaim]
	return ok
}

// overageWarnings remembers which callers were warned about a groups
// overage, so each is warned once, not on every request. It forgets them
// all when full, which at worst repeats a warning.
type overageWarnings struct {
	mu   sync.Mutex
	seen map[string]bool
}

const maxOverageWarnings = 10_000

// first reports whether id was not warned about yet, and marks it.
func (o *overageWarnings) first(id string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen[id] {
		return false
	}
	if o.seen == nil || len(o.seen) >= maxOverageWarnings {
		o.seen = map[string]bool{}
	}
	o.seen[id] = true
	return true
}
