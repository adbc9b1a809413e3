package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// errUnknownKey is returned by keySource.lookup when no loaded key has the id.
var errUnknownKey = errors.New("no key of the issuer's JWKS has this key id")

// keySource holds the issuer's signing keys: found through discovery
// (unless the JWKS URL is given), loaded on first use, reloaded when older
// than maxAge or when a token names an unknown key id, but never more often
// than once per minRefresh, so that tokens with made-up key ids cannot make
// the server hammer the identity provider.
type keySource struct {
	issuer     string
	jwksURL    string // given, or found by discovery
	client     *http.Client
	minRefresh time.Duration
	maxAge     time.Duration
	now        func() time.Time
	logger     *slog.Logger

	load sync.Mutex // held while loading: one load at a time, others wait for it

	mu          sync.Mutex
	keys        []jose.JSONWebKey
	loadedAt    time.Time // of the keys held
	attemptedAt time.Time // of the last load, successful or not
	lastErr     error     // of the last load
}

// lookup returns the keys a token with this key id may be signed with: the
// key with that id, or, for a token without one, every signing key.
func (k *keySource) lookup(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	if keys, fresh := k.find(kid); len(keys) > 0 && fresh {
		return keys, nil
	}
	// Unknown id or stale set: reload, unless the last attempt was recent.
	if err := k.refresh(ctx); err != nil {
		if keys, _ := k.find(kid); len(keys) > 0 {
			return keys, nil // a stale key beats none while the IdP is away
		}
		if k.loaded() {
			return nil, errUnknownKey
		}
		return nil, err
	}
	if keys, _ := k.find(kid); len(keys) > 0 {
		return keys, nil
	}
	return nil, errUnknownKey
}

func (k *keySource) find(kid string) (keys []jose.JSONWebKey, fresh bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, key := range k.keys {
		if kid == "" || key.KeyID == kid {
			keys = append(keys, key)
		}
	}
	return keys, !k.loadedAt.IsZero() && k.now().Sub(k.loadedAt) < k.maxAge
}

func (k *keySource) loaded() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return !k.loadedAt.IsZero()
}

// errTooSoon is returned by refresh when the last load was too recent.
var errTooSoon = errors.New("the JWKS was loaded moments ago")

// refresh loads the JWKS unless a load started less than minRefresh ago.
func (k *keySource) refresh(ctx context.Context) error {
	k.load.Lock()
	defer k.load.Unlock()
	k.mu.Lock()
	attempted, lastErr := k.attemptedAt, k.lastErr
	k.mu.Unlock()
	if !attempted.IsZero() && k.now().Sub(attempted) < k.minRefresh {
		if lastErr != nil {
			return lastErr
		}
		return errTooSoon
	}
	k.mu.Lock()
	k.attemptedAt = k.now()
	k.mu.Unlock()

	keys, err := k.fetch(ctx)
	k.mu.Lock()
	defer k.mu.Unlock()
	k.lastErr = err
	if err != nil {
		k.logger.WarnContext(ctx, "cannot load the identity provider's signing keys", "issuer", k.issuer, "jwks_uri", k.jwksURL, "err", err)
		return err
	}
	k.keys, k.loadedAt = keys, k.now()
	k.logger.InfoContext(ctx, "loaded the identity provider's signing keys", "issuer", k.issuer, "jwks_uri", k.jwksURL, "keys", len(keys))
	return nil
}

// ready reports whether keys are held, loading them if none are.
func (k *keySource) ready(ctx context.Context) error {
	if k.loaded() {
		return nil
	}
	err := k.refresh(ctx)
	if errors.Is(err, errTooSoon) && k.loaded() {
		return nil
	}
	if err != nil && !errors.Is(err, errTooSoon) {
		return err
	}
	if !k.loaded() {
		return errors.New("the identity provider's signing keys are not loaded yet")
	}
	return nil
}

// fetch discovers the JWKS URL if needed and loads the signing keys.
func (k *keySource) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	k.mu.Lock()
	jwksURL := k.jwksURL
	k.mu.Unlock()
	if jwksURL == "" {
		u, err := k.discover(ctx)
		if err != nil {
			return nil, err
		}
		k.mu.Lock()
		k.jwksURL = u
		k.mu.Unlock()
		jwksURL = u
	}
	var set jose.JSONWebKeySet
	if err := k.getJSON(ctx, jwksURL, &set); err != nil {
		return nil, fmt.Errorf("load JWKS: %w", err)
	}
	var keys []jose.JSONWebKey
	for _, key := range set.Keys {
		if key.IsPublic() && key.Valid() && (key.Use == "" || key.Use == "sig") {
			keys = append(keys, key)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("JWKS %s has no public signing keys", jwksURL)
	}
	return keys, nil
}

// discoveryURLs lists where an issuer's metadata may be: OpenID Connect
// discovery (path appended), then RFC 8414 (path inserted), then OpenID
// Connect with the path inserted.
func discoveryURLs(issuer string) []string {
	u, err := url.Parse(issuer)
	if err != nil {
		return nil
	}
	path := strings.TrimSuffix(u.Path, "/")
	origin := u.Scheme + "://" + u.Host
	return []string{
		origin + path + "/.well-known/openid-configuration",
		origin + "/.well-known/oauth-authorization-server" + path,
		origin + "/.well-known/openid-configuration" + path,
	}
}

// discover finds the issuer's jwks_uri in its metadata.
func (k *keySource) discover(ctx context.Context) (string, error) {
	var errs []error
	for _, u := range discoveryURLs(k.issuer) {
		var meta struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
		}
		err := k.getJSON(ctx, u, &meta)
		var st statusError
		switch {
		case errors.As(err, &st) && st >= 400 && st < 500:
			errs = append(errs, fmt.Errorf("%s: %w", u, err))
			continue // not here: try the next place
		case err != nil:
			return "", fmt.Errorf("discovery %s: %w", u, err)
		case meta.Issuer != k.issuer:
			return "", fmt.Errorf("discovery %s: the metadata's issuer is %q, not OAUTH_ISSUER %q: set OAUTH_ISSUER to the issuer exactly as the provider states it", u, meta.Issuer, k.issuer)
		case meta.JWKSURI == "":
			return "", fmt.Errorf("discovery %s: the metadata has no jwks_uri: set OAUTH_JWKS_URL", u)
		}
		return meta.JWKSURI, nil
	}
	return "", fmt.Errorf("no discovery metadata for issuer %s (set OAUTH_JWKS_URL to skip discovery): %w", k.issuer, errors.Join(errs...))
}

type statusError int

func (s statusError) Error() string { return fmt.Sprintf("HTTP status %d", int(s)) }

func (k *keySource) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	res, err := k.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		return statusError(res.StatusCode)
	}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return fmt.Errorf("content type %q, want application/json", res.Header.Get("Content-Type"))
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(v); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	return nil
}
