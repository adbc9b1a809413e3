package web

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestCrawlSitemap reads the pages a nested sitemap index lists (one
// sitemap gzipped), named by robots.txt, and follows no links.
func TestCrawlSitemap(t *testing.T) {
	s := newSite(t)
	u := s.srv.URL
	s.text("/robots.txt", "text/plain", "User-agent: connector\nDisallow: /docs/private/\nCrawl-delay: 0.01\n\nSitemap: SRV/maps/index.xml\n")
	s.text("/maps/index.xml", "application/xml", `<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>SRV/maps/pages1.xml</loc></sitemap><sitemap><loc>/maps/sub.xml</loc></sitemap></sitemapindex>`)
	s.text("/maps/sub.xml", "application/xml", `<sitemapindex><sitemap><loc>SRV/maps/pages2.xml.gz</loc></sitemap></sitemapindex>`)
	s.text("/maps/pages1.xml", "application/xml", `<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>SRV/docs/</loc></url><url><loc>SRV/docs/a</loc><lastmod>2026-01-01</lastmod></url>
<url><loc>SRV/docs/private/x</loc></url><url><loc>SRV/other/z</loc></url><url><loc>SRV/other/y</loc></url></urlset>`)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(strings.ReplaceAll(`<urlset><url><loc>SRV/docs/unlinked</loc></url><url><loc>SRV/docs/a</loc></url></urlset>`, "SRV", u)))
	zw.Close()
	s.set("/maps/pages2.xml.gz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/gzip")
		w.Write(gz.Bytes())
	})
	s.set("/docs", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/docs/", http.StatusMovedPermanently)
	})
	s.html("/docs/", htmlPage("Home", para("Home")+`<a href="/docs/onlylinked">linked</a>`))
	s.html("/docs/a", htmlPage("Alpha", para("Alpha")))
	s.html("/docs/unlinked", htmlPage("Unlinked", para("Unlinked")))
	s.html("/docs/onlylinked", htmlPage("Linked", para("Linked")))
	s.html("/docs/private/x", htmlPage("Private", para("Private")))

	res := crawl(t, u+"/docs", Options{}, nil)
	want := []string{u + "/docs/", u + "/docs/a", u + "/docs/unlinked"}
	if got := keys(res.docs); !slices.Equal(got, want) {
		t.Errorf("documents:\n%v\nwant\n%v", got, want)
	}
	wantProblems := []string{u + "/docs/private/x", u + "/maps/pages1.xml"}
	if got := keys(res.problems); !slices.Equal(got, wantProblems) {
		t.Errorf("problems:\n%v\nwant\n%v", got, wantProblems)
	}
	if p := res.problems[u+"/maps/pages1.xml"]; !strings.Contains(p.Reason, "lists 2 pages outside "+u+"/docs/") || !p.Gone {
		t.Errorf("pages outside the folder: %+v", p)
	}
	if n := s.hit("/docs/onlylinked"); n != 0 {
		t.Errorf("a page missing from the sitemap was fetched %d times", n)
	}
}

// TestCrawlSitemapFails: a sitemap answering 500 keeps the site's
// previous documents (a problem about the root), and the pages of the
// other sitemaps are read.
func TestCrawlSitemapFails(t *testing.T) {
	s := newSite(t)
	u := s.srv.URL
	s.text("/robots.txt", "text/plain", "Sitemap: SRV/a.xml\nSitemap: SRV/b.xml\n")
	s.text("/a.xml", "application/xml", `<urlset><url><loc>SRV/docs/a</loc></url></urlset>`)
	s.set("/b.xml", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusBadGateway) })
	s.html("/docs/a", htmlPage("Alpha", para("Alpha")))
	s.html("/docs/", htmlPage("Home", para("Home")))
	res := crawl(t, u+"/docs/", Options{}, nil)
	if got, want := keys(res.docs), []string{u + "/docs/", u + "/docs/a"}; !slices.Equal(got, want) {
		t.Errorf("documents %v, want %v", got, want)
	}
	p, ok := res.problems[u+"/docs/"]
	if !ok || p.File != "" || p.Gone || !strings.Contains(p.Reason, "sitemap "+u+"/b.xml: HTTP 502") {
		t.Errorf("problems %v", res.problems)
	}
}

// TestCrawlRobotsDown: a site whose robots.txt answers 503 is not read
// and keeps everything (an error about the root); one that answers no
// robots.txt (404) is read.
func TestCrawlRobotsDown(t *testing.T) {
	s := newSite(t)
	u := s.srv.URL
	s.set("/robots.txt", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	s.html("/", "<title>Home</title>"+para("Home"))
	res := crawl(t, u, Options{}, nil)
	p, ok := res.problems[u+"/"]
	if len(res.docs) != 0 || !ok || !p.Error || p.File != "" || p.Gone {
		t.Errorf("docs %v problems %v", keys(res.docs), res.problems)
	}
	s.set("/robots.txt", http.NotFound)
	if res := crawl(t, u, Options{}, nil); len(res.docs) != 1 || len(res.problems) != 0 {
		t.Errorf("docs %v problems %v", keys(res.docs), res.problems)
	}
}

// TestCrawlPageLimit: pages over WEB_MAX_PAGES are reported and kept, and
// when links are followed the whole site is kept.
func TestCrawlPageLimit(t *testing.T) {
	s := newSite(t)
	u := s.srv.URL
	s.html("/", para("Home")+`<a href="/p1">1</a><a href="/p2">2</a><a href="/p3">3</a>`)
	for _, p := range []string{"/p1", "/p2", "/p3"} {
		s.html(p, para(p))
	}
	res := crawl(t, u+"/", Options{MaxPages: 2, Concurrency: 1, Timeout: time.Second}, nil)
	if got, want := keys(res.docs), []string{u + "/", u + "/p1"}; !slices.Equal(got, want) {
		t.Errorf("documents %v, want %v", got, want)
	}
	for _, where := range []string{u + "/p2", u + "/p3"} {
		if p := res.problems[where]; p.Gone || !strings.Contains(p.Reason, "over the page limit of 2 (WEB_MAX_PAGES)") {
			t.Errorf("%s: %+v", where, p)
		}
	}
	if p := res.problems[u+"/"]; p.File != "" || p.Gone || !strings.Contains(p.Reason, "page limit of 2 reached") {
		t.Errorf("root: %+v", p)
	}
}

// TestCrawlGuessedSitemapIsAPage: a site answering every path with a page
// has no sitemap at the guessed places; its links are followed, and
// nothing is reported.
func TestCrawlGuessedSitemapIsAPage(t *testing.T) {
	s := newSite(t)
	u := s.srv.URL
	for _, p := range []string{"/sitemap.xml", "/docs/sitemap.xml"} {
		s.html(p, "<title>Not found</title><p>Try the search.</p>")
	}
	s.html("/docs/", "<title>Home</title>"+para("Home")+`<a href="a">a</a>`)
	s.html("/docs/a", "<title>A</title>"+para("Alpha"))
	res := crawl(t, u+"/docs/", Options{}, nil)
	if got, want := keys(res.docs), []string{u + "/docs/", u + "/docs/a"}; !slices.Equal(got, want) || len(res.problems) != 0 {
		t.Errorf("documents %v (want %v), problems %v", got, want, res.problems)
	}
}
