package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestIndexWebsite indexes a local website with the built binary, searches
// it, and indexes it again from SOURCES: unchanged pages answer 304 to
// the validators stored in the index and stay, a changed page is updated,
// a removed one (404) deleted.
func TestIndexWebsite(t *testing.T) {
	var mu sync.Mutex
	pages := map[string]string{ // path → body; its ETag is its length
		"/docs/":        `<title>Handbook</title><p>Start here. <a href="intro">Intro</a> <a href="parking">Parking</a> <a href="gone">Old</a> <a href="/blog/">Blog</a></p>`,
		"/docs/intro":   `<title>Intro</title><nav>Menu NAVWORD</nav><main><p>The quokka policy applies to everyone who joins the team.</p></main>`,
		"/docs/parking": `<title>Parking</title><p>Visitors park on level two.</p>`,
		"/docs/gone":    `<title>Old page</title><p>The pager rotates weekly.</p>`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		body, ok := pages[r.URL.Path]
		mu.Unlock()
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprint(w, "User-agent: *\nDisallow: /docs/private\n")
			return
		case "/sitemap.xml": // the pages, and one outside the folder
			w.Header().Set("Content-Type", "application/xml")
			fmt.Fprint(w, "<urlset>")
			for _, p := range []string{"/docs/", "/docs/intro", "/docs/parking", "/docs/gone", "/blog/"} {
				fmt.Fprintf(w, "<url><loc>http://%s%s</loc></url>", r.Host, p)
			}
			fmt.Fprint(w, "</urlset>")
			return
		}
		if !ok {
			http.NotFound(w, r)
			return
		}
		etag := fmt.Sprintf(`"%d"`, len(body))
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	}))
	defer srv.Close()
	work := t.TempDir()
	env := []string{"INDEX_DIR=" + filepath.Join(work, "index"), "WEB_DELAY=0", "WEB_TIMEOUT=5s"}

	stdout, stderr, code := runCLI(t, work, env, "index", srv.URL+"/docs/")
	if code != exitOK || !strings.Contains(stdout, "4 documents (4 added, 0 updated, 0 unchanged, 0 deleted); 1 skipped") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, srv.URL+"/sitemap.xml: sitemap lists 1 page outside "+srv.URL+"/docs/") {
		t.Errorf("the page outside the folder is not reported:\n%s", stderr)
	}
	out, _, code := runCLI(t, work, env, "search", "quokka")
	var found searchOut
	if err := json.Unmarshal([]byte(out), &found); err != nil || code != 0 {
		t.Fatalf("search: exit %d %v\n%s", code, err, out)
	}
	host := strings.TrimPrefix(srv.URL, "http://")
	if len(found.Results) != 1 || found.Results[0].ID != host+"/docs/intro" || !strings.HasPrefix(found.Results[0].URL, srv.URL+"/docs/intro#:~:text=") || found.Results[0].Title != "Intro" {
		t.Fatalf("search quokka: %+v", found)
	}
	out, _, _ = runCLI(t, work, env, "fetch", host+"/docs/intro")
	if strings.Contains(out, "NAVWORD") || !strings.Contains(out, "quokka") {
		t.Errorf("fetch: not the page's main content:\n%s", out)
	}

	mu.Lock()
	pages["/docs/parking"] = `<title>Parking</title><p>Visitors now park on level three.</p>`
	delete(pages, "/docs/gone")
	mu.Unlock()
	stdout, stderr, code = runCLI(t, work, append(env, "SOURCES="+srv.URL+"/docs/"), "index")
	if code != exitOK || !strings.Contains(stdout, "3 documents (0 added, 1 updated, 2 unchanged, 1 deleted); 2 skipped") {
		t.Fatalf("second run: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, srv.URL+"/docs/gone: HTTP 404 Not Found; removed from the index") {
		t.Errorf("the removed page is not reported:\n%s", stderr)
	}
	out, _, _ = runCLI(t, work, env, "search", "pager")
	if err := json.Unmarshal([]byte(out), &found); err != nil || len(found.Results) != 0 {
		t.Errorf("the removed page is still found: %s", out)
	}

	// serve --watch crawls the site into an empty index before listening,
	// and its results cite the page with a text fragment.
	p := serve(t, work, "INDEX_DIR="+filepath.Join(work, "watched"), "WEB_DELAY=0", "WATCH="+srv.URL+"/docs/")
	cs := connectClient(t, &mcp.StreamableClientTransport{Endpoint: p.base + "/mcp"})
	if isErr, text := callJSON(t, cs, "search", map[string]any{"query": "visitors park level three"}, &found); isErr || len(found.Results) == 0 {
		t.Fatalf("search under --watch: %s", text)
	}
	if r := found.Results[0]; r.ID != host+"/docs/parking" || !strings.HasPrefix(r.URL, srv.URL+"/docs/parking#:~:text=") {
		t.Errorf("search under --watch: top result %+v", r)
	}
}
