package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/connectorhq/connector/internal/web"
)

// BenchmarkIndexSite indexes a generated website of 3000 pages served
// locally, listed in its sitemap and answering conditional requests, into
// the bleve index the way `connector index URL` does: a first run that
// reads every page, then a re-run that every page answers 304. Run it with
// go test -run '^$' -bench IndexSite -benchtime 1x ./cmd/connector/
func BenchmarkIndexSite(b *testing.B) {
	const pages = 3000
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	var sitemap strings.Builder
	sitemap.WriteString(`<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">`)
	for i := range pages {
		fmt.Fprintf(&sitemap, "<url><loc>%s/docs/p%d</loc></url>", srv.URL, i)
	}
	sitemap.WriteString("</urlset>")
	mux.HandleFunc("/sitemap.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprint(w, sitemap.String())
	})
	mux.HandleFunc("/docs/", func(w http.ResponseWriter, r *http.Request) {
		etag := `"` + strings.TrimPrefix(r.URL.Path, "/docs/") + `-v1"`
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		var body strings.Builder
		for s := range 6 {
			fmt.Fprintf(&body, "<h2>Section %d</h2><p>%s</p>", s, strings.Repeat(fmt.Sprintf("Page %s, section %d, explains the setting of topic %d in some detail. ", r.URL.Path, s, s*7+len(r.URL.Path)), 5))
		}
		fmt.Fprintf(w, `<!doctype html><html><head><title>Page %s</title></head><body><nav><a href="/docs/">Home</a></nav><main><article><h1>Page %s</h1>%s</article></main><footer>Example</footer></body></html>`,
			r.URL.Path, r.URL.Path, body.String())
	})
	site, err := web.ParseSite(srv.URL + "/docs/")
	if err != nil {
		b.Fatal(err)
	}
	var first, again time.Duration
	for b.Loop() {
		c := command{cfg: config{Store: "bleve", IndexDir: filepath.Join(b.TempDir(), "index"), MaxFileBytes: 1 << 20,
			WebMaxPages: pages + 1, WebConcurrency: 4, WebTimeout: 20 * time.Second}, logger: slog.New(slog.DiscardHandler)}
		opts := indexOptions{sites: []web.Site{site}, webClient: srv.Client()}
		start := time.Now()
		res, err := c.runIndex(context.Background(), nil, opts)
		if err != nil || res.summary.Added != pages+1 {
			b.Fatalf("first run: %+v, %v", res.summary, err)
		}
		first += time.Since(start)
		start = time.Now()
		res, err = c.runIndex(context.Background(), nil, opts)
		if err != nil || res.summary.Unchanged != pages+1 {
			b.Fatalf("re-run: %+v, %v", res.summary, err)
		}
		again += time.Since(start)
	}
	b.ReportMetric(first.Seconds()/float64(b.N), "first-run-s")
	b.ReportMetric(again.Seconds()/float64(b.N), "re-run-s")
	b.ReportMetric(float64(pages*b.N)/first.Seconds(), "pages/s")
}
