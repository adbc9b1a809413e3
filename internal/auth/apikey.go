package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	mcpauth "github.com/modelcontextprotocol/go-sdk/auth"
)

// apiKey is a configured key: its SHA-256 and the id it is known by.
type apiKey struct {
	sum [sha256.Size]byte
	id  string // "apikey:" + first 8 hex digits of sum
}

// CheckAPIKeys reports what is wrong with configured keys, without quoting
// them: each must be at least MinAPIKeyLen printable ASCII characters, with
// no spaces or commas.
func CheckAPIKeys(keys []string) error {
	if len(keys) == 0 {
		return errors.New("no API key given: set one or more comma-separated keys (generate one with: openssl rand -hex 32)")
	}
	var errs []error
	for i, k := range keys {
		n := i + 1
		switch {
		case len(k) < MinAPIKeyLen:
			errs = append(errs, fmt.Errorf("key %d of %d is %d characters long: use at least %d random characters (generate one with: openssl rand -hex 32)", n, len(keys), len(k), MinAPIKeyLen))
		case !printableASCII(k):
			errs = append(errs, fmt.Errorf("key %d of %d has spaces, commas or characters outside printable ASCII, which HTTP headers cannot carry reliably: use letters, digits and punctuation (e.g. from: openssl rand -hex 32)", n, len(keys)))
		}
	}
	return errors.Join(errs...)
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == ',' {
			return false
		}
	}
	return true
}

func hashAPIKeys(keys []string) ([]apiKey, error) {
	if err := CheckAPIKeys(keys); err != nil {
		return nil, fmt.Errorf("API_KEYS: %w", err)
	}
	out := make([]apiKey, 0, len(keys))
	for _, k := range keys {
		sum := sha256.Sum256([]byte(k))
		out = append(out, apiKey{sum: sum, id: "apikey:" + hex.EncodeToString(sum[:4])})
	}
	return out, nil
}

// APIKeyID returns the non-secret id a key is logged and rate-limited by.
func APIKeyID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return "apikey:" + hex.EncodeToString(sum[:4])
}

// checkAPIKey compares the presented key's hash with every configured one in
// constant time, so that neither the match nor its position leaks through timing.
func (a *Authenticator) checkAPIKey(presented string) (*mcpauth.TokenInfo, *failure) {
	sum := sha256.Sum256([]byte(presented))
	match := -1
	for i := range a.keys {
		if subtle.ConstantTimeCompare(sum[:], a.keys[i].sum[:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return nil, &failure{status: http.StatusUnauthorized, reason: ReasonBadAPIKey, oauthErr: "invalid_token",
			message: "the API key is not valid: send one of the keys configured in API_KEYS as Authorization: Bearer <key> or X-API-Key: <key>"}
	}
	return &mcpauth.TokenInfo{UserID: a.keys[match].id}, nil // keys do not expire
}
