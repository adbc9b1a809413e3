package blevestore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/embed"
	"github.com/connectorhq/connector/internal/embed/embedtest"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/store/storetest"
)

func TestContractWithVectors(t *testing.T) {
	storetest.Run(t, func(t *testing.T, docs []store.Document) store.Store {
		dir := t.TempDir()
		var in []store.SourceDocument
		for _, d := range docs {
			in = append(in, store.SourceDocument{Document: d, Root: "root", File: d.ID})
		}
		emb := embedtest.New("", 0)
		mustSync(t, dir, SyncOptions{Roots: []string{"root"}, Embedder: emb}, in)
		st := mustOpenWith(t, dir, emb, nil)
		if st.gen.vectors == nil {
			t.Fatal("the store searches without vectors")
		}
		return st
	})
}

func TestAccessContractWithVectors(t *testing.T) {
	storetest.RunAccess(t, func(t *testing.T, docs []store.SourceDocument, def access.Default) store.Store {
		dir := t.TempDir()
		emb := embedtest.New("", 0)
		mustSync(t, dir, SyncOptions{Roots: []string{"root"}, Embedder: emb}, docs)
		st, err := OpenWith(dir, def, nil, OpenOptions{Embedder: emb})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}

// mustOpenWith opens the index in dir with an embedder, logging to log when not nil.
func mustOpenWith(t *testing.T, dir string, emb embed.Embedder, log *bytes.Buffer) *Store {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	if log != nil {
		logger = slog.New(slog.NewTextHandler(log, nil))
	}
	st, err := OpenWith(dir, access.DefaultAuthenticated, logger, OpenOptions{Embedder: emb})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// semanticDocs: "refunds" shares no word with the query "money back" but
// means the same; "museum" holds the word "zeppelin" among many others,
// so only BM25 finds it for that word.
func semanticDocs() []store.SourceDocument {
	return []store.SourceDocument{
		doc("refunds", "Reimbursement of a purchase happens within thirty days."),
		doc("museum", "Our museum shows old photographs, maps, letters, tickets, uniforms, engines, propellers, "+
			"models, posters, timetables, menus, postcards, medals, instruments, diaries, newspapers, films, "+
			"paintings, tools and a zeppelin gondola from the golden era of travel across oceans."),
		doc("kafka", "Partitions let consumers scale horizontally."),
	}
}

func searchIDs(t *testing.T, st *Store, who access.Caller, q string, limit int) []string {
	t.Helper()
	hits, err := st.Search(t.Context(), who, q, limit)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
		if h.Snippet == "" {
			t.Errorf("search %q: hit %s has no snippet", q, h.ID)
		}
	}
	return out
}

func TestHybridFindsBySemanticsAndWords(t *testing.T) {
	dir := t.TempDir()
	emb := embedtest.New("", 0)
	mustSync(t, dir, SyncOptions{Roots: []string{"r"}, Embedder: emb}, semanticDocs())

	// Keywords alone miss the semantic match.
	if got := searchIDs(t, mustOpen(t, dir), access.Everyone(), "money back", 10); slices.Contains(got, "refunds") {
		t.Fatalf("BM25 alone found refunds: %v", got)
	}
	st := mustOpenWith(t, dir, emb, nil)
	if got := searchIDs(t, st, access.Everyone(), "money back", 10); len(got) == 0 || got[0] != "refunds" {
		t.Errorf("money back: %v, want refunds first", got)
	}
	// The vector side alone does not find zeppelin; the fused ranking does.
	qv, err := st.embedQuery(t.Context(), "zeppelin")
	if err != nil {
		t.Fatal(err)
	}
	near, err := st.nearest(t.Context(), st.gen, access.Everyone(), qv, 30)
	if err != nil {
		t.Fatal(err)
	}
	if len(near) != 0 {
		t.Fatalf("vector side found %v for zeppelin; the test needs a lexical-only match", near)
	}
	hits, err := st.Search(t.Context(), access.Everyone(), "zeppelin", 10)
	if err != nil || len(hits) != 1 || hits[0].ID != "museum" {
		t.Fatalf("zeppelin: %v, %v; want the museum document", hits, err)
	}
	if !strings.Contains(hits[0].Snippet, "zeppelin") {
		t.Errorf("snippet %q does not show the word", hits[0].Snippet)
	}
}

// A long document matches in several passages on both sides; the fused
// ranking returns it once, and respects the limit.
func TestHybridOneHitPerDocument(t *testing.T) {
	dir := t.TempDir()
	emb := embedtest.New("", 0)
	long := strings.Repeat("Refunds are paid back to the card. Money back within days. ", 200)
	docs := []store.SourceDocument{doc("long", long), doc("short", "Refund of annual plans."), doc("other", "Money back guarantee.")}
	mustSync(t, dir, SyncOptions{Roots: []string{"r"}, Embedder: emb}, docs)
	st := mustOpenWith(t, dir, emb, nil)
	got := searchIDs(t, st, access.Everyone(), "money back refund", 10)
	if !sameSet(got, []string{"long", "short", "other"}) {
		t.Errorf("got %v, want each document once", got)
	}
	if got := searchIDs(t, st, access.Everyone(), "money back refund", 2); len(got) != 2 || got[0] == got[1] {
		t.Errorf("limit 2: got %v", got)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// A forbidden document never ranks, even as the nearest vector.
func TestHybridAccess(t *testing.T) {
	dir := t.TempDir()
	emb := embedtest.New("", 0)
	secret := doc("secret", "Refunds, money back, reimbursement.")
	secret.Access = access.List{"group:hr"}
	open := doc("open", "Reimbursement of travel costs and of the purchase of books, desks, chairs and lamps.")
	open.Access = access.List{"group:eng"}
	mustSync(t, dir, SyncOptions{Roots: []string{"r"}, Embedder: emb}, []store.SourceDocument{secret, open})
	st := mustOpenWith(t, dir, emb, nil)
	eng := access.NewCaller("u", "", []string{"eng"}, nil)
	for _, q := range []string{"money back", "refunds", "reimbursement"} {
		if got := searchIDs(t, st, eng, q, 10); slices.Contains(got, "secret") {
			t.Errorf("%q: eng sees %v", q, got)
		}
	}
	if got := searchIDs(t, st, access.Everyone(), "money back", 10); len(got) == 0 || got[0] != "secret" {
		t.Errorf("everyone: %v, want secret first (it is the nearest)", got)
	}
	if got := searchIDs(t, st, access.NewCaller("n", "", nil, nil), "money back", 10); len(got) != 0 {
		t.Errorf("a caller in no group sees %v", got)
	}
}

// A server whose embedder is not the index's searches by keywords only,
// and says why.
func TestHybridModelMismatch(t *testing.T) {
	dir := t.TempDir()
	mustSync(t, dir, SyncOptions{Roots: []string{"r"}, Embedder: embedtest.New("", 0)}, semanticDocs())
	var log bytes.Buffer
	st := mustOpenWith(t, dir, embedtest.New("other", 32), &log)
	want := "index built with model fake-bow (128 dims), server configured with other (32 dims)"
	if !strings.Contains(log.String(), want) {
		t.Errorf("log %q does not say %q", log.String(), want)
	}
	status, err := st.Ready(t.Context())
	if err != nil || !strings.Contains(status.Detail["warning"], want) || !strings.Contains(status.Detail["warning"], "connector index") {
		t.Errorf("ready = %+v, %v; want the warning", status, err)
	}
	if got := searchIDs(t, st, access.Everyone(), "money back", 10); slices.Contains(got, "refunds") {
		t.Errorf("mismatched vectors used: %v", got)
	}
	if got := searchIDs(t, st, access.Everyone(), "zeppelin", 10); !slices.Equal(got, []string{"museum"}) {
		t.Errorf("keyword search: %v", got)
	}

	// An index without vectors, likewise.
	dir = t.TempDir()
	mustSync(t, dir, SyncOptions{Roots: []string{"r"}}, semanticDocs())
	log.Reset()
	st = mustOpenWith(t, dir, embedtest.New("", 0), &log)
	if !strings.Contains(log.String(), "index has no passage vectors") {
		t.Errorf("log %q does not warn of the missing vectors", log.String())
	}
	if status, _ := st.Ready(t.Context()); !strings.Contains(status.Detail["warning"], "no passage vectors") {
		t.Errorf("ready = %+v; want the warning", status)
	}
	if got := searchIDs(t, st, access.Everyone(), "zeppelin", 10); !slices.Equal(got, []string{"museum"}) {
		t.Errorf("keyword search: %v", got)
	}
}

// Unchanged documents and passages keep their vectors: only what changed
// is embedded again.
func TestVectorsReuse(t *testing.T) {
	dir := t.TempDir()
	emb := embedtest.New("", 0)
	opts := SyncOptions{Roots: []string{"r"}, Embedder: emb}
	long := strings.Repeat("Filler words about the weather and the sea. ", 300)
	docs := append(semanticDocs(), doc("long", long+"The end."))
	mustSync(t, dir, opts, docs)
	first := emb.Texts()
	if first < 5 {
		t.Fatalf("first run embedded %d passages, want every passage", first)
	}
	// Nothing changed: nothing embedded.
	if sum := mustSync(t, dir, opts, docs); sum.Unchanged != len(docs) || emb.Texts() != first {
		t.Fatalf("unchanged run: %+v, embedded %d", sum, emb.Texts()-first)
	}
	// One short document changed, the long one at its end: one passage each.
	docs[2].Text = "Partitions let consumers scale out."
	docs[3].Text = long + "The very end."
	mustSync(t, dir, opts, docs)
	if n := emb.Texts() - first; n != 2 {
		t.Errorf("embedded %d passages after two changed, want 2", n)
	}
	st := mustOpenWith(t, dir, emb, nil)
	if got := searchIDs(t, st, access.Everyone(), "money back", 10); len(got) == 0 || got[0] != "refunds" {
		t.Errorf("money back: %v, want refunds first from its carried-over vector", got)
	}
	checkVectors(t, st, dir)
}

// checkVectors checks that every passage's vector in the served generation
// is the fake's vector of its text.
func checkVectors(t *testing.T, st *Store, dir string) {
	t.Helper()
	vs := st.gen.vectors
	for d, id := range vs.ids {
		doc, err := st.Fetch(t.Context(), access.Everyone(), id)
		if err != nil {
			t.Fatal(err)
		}
		n := int(vs.first[d+1] - vs.first[d])
		for p := range n {
			body, _, err := readPassage(st.gen.idx, passageID(id, p))
			if err != nil {
				t.Fatal(err)
			}
			want := embedtest.Vector(embedText(doc.Title, body), vs.model.Dims)
			r := int(vs.first[d]) + p
			if got := vs.vecs[r*vs.model.Dims : (r+1)*vs.model.Dims]; !slices.Equal(got, want) {
				t.Errorf("%s passage %d: vector is not its text's", id, p)
			}
		}
	}
	if len(vs.vecs) != int(vs.first[len(vs.ids)])*vs.model.Dims {
		t.Errorf("%d floats for %d rows", len(vs.vecs), vs.first[len(vs.ids)])
	}
}

// A run that fails or is cancelled, embedding or not, leaves the previous
// generation and its vectors as they were.
func TestVectorsInterruptedRun(t *testing.T) {
	dir := t.TempDir()
	emb := embedtest.New("", 0)
	opts := SyncOptions{Roots: []string{"r"}, Embedder: emb}
	first := mustSync(t, dir, opts, semanticDocs())
	before := readGenFiles(t, filepath.Join(dir, first.Generation))

	many := func(version string) []store.SourceDocument {
		var out []store.SourceDocument
		for i := range 200 {
			out = append(out, doc(fmt.Sprintf("d%03d", i), fmt.Sprintf("text %d version %s", i, version)))
		}
		return out
	}
	// The embedder fails half way.
	s, err := NewSyncer(t.Context(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("embedding service down")
	var addErr error
	for i, d := range many("one") {
		if i == 100 {
			emb.Fail(boom)
		}
		if _, addErr = s.Add(t.Context(), d); addErr != nil {
			break
		}
	}
	if addErr == nil { // batches are embedded in the background: the failure may come at Commit
		_, addErr = s.Commit(t.Context())
	}
	if !errors.Is(addErr, boom) {
		t.Fatalf("run with a failing embedder: %v", addErr)
	}
	s.Abort()
	emb.Fail(nil)

	// Cancelled before Commit.
	ctx, cancel := context.WithCancel(t.Context())
	s, err = NewSyncer(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range many("two") {
		if _, err := s.Add(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if _, err := s.Commit(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("commit cancelled: %v", err)
	}

	if cur, _ := readCurrent(dir); cur != first.Generation {
		t.Fatalf("CURRENT = %s, want %s", cur, first.Generation)
	}
	if after := readGenFiles(t, filepath.Join(dir, first.Generation)); !maps.Equal(before, after) {
		t.Error("the previous generation's files changed")
	}
	st := mustOpenWith(t, dir, emb, nil)
	if got := searchIDs(t, st, access.Everyone(), "money back", 10); len(got) == 0 || got[0] != "refunds" {
		t.Errorf("money back: %v, want refunds", got)
	}
	// The next run starts from the previous generation and keeps its vectors.
	texts := emb.Texts()
	mustSync(t, dir, opts, append(semanticDocs(), doc("new", "A new document.")))
	if n := emb.Texts() - texts; n != 1 {
		t.Errorf("next run embedded %d passages, want 1", n)
	}
}

func readGenFiles(t *testing.T, path string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			b, err := os.ReadFile(filepath.Join(path, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out[e.Name()] = string(b)
		}
	}
	if _, ok := out[vectorsFile]; !ok {
		t.Fatalf("%s has no %s", path, vectorsFile)
	}
	return out
}

// A model change rebuilds the index and embeds every passage again; an
// index without vectors gets them the same way.
func TestVectorsModelChangeRebuilds(t *testing.T) {
	dir := t.TempDir()
	docs := semanticDocs()
	mustSync(t, dir, SyncOptions{Roots: []string{"r"}}, docs)

	var log bytes.Buffer
	a := embedtest.New("model-a", 64)
	sum := mustSync(t, dir, SyncOptions{Roots: []string{"r"}, Embedder: a, Logger: slog.New(slog.NewTextHandler(&log, nil))}, docs)
	if !sum.Rebuilt || a.Texts() != len(docs) {
		t.Errorf("adding vectors: %+v, embedded %d of %d", sum, a.Texts(), len(docs))
	}
	if !strings.Contains(log.String(), "no passage vectors") {
		t.Errorf("log %q does not say why it rebuilds", log.String())
	}

	log.Reset()
	b := embedtest.New("model-b", 48)
	var progress [][2]int
	sum = mustSync(t, dir, SyncOptions{Roots: []string{"r"}, Embedder: b, Logger: slog.New(slog.NewTextHandler(&log, nil)),
		OnEmbed: func(done, queued int) { progress = append(progress, [2]int{done, queued}) }}, docs)
	if !sum.Rebuilt || b.Texts() != len(docs) {
		t.Errorf("model change: %+v, embedded %d of %d", sum, b.Texts(), len(docs))
	}
	if want := "model-a (64 dims), this run uses model-b (48 dims)"; !strings.Contains(log.String(), want) {
		t.Errorf("log %q does not say %q", log.String(), want)
	}
	if len(progress) == 0 || progress[len(progress)-1] != [2]int{len(docs), len(docs)} {
		t.Errorf("progress %v, want it to end at %d of %d", progress, len(docs), len(docs))
	}
	st := mustOpenWith(t, dir, b, nil)
	if got := searchIDs(t, st, access.Everyone(), "money back", 10); len(got) == 0 || got[0] != "refunds" {
		t.Errorf("money back: %v, want refunds", got)
	}
	checkVectors(t, st, dir)

	// A run without an embedder drops the vectors, and says so.
	log.Reset()
	docs[2].Text = "Changed."
	mustSync(t, dir, SyncOptions{Roots: []string{"r"}, Logger: slog.New(slog.NewTextHandler(&log, nil))}, docs)
	if !strings.Contains(log.String(), "no embedder") {
		t.Errorf("log %q does not warn of the dropped vectors", log.String())
	}
	if st := mustOpenWith(t, dir, b, nil); st.gen.vectors != nil || st.gen.vectorsWarning == "" {
		t.Error("vectors after a run without an embedder")
	}
}

// Vectors are rebuilt in batches, with bounded memory, over many documents
// and several batches of the index.
func TestVectorsManyBatches(t *testing.T) {
	dir := t.TempDir()
	emb := embedtest.New("", 16)
	opts := SyncOptions{Roots: []string{"r"}, Embedder: emb, batchRecords: 50}
	var docs []store.SourceDocument
	for i := range 300 {
		docs = append(docs, doc(fmt.Sprintf("d%03d", i), fmt.Sprintf("text number %d", i)))
	}
	mustSync(t, dir, opts, docs)
	if emb.Calls() != (300+embedBatch-1)/embedBatch {
		t.Errorf("%d embed calls for 300 passages", emb.Calls())
	}
	for i := range docs {
		if i%3 == 0 {
			docs[i].Text += " changed"
		}
	}
	mustSync(t, dir, opts, docs[:250])
	st := mustOpenWith(t, dir, emb, nil)
	if n := len(st.gen.vectors.ids); n != 250 {
		t.Errorf("%d documents with vectors, want 250", n)
	}
	checkVectors(t, st, dir)
}

// BenchmarkVectorSearch measures exact search over 100k passages of 384
// dimensions (all-MiniLM-L6-v2's): for a caller who reads everything, and
// for one who reads half, the readable passages together in runs of a
// thousand (documents of a folder share a list) or every other one (the
// worst case: memory is read in strides the prefetcher follows badly).
func BenchmarkVectorSearch(b *testing.B) {
	const rows, dims = 100_000, 384
	rng := rand.New(rand.NewPCG(1, 2))
	vs := &vectorSet{model: embed.Model{Name: "bench", Dims: dims}, vecs: make([]float32, rows*dims),
		ids: make([]string, rows), first: make([]int32, rows+1), acl: make([]uint32, rows),
		acls: [][]string{{"a"}, {"b"}, {"c"}, {"d"}}}
	for i := range vs.vecs {
		vs.vecs[i] = float32(rng.NormFloat64())
	}
	for r := range rows {
		// Sets 0 and 1 alternate in runs of a thousand; 2 and 3 every other row.
		vs.ids[r], vs.first[r], vs.acl[r] = fmt.Sprint(r), int32(r), uint32(r/1000%2)+2*uint32(r%2)
	}
	vs.first[rows] = rows
	q := make([]float32, dims)
	for i := range q {
		q[i] = float32(rng.NormFloat64())
	}
	for _, bc := range []struct {
		name    string
		allowed func(uint32) bool
	}{
		{"all", nil},
		{"half-clustered", func(set uint32) bool { return set&1 == 0 }},
		{"half-interleaved", func(set uint32) bool { return set&2 == 0 }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := vs.search(b.Context(), q, 30, bc.allowed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A query the embedder fails on is ranked by keywords, not failed.
func TestHybridQueryEmbedFails(t *testing.T) {
	dir := t.TempDir()
	emb := embedtest.New("", 0)
	mustSync(t, dir, SyncOptions{Roots: []string{"r"}, Embedder: emb}, semanticDocs())
	var log bytes.Buffer
	st := mustOpenWith(t, dir, emb, &log)
	emb.Fail(errors.New("embedding service down"))
	if got := searchIDs(t, st, access.Everyone(), "zeppelin", 10); !slices.Equal(got, []string{"museum"}) {
		t.Errorf("zeppelin: %v, want museum", got)
	}
	if !strings.Contains(log.String(), "embedding service down") {
		t.Errorf("log %q does not say why search fell back", log.String())
	}
}

// The vector files are checksummed with the rest of the generation: a
// changed byte is damage, reported rather than searched.
func TestVectorsChecksummed(t *testing.T) {
	dir := t.TempDir()
	emb := embedtest.New("", 0)
	sum := mustSync(t, dir, SyncOptions{Roots: []string{"r"}, Embedder: emb}, semanticDocs())
	gen := filepath.Join(dir, sum.Generation)
	sums, err := os.ReadFile(filepath.Join(gen, checksumFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{vectorsFile, vectorsMetaFile} {
		if !strings.Contains(string(sums), " "+f+"\n") {
			t.Errorf("%s is not checksummed", f)
		}
	}
	if _, err := os.Stat(filepath.Join(gen, vectorsSpillFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the spill file is left: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(gen, vectorsFile))
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x40
	writeFile(t, filepath.Join(gen, vectorsFile), string(b))
	st := mustOpenWith(t, dir, emb, nil)
	if _, err := st.Search(t.Context(), access.Everyone(), "money back", 10); !errors.Is(err, ErrDamaged) {
		t.Errorf("search over damaged vectors: %v, want ErrDamaged", err)
	}
}
