// Package access decides which documents a caller may read (issue 16).
//
// A document carries an access List of principals; a Caller holds the
// principals its verified token proves. The caller may read the document
// when the two share a principal, with a Default policy for documents that
// carry no list.
//
// Principals are written kind:name:
//
//	group:NAME              a group claim value (Entra sends GUIDs, Keycloak names)
//	user:SUBJECT-OR-EMAIL   the token's sub, or its email
//	role:NAME               a role claim value
//	authenticated           any verified caller
//	none                    nobody; only alone (an empty .access file means this)
//
// The kind is case-insensitive and written lower case. Names are compared
// exactly as providers send them, except that a user name holding "@" is an
// email and is lower-cased (ASCII only), since providers and admins spell the
// same address with different case.
package access

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Principal is one entry of an access list, in canonical form.
type Principal string

// The principals without a name.
const (
	// Authenticated matches any verified caller.
	Authenticated Principal = "authenticated"
	// None matches no caller; it stands alone in a list.
	None Principal = "none"
)

// MaxNameLen is the longest name accepted after kind:, in bytes.
const MaxNameLen = 256

// accepted is appended to syntax errors so they say what to write instead.
const accepted = "write group:NAME, user:SUBJECT-OR-EMAIL, role:NAME, authenticated or none"

// ParsePrincipal parses one principal, trimming surrounding spaces.
func ParsePrincipal(s string) (Principal, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return "", fmt.Errorf("empty principal; %s", accepted)
	}
	kind, name, hasName := strings.Cut(t, ":")
	kind = strings.ToLower(kind)
	switch kind {
	case string(Authenticated), string(None):
		if hasName {
			return "", fmt.Errorf("%s: %q takes no name; %s", quote(t), kind, accepted)
		}
		return Principal(kind), nil
	case "group", "user", "role":
	default:
		if !hasName {
			return "", fmt.Errorf("%s: missing kind; %s", quote(t), accepted)
		}
		return "", fmt.Errorf("%s: unknown kind %s; %s", quote(t), quote(kind), accepted)
	}
	p, err := principal(kind, name)
	if err != nil {
		return "", fmt.Errorf("%s: %w", quote(t), err)
	}
	return p, nil
}

// principal checks name and joins it to kind (group, user or role).
func principal(kind, name string) (Principal, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	if kind == "user" && strings.Contains(name, "@") {
		name = lowerASCII(name)
	}
	return Principal(kind + ":" + name), nil
}

// checkName accepts 1 to MaxNameLen bytes of visible UTF-8 without "," or
// "#", which separate list entries and start comments in access files.
func checkName(name string) error {
	switch {
	case name == "":
		return errors.New("empty name after the kind")
	case len(name) > MaxNameLen:
		return fmt.Errorf("name is %d bytes, more than %d", len(name), MaxNameLen)
	case !utf8.ValidString(name):
		return errors.New("name is not valid UTF-8")
	}
	for _, r := range name {
		switch {
		case r == ',':
			return errors.New(`name contains ","; give one principal per entry`)
		case r == '#':
			return errors.New(`name contains "#", which starts a comment in access files`)
		case unicode.IsSpace(r):
			return errors.New("name contains whitespace")
		case !unicode.IsGraphic(r):
			return fmt.Errorf("name contains the invisible or control character %U", r)
		}
	}
	return nil
}

func lowerASCII(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// quote quotes user input for an error, cut short so one bad line stays one
// readable line.
func quote(s string) string {
	const limit = 80
	if len(s) > limit {
		return fmt.Sprintf("%q...", s[:limit])
	}
	return fmt.Sprintf("%q", s)
}

// List is a document's access list: sorted, without duplicates. An empty
// (nil) list means none was given, so the document inherits its folder's
// list, then the run's, then the Default. List{None} means nobody.
type List []Principal

// String joins the list with ",", the form ParseList reads.
func (l List) String() string {
	var b strings.Builder
	for i, p := range l {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(string(p))
	}
	return b.String()
}

// ParseList parses a comma-separated list, as given to --access or in a
// record's or front matter's access string. A blank string gives nil.
func ParseList(s string) (List, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	return ParseListItems(strings.Split(s, ","))
}

// ParseListItems parses a list given as separate entries, such as a YAML
// sequence in front matter. No entries gives nil.
func ParseListItems(items []string) (List, error) {
	l := make(List, 0, len(items))
	for i, s := range items {
		p, err := ParsePrincipal(s)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
		l = append(l, p)
	}
	return build(l)
}

// build sorts and deduplicates l and refuses None beside other principals.
func build(l List) (List, error) {
	if len(l) == 0 {
		return nil, nil
	}
	slices.Sort(l)
	l = slices.Compact(l)
	if len(l) > 1 && slices.Contains(l, None) {
		return nil, fmt.Errorf("%q cannot be combined with other principals (%s); remove it or them", None, l)
	}
	return l, nil
}

// Default is the DEFAULT_ACCESS policy for documents that carry no list.
// The zero value is invalid and reads as DefaultNone, failing closed.
type Default int

const (
	// DefaultAuthenticated lets any verified caller read unlisted documents.
	DefaultAuthenticated Default = iota + 1
	// DefaultNone makes unlisted documents unreadable.
	DefaultNone
)

// ParseDefault parses DEFAULT_ACCESS; blank means "authenticated".
func ParseDefault(s string) (Default, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "authenticated":
		return DefaultAuthenticated, nil
	case "none":
		return DefaultNone, nil
	}
	return 0, fmt.Errorf("DEFAULT_ACCESS=%s: write authenticated (any verified caller reads unlisted documents) or none (nobody does)", quote(s))
}

// String returns the DEFAULT_ACCESS spelling.
func (d Default) String() string {
	if d == DefaultAuthenticated {
		return "authenticated"
	}
	return "none"
}
