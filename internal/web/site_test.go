package web

import (
	"net/url"
	"strings"
	"testing"
)

func TestParseSite(t *testing.T) {
	for _, tt := range []struct{ in, key, start string }{
		{"https://Docs.Example.com", "https://docs.example.com/", "https://docs.example.com/"},
		{"https://docs.example.com:443/guide", "https://docs.example.com/guide/", "https://docs.example.com/guide"},
		{"http://example.com/docs/index.html#top", "http://example.com/docs/", "http://example.com/docs/index.html"},
		{" https://example.com/docs/?lang=en ", "https://example.com/docs/", "https://example.com/docs/?lang=en"},
	} {
		s, err := ParseSite(tt.in)
		if err != nil || s.Key != tt.key || s.Start.String() != tt.start {
			t.Errorf("ParseSite(%q) = %q %v, %v; want %q %q", tt.in, s.Key, s.Start, err, tt.key, tt.start)
		}
	}
	for _, in := range []string{"ftp://example.com/", "https:///docs", "https://user:pw@example.com/", "https://exa mple.com/"} {
		if _, err := ParseSite(in); err == nil || !strings.Contains(err.Error(), "url ") {
			t.Errorf("ParseSite(%q): %v, want an error naming the URL", in, err)
		}
	}
}

func TestSiteFiles(t *testing.T) {
	s, _ := ParseSite("https://example.com/docs")
	for _, tt := range []struct{ u, file, id string }{
		{"https://example.com/docs", ".", "example.com/docs"},
		{"https://example.com/docs/", ".", "example.com/docs/"},
		{"https://example.com/docs/guide/install", "guide/install", "example.com/docs/guide/install"},
		{"https://example.com/docs/a%20b?x=1", "a%20b?x=1", "example.com/docs/a%20b?x=1"},
	} {
		u, _ := url.Parse(tt.u)
		if !s.inScope(u) || s.file(u) != tt.file || docID(u) != tt.id {
			t.Errorf("%s: in scope %v, file %q, id %q; want %q %q", tt.u, s.inScope(u), s.file(u), docID(u), tt.file, tt.id)
		}
	}
	for _, out := range []string{"https://example.com/docsearch", "https://example.com/", "http://example.com/docs/a", "https://other.com/docs/a"} {
		if u, _ := url.Parse(out); s.inScope(u) {
			t.Errorf("%s is in scope", out)
		}
	}
}
