// Package web reads a documentation website into documents for the index,
// as package ingest reads files: it reads the site's sitemaps (or, without
// them, follows its links within the start URL's folder), honours
// robots.txt, fetches pages with a politeness delay, conditional requests
// and a size and time limit, and keeps each page's main content.
package web

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"
)

// Site is one website argument of `connector index`: its start URL and
// the folder of the site that the crawl stays in.
type Site struct {
	// Key identifies the site across runs (store.SourceDocument.Root): the
	// URL of the folder crawled, e.g. "https://docs.example.com/guide/".
	Key string
	// Start is the page the crawl starts from, normalised.
	Start *url.URL
	// prefix is the path every page's path starts with; it ends with "/".
	prefix string
}

// IsURL reports whether an argument of `connector index` names a website
// (an http or https URL) rather than a path.
func IsURL(arg string) bool {
	s := strings.ToLower(arg)
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// ParseSite reads a start URL. The crawl stays on its host and in its
// folder: the path up to its last "/", or the whole path when its last
// segment has no dot ("/docs" is taken as the folder "/docs/", while
// "/docs/index.html" is in the folder "/docs/").
func ParseSite(raw string) (Site, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return Site{}, fmt.Errorf("url %q: %v; give a website as https://docs.example.com/", raw, errors.Unwrap(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return Site{}, fmt.Errorf("url %q: not an absolute http(s) URL; give a website as https://docs.example.com/", raw)
	}
	if u.User != nil {
		return Site{}, fmt.Errorf("url %q: user names and passwords in URLs are not supported; index a site that needs no login", raw)
	}
	u = normalise(u)
	prefix := u.Path
	switch last := path.Base(u.Path); {
	case strings.HasSuffix(u.Path, "/"):
	case strings.Contains(last, "."):
		prefix = u.Path[:strings.LastIndexByte(u.Path, '/')+1]
	default:
		prefix += "/"
	}
	key := (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: prefix}).String()
	return Site{Key: key, Start: u, prefix: prefix}, nil
}

// normalise returns a copy of u fit to compare pages: scheme and host in
// lower case without a default port, "/" for an empty path, no fragment.
func normalise(u *url.URL) *url.URL {
	n := *u
	n.Scheme = strings.ToLower(n.Scheme)
	n.Host = strings.ToLower(n.Host)
	if h, p, ok := strings.Cut(n.Host, ":"); ok && (n.Scheme == "http" && p == "80" || n.Scheme == "https" && p == "443") {
		n.Host = h
	}
	if n.Path == "" {
		n.Path, n.RawPath = "/", ""
	}
	n.Fragment, n.RawFragment, n.User = "", "", nil
	n.ForceQuery = false
	return &n
}

// sameHost reports whether u is on the site's scheme and host.
func (s Site) sameHost(u *url.URL) bool {
	return u.Scheme == s.Start.Scheme && u.Host == s.Start.Host
}

// inScope reports whether the page u belongs to the site: same host, and
// its path in the site's folder (or the folder's own path without "/").
func (s Site) inScope(u *url.URL) bool {
	return s.sameHost(u) && (strings.HasPrefix(u.Path, s.prefix) || u.Path+"/" == s.prefix)
}

// file returns the page's store.SourceDocument.File: its path below the
// site's folder, with its query; "." for the folder's own page.
func (s Site) file(u *url.URL) string {
	rel := strings.TrimPrefix(u.EscapedPath(), (&url.URL{Path: s.prefix}).EscapedPath())
	if u.Path+"/" == s.prefix {
		rel = ""
	}
	if u.RawQuery != "" {
		rel += "?" + u.RawQuery
	}
	if rel == "" {
		return "."
	}
	return rel
}

// docID returns the id of the page whose own URL is u: its host and path
// (and query), e.g. "docs.example.com/guide/intro", readable and stable.
func docID(u *url.URL) string {
	id := u.Host + u.EscapedPath()
	if u.RawQuery != "" {
		id += "?" + u.RawQuery
	}
	return id
}
