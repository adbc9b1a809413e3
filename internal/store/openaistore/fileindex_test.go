package openaistore_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/store/openaistore"
	"github.com/connectorhq/connector/internal/store/openaistore/openaitest"
)

// corpus is n documents whose text never contains their id or URL.
func corpus(n int, version string) []store.SourceDocument {
	docs := make([]store.SourceDocument, n)
	for i := range docs {
		id := fmt.Sprintf("handbook/section-%03d.md", i)
		docs[i] = store.SourceDocument{Root: "root", File: id, Document: store.Document{
			ID: id, Title: fmt.Sprintf("Section %d", i), URL: fmt.Sprintf("https://intranet.example.com/s/%d", i),
			Text: fmt.Sprintf("Paragraph about topic number %d, %s wording.", i, version)}}
	}
	return docs
}

// listings counts the listings of a vector store's files: first pages,
// without an "after" cursor.
func listings(srv *openaitest.Server, vs string) int {
	n := 0
	for _, r := range srv.Requests("GET /vector_stores/" + vs + "/files") {
		if r.Query.Get("after") == "" {
			n++
		}
	}
	return n
}

// fetchAll fetches every document, and looks each up by URL, on st.
func fetchAll(t *testing.T, st *openaistore.Store, docs []store.SourceDocument) {
	t.Helper()
	failed := 0
	for _, d := range docs {
		got, err := st.Fetch(t.Context(), access.Everyone(), d.ID)
		if err == nil && (got.ID != d.ID || got.Text != d.Text || got.URL != d.URL) {
			err = fmt.Errorf("got %q %q %q", got.ID, got.Text, got.URL)
		}
		if err == nil {
			var id string
			if id, err = st.LookupURL(t.Context(), access.Everyone(), d.URL); err == nil && id != d.ID {
				err = fmt.Errorf("LookupURL gave %q", id)
			}
		}
		if err != nil {
			if failed++; failed <= 3 {
				t.Errorf("%s: %v", d.ID, err)
			}
		}
	}
	if failed > 0 {
		t.Fatalf("%d of %d cold fetches failed", failed, len(docs))
	}
}

// TestColdFetch: a document id resolves to its file with nothing in memory
// (after a restart, after the cache TTL, on another replica), whatever the
// text of its chunks, with one listing of the vector store's files for all
// of them.
func TestColdFetch(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	docs := corpus(200, "first")
	vs := syncDocs(t, srv, docs)

	t.Run("after a restart", func(t *testing.T) {
		before := listings(srv, vs)
		st, _ := newStore(t, srv, vs, nil)
		fetchAll(t, st, docs)
		if n := listings(srv, vs) - before; n != 1 {
			t.Errorf("%d listings for 200 cold fetches, want 1", n)
		}
	})
	t.Run("sends no search", func(t *testing.T) {
		// Resolving an id by a search whose query is the id worked only
		// where a chunk's text matched it, or where the API returns a
		// filtered file's chunks for any query: no search at all depends
		// on neither.
		before := len(srv.Requests("POST /vector_stores/" + vs + "/search"))
		st, _ := newStore(t, srv, vs, nil)
		fetchAll(t, st, docs)
		if n := len(srv.Requests("POST /vector_stores/"+vs+"/search")) - before; n != 0 {
			t.Errorf("%d searches for 200 cold fetches and URL lookups, want none", n)
		}
	})
	t.Run("after the cache TTL", func(t *testing.T) {
		st, _ := newStore(t, srv, vs, func(c *openaistore.Config) { c.CacheTTL = time.Nanosecond })
		fetchAll(t, st, docs)
		fetchAll(t, st, docs) // every cache entry has expired
	})
	t.Run("on another replica, across an index run", func(t *testing.T) {
		one, _ := newStore(t, srv, vs, nil)
		two, _ := newStore(t, srv, vs, func(c *openaistore.Config) { c.CacheTTL = time.Nanosecond; c.ListInterval = time.Hour })
		if hits, err := one.Search(t.Context(), access.Everyone(), "topic", 5); err != nil || len(hits) == 0 {
			t.Fatalf("search on the first replica: %v %v", hits, err)
		}
		fetchAll(t, two, docs)
		// Every document changes: new files, the old ones deleted. The
		// second replica's map names deleted files; a 404 for one of them
		// refreshes it at once, whatever ListInterval says.
		changed := corpus(200, "second")
		if r := syncRun(t, srv, vs, openaistore.SyncOptions{Roots: []string{"root"}}, changed); r.sum.Updated != 200 {
			t.Fatalf("second index run %+v %v", r.sum, r.failures)
		}
		before := listings(srv, vs)
		fetchAll(t, two, changed)
		if n := listings(srv, vs) - before; n > 2 {
			t.Errorf("%d listings after the index run, want one or two", n)
		}
	})
}

// TestFetchForeignFiles: files uploaded by another tool are found by file
// id, or by a doc_id attribute that is not a string.
func TestFetchForeignFiles(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	vs := srv.AddVectorStore("docs")
	raw := srv.AddFile(vs, "raw.txt", "Text of a file without attributes.", nil)
	srv.AddFile(vs, "n.txt", "Text of a numbered file.", map[string]any{"doc_id": 42, "url": "https://example.com/42"})

	warm, _ := newStore(t, srv, vs, nil)
	hits, err := warm.Search(t.Context(), access.Everyone(), "numbered", 5)
	if err != nil || len(hits) == 0 || hits[0].ID != "42" {
		t.Fatalf("search: %+v %v", hits, err)
	}
	cold, _ := newStore(t, srv, vs, nil)
	for id, want := range map[string]string{"42": "Text of a numbered file.", raw: "Text of a file without attributes."} {
		if d, err := cold.Fetch(t.Context(), access.Everyone(), id); err != nil || d.Text != want {
			t.Errorf("Fetch(%q) = %+v, %v", id, d, err)
		}
	}
	if id, err := cold.LookupURL(t.Context(), access.Everyone(), "https://example.com/42"); err != nil || id != "42" {
		t.Errorf("LookupURL = %q, %v", id, err)
	}
}

// TestUnknownIDsAreBounded: many concurrent fetches of ids that do not
// exist get "not found" and share one listing; more within ListInterval
// list nothing.
func TestUnknownIDsAreBounded(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	docs := corpus(150, "first")
	vs := syncDocs(t, srv, docs)
	st, _ := newStore(t, srv, vs, func(c *openaistore.Config) { c.ListInterval = time.Hour })
	before := listings(srv, vs)

	h := srv.Hold("GET /vector_stores/*/files", 1)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		wg.Go(func() {
			id := fmt.Sprintf("missing/%d.md", i)
			if i%4 == 0 {
				id = fmt.Sprintf("file-9999%02d", i)
			}
			var err error
			if i%5 == 0 {
				_, err = st.LookupURL(t.Context(), access.Everyone(), "https://nowhere.example.com/"+id)
			} else {
				_, err = st.Fetch(t.Context(), access.Everyone(), id)
			}
			if !errors.Is(err, store.ErrNotFound) {
				errs <- fmt.Errorf("%s: %v, want ErrNotFound", id, err)
			}
		})
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-h.Arrived(): // the listing is held while the fetches pile up
	case <-finished:
	}
	h.Release()
	<-finished
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range 20 {
		if _, err := st.Fetch(t.Context(), access.Everyone(), fmt.Sprintf("missing/again-%d", i)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown id: %v", err)
		}
	}
	if n := listings(srv, vs) - before; n != 1 {
		t.Errorf("%d listings for 120 unknown ids within ListInterval, want 1", n)
	}
	if d, err := st.Fetch(t.Context(), access.Everyone(), docs[7].ID); err != nil || !strings.Contains(d.Text, "number 7,") {
		t.Errorf("a known id after the unknown ones: %+v %v", d, err)
	}
}

// TestNewDocumentsOnAReplica: a document indexed after a replica listed the
// files is found by a short listing that stops at the files seen before.
func TestNewDocumentsOnAReplica(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	docs := corpus(250, "first")
	vs := syncDocs(t, srv, docs)
	st, _ := newStore(t, srv, vs, func(c *openaistore.Config) { c.ListInterval = time.Nanosecond })
	if _, err := st.Fetch(t.Context(), access.Everyone(), docs[0].ID); err != nil {
		t.Fatal(err)
	}
	more := append(docs, store.SourceDocument{Root: "root", File: "new.md", Document: store.Document{
		ID: "handbook/new.md", Title: "New", URL: "https://intranet.example.com/new", Text: "Just written."}})
	if r := syncRun(t, srv, vs, openaistore.SyncOptions{Roots: []string{"root"}}, more); r.sum.Added != 1 {
		t.Fatalf("index run %+v %v", r.sum, r.failures)
	}
	pages := func() int { return len(srv.Requests("GET /vector_stores/" + vs + "/files")) }
	before := pages()
	fetchAll(t, st, more[len(more)-1:])
	if n := pages() - before; n != 1 {
		t.Errorf("%d pages listed to find one new document, want 1", n)
	}
}

// TestUpdateInProgressOnAReplica: while the new version of a document is
// still processing, a replica that lists it keeps serving the old one.
func TestUpdateInProgressOnAReplica(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	vs := srv.AddVectorStore("docs")
	srv.AddFile(vs, "a.txt", "old text", map[string]any{"doc_id": "a"})
	srv.AddFile(vs, "z.txt", "a later file", map[string]any{"doc_id": "z"}) // a short listing stops before a.txt
	st, _ := newStore(t, srv, vs, func(c *openaistore.Config) { c.ListInterval = time.Nanosecond })
	if _, err := st.Fetch(t.Context(), access.Everyone(), "z"); err != nil { // lists every file
		t.Fatal(err)
	}
	srv.SetProcessing(1<<30, "") // new attachments stay in progress
	r := syncRun(t, srv, vs, openaistore.SyncOptions{Roots: []string{"root"}, ProcessTimeout: time.Millisecond},
		[]store.SourceDocument{doc("root", "a.md", "a", "new text"), doc("root", "b.md", "b", "bravo")})
	if r.sum.Failed != 2 {
		t.Fatalf("index run %+v: want both uploads left processing", r.sum)
	}
	// b is new: a short listing finds it, and a's new version.
	if _, err := st.Fetch(t.Context(), access.Everyone(), "b"); err == nil || !strings.Contains(err.Error(), "still being processed") {
		t.Errorf("Fetch(b) = %v, want 'still being processed'", err)
	}
	if d, err := st.Fetch(t.Context(), access.Everyone(), "a"); err != nil || d.Text != "old text" {
		t.Errorf("Fetch(a) during its update = %+v, %v; want the old version", d, err)
	}
}
