// Package docurl decides the URL that search results and fetched documents
// carry, the link ChatGPT shows as a citation.
//
// The rule: a document's own absolute http(s) URL when it has one; else a link
// to this server's read-only document view under the public base URL; else "".
// Never a filesystem path and never a relative URL.
package docurl

import (
	"fmt"
	"net/url"
	"strings"
)

// ViewPath is the path prefix of the document view served by the HTTP server.
const ViewPath = "/docs/"

// Linker builds citation URLs. The zero value has no public base URL and so
// links only documents that carry their own URL.
type Linker struct {
	base string  // scheme://host[:port][/prefix], no trailing slash; "" when unset
	sign *signer // nil: view links are not signed (see Signed)
}

// NewLinker returns a Linker for the public base URL, which must be an
// absolute http(s) URL without query or fragment, or "".
func NewLinker(publicBaseURL string) (Linker, error) {
	if publicBaseURL == "" {
		return Linker{}, nil
	}
	u, err := ParseBase(publicBaseURL)
	if err != nil {
		return Linker{}, err
	}
	return Linker{base: strings.TrimSuffix(u.String(), "/")}, nil
}

// ParseBase checks a public base URL: absolute, http or https, a host, no
// query, fragment or user info.
func ParseBase(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%q is not a URL: %w", raw, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%q must start with https:// or http://", raw)
	case u.Host == "":
		return nil, fmt.Errorf("%q has no host", raw)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return nil, fmt.Errorf("%q must not have a query, fragment or user info", raw)
	}
	return u, nil
}

// Base returns the public base URL, or "" when none is set.
func (l Linker) Base() string { return l.base }

// URL returns the citation URL for a document with the given id and own URL.
func (l Linker) URL(id, own string) string {
	if IsCitable(own) {
		return own
	}
	if l.base == "" || id == "" {
		return ""
	}
	link := l.base + ViewURLPath(id)
	if l.sign == nil {
		return link
	}
	if strings.Contains(link, "?") {
		return link + "&" + l.sign.query(id)
	}
	return link + "?" + l.sign.query(id)
}

// ID reports the document id that a view URL under the public base URL
// points at, so that fetch accepts the URLs search hands out.
func (l Linker) ID(rawURL string) (string, bool) {
	if l.base == "" || !strings.HasPrefix(rawURL, l.base+"/") {
		return "", false
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", false
	}
	b, err := url.Parse(l.base)
	if err != nil {
		return "", false
	}
	u.Path = strings.TrimPrefix(u.Path, b.Path)
	return ViewID(u)
}

// ViewURLPath returns the path (and, for ids that cannot be path segments,
// the query) of the view of the document with the id, relative to the server
// root. Ids made of ordinary path segments keep their slashes, so that
// "guides/setup.md" reads /docs/guides/setup.md; any other id is passed as
// /docs/?id=... so that no proxy or browser rewrites it.
func ViewURLPath(id string) string {
	segments := strings.Split(id, "/")
	for _, s := range segments {
		if s == "" || s == "." || s == ".." {
			return ViewPath + "?id=" + url.QueryEscape(id)
		}
	}
	for i, s := range segments {
		segments[i] = url.PathEscape(s)
	}
	return ViewPath + strings.Join(segments, "/")
}

// ViewID returns the document id addressed by a request for the document
// view (the inverse of ViewURLPath), and whether the URL addresses one.
func ViewID(u *url.URL) (string, bool) {
	if !strings.HasPrefix(u.Path, ViewPath) {
		return "", false
	}
	if id := u.Query().Get("id"); id != "" && u.Path == ViewPath {
		return id, true
	}
	id := strings.TrimPrefix(u.Path, ViewPath)
	return id, id != ""
}

// IsCitable reports whether s is an absolute http(s) URL with a host: the
// only kind of URL ChatGPT turns into a citation. OpenAI's file storage
// pages (platform.openai.com/storage/...) are not: only members of the
// OpenAI project can open them, not the people reading the answer.
func IsCitable(s string) bool {
	if s == "" {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return false
	}
	return !(strings.EqualFold(u.Hostname(), "platform.openai.com") && strings.HasPrefix(u.Path, "/storage/"))
}
