package blevestore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, docs []store.Document) store.Store {
		dir := t.TempDir()
		var in []store.SourceDocument
		for _, d := range docs {
			in = append(in, store.SourceDocument{Document: d, Root: "root", File: d.ID})
		}
		mustSync(t, dir, SyncOptions{Roots: []string{"root"}}, in)
		return mustOpen(t, dir)
	})
}

func doc(id, text string) store.SourceDocument {
	return store.SourceDocument{Document: store.Document{ID: id, Title: "Title " + id, Text: text}, Root: "r", File: id + ".md"}
}

// inRoot is a document of the root with the key root.
func inRoot(root, id string) store.SourceDocument {
	d := doc(id, "text of "+id)
	d.Root = root
	return d
}

func mustSync(t *testing.T, dir string, opts SyncOptions, docs []store.SourceDocument, keep ...string) Summary {
	t.Helper()
	s, err := NewSyncer(t.Context(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if _, err := s.Add(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range keep {
		root, file, _ := strings.Cut(k, ":")
		s.Keep(root, file)
	}
	sum, err := s.Commit(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func mustOpen(t *testing.T, dir string) *Store {
	t.Helper()
	st, err := Open(dir, access.DefaultAuthenticated, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func allIDs(t *testing.T, st *Store) []string {
	t.Helper()
	var ids []string
	for _, id := range []string{"a", "b", "c", "d", "x"} {
		if _, err := st.Fetch(t.Context(), access.Everyone(), id); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

func TestIncrementalSync(t *testing.T) {
	dir := t.TempDir()
	opts := SyncOptions{Roots: []string{"r"}}
	sum := mustSync(t, dir, opts, []store.SourceDocument{doc("a", "alpha"), doc("b", "bravo"), doc("c", "charlie")})
	if sum.Added != 3 || sum.Generation == "" {
		t.Fatalf("first run: %+v", sum)
	}

	// Same documents again: nothing changes, no new generation.
	sum = mustSync(t, dir, opts, []store.SourceDocument{doc("a", "alpha"), doc("b", "bravo"), doc("c", "charlie")})
	if sum.Unchanged != 3 || sum.Generation != "" || sum.Documents != 3 {
		t.Fatalf("unchanged run: %+v", sum)
	}

	// b changed, c removed, d new.
	sum = mustSync(t, dir, opts, []store.SourceDocument{doc("a", "alpha"), doc("b", "bravo two"), doc("d", "delta")})
	if sum.Added != 1 || sum.Updated != 1 || sum.Unchanged != 1 || sum.Deleted != 1 || sum.Documents != 3 {
		t.Fatalf("changed run: %+v", sum)
	}
	st := mustOpen(t, dir)
	if got := allIDs(t, st); !slices.Equal(got, []string{"a", "b", "d"}) {
		t.Errorf("ids = %v, want a b d", got)
	}
	b, err := st.Fetch(t.Context(), access.Everyone(), "b")
	if err != nil || b.Text != "bravo two" {
		t.Errorf("b = %+v, %v; want the new text", b, err)
	}
	hits, err := st.Search(t.Context(), access.Everyone(), "charlie", 10)
	if err != nil || len(hits) != 0 {
		t.Errorf("deleted document still found: %v %v", hits, err)
	}
}

// TestSyncManyBatches runs an index run long enough for several batches to
// be written in the background at once, then an incremental run over it
// that updates and deletes documents in every batch, then one cancelled
// with batches under way: every document ends up as the last successful
// run left it.
func TestSyncManyBatches(t *testing.T) {
	const n = 600 // two records (document and passage) each: fifteen batches of 80
	docs := func(version string, keep func(i int) bool) []store.SourceDocument {
		var out []store.SourceDocument
		for i := range n {
			if keep(i) {
				out = append(out, doc(fmt.Sprintf("d%05d", i), fmt.Sprintf("text %d of version %s", i, version)))
			}
		}
		return out
	}
	dir := t.TempDir()
	opts := SyncOptions{Roots: []string{"r"}, batchRecords: 80}
	if sum := mustSync(t, dir, opts, docs("one", func(int) bool { return true })); sum.Added != n || sum.Documents != n {
		t.Fatalf("first run: %+v", sum)
	}
	// Every third document changes and every seventh goes.
	second := docs("two", func(i int) bool { return i%7 != 0 })
	for i := range second {
		if j, _ := strconv.Atoi(second[i].ID[1:]); j%3 != 0 {
			second[i].Text = strings.Replace(second[i].Text, "two", "one", 1)
		}
	}
	sum := mustSync(t, dir, opts, second)
	if want := n - (n+6)/7; sum.Documents != uint64(want) || sum.Deleted != (n+6)/7 {
		t.Fatalf("second run: %+v, want %d documents", sum, want)
	}
	check := func(st *Store) {
		t.Helper()
		for i := range n {
			id := fmt.Sprintf("d%05d", i)
			d, err := st.Fetch(t.Context(), access.Everyone(), id)
			switch {
			case i%7 == 0:
				if err == nil {
					t.Errorf("%s was deleted but is still there", id)
				}
			case err != nil:
				t.Errorf("fetch %s: %v", id, err)
			case i%3 == 0 && !strings.HasSuffix(d.Text, "version two"), i%3 != 0 && !strings.HasSuffix(d.Text, "version one"):
				t.Errorf("%s: text %q", id, d.Text)
			}
		}
	}
	check(mustOpen(t, dir))

	// A run cancelled while batches are being written leaves the index as
	// it was.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s, err := NewSyncer(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range docs("three", func(int) bool { return true }) {
		if i == n/2 {
			cancel()
		}
		if _, err := s.Add(ctx, d); err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("add after cancel: %v", err)
			}
			break
		}
	}
	s.Abort()
	check(mustOpen(t, dir))
}

func TestSyncScopesDeletesToItsRoots(t *testing.T) {
	dir := t.TempDir()
	mustSync(t, dir, SyncOptions{Roots: []string{"r1"}}, []store.SourceDocument{inRoot("r1", "a"), inRoot("r1", "b")})
	mustSync(t, dir, SyncOptions{Roots: []string{"r2"}}, []store.SourceDocument{inRoot("r2", "c")})
	st := mustOpen(t, dir)
	if got := allIDs(t, st); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("after indexing a second root: %v, want a b c", got)
	}
	st.Close()

	// Re-running r1 without b deletes b only.
	sum := mustSync(t, dir, SyncOptions{Roots: []string{"r1"}}, []store.SourceDocument{inRoot("r1", "a")})
	if sum.Deleted != 1 {
		t.Fatalf("summary %+v, want 1 deleted", sum)
	}
	// Prune removes everything not seen.
	sum = mustSync(t, dir, SyncOptions{Roots: []string{"r1"}, Prune: true}, []store.SourceDocument{inRoot("r1", "a")})
	if sum.Deleted != 1 || sum.Documents != 1 {
		t.Fatalf("prune: %+v, want c deleted", sum)
	}
}

// TestSyncReplacesRoots: Roots names the roots an index holds documents
// from, and Replace drops a root the run does not read, whose ids the
// run's documents may then take.
func TestSyncReplacesRoots(t *testing.T) {
	dir := t.TempDir()
	mustSync(t, dir, SyncOptions{Roots: []string{"demo"}}, []store.SourceDocument{inRoot("demo", "a"), inRoot("demo", "b")})
	mustSync(t, dir, SyncOptions{Roots: []string{"other"}}, []store.SourceDocument{inRoot("other", "x")})
	mustSync(t, dir, SyncOptions{Roots: []string{"other"}}, nil) // "other" keeps no document, only its manifest entry

	s, err := NewSyncer(t.Context(), dir, SyncOptions{Roots: []string{"mine"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	if got := s.Roots(); !slices.Equal(got, []string{"demo"}) {
		t.Fatalf("Roots() = %v, want [demo]", got)
	}
	s.Replace("demo")
	for _, d := range []store.SourceDocument{inRoot("mine", "b"), inRoot("mine", "c")} {
		if _, err := s.Add(t.Context(), d); err != nil {
			t.Fatalf("add %s: %v", d.ID, err)
		}
	}
	sum, err := s.Commit(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Deleted != 1 || sum.Updated != 1 || sum.Added != 1 || sum.Documents != 2 {
		t.Errorf("summary %+v, want a deleted, b taken over, c added", sum)
	}
	st := mustOpen(t, dir)
	defer st.Close()
	if got := allIDs(t, st); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("ids %v, want b c", got)
	}
}

func TestSyncKeepsDocumentsOfFailedFiles(t *testing.T) {
	dir := t.TempDir()
	opts := SyncOptions{Roots: []string{"r"}}
	mustSync(t, dir, opts, []store.SourceDocument{doc("a", "alpha"), doc("b", "bravo")})
	// b.md could not be read this time: its document must stay.
	sum := mustSync(t, dir, opts, []store.SourceDocument{doc("a", "alpha")}, "r:b.md")
	if sum.Deleted != 0 {
		t.Fatalf("summary %+v: the document of a failed file was deleted", sum)
	}
	if got := allIDs(t, mustOpen(t, dir)); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("ids = %v", got)
	}
}

func TestSyncKeepsDocumentsOfUnreadableFolders(t *testing.T) {
	dir := t.TempDir()
	opts := SyncOptions{Roots: []string{"r"}}
	in := func(id, file string) store.SourceDocument {
		d := doc(id, "text "+id)
		d.File = file
		return d
	}
	mustSync(t, dir, opts, []store.SourceDocument{in("a", "top.md"), in("b", "sub/b.md"), in("c", "sub/deeper/c.md"), in("d", "subway.md")})
	// The folder "sub" could not be listed: b and c stay, d (a sibling whose
	// name only starts like it) goes.
	sum := mustSync(t, dir, opts, []store.SourceDocument{in("a", "top.md")}, "r:sub")
	if sum.Deleted != 1 {
		t.Fatalf("summary %+v, want only d deleted", sum)
	}
	if got := allIDs(t, mustOpen(t, dir)); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("ids = %v", got)
	}
	// The whole root could not be read: nothing from it is deleted.
	if sum := mustSync(t, dir, opts, nil, "r:"); sum.Deleted != 0 {
		t.Fatalf("summary %+v, want nothing deleted", sum)
	}
}

func TestDuplicateIDs(t *testing.T) {
	s, err := NewSyncer(t.Context(), t.TempDir(), SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	first := doc("a", "one")
	first.Root, first.File, first.Line = "/home/u/docs", "a.jsonl", 3
	if _, err := s.Add(t.Context(), first); err != nil {
		t.Fatal(err)
	}
	second := doc("a", "two")
	second.Root, second.File, second.Line = "/home/u/docs", "b.jsonl", 7
	_, err = s.Add(t.Context(), second)
	want := `docs/b.jsonl:7: id "a" is also used by a document from docs/a.jsonl:3, which keeps it`
	if !errors.Is(err, ErrDuplicateID) || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v, want ErrDuplicateID starting %q", err, want)
	}
}

// TestIDCollisionAcrossRuns: an id indexed before from another source is
// taken only by a document that moved (its old source is read by this run,
// or pruned); otherwise the new document is rejected and the old one stays.
func TestIDCollisionAcrossRuns(t *testing.T) {
	at := func(root, file string, line int, text string) store.SourceDocument {
		d := doc("a", text)
		d.Root, d.File, d.Line = root, file, line
		return d
	}
	old := at("/u/old", "a.jsonl", 2, "old text")
	tests := []struct {
		name    string
		opts    SyncOptions
		docs    []store.SourceDocument
		wantErr string // prefix of the error of the last document; "": none
		text    string // of "a" after the run
	}{
		{name: "other root not read", opts: SyncOptions{Roots: []string{"/u/new"}},
			docs:    []store.SourceDocument{at("/u/new", "b.jsonl", 5, "new text")},
			wantErr: `new/b.jsonl:5: id "a" is already indexed from old/a.jsonl, which this run does not read`, text: "old text"},
		{name: "other root read and still there", opts: SyncOptions{Roots: []string{"/u/old", "/u/new"}},
			docs:    []store.SourceDocument{at("/u/old", "a.jsonl", 2, "old text"), at("/u/new", "b.jsonl", 5, "new text")},
			wantErr: `new/b.jsonl:5: id "a" is also used by a document from old/a.jsonl:2`, text: "old text"},
		{name: "moved to another file of the root", opts: SyncOptions{Roots: []string{"/u/old"}},
			docs: []store.SourceDocument{at("/u/old", "b.jsonl", 1, "moved")}, text: "moved"},
		{name: "moved to another root read in the same run", opts: SyncOptions{Roots: []string{"/u/old", "/u/new"}},
			docs: []store.SourceDocument{at("/u/new", "a.jsonl", 2, "moved")}, text: "moved"},
		{name: "moved to another root with prune", opts: SyncOptions{Roots: []string{"/u/new"}, Prune: true},
			docs: []store.SourceDocument{at("/u/new", "a.jsonl", 2, "moved")}, text: "moved"},
		{name: "same file again", opts: SyncOptions{Roots: []string{"/u/new"}},
			docs: []store.SourceDocument{at("/u/old", "a.jsonl", 9, "changed")}, text: "changed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			mustSync(t, dir, SyncOptions{Roots: []string{"/u/old"}}, []store.SourceDocument{old})
			s, err := NewSyncer(t.Context(), dir, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range tt.docs {
				_, err = s.Add(t.Context(), d)
				if i < len(tt.docs)-1 && err != nil {
					t.Fatal(err)
				}
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Add: %v", err)
			case tt.wantErr != "" && (!errors.Is(err, ErrDuplicateID) || !strings.HasPrefix(err.Error(), tt.wantErr)):
				t.Errorf("Add: %v, want ErrDuplicateID starting %q", err, tt.wantErr)
			}
			if _, err := s.Commit(t.Context()); err != nil {
				t.Fatal(err)
			}
			got, err := mustOpen(t, dir).Fetch(t.Context(), access.Everyone(), "a")
			if err != nil || got.Text != tt.text {
				t.Errorf("Fetch a = %+v, %v; want text %q", got, err, tt.text)
			}
		})
	}
}

func TestAbortLeavesIndexUnchanged(t *testing.T) {
	dir := t.TempDir()
	opts := SyncOptions{Roots: []string{"r"}}
	first := mustSync(t, dir, opts, []store.SourceDocument{doc("a", "alpha")})

	ctx, cancel := context.WithCancel(t.Context())
	s, err := NewSyncer(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add(ctx, doc("b", "bravo")); err != nil {
		t.Fatal(err)
	}
	cancel() // Ctrl-C in the middle of a run
	if _, err := s.Commit(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit after cancel: %v", err)
	}
	if cur, _ := readCurrent(dir); cur != first.Generation {
		t.Fatalf("CURRENT = %s, want %s", cur, first.Generation)
	}
	gens, _ := generations(dir)
	if !slices.Equal(gens, []string{first.Generation}) {
		t.Errorf("generations = %v, want only %s", gens, first.Generation)
	}
	if got := allIDs(t, mustOpen(t, dir)); !slices.Equal(got, []string{"a"}) {
		t.Errorf("ids = %v, want a", got)
	}
}

func TestCrashLeftoversAreCleanedUp(t *testing.T) {
	dir := t.TempDir()
	opts := SyncOptions{Roots: []string{"r"}}
	first := mustSync(t, dir, opts, []store.SourceDocument{doc("a", "alpha")})
	// A run that crashed after writing part of a generation.
	n, _ := genNumber(first.Generation)
	junk := filepath.Join(dir, genName(n+1))
	if err := os.MkdirAll(filepath.Join(junk, "store"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(junk, "store", "half.zap"), []byte("garbage"), 0o644)

	st := mustOpen(t, dir) // the server is unaffected
	if got := allIDs(t, st); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("ids = %v", got)
	}
	sum := mustSync(t, dir, opts, []store.SourceDocument{doc("a", "alpha"), doc("b", "bravo")})
	if sum.Added != 1 || sum.Documents != 2 {
		t.Fatalf("run after crash: %+v", sum)
	}
}

func TestLockedIndex(t *testing.T) {
	dir := t.TempDir()
	s, err := NewSyncer(t.Context(), dir, SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	if _, err := NewSyncer(t.Context(), dir, SyncOptions{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second syncer: err = %v, want ErrLocked", err)
	}
}

func TestReloadWhileSearching(t *testing.T) {
	dir := t.TempDir()
	opts := SyncOptions{Roots: []string{"r"}}
	mustSync(t, dir, opts, []store.SourceDocument{doc("a", "alpha shared")})
	st := mustOpen(t, dir)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := st.Search(context.Background(), access.Everyone(), "shared", 10); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i := range 3 {
		docs := []store.SourceDocument{doc("a", "alpha shared"), doc("b", strings.Repeat("bravo ", i+1)+"shared")}
		mustSync(t, dir, opts, docs)
		switched, err := st.Reload()
		if err != nil || !switched {
			t.Fatalf("Reload = %v, %v", switched, err)
		}
	}
	close(stop)
	wg.Wait()
	hits, err := st.Search(t.Context(), access.Everyone(), "bravo", 10)
	if err != nil || len(hits) != 1 {
		t.Fatalf("after reload: %v %v", hits, err)
	}
	gens, _ := generations(dir)
	if len(gens) > 2 {
		t.Errorf("generations kept: %v, want at most the current and the previous", gens)
	}
}

func TestSchemaChangeRebuildsAndKeepsOtherRoots(t *testing.T) {
	dir := t.TempDir()
	a := doc("a", "alpha")
	a.Root = "r1"
	x := doc("x", "xray from another root")
	x.Root = "r2"
	x.URL = "https://example.com/x"
	x.Metadata = map[string]string{"k": "v"}
	mustSync(t, dir, SyncOptions{Roots: []string{"r1"}}, []store.SourceDocument{a})
	mustSync(t, dir, SyncOptions{Roots: []string{"r2"}}, []store.SourceDocument{x})

	// Pretend the index was written by an older version.
	cur, _ := readCurrent(dir)
	idx, err := openForTest(filepath.Join(dir, cur))
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.SetInternal(internalSchemaKey, []byte("0")); err != nil {
		t.Fatal(err)
	}
	idx.Close()
	if err := writeChecksums(t.Context(), filepath.Join(dir, cur)); err != nil { // as that version wrote them
		t.Fatal(err)
	}

	if old := mustOpen(t, dir); !old.Outdated() {
		t.Error("a store over the older version's index does not say it is outdated")
	}
	sum := mustSync(t, dir, SyncOptions{Roots: []string{"r1"}}, []store.SourceDocument{a})
	if !sum.Rebuilt || sum.Documents != 2 {
		t.Fatalf("summary %+v, want a rebuild keeping 2 documents", sum)
	}
	st := mustOpen(t, dir)
	got, err := st.Fetch(t.Context(), access.Everyone(), "x")
	if err != nil || got.URL != x.URL || got.Metadata["k"] != "v" || got.Text != x.Text {
		t.Fatalf("carried-over document = %+v, %v", got, err)
	}
	if s, _ := st.Ready(t.Context()); s.Detail["warning"] != "" || st.Outdated() {
		t.Errorf("rebuilt index still warns: %v", s.Detail)
	}
	// The next run is incremental again.
	if sum := mustSync(t, dir, SyncOptions{Roots: []string{"r1"}}, []store.SourceDocument{a}); sum.Unchanged != 1 || sum.Rebuilt {
		t.Errorf("run after rebuild: %+v", sum)
	}
}

func TestOpenWithoutIndex(t *testing.T) {
	_, err := Open(t.TempDir(), access.DefaultAuthenticated, slog.New(slog.DiscardHandler))
	if !errors.Is(err, ErrNoIndex) {
		t.Fatalf("err = %v, want ErrNoIndex", err)
	}
}

func TestEmptyRunCreatesAnEmptyIndex(t *testing.T) {
	dir := t.TempDir()
	sum := mustSync(t, dir, SyncOptions{Roots: []string{"r"}}, nil)
	if sum.Generation == "" || sum.Documents != 0 {
		t.Fatalf("summary %+v", sum)
	}
	st := mustOpen(t, dir)
	hits, err := st.Search(t.Context(), access.Everyone(), "anything", 10)
	if err != nil || len(hits) != 0 {
		t.Fatalf("search = %v, %v", hits, err)
	}
}

func TestSnippets(t *testing.T) {
	dir := t.TempDir()
	text := "Opening words of the document. " + strings.Repeat("Lorem ipsum dolor sit amet. ", 30) +
		"The <b>gateway</b> timeout is 30 seconds & configurable. " + strings.Repeat("Consectetur adipiscing elit. ", 30)
	d := doc("s", text)
	d.Title = "Gateway settings"
	mustSync(t, dir, SyncOptions{}, []store.SourceDocument{d, doc("t", "Only the title matches here.")})
	st := mustOpen(t, dir)

	hits, err := st.Search(t.Context(), access.Everyone(), "timeout", 1)
	if err != nil || len(hits) != 1 {
		t.Fatal(hits, err)
	}
	s := hits[0].Snippet
	if !strings.Contains(s, "The <b>gateway</b> timeout is 30 seconds & configurable.") {
		t.Errorf("snippet %q: want the matched sentence as plain text (no <mark>, no HTML escapes)", s)
	}
	if !strings.HasPrefix(s, "… ") {
		t.Errorf("snippet %q: want a leading … for a cut in the middle", s)
	}

	hits, err = st.Search(t.Context(), access.Everyone(), "gateway settings", 1)
	if err != nil || len(hits) != 1 || hits[0].ID != "s" {
		t.Fatal(hits, err)
	}
	hits, err = st.Search(t.Context(), access.Everyone(), "Title t", 5)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		if h.ID == "t" && h.Snippet != "Only the title matches here." {
			t.Errorf("title-only match snippet = %q, want the opening of the text", h.Snippet)
		}
	}
}

func TestSyncReportsCommitPhases(t *testing.T) {
	dir := t.TempDir()
	var phases []string
	opts := SyncOptions{Roots: []string{"r"}, batchRecords: 4, OnPhase: func(p string) { phases = append(phases, p) }}
	var docs []store.SourceDocument
	for i := range 10 { // five batches of four records
		docs = append(docs, doc(fmt.Sprintf("d%d", i), "some text"))
	}
	s, err := NewSyncer(t.Context(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if _, err := s.Add(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	if len(phases) != 0 {
		t.Fatalf("phases reported before Commit: %q", phases)
	}
	if _, err := s.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if want := []string{"batches", "checksums"}; !slices.Equal(phases, want) {
		t.Errorf("first run: phases %q, want %q", phases, want)
	}
	phases = nil
	mustSync(t, dir, opts, docs)
	if want := []string{"batches"}; !slices.Equal(phases, want) {
		t.Errorf("unchanged run: phases %q, want %q", phases, want)
	}
}

// Accented words match their plain spelling and the other way round, in
// ranking and in the snippet's choice of passage.
func TestAccentsFold(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("Filler words about nothing in particular. ", 120)
	mustSync(t, dir, SyncOptions{Roots: []string{"r"}}, []store.SourceDocument{
		doc("menu", long+"The Crêpes of the Café Noir are served with crème fraîche."),
		doc("plain", "A cafe menu without accents lists crepes and creme."),
		doc("other", "Nothing about food here at all."),
	})
	st := mustOpen(t, dir)
	for _, tc := range []struct{ query, snippet string }{
		{"crepes", "Crêpes"},
		{"café", "Café"},
		{"CRÈME FRAICHE", "fraîche"},
	} {
		hits, err := st.Search(t.Context(), access.Everyone(), tc.query, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		var menu string
		for _, h := range hits {
			ids = append(ids, h.ID)
			if h.ID == "menu" {
				menu = h.Snippet
			}
		}
		slices.Sort(ids)
		if !slices.Equal(ids, []string{"menu", "plain"}) {
			t.Errorf("%q: ids %v, want menu and plain", tc.query, ids)
		}
		if !strings.Contains(menu, tc.snippet) {
			t.Errorf("%q: snippet of menu %q does not show %q", tc.query, menu, tc.snippet)
		}
	}
}

// Query words next to each other in a passage lift it over one holding
// them apart.
func TestPhrases(t *testing.T) {
	dir := t.TempDir()
	filler := strings.Repeat("Other words about unrelated matters. ", 20)
	docs := []store.SourceDocument{
		doc("apart", "The gateway was slow. "+filler+"A timeout followed later."),
		doc("together", filler+"The gateway timeout was raised to thirty seconds."),
	}
	for i := range 60 { // so that the two words are rare enough for a phrase clause
		docs = append(docs, doc(fmt.Sprintf("other%d", i), filler))
	}
	mustSync(t, dir, SyncOptions{}, docs)
	st := mustOpen(t, dir)
	hits, err := st.Search(t.Context(), access.Everyone(), "gateway timeout", 10)
	if err != nil || len(hits) != 2 || hits[0].ID != "together" || hits[0].Score <= hits[1].Score {
		t.Fatalf("search = %+v, %v; want both, the adjacent words first", hits, err)
	}
}

func TestAccessContract(t *testing.T) {
	storetest.RunAccess(t, func(t *testing.T, docs []store.SourceDocument, def access.Default) store.Store {
		dir := t.TempDir()
		mustSync(t, dir, SyncOptions{Roots: []string{"root"}}, docs)
		st, err := Open(dir, def, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}

// TestAccessListChange: a document whose list alone changed is updated by
// the next run, and searches and fetches follow the new list.
func TestAccessListChange(t *testing.T) {
	dir := t.TempDir()
	d := doc("plan", "The quarterly plan.")
	d.Access = access.List{"group:eng"}
	mustSync(t, dir, SyncOptions{Roots: []string{"r"}}, []store.SourceDocument{d})
	eng, hr := access.NewCaller("a", "", []string{"eng"}, nil), access.NewCaller("b", "", []string{"hr"}, nil)
	sees := func(who access.Caller) bool {
		t.Helper()
		st := mustOpen(t, dir)
		hits, err := st.Search(t.Context(), who, "quarterly", 5)
		if err != nil {
			t.Fatal(err)
		}
		_, ferr := st.Fetch(t.Context(), who, "plan")
		if (len(hits) == 1) != (ferr == nil) {
			t.Fatalf("search found %d, fetch: %v", len(hits), ferr)
		}
		return len(hits) == 1
	}
	if !sees(eng) || sees(hr) {
		t.Fatal("group:eng: eng should read the plan, hr not")
	}
	d.Access = access.List{"group:hr"}
	if sum := mustSync(t, dir, SyncOptions{Roots: []string{"r"}}, []store.SourceDocument{d}); sum.Updated != 1 {
		t.Fatalf("summary %+v: want the document updated", sum)
	}
	if sees(eng) || !sees(hr) {
		t.Fatal("group:hr: hr should read the plan, eng not")
	}
	if sum := mustSync(t, dir, SyncOptions{Roots: []string{"r"}}, []store.SourceDocument{d}); sum.Unchanged != 1 {
		t.Fatalf("summary %+v: want the document unchanged", sum)
	}
}

// TestFilterKeepsScores: the access filter selects passages without scoring
// them, so a caller who may read every document gets the ranking, scores
// included, that a search without a filter gives.
func TestFilterKeepsScores(t *testing.T) {
	dir := t.TempDir()
	words := strings.Fields("refund policy annual plan partitions consumers tunnel ngrok escalation outage contact manager handbook quarterly review salary")
	var docs []store.SourceDocument
	for i := range 300 {
		var b strings.Builder
		for j := range 40 + i%60 {
			b.WriteString(words[(i*7+j*j)%len(words)] + " ")
		}
		docs = append(docs, doc(fmt.Sprintf("d%03d", i), b.String()))
	}
	mustSync(t, dir, SyncOptions{Roots: []string{"r"}}, docs)
	st := mustOpen(t, dir)
	who := access.NewCaller("u", "", []string{"eng"}, nil)
	for _, q := range []string{"refund policy", "quarterly salary review", "tunnel outage escalation contact", "consumers"} {
		want, err := st.Search(t.Context(), access.Everyone(), q, 10)
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.Search(t.Context(), who, q, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 || !slices.EqualFunc(got, want, func(a, b store.Hit) bool { return a.ID == b.ID && a.Score == b.Score }) {
			t.Errorf("%q: filtered %v, unfiltered %v", q, got, want)
		}
	}
}
