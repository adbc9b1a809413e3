package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/connectorhq/connector/internal/ingest"
	"github.com/connectorhq/connector/internal/store"
)

// BenchmarkCrawlSite crawls a generated site of 3000 pages listed in its
// sitemap, served locally with no politeness delay, and reports pages/s:
// the crawler's own cost (fetching, readability, links), without a store.
//
//	go test -run '^$' -bench CrawlSite -benchtime 3x ./internal/web/
func BenchmarkCrawlSite(b *testing.B) {
	const pages = 3000
	var sitemap strings.Builder
	sitemap.WriteString("<urlset>")
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for i := range pages {
		fmt.Fprintf(&sitemap, "<url><loc>%s/docs/p%d</loc></url>", srv.URL, i)
	}
	sitemap.WriteString("</urlset>")
	mux.HandleFunc("/sitemap.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprint(w, sitemap.String())
	})
	mux.HandleFunc("/docs/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		var body strings.Builder
		for s := range 6 {
			body.WriteString(para(fmt.Sprintf("Section %d of %s", s, r.URL.Path)))
		}
		fmt.Fprint(w, htmlPage("Page "+r.URL.Path, body.String()+`<a href="/docs/p1">next</a>`))
	})
	site, err := ParseSite(srv.URL + "/docs/")
	if err != nil {
		b.Fatal(err)
	}
	var docs int
	start := time.Now()
	for b.Loop() {
		docs = 0
		err := Crawl(context.Background(), site, Options{MaxPages: pages + 1, Client: srv.Client()}, Handler{
			Document: func(store.SourceDocument) error { docs++; return nil },
			Problem:  func(p ingest.Problem) { b.Errorf("skipped: %s", p) },
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if docs != pages+1 { // the pages and the folder's own page
		b.Fatalf("%d documents, want %d", docs, pages+1)
	}
	b.ReportMetric(float64(pages*b.N)/time.Since(start).Seconds(), "pages/s")
}
