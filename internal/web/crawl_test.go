package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/ingest"
	"github.com/connectorhq/connector/internal/store"
)

// htmlPage is a page with site chrome around its main content, as
// documentation sites have.
func htmlPage(title, body string, head ...string) string {
	return `<!doctype html><html lang="en"><head><title>` + title + `</title>` + strings.Join(head, "") + `</head><body>
<header><a href="/docs/">Home</a> NAVWORD header</header>
<nav><ul><li><a href="/docs/a">A</a></li><li><a href="/docs/b">B</a></li></ul> NAVWORD menu</nav>
<main><article><h1>` + title + `</h1>` + body + `</article></main>
<footer>NAVWORD footer © Example</footer></body></html>`
}

// para is a paragraph long enough to read as content.
func para(words string) string {
	return "<p>" + strings.Repeat(words+" is documented here in some detail for the readers of this site. ", 4) + "</p>"
}

// site is a website served by httptest, page by page.
type site struct {
	srv   *httptest.Server
	mu    sync.Mutex
	pages map[string]http.HandlerFunc
	hits  map[string]int
	conds map[string]string // path → If-None-Match received
}

func newSite(t *testing.T) *site {
	s := &site{pages: map[string]http.HandlerFunc{}, hits: map[string]int{}, conds: map[string]string{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		h, ok := s.pages[r.URL.Path]
		s.hits[r.URL.RequestURI()]++
		if v := r.Header.Get("If-None-Match"); v != "" {
			s.conds[r.URL.Path] = v
		}
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *site) set(path string, h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages[path] = h
}

func (s *site) html(path, body string) {
	s.set(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	})
}

func (s *site) text(path, contentType, body string) {
	s.set(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		fmt.Fprint(w, strings.ReplaceAll(body, "SRV", s.srv.URL))
	})
}

func (s *site) hit(uri string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[uri]
}

// crawlResult is what a crawl handed its handler.
type crawlResult struct {
	docs        map[string]store.SourceDocument // by URL
	problems    map[string]ingest.Problem       // by Place
	notModified []string
}

func crawl(t *testing.T, start string, opts Options, prev map[string]map[string]string) crawlResult {
	t.Helper()
	st, err := ParseSite(start)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Second
	}
	res := crawlResult{docs: map[string]store.SourceDocument{}, problems: map[string]ingest.Problem{}}
	ids := map[string]bool{}
	err = Crawl(context.Background(), st, opts, Handler{
		Document: func(d store.SourceDocument) error {
			if ids[d.ID] {
				t.Errorf("id %s emitted twice", d.ID)
			}
			ids[d.ID] = true
			res.docs[d.URL] = d
			return nil
		},
		Problem: func(p ingest.Problem) {
			if _, dup := res.problems[p.String()]; dup {
				t.Errorf("problem reported twice: %s", p)
			}
			res.problems[store.Place(p.Root, p.File, 0)] = p
		},
		NotModified: func(root, file string) { res.notModified = append(res.notModified, store.Place(root, file, 0)) },
		Previous: func(id string) (map[string]string, bool) {
			m, ok := prev[id]
			return m, ok
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func keys[M ~map[string]V, V any](m M) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestCrawlLinks crawls a site without a sitemap by its links: robots.txt
// rules, a redirect, canonical links, a 500, a slow page, a huge page,
// non-HTML links, a loop, a 404, links out of the folder and off the host.
func TestCrawlLinks(t *testing.T) {
	s := newSite(t)
	u := s.srv.URL
	s.text("/robots.txt", "text/plain", "User-agent: *\nDisallow: /docs/private/\n")
	s.html("/docs/", htmlPage("Docs home", para("The home page")+`<p>
		<a href="/docs/a">a</a> <a href="b">b</a> <a href="/docs/private/x">private</a> <a href="/blog/">blog</a>
		<a href="https://other.example/">elsewhere</a> <a href="/docs/old">old</a> <a href="/docs/new#top">new</a>
		<a href="/docs/broken">broken</a> <a href="/docs/slow">slow</a> <a href="/docs/huge">huge</a>
		<a href="/docs/manual.pdf">pdf</a> <a href="/docs/report">report</a> <a href="/docs/loop1">loop</a>
		<a href="/docs/dup">dup</a> <a href="/docs/c">c</a> <a href="/docs/missing">missing</a>
		<a href="/docs/away">away</a> <a href="/docs/hidden" rel="nofollow">hidden</a> <a href="mailto:x@example.com">mail</a></p>`))
	s.html("/docs/a", htmlPage("Alpha", para("Alpha")))
	s.html("/docs/b", htmlPage("Bravo page", para("Bravo"), `<meta property="og:title" content="Bravo">`))
	s.html("/docs/private/x", htmlPage("Private", para("Private")))
	s.html("/blog/", htmlPage("Blog", para("Blog")))
	s.set("/docs/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/docs/new", http.StatusMovedPermanently)
	})
	s.html("/docs/new", htmlPage("New", para("Newer")))
	s.set("/docs/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://other.example/x", http.StatusFound)
	})
	s.set("/docs/broken", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) })
	s.set("/docs/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	s.html("/docs/huge", htmlPage("Huge", strings.Repeat(para("Huge"), 200)))
	s.text("/docs/manual.pdf", "application/pdf", "%PDF-1.4")
	s.text("/docs/report", "application/pdf", "%PDF-1.4")
	s.html("/docs/loop1", htmlPage("Loop one", para("Loop one")+`<a href="/docs/loop2">2</a><a href="/docs/loop1">1</a>`))
	s.html("/docs/loop2", htmlPage("Loop two", para("Loop two")+`<a href="/docs/loop1">1</a><a href="/docs/loop2?">2</a>`))
	s.html("/docs/dup", htmlPage("Alpha again", para("Alpha"), `<link rel="canonical" href="/docs/a">`))
	s.html("/docs/c", htmlPage("Charlie", para("Charlie"), `<link rel="canonical" href="https://other.example/c">`))

	res := crawl(t, u+"/docs/", Options{Timeout: 300 * time.Millisecond, MaxBytes: 20000, Access: access.List{"group:eng"}}, nil)

	wantDocs := []string{u + "/docs/", u + "/docs/a", u + "/docs/b", u + "/docs/c", u + "/docs/loop1", u + "/docs/loop2", u + "/docs/new"}
	if got := keys(res.docs); !slices.Equal(got, wantDocs) {
		t.Errorf("documents:\n%v\nwant\n%v", got, wantDocs)
	}
	host := strings.TrimPrefix(u, "http://")
	a := res.docs[u+"/docs/a"]
	if a.ID != host+"/docs/a" || a.Title != "Alpha" || a.Root != u+"/docs/" || a.File != "a" ||
		a.Metadata["format"] != "html" || a.Metadata["source"] != u+"/docs/a" || !slices.Equal(a.Access, access.List{"group:eng"}) {
		t.Errorf("document a: %+v", a)
	}
	if !strings.Contains(a.Text, "Alpha is documented here") || strings.Contains(a.Text, "NAVWORD") {
		t.Errorf("document a's text is not its main content:\n%s", a.Text)
	}
	if d := res.docs[u+"/docs/"]; d.File != "." || d.ID != host+"/docs/" || d.Title != "Docs home" {
		t.Errorf("start page: id %q file %q title %q", d.ID, d.File, d.Title)
	}
	if d := res.docs[u+"/docs/b"]; d.Title != "Bravo" {
		t.Errorf("og:title not used: %q", d.Title)
	}
	if d := res.docs[u+"/docs/new"]; d.File != "new" || d.Metadata["source"] != u+"/docs/new" {
		t.Errorf("redirected page: %+v", d)
	}

	type want struct {
		reason string
		gone   bool
	}
	wantProblems := map[string]want{
		u + "/docs/private/x":  {"disallowed by robots.txt", true},
		u + "/blog/":           {"outside " + u + "/docs/", true},
		u + "/docs/broken":     {"HTTP 500 Internal Server Error; keeps its previous version", false},
		u + "/docs/slow":       {"cannot fetch: no answer within 300ms (WEB_TIMEOUT); keeps its previous version", false},
		u + "/docs/huge":       {"over the limit of", false},
		u + "/docs/manual.pdf": {"not an HTML page (a .pdf file)", true},
		u + "/docs/report":     {"not an HTML page (content type application/pdf)", true},
		u + "/docs/dup":        {"same page as " + u + "/docs/a", true},
		u + "/docs/missing":    {"HTTP 404 Not Found; removed from the index", true},
		u + "/docs/away":       {"redirects to https://other.example/x, outside " + u + "/docs/", true},
	}
	if got := keys(res.problems); !slices.Equal(got, keys(wantProblems)) {
		t.Errorf("problems:\n%v\nwant\n%v", got, keys(wantProblems))
	}
	for where, w := range wantProblems {
		p, ok := res.problems[where]
		if ok && (!strings.Contains(p.Reason, w.reason) || p.Gone != w.gone || p.Error) {
			t.Errorf("%s: %q gone=%v error=%v, want %q gone=%v", where, p.Reason, p.Gone, p.Error, w.reason, w.gone)
		}
	}
	if p := res.problems[u+"/docs/broken"]; p.File != "broken" {
		t.Errorf("a failed page keeps file %q, want broken", p.File)
	}
	// /docs/new may be fetched twice: as itself and as where /docs/old
	// leads, when both are out at once.
	for _, uri := range []string{"/docs/loop1", "/docs/loop2", "/docs/a", "/robots.txt"} {
		if n := s.hit(uri); n != 1 {
			t.Errorf("%s fetched %d times, want 1", uri, n)
		}
	}
	if n := s.hit("/docs/hidden") + s.hit("/docs/private/x") + s.hit("/docs/manual.pdf"); n != 0 {
		t.Errorf("fetched a nofollow, disallowed or non-HTML link %d times", n)
	}
}
