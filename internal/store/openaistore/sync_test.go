package openaistore_test

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/store/openaistore"
	"github.com/connectorhq/connector/internal/store/openaistore/openaitest"
)

type run struct {
	sum      openaistore.Summary
	failures []string
}

// syncRun runs one index run of docs into vsID ("" creates a store).
func syncRun(t *testing.T, srv *openaitest.Server, vsID string, opts openaistore.SyncOptions, docs []store.SourceDocument, keep ...string) run {
	t.Helper()
	var mu sync.Mutex
	var r run
	opts.PollInterval = time.Millisecond
	opts.OnFailure = func(id, source string, err error) {
		mu.Lock()
		defer mu.Unlock()
		r.failures = append(r.failures, fmt.Sprintf("%s (%s): %v", id, source, err))
	}
	s, err := openaistore.NewSyncer(t.Context(), openaistore.Config{APIKey: key, BaseURL: srv.URL(), VectorStoreID: vsID}, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if err := s.Add(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range keep {
		root, path, _ := strings.Cut(k, ":")
		s.Keep(root, path)
	}
	if r.sum, err = s.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	return r
}

func doc(root, file, id, text string) store.SourceDocument {
	return store.SourceDocument{Root: root, File: file, Document: store.Document{ID: id, Title: "Title " + id, Text: text}}
}

func docIDs(srv *openaitest.Server, vs string) []string {
	var ids []string
	for _, f := range srv.Files(vs) {
		ids = append(ids, fmt.Sprint(f.Attributes["doc_id"]))
	}
	slices.Sort(ids)
	return ids
}

func TestSyncCreateIncrementalDelete(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	opts := openaistore.SyncOptions{Roots: []string{"/docs"}}
	docs := []store.SourceDocument{doc("/docs", "a.md", "docs/a.md", "alpha"), doc("/docs", "b.md", "docs/b.md", "bravo"), doc("/docs", "c.md", "docs/c.md", "charlie")}

	first := syncRun(t, srv, "", opts, docs)
	vs := first.sum.VectorStoreID
	if !first.sum.Created || first.sum.Added != 3 || first.sum.Documents != 3 || vs == "" {
		t.Fatalf("first run %+v", first.sum)
	}
	f := srv.Files(vs)[0]
	for _, k := range []string{"doc_id", "title", "content_sha256", "source_root", "source_file", "source", "format"} {
		if _, ok := f.Attributes[k]; !ok && k != "source" && k != "format" {
			t.Errorf("attribute %s missing: %v", k, f.Attributes)
		}
	}
	if !strings.HasPrefix(f.Text, "Title ") {
		t.Errorf("uploaded text %q: want the title first, so that it is searchable", f.Text)
	}

	uploads := len(srv.Requests("POST /files"))
	second := syncRun(t, srv, vs, opts, docs)
	if second.sum.Unchanged != 3 || second.sum.Added+second.sum.Updated+second.sum.Deleted != 0 {
		t.Fatalf("unchanged run %+v", second.sum)
	}
	if n := len(srv.Requests("POST /files")); n != uploads {
		t.Fatalf("an unchanged run uploaded %d files", n-uploads)
	}

	// b changed, c removed, d new.
	changed := []store.SourceDocument{docs[0], doc("/docs", "b.md", "docs/b.md", "bravo two"), doc("/docs", "d.md", "docs/d.md", "delta")}
	third := syncRun(t, srv, vs, opts, changed)
	if third.sum.Added != 1 || third.sum.Updated != 1 || third.sum.Unchanged != 1 || third.sum.Deleted != 1 {
		t.Fatalf("changed run %+v", third.sum)
	}
	if got := docIDs(srv, vs); !slices.Equal(got, []string{"docs/a.md", "docs/b.md", "docs/d.md"}) {
		t.Errorf("attached documents %v", got)
	}
	if n := srv.FileObjects(); n != 3 {
		t.Errorf("%d file objects remain, want 3: replaced and removed files must be deleted, not only detached", n)
	}
	for _, f := range srv.Files(vs) {
		if f.Attributes["doc_id"] == "docs/b.md" && !strings.Contains(f.Text, "bravo two") {
			t.Errorf("b has old text %q", f.Text)
		}
	}
}

func TestSyncScopesAndKeeps(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	vs := srv.AddVectorStore("docs")
	foreign := srv.AddFile(vs, "uploaded-by-hand.pdf", "manual upload", nil)
	syncRun(t, srv, vs, openaistore.SyncOptions{Roots: []string{"/r1"}}, []store.SourceDocument{doc("/r1", "a.md", "a", "alpha"), doc("/r1", "sub/b.md", "b", "bravo")})
	syncRun(t, srv, vs, openaistore.SyncOptions{Roots: []string{"/r2"}}, []store.SourceDocument{doc("/r2", "c.md", "c", "charlie")})
	if got := docIDs(srv, vs); !slices.Equal(got, []string{"<nil>", "a", "b", "c"}) {
		t.Fatalf("after two roots: %v", got)
	}
	// sub/ could not be read: b stays.
	r := syncRun(t, srv, vs, openaistore.SyncOptions{Roots: []string{"/r1"}}, []store.SourceDocument{doc("/r1", "a.md", "a", "alpha")}, "/r1:sub")
	if r.sum.Deleted != 0 {
		t.Fatalf("kept folder: %+v", r.sum)
	}
	// Prune removes all but what this run saw; a file uploaded by hand stays.
	r = syncRun(t, srv, vs, openaistore.SyncOptions{Roots: []string{"/r1"}, Prune: true}, []store.SourceDocument{doc("/r1", "a.md", "a", "alpha")})
	if r.sum.Deleted != 2 {
		t.Fatalf("prune: %+v", r.sum)
	}
	if got := docIDs(srv, vs); !slices.Equal(got, []string{"<nil>", "a"}) {
		t.Errorf("after prune: %v", got)
	}
	found := false
	for _, f := range srv.Files(vs) {
		found = found || f.ID == foreign
	}
	if !found {
		t.Error("prune removed a file connector did not upload")
	}
}

func TestSyncFailuresDoNotStopTheRun(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	vs := srv.AddVectorStore("docs")
	docs := []store.SourceDocument{doc("/d", "a.md", "a", "alpha"), doc("/d", "b.md", "b", "bravo"), doc("/d", "c.md", "c", "charlie")}
	srv.Fail("POST /files", 1, 400, nil) // 400 is not retried
	r := syncRun(t, srv, vs, openaistore.SyncOptions{Roots: []string{"/d"}, Concurrency: 1}, docs)
	if r.sum.Failed != 1 || r.sum.Added != 2 || len(r.failures) != 1 || !strings.Contains(r.failures[0], "a.md") {
		t.Fatalf("summary %+v failures %v: want one failure named by its file", r.sum, r.failures)
	}

	// Processing fails for every attachment: reported, cleaned up, and the
	// previous version of an updated document stays.
	srv.SetProcessing(0, "unsupported file")
	r = syncRun(t, srv, vs, openaistore.SyncOptions{Roots: []string{"/d"}}, []store.SourceDocument{doc("/d", "b.md", "b", "bravo changed")})
	if r.sum.Failed != 1 || !strings.Contains(strings.Join(r.failures, ""), "unsupported file") {
		t.Fatalf("summary %+v failures %v", r.sum, r.failures)
	}
	var b string
	for _, f := range srv.Files(vs) {
		if f.Attributes["doc_id"] == "b" {
			b += f.Text + "|" + f.Status
		}
	}
	if b != "Title b\n\nbravo|completed" {
		t.Errorf("document b after a failed update: %q, want the old version only", b)
	}
	if n := srv.FileObjects(); n != len(srv.Files(vs)) {
		t.Errorf("%d file objects for %d attached files: failed uploads leak", n, len(srv.Files(vs)))
	}
}

// TestSyncProcessingTimeout: a file OpenAI never finishes processing fails
// after ProcessTimeout instead of holding the run forever.
func TestSyncProcessingTimeout(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	vs := srv.AddVectorStore("docs")
	srv.SetProcessing(1<<30, "") // in progress for good
	var mu sync.Mutex
	var failures []string
	s, err := openaistore.NewSyncer(t.Context(), openaistore.Config{APIKey: key, BaseURL: srv.URL(), VectorStoreID: vs},
		openaistore.SyncOptions{Roots: []string{"/d"}, PollInterval: time.Millisecond, ProcessTimeout: 100 * time.Millisecond,
			OnFailure: func(id, _ string, err error) {
				mu.Lock()
				defer mu.Unlock()
				failures = append(failures, id+": "+err.Error())
			}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Add(t.Context(), doc("/d", "a.md", "a", "alpha")); err != nil {
		t.Fatal(err)
	}
	type result struct {
		sum openaistore.Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		sum, err := s.Commit(t.Context())
		done <- result{sum, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second): // a guard against a hang, not an ordering
		s.Abort()
		t.Fatal("the run waits for processing without end")
	}
	mu.Lock()
	defer mu.Unlock()
	if r.err != nil || r.sum.Failed != 1 || len(failures) != 1 || !strings.Contains(failures[0], "still processing") {
		t.Fatalf("summary %+v %v, failures %v: want one failure saying the file is still processing", r.sum, r.err, failures)
	}
	if f := srv.Files(vs); len(f) != 1 || f[0].Status != "in_progress" {
		t.Errorf("files %+v: want the file left attached for the next run", f)
	}
}

func TestSyncAttributeLimits(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	meta := map[string]string{strings.Repeat("k", 65): "too long a key", "long": strings.Repeat("v", 600)}
	for i := range 20 {
		meta[fmt.Sprintf("m%02d", i)] = "x"
	}
	d := doc("/d", "a.md", "a", "alpha")
	d.Metadata = meta
	d.URL = "https://example.com/" + strings.Repeat("p", 600) // too long for an attribute
	r := syncRun(t, srv, "", openaistore.SyncOptions{}, []store.SourceDocument{d})
	if r.sum.Failed != 0 {
		t.Fatalf("summary %+v %v", r.sum, r.failures)
	}
	attrs := srv.Files(r.sum.VectorStoreID)[0].Attributes
	if len(attrs) != 16 {
		t.Errorf("%d attributes, want the API's maximum of 16", len(attrs))
	}
	if v, ok := attrs["long"].(string); !ok || len([]rune(v)) != 512 {
		t.Errorf("a 600-character value must be cut to 512, got %d", len([]rune(fmt.Sprint(attrs["long"]))))
	}
	if _, ok := attrs["url"]; ok {
		t.Error("a URL longer than 512 characters cannot be an attribute")
	}

	// A duplicate id and an id too long for an attribute are rejected, and the run goes on.
	s, err := openaistore.NewSyncer(t.Context(), openaistore.Config{APIKey: key, BaseURL: srv.URL(), VectorStoreID: r.sum.VectorStoreID},
		openaistore.SyncOptions{PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	if err := s.Add(t.Context(), doc("/d", "x.md", "x", "one")); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []store.SourceDocument{doc("/d", "y.md", "x", "two"), doc("/d", "z.md", strings.Repeat("i", 513), "three")} {
		if err := s.Add(t.Context(), bad); !errors.Is(err, store.ErrRejected) {
			t.Errorf("Add(%s): %v, want ErrRejected", bad.File, err)
		}
	}
}

func TestSyncReconcilesDuplicatesFromAnInterruptedRun(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	d := doc("/d", "a.md", "a", "alpha")
	r := syncRun(t, srv, "", openaistore.SyncOptions{Roots: []string{"/d"}}, []store.SourceDocument{d})
	vs := r.sum.VectorStoreID
	// An interrupted run attached a newer version but never removed the old.
	srv.AddFile(vs, "a.md", "Title a\n\nalpha older", map[string]any{"doc_id": "a", "content_sha256": "0000", "source_root": "x", "source_file": "a.md"})
	syncRun(t, srv, vs, openaistore.SyncOptions{Roots: []string{"/d"}}, []store.SourceDocument{d})
	if got := docIDs(srv, vs); !slices.Equal(got, []string{"a"}) {
		t.Errorf("after reconciling: %v", got)
	}
}

func TestSyncNeedsTheStore(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	_, err := openaistore.NewSyncer(t.Context(), openaistore.Config{APIKey: key, BaseURL: srv.URL(), VectorStoreID: "vs_nope"}, openaistore.SyncOptions{})
	var u *store.Unavailable
	if !errors.As(err, &u) || u.Class != "store_missing" {
		t.Fatalf("err = %v, want store_missing", err)
	}
}

// TestSyncIDCollisionAcrossRuns: an id uploaded before from another source
// is taken only by a document that moved (its old source is read by this
// run, or pruned); otherwise the new document is rejected and the old one
// stays.
func TestSyncIDCollisionAcrossRuns(t *testing.T) {
	at := func(root, file string, line int, text string) store.SourceDocument {
		d := doc(root, file, "a", text)
		d.Line = line
		d.Metadata = map[string]string{"source": path.Base(root) + "/" + file}
		return d
	}
	tests := []struct {
		name    string
		opts    openaistore.SyncOptions
		docs    []store.SourceDocument
		wantErr string // prefix of the error of the last document; "": none
		text    string // of "a" after the run
	}{
		{name: "other root not read", opts: openaistore.SyncOptions{Roots: []string{"/u/new"}},
			docs:    []store.SourceDocument{at("/u/new", "b.jsonl", 5, "new text")},
			wantErr: `new/b.jsonl:5: id "a" is already uploaded from old/a.jsonl, which this run does not read`, text: "old text"},
		{name: "other root read and still there", opts: openaistore.SyncOptions{Roots: []string{"/u/old", "/u/new"}},
			docs:    []store.SourceDocument{at("/u/old", "a.jsonl", 2, "old text"), at("/u/new", "b.jsonl", 5, "new text")},
			wantErr: `new/b.jsonl:5: id "a" is also used by a document from old/a.jsonl:2`, text: "old text"},
		{name: "moved to another file of the root", opts: openaistore.SyncOptions{Roots: []string{"/u/old"}},
			docs: []store.SourceDocument{at("/u/old", "b.jsonl", 1, "moved")}, text: "moved"},
		{name: "moved to another root read in the same run", opts: openaistore.SyncOptions{Roots: []string{"/u/old", "/u/new"}},
			docs: []store.SourceDocument{at("/u/new", "a.jsonl", 2, "moved")}, text: "moved"},
		{name: "moved to another root with prune", opts: openaistore.SyncOptions{Roots: []string{"/u/new"}, Prune: true},
			docs: []store.SourceDocument{at("/u/new", "a.jsonl", 2, "moved")}, text: "moved"},
		{name: "same file again", opts: openaistore.SyncOptions{Roots: []string{"/u/new"}},
			docs: []store.SourceDocument{at("/u/old", "a.jsonl", 9, "changed")}, text: "changed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := openaitest.NewServer(t, key)
			vs := syncRun(t, srv, "", openaistore.SyncOptions{Roots: []string{"/u/old"}},
				[]store.SourceDocument{at("/u/old", "a.jsonl", 2, "old text")}).sum.VectorStoreID
			opts := tt.opts
			opts.PollInterval = time.Millisecond
			s, err := openaistore.NewSyncer(t.Context(), openaistore.Config{APIKey: key, BaseURL: srv.URL(), VectorStoreID: vs}, opts)
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range tt.docs {
				err = s.Add(t.Context(), d)
				if i < len(tt.docs)-1 && err != nil {
					t.Fatal(err)
				}
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Add: %v", err)
			case tt.wantErr != "" && (!errors.Is(err, openaistore.ErrDuplicateID) || !strings.HasPrefix(err.Error(), tt.wantErr)):
				t.Errorf("Add: %v, want ErrDuplicateID starting %q", err, tt.wantErr)
			}
			if _, err := s.Commit(t.Context()); err != nil {
				t.Fatal(err)
			}
			var texts []string
			for _, f := range srv.Files(vs) {
				texts = append(texts, strings.TrimPrefix(f.Text, "Title a\n\n"))
			}
			if !slices.Equal(texts, []string{tt.text}) {
				t.Errorf("texts of a = %q, want %q", texts, tt.text)
			}
		})
	}
}

// TestSyncPrevious: a run reads the attributes of the files a previous run
// uploaded, metadata included.
func TestSyncPrevious(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	d := doc("https://example.com/", "page", "example.com/page", "text of page")
	d.Metadata = map[string]string{"etag": `"v1"`, "source": "https://example.com/page"}
	first := syncRun(t, srv, "", openaistore.SyncOptions{Roots: []string{d.Root}}, []store.SourceDocument{d})
	s, err := openaistore.NewSyncer(t.Context(), openaistore.Config{APIKey: key, BaseURL: srv.URL(), VectorStoreID: first.sum.VectorStoreID},
		openaistore.SyncOptions{Roots: []string{d.Root}, PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	if m, ok := s.Previous("example.com/page"); !ok || m["etag"] != `"v1"` || m["source"] != "https://example.com/page" {
		t.Errorf("Previous = %v, %v", m, ok)
	}
	if _, ok := s.Previous("example.com/other"); ok {
		t.Error("Previous found a document never uploaded")
	}
}
