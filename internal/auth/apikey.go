package auth

import (
	"bufio"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	mcpauth "github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/connectorhq/connector/internal/access"
)

// An API key entry is the key, then, separated by spaces, the principals
// its holder gets besides authenticated and user:apikey:<id>:
//
//	KEY
//	KEY group:eng group:ops role:admin
//
// Keys hold no whitespace (CheckAPIKeys) and principal names hold neither
// whitespace nor commas, so spaces split an entry and commas split API_KEYS
// into entries without ambiguity, whatever else a key contains ("=" and "#"
// included).

// apiKey is a configured key: its SHA-256, the id it is known by and the
// caller its holder is.
type apiKey struct {
	sum    [sha256.Size]byte
	id     string // "apikey:" + first 8 hex digits of sum
	caller access.Caller
}

// ParseAPIKey splits an entry "KEY [PRINCIPAL...]" into the key and the
// principals configured for it, and checks both. Its errors never quote the
// key, nor a word that might be part of it.
func ParseAPIKey(entry string) (key string, principals []access.Principal, err error) {
	fields := strings.Fields(entry)
	if len(fields) == 0 {
		return "", nil, errEmptyEntry
	}
	key = fields[0]
	if err := checkKey(key); err != nil {
		return "", nil, fmt.Errorf("the key %w", err)
	}
	principals, err = parseKeyPrincipals(fields[1:])
	return key, principals, err
}

var errEmptyEntry = errors.New("the entry is empty: write the key, then any principals separated by spaces")

// parseKeyPrincipals parses the words after a key; errors say which one.
func parseKeyPrincipals(words []string) ([]access.Principal, error) {
	var ps []access.Principal
	for i, w := range words {
		p, err := parseKeyPrincipal(w)
		if err != nil {
			return nil, fmt.Errorf("principal %d %w", i+1, err)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// parseKeyPrincipal parses one principal after a key. A word that does not
// start like a principal is not quoted: it may be the rest of a key that
// was pasted with a space in it.
func parseKeyPrincipal(f string) (access.Principal, error) {
	kind, _, _ := strings.Cut(strings.ToLower(f), ":")
	switch kind {
	case "group", "user", "role", string(access.Authenticated):
	case string(access.None):
		return "", errors.New("is none, which names nobody and cannot be given to a key: list no principals to make the key just authenticated")
	default:
		return "", errors.New("is not group:NAME, user:NAME, role:NAME or authenticated (not quoted here, in case it is part of a key: keys cannot contain spaces)")
	}
	p, err := access.ParsePrincipal(f)
	if err != nil {
		return "", fmt.Errorf("is wrong: %w", err)
	}
	return p, nil
}

// checkKey says what is wrong with a key, as the end of a sentence about
// it, without quoting it.
func checkKey(k string) error {
	switch {
	case len(k) < MinAPIKeyLen:
		return fmt.Errorf("is %d characters long: use at least %d random characters (generate one with: openssl rand -hex 32)", len(k), MinAPIKeyLen)
	case !printableASCII(k):
		return errors.New("has spaces, commas or characters outside printable ASCII, which HTTP headers cannot carry reliably: use letters, digits and punctuation (e.g. from: openssl rand -hex 32)")
	}
	return nil
}

// CheckAPIKeys reports what is wrong with configured entries (ParseAPIKey),
// without quoting keys: each key must be at least MinAPIKeyLen printable
// ASCII characters, with no spaces or commas, and given once.
func CheckAPIKeys(entries []string) error {
	if len(entries) == 0 {
		return errors.New("no API key given: set one or more comma-separated keys (generate one with: openssl rand -hex 32)")
	}
	var errs []error
	seen := map[[sha256.Size]byte]int{}
	for i, e := range entries {
		n := i + 1
		fields := strings.Fields(e)
		if len(fields) == 0 {
			errs = append(errs, fmt.Errorf("key %d of %d: %w", n, len(entries), errEmptyEntry))
			continue
		}
		key := fields[0]
		if err := checkKey(key); err != nil {
			errs = append(errs, fmt.Errorf("key %d of %d %w", n, len(entries), err))
			continue
		}
		if _, err := parseKeyPrincipals(fields[1:]); err != nil {
			errs = append(errs, fmt.Errorf("key %d of %d: %w", n, len(entries), err))
			continue
		}
		sum := sha256.Sum256([]byte(key))
		if first, dup := seen[sum]; dup {
			errs = append(errs, fmt.Errorf("key %d of %d is key %d again: give each key once, with all its principals", n, len(entries), first))
			continue
		}
		seen[sum] = n
	}
	return errors.Join(errs...)
}

// ParseAPIKeysFile reads a keys file (API_KEYS_FILE): one entry "KEY
// [PRINCIPAL...]" per line; blank lines and lines starting with "#" are
// skipped, and a word starting with "#" after the key starts a comment.
// Errors name name:line, never a key.
func ParseAPIKeysFile(name string, r io.Reader) ([]string, error) {
	var entries []string
	var errs []error
	seen := map[[sha256.Size]byte]int{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		for i, f := range fields[1:] {
			if strings.HasPrefix(f, "#") {
				fields = fields[:i+1]
				break
			}
		}
		entry := strings.Join(fields, " ")
		key, _, err := ParseAPIKey(entry)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", name, line, err))
			continue
		}
		sum := sha256.Sum256([]byte(key))
		if first, dup := seen[sum]; dup {
			errs = append(errs, fmt.Errorf("%s:%d: the key of line %d again: give each key once, with all its principals", name, line, first))
			continue
		}
		seen[sum] = line
		entries = append(entries, entry)
	}
	if err := sc.Err(); err != nil {
		// bufio.ErrTooLong and read errors say nothing of the content.
		errs = append(errs, fmt.Errorf("%s: %w", name, err))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%s holds no key: write one per line, a key then any principals, e.g. KEY group:eng", name)
	}
	return entries, nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == ',' {
			return false
		}
	}
	return true
}

// hashAPIKeys checks the entries and keeps each key's hash, id and caller:
// authenticated, user:apikey:<id> and the principals configured.
func hashAPIKeys(entries []string) ([]apiKey, error) {
	if err := CheckAPIKeys(entries); err != nil {
		return nil, fmt.Errorf("API_KEYS: %w", err)
	}
	out := make([]apiKey, 0, len(entries))
	for _, e := range entries {
		key, ps, _ := ParseAPIKey(e) // checked above
		sum := sha256.Sum256([]byte(key))
		id := "apikey:" + hex.EncodeToString(sum[:4])
		out = append(out, apiKey{sum: sum, id: id, caller: access.NewCaller(id, "", nil, nil).With(ps...)})
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
func (a *Authenticator) checkAPIKey(presented string) (*mcpauth.TokenInfo, access.Caller, *failure) {
	sum := sha256.Sum256([]byte(presented))
	match := -1
	for i := range a.keys {
		if subtle.ConstantTimeCompare(sum[:], a.keys[i].sum[:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return nil, access.Caller{}, &failure{status: http.StatusUnauthorized, reason: ReasonBadAPIKey, oauthErr: "invalid_token",
			message: "the API key is not valid: send one of the keys configured in API_KEYS as Authorization: Bearer <key> or X-API-Key: <key>"}
	}
	return &mcpauth.TokenInfo{UserID: a.keys[match].id}, a.keys[match].caller, nil // keys do not expire
}
