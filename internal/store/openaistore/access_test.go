package openaistore_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/store/openaistore"
	"github.com/connectorhq/connector/internal/store/openaistore/openaitest"
	"github.com/connectorhq/connector/internal/store/storetest"
)

func TestAccessContract(t *testing.T) {
	storetest.RunAccess(t, func(t *testing.T, docs []store.SourceDocument, def access.Default) store.Store {
		srv := openaitest.NewServer(t, key)
		st, _ := newStore(t, srv, syncDocs(t, srv, docs), func(c *openaistore.Config) { c.DefaultAccess = def })
		return st
	})
}

var (
	eng   = access.NewCaller("u-eng", "", []string{"eng"}, nil)
	hr    = access.NewCaller("u-hr", "", []string{"hr"}, nil)
	plain = access.NewCaller("u-plain", "", nil, nil)
)

func withDefault(def access.Default) func(*openaistore.Config) {
	return func(c *openaistore.Config) { c.DefaultAccess = def }
}

func listed(id, text string, l ...access.Principal) store.SourceDocument {
	return store.SourceDocument{Document: store.Document{ID: id, Title: "Title " + id, Text: text},
		Root: "root", File: id + ".md", Access: access.List(l)}
}

func notFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: %v, want ErrNotFound", what, err)
	}
}

// TestSyncAccessAttributes: each term of the list is one attribute, the
// metadata budget leaves room for them, and none of them shows in fetch.
func TestSyncAccessAttributes(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	full := listed("full", "eight principals")
	full.URL = "https://intranet.example.com/full"
	for i := range openaistore.MaxPrincipals {
		full.Access = append(full.Access, access.Principal(fmt.Sprintf("group:g%d", i)))
	}
	full.Metadata = map[string]string{"access_0": "group:spoofed", "access_level": "high"}
	for i := range 10 {
		full.Metadata[fmt.Sprintf("m%02d", i)] = "x"
	}
	vs := syncDocs(t, srv, []store.SourceDocument{full, listed("open", "no list")})

	byID := map[string]map[string]any{}
	for _, f := range srv.Files(vs) {
		byID[fmt.Sprint(f.Attributes["doc_id"])] = f.Attributes
	}
	attrs := byID["full"]
	if len(attrs) != 16 {
		t.Errorf("%d attributes, want the API's maximum of 16: %v", len(attrs), attrs)
	}
	for i, p := range full.Access {
		if k := fmt.Sprintf("access_%d", i); attrs[k] != string(p) {
			t.Errorf("%s = %v, want %s", k, attrs[k], p)
		}
	}
	if _, ok := attrs["access_level"]; !ok {
		t.Errorf("metadata access_level, no access attribute, was left out: %v", attrs)
	}
	if open := byID["open"]; open["access_0"] != access.Unlisted || open["access_1"] != nil {
		t.Errorf("unlisted document: %v, want access_0=%s alone", open, access.Unlisted)
	}

	st, _ := newStore(t, srv, vs, nil)
	d, err := st.Fetch(t.Context(), access.NewCaller("u", "", []string{"g7"}, nil), "full")
	if err != nil {
		t.Fatal(err)
	}
	for k := range d.Metadata {
		if strings.HasPrefix(k, "access_") && k != "access_level" {
			t.Errorf("fetch shows the access attribute %s", k)
		}
	}
	hits, err := st.Search(t.Context(), access.NewCaller("u", "", []string{"g0"}, nil), "principals", 5)
	if err != nil || len(hits) != 1 || hits[0].ID != "full" || hits[0].URL != full.URL {
		t.Errorf("search: %+v, %v", hits, err)
	}
}

func TestSyncRejectsLongAccessLists(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	s, err := openaistore.NewSyncer(t.Context(), openaistore.Config{APIKey: key, BaseURL: srv.URL()}, openaistore.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	d := listed("crowd", "too many readers")
	for i := range openaistore.MaxPrincipals + 1 {
		d.Access = append(d.Access, access.Principal(fmt.Sprintf("user:u%d", i)))
	}
	err = s.Add(t.Context(), d)
	if !errors.Is(err, store.ErrRejected) {
		t.Fatalf("Add: %v, want ErrRejected", err)
	}
	for _, want := range []string{"root/crowd.md", `"crowd"`, "9 principals", "more than the 8", "group"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// TestSyncAccessChangeReuploads: the list is part of the content hash, so
// changing it alone uploads the document again, with the new attributes.
func TestSyncAccessChangeReuploads(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	opts := openaistore.SyncOptions{Roots: []string{"root"}}
	r := syncRun(t, srv, "", opts, []store.SourceDocument{listed("plan", "the plan", "group:eng")})
	vs := r.sum.VectorStoreID
	if r = syncRun(t, srv, vs, opts, []store.SourceDocument{listed("plan", "the plan", "group:hr")}); r.sum.Updated != 1 {
		t.Fatalf("summary %+v %v: want the document updated", r.sum, r.failures)
	}
	if r = syncRun(t, srv, vs, opts, []store.SourceDocument{listed("plan", "the plan", "group:hr")}); r.sum.Unchanged != 1 {
		t.Fatalf("summary %+v %v: want the document unchanged", r.sum, r.failures)
	}
	if files := srv.Files(vs); len(files) != 1 || files[0].Attributes["access_0"] != "group:hr" {
		t.Fatalf("files %+v", files)
	}
	st, _ := newStore(t, srv, vs, nil)
	if _, err := st.Fetch(t.Context(), hr, "plan"); err != nil {
		t.Errorf("hr: %v", err)
	}
	_, err := st.Fetch(t.Context(), eng, "plan")
	notFound(t, "eng", err)
}

// TestFetchCacheKeepsCallersApart: a cached document is checked against
// each caller, and a load a forbidden caller started serves no one else's
// answer but its own.
func TestFetchCacheKeepsCallersApart(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	vs := syncDocs(t, srv, []store.SourceDocument{listed("a", "alpha", "group:eng"), listed("b", "bravo", "group:eng")})
	st, _ := newStore(t, srv, vs, nil)
	content := func() int { return len(srv.Requests("GET /vector_stores/*/files/*/content")) }

	if _, err := st.Fetch(t.Context(), eng, "a"); err != nil {
		t.Fatal(err)
	}
	_, err := st.Fetch(t.Context(), hr, "a")
	notFound(t, "hr after eng (cache hit)", err)
	if d, err := st.Fetch(t.Context(), access.Everyone(), "a"); err != nil || d.Text != "alpha" {
		t.Errorf("everyone: %+v, %v", d, err)
	}
	_, err = st.Fetch(t.Context(), hr, "b")
	notFound(t, "hr first", err)
	if d, err := st.Fetch(t.Context(), eng, "b"); err != nil || d.Text != "bravo" {
		t.Errorf("eng after hr: %+v, %v", d, err)
	}
	if n := content(); n != 2 {
		t.Errorf("%d content requests, want 2 (one a document)", n)
	}
	// The forbidden answer is the missing one, word for word.
	_, missing := st.Fetch(t.Context(), hr, "no-such-doc")
	if _, err := st.Fetch(t.Context(), hr, "a"); err == nil || missing == nil ||
		strings.Replace(err.Error(), `"a"`, `"no-such-doc"`, 1) != missing.Error() {
		t.Errorf("forbidden %v, missing %v: want the same message", err, missing)
	}
}

// TestForeignFilesAreUnlisted: files uploaded by other tools carry no
// access attributes and are read as unlisted documents, under
// DEFAULT_ACCESS. A filtered search cannot select them (a filter cannot
// test that a key is absent), so only everyone finds them by search.
func TestForeignFilesAreUnlisted(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	vs := srv.AddVectorStore("docs")
	raw := srv.AddFile(vs, "raw.txt", "A walrus file from another tool.", map[string]any{"url": "https://example.com/raw"})
	for _, def := range []access.Default{access.DefaultAuthenticated, access.DefaultNone, 0} {
		t.Run(def.String()+fmt.Sprint(int(def)), func(t *testing.T) {
			st, _ := newStore(t, srv, vs, withDefault(def))
			for name, who := range map[string]access.Caller{"plain": plain, "everyone": access.Everyone(), "nobody": {}} {
				may := who.IsEveryone() || (def == access.DefaultAuthenticated && name == "plain")
				d, err := st.Fetch(t.Context(), who, raw)
				if may != (err == nil) || (may && d.Text != "A walrus file from another tool.") {
					t.Errorf("%s: Fetch = %+v, %v; may read: %v", name, d, err, may)
				}
				id, err := st.LookupURL(t.Context(), who, "https://example.com/raw")
				if may != (err == nil) || (may && id != raw) || (!may && !errors.Is(err, store.ErrNotFound)) {
					t.Errorf("%s: LookupURL = %q, %v; may read: %v", name, id, err, may)
				}
				hits, err := st.Search(t.Context(), who, "walrus", 5)
				if found := len(hits) == 1; err != nil || found != who.IsEveryone() {
					t.Errorf("%s: search %+v, %v", name, hits, err)
				}
			}
		})
	}
}

// dropFilters is a transport that strips the filters from vector store
// searches, as an API that ignored them would.
type dropFilters struct{}

func (dropFilters) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/search") {
		return http.DefaultTransport.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	delete(m, "filters")
	if body, err = json.Marshal(m); err != nil {
		return nil, err
	}
	r = r.Clone(r.Context())
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	return http.DefaultTransport.RoundTrip(r)
}

// TestSearchChecksResultsAgain: results are checked against the caller
// even when the API returns what the filter should have left out.
func TestSearchChecksResultsAgain(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	vs := syncDocs(t, srv, []store.SourceDocument{
		listed("eng", "heron notes", "group:eng"), listed("hr", "heron salaries", "group:hr"), listed("open", "heron map"),
	})
	srv.AddFile(vs, "raw.txt", "heron file of another tool", nil)
	for _, def := range []access.Default{access.DefaultAuthenticated, access.DefaultNone} {
		st, _ := newStore(t, srv, vs, func(c *openaistore.Config) {
			c.DefaultAccess, c.HTTPClient = def, &http.Client{Transport: dropFilters{}}
		})
		hits, err := st.Search(t.Context(), eng, "heron", 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range hits {
			got = append(got, strings.TrimPrefix(h.Title, "Title "))
		}
		slices.Sort(got)
		want := []string{"eng"}
		if def == access.DefaultAuthenticated {
			want = []string{"eng", "open", "raw.txt"}
		}
		if !slices.Equal(got, want) {
			t.Errorf("DEFAULT_ACCESS=%s: got %v, want %v", def, got, want)
		}
	}
	if n := len(srv.Requests("POST /vector_stores/*/search")); n != 2 {
		t.Errorf("%d searches reached the API, want 2", n)
	}
}

// TestSearchFilterRequest checks the filter on the wire: an "or" of one
// "in" comparison per access attribute, holding the caller's terms; none
// for everyone; and no request at all for a caller with no terms.
func TestSearchFilterRequest(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	vs := syncDocs(t, srv, []store.SourceDocument{listed("a", "ibis", "group:eng")})
	st, _ := newStore(t, srv, vs, withDefault(access.DefaultAuthenticated))
	last := func() map[string]json.RawMessage {
		reqs := srv.Requests("POST /vector_stores/*/search")
		var body map[string]json.RawMessage
		if err := json.Unmarshal(reqs[len(reqs)-1].Body, &body); err != nil {
			t.Fatal(err)
		}
		return body
	}

	if hits, err := st.Search(t.Context(), eng, "ibis", 5); err != nil || len(hits) != 1 {
		t.Fatalf("search: %+v, %v", hits, err)
	}
	var filter struct {
		Type    string
		Filters []map[string]any
	}
	if err := json.Unmarshal(last()["filters"], &filter); err != nil {
		t.Fatal(err)
	}
	if filter.Type != "or" || len(filter.Filters) != openaistore.MaxPrincipals {
		t.Fatalf("filters %+v: want an or of %d comparisons", filter, openaistore.MaxPrincipals)
	}
	terms, _ := eng.Terms(access.DefaultAuthenticated)
	for i, f := range filter.Filters {
		want := map[string]any{"type": "in", "key": fmt.Sprintf("access_%d", i), "value": anySlice(terms)}
		if fmt.Sprint(f) != fmt.Sprint(want) {
			t.Errorf("filter %d: %v, want %v", i, f, want)
		}
	}

	if _, err := st.Search(t.Context(), access.Everyone(), "ibis", 5); err != nil {
		t.Fatal(err)
	}
	if f, ok := last()["filters"]; ok {
		t.Errorf("everyone's search is filtered: %s", f)
	}
	before := len(srv.Requests("POST /vector_stores/*/search"))
	if hits, err := st.Search(t.Context(), access.Caller{}, "ibis", 5); err != nil || len(hits) != 0 {
		t.Errorf("nobody: %+v, %v", hits, err)
	}
	_, err := st.Fetch(t.Context(), access.Caller{}, "a")
	notFound(t, "nobody's fetch", err)
	if n := len(srv.Requests("POST /vector_stores/*/search")); n != before {
		t.Errorf("a caller who reads nothing sent a search")
	}
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// TestLookupURLFollowsTheNewestFile: while a document's old file is still
// attached beside the new one, the new one's access list answers.
func TestLookupURLFollowsTheNewestFile(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	vs := srv.AddVectorStore("docs")
	const u = "https://intranet.example.com/plan"
	srv.AddFile(vs, "old.txt", "old plan", map[string]any{"doc_id": "plan", "url": u, "access_0": "group:eng"})
	srv.AddFile(vs, "new.txt", "new plan", map[string]any{"doc_id": "plan", "url": u, "access_0": "group:hr"})
	st, _ := newStore(t, srv, vs, nil)
	if id, err := st.LookupURL(t.Context(), hr, u); err != nil || id != "plan" {
		t.Errorf("hr: %q, %v", id, err)
	}
	_, err := st.LookupURL(t.Context(), eng, u)
	notFound(t, "eng", err)
}
