package web

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
)

// versioned serves an HTML page with an ETag and a Last-Modified date,
// answering 304 to a request that has them.
func (s *site) versioned(path, etag, body string) {
	s.set(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, body)
	})
}

// TestCrawlIncremental: a second crawl sends the validators of the first
// one's documents: an unchanged page answers 304, a changed one is read
// again, a removed one (404) is reported gone.
func TestCrawlIncremental(t *testing.T) {
	s := newSite(t)
	u := s.srv.URL
	s.html("/sitemap.xml", `<urlset><url><loc>`+u+`/</loc></url><url><loc>`+u+`/a</loc></url><url><loc>`+u+`/b</loc></url><url><loc>`+u+`/c</loc></url></urlset>`)
	s.versioned("/", `"h1"`, "<title>Home</title>"+para("Home"))
	s.versioned("/a", `"a1"`, "<title>A</title>"+para("Alpha"))
	s.versioned("/b", `"b1"`, "<title>B</title>"+para("Bravo"))
	s.html("/c", "<title>C</title>"+para("Charlie")) // no validators
	first := crawl(t, u, Options{}, nil)
	if len(first.docs) != 4 || len(first.problems) != 0 {
		t.Fatalf("first crawl: docs %v problems %v", keys(first.docs), first.problems)
	}
	prev := map[string]map[string]string{}
	for _, d := range first.docs {
		prev[d.ID] = d.Metadata
	}
	if m := first.docs[u+"/a"].Metadata; m[MetaETag] != `"a1"` || m[MetaLastModified] != "Mon, 02 Jan 2006 15:04:05 GMT" {
		t.Errorf("validators not stored: %v", m)
	}

	s.versioned("/a", `"a2"`, "<title>A</title>"+para("Alpha changed"))
	s.set("/c", http.NotFound)
	second := crawl(t, u, Options{}, prev)
	if got, want := keys(second.docs), []string{u + "/a"}; !slices.Equal(got, want) {
		t.Errorf("second crawl read %v, want %v", got, want)
	}
	if got, want := slices.Sorted(slices.Values(second.notModified)), []string{u + "/", u + "/b"}; !slices.Equal(got, want) {
		t.Errorf("not modified %v, want %v", got, want)
	}
	if p, ok := second.problems[u+"/c"]; !ok || !p.Gone || len(second.problems) != 1 {
		t.Errorf("problems %v", second.problems)
	}
	if m := second.docs[u+"/a"].Metadata; m[MetaETag] != `"a2"` {
		t.Errorf("new validators not stored: %v", m)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conds["/a"] != `"a1"` || s.conds["/b"] != `"b1"` || s.conds["/c"] != "" {
		t.Errorf("conditional requests: %v", s.conds)
	}
}

// TestCrawlFollowingSendsNoValidators: without a sitemap, pages are
// fetched in full, for their links; a 304 would hide them.
func TestCrawlFollowingSendsNoValidators(t *testing.T) {
	s := newSite(t)
	u := s.srv.URL
	s.versioned("/", `"h1"`, `<title>Home</title>`+para("Home")+`<a href="/a">a</a>`)
	s.versioned("/a", `"a1"`, "<title>A</title>"+para("Alpha"))
	first := crawl(t, u, Options{}, nil)
	prev := map[string]map[string]string{}
	for _, d := range first.docs {
		prev[d.ID] = d.Metadata
	}
	second := crawl(t, u, Options{}, prev)
	if len(second.docs) != 2 || len(second.notModified) != 0 {
		t.Errorf("second crawl: docs %v, not modified %v", keys(second.docs), second.notModified)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.conds) != 0 {
		t.Errorf("conditional requests sent: %v", s.conds)
	}
}
