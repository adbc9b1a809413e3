package main

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/auth/authtest"
	"github.com/connectorhq/connector/internal/store/openaistore/openaitest"
)

// The access matrix: identities × documents × entry points, on both stores,
// through the built binary over real HTTP. Each identity's expected
// documents are written out by hand below, not computed by the code under
// test, and every byte each identity receives is searched for the titles
// and words of the documents it may not read.

// matrixDoc is a document of the matrix corpus. Its title and its marker
// word appear nowhere else, not in any id or URL, so that finding either in
// a response means the document leaked.
type matrixDoc struct {
	key    string // short name in the tables below
	id     string // its path, the document id
	title  string
	marker string
	url    string // its own URL, or ""
}

var matrixDocs = []matrixDoc{
	{key: "public", id: "docs/p1.md", title: "Lantern handbook", marker: "lanternword"},
	{key: "eng", id: "docs/eng/e1.md", title: "Zirconium design", marker: "zirconiumword", url: "https://intranet.example.com/e/1"},
	{key: "hr", id: "docs/hr/h1.md", title: "Marmalade salary bands", marker: "marmaladeword", url: "https://intranet.example.com/h/1"},
	{key: "user", id: "docs/u1.md", title: "Tangerine private notes", marker: "tangerineword"},
	{key: "unlisted", id: "docs/n1.md", title: "Quokka office map", marker: "quokkaword"},
	{key: "long", id: "docs/eng/e2.md", title: "Basalt runbook", marker: "basaltword"},
}

// matrixFiles is the corpus: docs/eng/ and docs/hr/ take their folder's
// .access, p1.md and u1.md carry their own list, n1.md none
// (DEFAULT_ACCESS), and eng/e2.md is long enough to come in parts.
func matrixFiles() map[string]string {
	files := map[string]string{
		"docs/eng/.access": "# engineering only\ngroup:eng\n",
		"docs/hr/.access":  "group:hr\n",
	}
	for _, d := range matrixDocs {
		front := "title: " + d.title + "\n"
		if d.url != "" {
			front += "url: " + d.url + "\n"
		}
		switch d.key {
		case "public":
			front += "access: authenticated\n"
		case "user":
			front += "access: [user:alice]\n"
		}
		body := "The quarterly review mentions " + d.marker + " once.\n"
		if d.key == "long" {
			// Past MAX_FETCH_CHARS (2000 below): the marker is in a later part.
			body = "The quarterly review.\n\n" + strings.Repeat("Filler about rocks and nothing else. ", 120) + "\n\nThe " + d.marker + " step comes last.\n"
		}
		files[d.id] = "---\n" + front + "---\n" + body
	}
	return files
}

// identity is who calls: the headers it sends and the documents it may read
// (nil: refused at the door with 401).
type identity struct {
	name   string
	header http.Header
	reads  []string // keys of matrixDocs
}

func TestAccessMatrix(t *testing.T) {
	work := t.TempDir()
	writeFiles(t, work, matrixFiles())
	const apiKey = "sk-matrix-openai-secret"
	api := openaitest.NewServer(t, apiKey)
	stores := map[string][]string{
		"bleve":  {"STORE=bleve", "INDEX_DIR=" + work + "/index"},
		"openai": {"STORE=openai", "OPENAI_API_KEY=" + apiKey, "OPENAI_BASE_URL=" + api.URL()},
	}
	total := &matrixCount{}
	for _, name := range []string{"bleve", "openai"} {
		env := stores[name]
		out, stderr, code := runCLI(t, work, env, "index", "docs")
		if code != 0 {
			t.Fatalf("%s: index: exit %d\n%s\n%s", name, code, out, stderr)
		}
		if name == "openai" {
			vs := strings.TrimSpace(out[strings.LastIndex(out, "VECTOR_STORE_ID=")+len("VECTOR_STORE_ID="):])
			env = append(env, "VECTOR_STORE_ID="+vs)
		}
		t.Run(name, func(t *testing.T) {
			t.Run("apikey", func(t *testing.T) { matrixAPIKeys(t, work, env, total) })
			t.Run("oauth", func(t *testing.T) { matrixOAuth(t, work, env, total) })
			t.Run("none", func(t *testing.T) { matrixNone(t, work, env, total) })
		})
	}
	t.Logf("access matrix: %d checks, %d allowed, %d denied, %d leaks", total.allowed+total.denied, total.allowed, total.denied, total.leaks)
}

const (
	matrixKeyA = "matrix-key-a-0123456789abcdef0123456789"
	matrixKeyB = "matrix-key-b-0123456789abcdef0123456789"
)

func matrixAPIKeys(t *testing.T, work string, env []string, total *matrixCount) {
	p := serve(t, work, append(slices.Clone(env), "AUTH_MODE=apikey", "MAX_FETCH_CHARS=2000", "RATE_LIMIT=0",
		"API_KEYS="+matrixKeyA+" group:eng,"+matrixKeyB+" group:hr")...)
	ids := []identity{
		{name: "anonymous"},
		{name: "key A (group eng)", header: bearer(matrixKeyA), reads: []string{"public", "eng", "unlisted", "long"}},
		{name: "key B (group hr)", header: bearer(matrixKeyB), reads: []string{"public", "hr", "unlisted"}},
		{name: "unknown key", header: bearer("matrix-key-c-0123456789abcdef0123456789")},
	}
	runMatrix(t, p, p.base, ids, true, total)
}

func matrixOAuth(t *testing.T, work string, env []string, total *matrixCount) {
	const public = "https://docs.example.com"
	idp := authtest.New(t, []string{public + "/mcp", public + "/sse"}, nil)
	p := serve(t, work, append(slices.Clone(env), "AUTH_MODE=oauth", "MAX_FETCH_CHARS=2000", "RATE_LIMIT=0",
		"PUBLIC_BASE_URL="+public, "OAUTH_ISSUER="+idp.URL)...)
	token := func(sub string, extra map[string]any) http.Header {
		c := idp.Claims(public+"/mcp", "")
		c["sub"] = sub
		for k, v := range extra {
			c[k] = v
		}
		return bearer(idp.Mint(c))
	}
	ids := []identity{
		{name: "anonymous"},
		{name: "token, groups [eng]", header: token("u-eng", map[string]any{"groups": []string{"eng"}}),
			reads: []string{"public", "eng", "unlisted", "long"}},
		{name: "token, groups \"hr ops\" as a string", header: token("u-hr", map[string]any{"groups": "hr ops"}),
			reads: []string{"public", "hr", "unlisted"}},
		{name: "token without groups", header: token("u-plain", nil), reads: []string{"public", "unlisted"}},
		{name: "token for user alice", header: token("alice", nil), reads: []string{"public", "user", "unlisted"}},
		{name: "expired token, groups [eng, hr]", header: token("u-late", map[string]any{"groups": []string{"eng", "hr"},
			"iat": time.Now().Add(-2 * time.Hour).Unix(), "nbf": time.Now().Add(-2 * time.Hour).Unix(), "exp": time.Now().Add(-time.Hour).Unix()})},
	}
	runMatrix(t, p, public, ids, true, total)
}

// matrixNone: with AUTH_MODE=none every document is public, whatever its
// list, as README says.
func matrixNone(t *testing.T, work string, env []string, total *matrixCount) {
	p := serve(t, work, append(slices.Clone(env), "MAX_FETCH_CHARS=2000", "RATE_LIMIT=0")...)
	var all []string
	for _, d := range matrixDocs {
		all = append(all, d.key)
	}
	runMatrix(t, p, p.base, []identity{{name: "anonymous", reads: all}}, false, total)
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// matrixCount adds up the checks.
type matrixCount struct {
	mu                     sync.Mutex
	allowed, denied, leaks int
}

func (c *matrixCount) add(allowed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if allowed {
		c.allowed++
	} else {
		c.denied++
	}
}

// client sends the identity's headers and records the responses.
func (id identity) client(rec *lockedBuffer) *http.Client {
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		for k, v := range id.header {
			r.Header[k] = v
		}
		res, err := http.DefaultTransport.RoundTrip(r)
		if err == nil {
			res.Body = struct {
				io.Reader
				io.Closer
			}{io.TeeReader(res.Body, rec), res.Body}
		}
		return res, err
	})}
}

// runMatrix checks every entry point for every identity and document.
// public is the server's public base URL (links carry it); signed tells
// whether links to the document view must be signed (authentication on).
func runMatrix(t *testing.T, p *proc, public string, ids []identity, signed bool, total *matrixCount) {
	// Signed links readers got, by document key, to alter as everyone else.
	var mu sync.Mutex
	given := map[string]string{}
	for _, id := range ids {
		t.Run(id.name, func(t *testing.T) {
			rec := &lockedBuffer{}
			hc := id.client(rec)
			check := func(allowed bool, what string, ok bool) {
				t.Helper()
				total.add(allowed)
				if !ok {
					t.Errorf("%s: allowed=%v, but the answer says otherwise", what, allowed)
				}
			}
			links := map[string]string{} // the view links this identity got
			for _, path := range []string{"/mcp", "/mcp/", "/sse", "/sse/"} {
				var tr mcp.Transport = &mcp.StreamableClientTransport{Endpoint: p.base + path, HTTPClient: hc}
				if strings.HasPrefix(path, "/sse") {
					tr = &mcp.SSEClientTransport{Endpoint: p.base + path, HTTPClient: hc}
				}
				cs, err := mcp.NewClient(&mcp.Implementation{Name: "openai-mcp", Version: "1.0.0"}, nil).Connect(t.Context(), tr, nil)
				if id.reads == nil {
					for _, d := range matrixDocs {
						check(false, path+": connect for "+d.key, err != nil)
					}
					if cs != nil {
						cs.Close()
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: connect: %v", path, err)
				}
				matrixTools(t, cs, id, path, public, links, check)
				cs.Close()
			}
			// The document view: a link the identity got opens its document
			// (with no credentials: a person in a browser sends none); with
			// authentication on, the same link unsigned, tampered or moved
			// to another document opens nothing.
			for key, link := range links {
				d := matrixDocs[slices.IndexFunc(matrixDocs, func(d matrixDoc) bool { return d.key == key })]
				local := localize(t, link, p.base)
				code, body := get(t, http.DefaultClient, local, rec)
				check(true, "view "+key, code == 200 && strings.Contains(body, d.marker))
				if signed {
					mu.Lock()
					given[key] = local
					mu.Unlock()
				}
			}
			mu.Lock()
			bad := map[string]string{}
			for key, local := range given {
				d := matrixDocs[slices.IndexFunc(matrixDocs, func(d matrixDoc) bool { return d.key == key })]
				bad[key+" unsigned"] = strings.SplitN(local, "?", 2)[0]
				bad[key+" tampered"] = strings.Replace(local, "sig=", "sig=A", 1)
				other := "docs/n1.md"
				if d.id == other {
					other = "docs/p1.md"
				}
				bad[key+" moved to another document"] = strings.Replace(local, d.id, other, 1)
			}
			mu.Unlock()
			for what, link := range bad {
				code, body := get(t, hc, link, rec)
				check(false, "view "+what, code == 403 && strings.Contains(body, "expired"))
			}
			// /readyz and /metrics, with the identity's credentials.
			for _, path := range []string{"/readyz", "/metrics"} {
				get(t, hc, p.base+path, rec)
			}
			got := rec.String()
			for _, d := range matrixDocs {
				if slices.Contains(id.reads, d.key) {
					continue
				}
				for _, s := range []string{d.title, d.marker} {
					if strings.Contains(got, s) {
						total.mu.Lock()
						total.leaks++
						total.mu.Unlock()
						t.Errorf("leak: %q of %s is in the bytes %s received", s, d.key, id.name)
					}
				}
			}
		})
	}
}

// matrixTools checks search and fetch on one connected session.
func matrixTools(t *testing.T, cs *mcp.ClientSession, id identity, path, public string, links map[string]string, check func(bool, string, bool)) {
	t.Helper()
	var found searchOut
	if isErr, text := callJSON(t, cs, "search", map[string]any{"query": "quarterly"}, &found); isErr {
		t.Fatalf("%s: search: %s", path, text)
	}
	var got []string
	for _, r := range found.Results {
		for _, d := range matrixDocs {
			if r.ID == d.id {
				got = append(got, d.key)
				if strings.Contains(r.URL, "/docs/") {
					links[d.key] = r.URL
				}
			}
		}
	}
	for _, d := range matrixDocs {
		allowed := slices.Contains(id.reads, d.key)
		check(allowed, path+": search quarterly "+d.key, slices.Contains(got, d.key) == allowed)
		var hits searchOut
		callJSON(t, cs, "search", map[string]any{"query": d.marker}, &hits)
		check(allowed, path+": search "+d.marker, slices.ContainsFunc(hits.Results, func(r struct{ ID, Title, URL, Text string }) bool {
			return r.ID == d.id
		}) == allowed)
	}
	if path != "/mcp" {
		return // fetch goes the same way on every path; once is enough
	}
	_, missing := callJSON(t, cs, "fetch", map[string]any{"id": "no/such.md"}, nil)
	notFound := func(asked, text string) bool {
		return text == strings.Replace(missing, "no/such.md", asked, 1)
	}
	for _, d := range matrixDocs {
		allowed := slices.Contains(id.reads, d.key)
		asks := map[string]string{"by id": d.id, "by view URL": public + "/docs/" + d.id}
		if d.url != "" {
			asks["by own URL"] = d.url
		}
		if d.key == "long" {
			asks["a later part"] = d.id + "#offset=4300" // the marker is near the end
		}
		for how, ask := range asks {
			var doc fetchOut
			isErr, text := callJSON(t, cs, "fetch", map[string]any{"id": ask}, &doc)
			if !allowed {
				check(false, "fetch "+how+" "+d.key, isErr && notFound(ask, text))
				continue
			}
			ok := !isErr && doc.ID == d.id
			if d.key == "long" && how != "a later part" {
				ok = ok && doc.Metadata["truncated"] == "true" // MAX_FETCH_CHARS=2000
			} else {
				ok = ok && strings.Contains(doc.Text, d.marker)
			}
			check(true, "fetch "+how+" "+d.key, ok)
		}
	}
}

// localize points a link with the public base URL at the test's server.
func localize(t *testing.T, link, base string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := url.Parse(base)
	u.Scheme, u.Host = b.Scheme, b.Host
	return u.String()
}

// get fetches u with hc and records the body.
func get(t *testing.T, hc *http.Client, u string, rec *lockedBuffer) (int, string) {
	t.Helper()
	res, err := hc.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	rec.Write(body)
	return res.StatusCode, string(body)
}

// TestSearchAs: connector search and fetch --as read as a caller with the
// principals given, so an operator can check what a team sees.
func TestSearchAs(t *testing.T) {
	work := t.TempDir()
	writeFiles(t, work, matrixFiles())
	env := []string{"INDEX_DIR=" + work + "/index"}
	if out, stderr, code := runCLI(t, work, env, "index", "docs"); code != 0 {
		t.Fatalf("index: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, tt := range []struct {
		as   string
		want []string
	}{
		{"", []string{"Lantern", "Zirconium", "Marmalade", "Tangerine", "Quokka", "Basalt"}},
		{"group:eng", []string{"Lantern", "Zirconium", "Quokka", "Basalt"}},
		{"group:hr,role:x", []string{"Lantern", "Marmalade", "Quokka"}},
		{"user:alice", []string{"Lantern", "Tangerine", "Quokka"}},
	} {
		args := []string{"search", "quarterly"}
		if tt.as != "" {
			args = []string{"search", "--as", tt.as, "quarterly"}
		}
		out, stderr, code := runCLI(t, work, env, args...)
		if code != 0 {
			t.Fatalf("search --as %q: exit %d: %s", tt.as, code, stderr)
		}
		for _, d := range matrixDocs {
			title := strings.Fields(d.title)[0]
			if strings.Contains(out, title) != slices.Contains(tt.want, title) {
				t.Errorf("search --as %q: %s found=%v\n%s", tt.as, title, strings.Contains(out, title), out)
			}
		}
	}
	if _, stderr, code := runCLI(t, work, env, "fetch", "--as", "group:eng", "docs/hr/h1.md"); code != exitNotFound || !strings.Contains(stderr, "no document has id") {
		t.Errorf("fetch --as group:eng of an hr document: exit %d: %s", code, stderr)
	}
	if _, stderr, code := runCLI(t, work, env, "search", "--as", "team:x", "quarterly"); code != exitUsage || !strings.Contains(stderr, `"team:x": unknown kind`) {
		t.Errorf("search --as team:x: exit %d: %s", code, stderr)
	}
	if out, _, code := runCLI(t, work, append(env, "DEFAULT_ACCESS=none"), "search", "--as", "group:eng", "quokkaword"); code != 0 || strings.Contains(out, "Quokka") {
		t.Errorf("DEFAULT_ACCESS=none: an unlisted document is found: %s", out)
	}
}
