package access

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"unicode"
)

// Caller is who asks: the principals a verified token proves, or everyone
// when authentication is off. The zero Caller proves nothing and may read
// nothing.
type Caller struct {
	principals []Principal // sorted, without duplicates
	everyone   bool
}

// NewCaller returns a verified caller with the principals user:sub,
// user:email, group:G for each group and role:R for each role, and
// Authenticated. Blank values, and values no principal could name (such as
// names with spaces), are skipped: no access list can match them anyway.
//
// Pass email only when the provider vouches for it (email_verified, or a
// provider that verifies every address); otherwise anyone who can set an
// address at the provider could read what user:EMAIL may read.
func NewCaller(sub, email string, groups, roles []string) Caller {
	ps := []Principal{Authenticated}
	add := func(kind, name string) {
		if p, err := principal(kind, strings.TrimSpace(name)); err == nil {
			ps = append(ps, p)
		}
	}
	add("user", sub)
	add("user", email)
	for _, g := range groups {
		add("group", g)
	}
	for _, r := range roles {
		add("role", r)
	}
	slices.Sort(ps)
	return Caller{principals: slices.Compact(ps)}
}

// With returns c with the principals ps added, for callers whose principals
// are configured rather than claimed (API keys). None is skipped: it names
// nobody, so no caller holds it. Everyone stays Everyone.
func (c Caller) With(ps ...Principal) Caller {
	if c.everyone {
		return c
	}
	out := slices.Clone(c.principals)
	for _, p := range ps {
		if p != None && p != "" {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return Caller{principals: slices.Compact(out)}
}

// Everyone is the caller when AUTH_MODE=none: with no identity to check,
// every document is public, those listed as None too (README says so).
// DEFAULT_ACCESS does not apply.
func Everyone() Caller {
	return Caller{everyone: true}
}

// IsEveryone reports whether c is Everyone.
func (c Caller) IsEveryone() bool { return c.everyone }

// Principals returns a copy of c's principals, sorted.
func (c Caller) Principals() []Principal {
	return slices.Clone(c.principals)
}

// MayRead reports whether c may read a document with list l; an empty l
// (no list given anywhere) falls to def.
func (c Caller) MayRead(l List, def Default) bool {
	switch {
	case c.everyone:
		return true
	case slices.Contains(l, None):
		return false
	case len(l) == 0:
		return def == DefaultAuthenticated && c.has(Authenticated)
	}
	for _, p := range l {
		if c.has(p) {
			return true
		}
	}
	return false
}

func (c Caller) has(p Principal) bool {
	_, ok := slices.BinarySearch(c.principals, p)
	return ok
}

// LogID returns a short stable id for c to log instead of its principals:
// the first 12 hex digits of SHA-256 over the sorted principals, or
// "everyone". It is a pseudonym, not a secret: anyone who can guess a
// caller's principals can compute it. The zero Caller is "nobody".
func (c Caller) LogID() string {
	switch {
	case c.everyone:
		return "everyone"
	case len(c.principals) == 0:
		return "nobody"
	}
	h := sha256.New()
	for _, p := range c.principals {
		h.Write([]byte(p))
		h.Write([]byte{'\n'}) // names hold no whitespace, so this separates
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// ClaimValues returns the values of a group or role claim in the shapes
// providers send: a JSON array of strings (Entra, Okta, Keycloak, Auth0's
// namespaced claims), a single string of values separated by spaces or
// commas, a []any mixing strings with other types (non-strings are
// skipped), or raw JSON of either. Absent (nil) gives none. Array entries
// are kept whole, trimmed; empty ones are dropped.
func ClaimValues(v any) []string {
	var out []string
	switch v := v.(type) {
	case string:
		out = strings.FieldsFunc(v, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	case []string:
		for _, s := range v {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				if s = strings.TrimSpace(s); s != "" {
					out = append(out, s)
				}
			}
		}
	case json.RawMessage:
		var decoded any
		if json.Unmarshal(v, &decoded) == nil {
			return ClaimValues(decoded)
		}
	}
	return out
}
