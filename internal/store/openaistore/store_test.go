package openaistore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/store/openaistore"
	"github.com/connectorhq/connector/internal/store/openaistore/openaitest"
	"github.com/connectorhq/connector/internal/store/storetest"
)

const key = "sk-test-key-never-logged"

// syncDocs loads documents into a new vector store through the real syncer
// and returns its id.
func syncDocs(t *testing.T, srv *openaitest.Server, docs []store.SourceDocument) string {
	t.Helper()
	s, err := openaistore.NewSyncer(t.Context(), openaistore.Config{APIKey: key, BaseURL: srv.URL()},
		openaistore.SyncOptions{Roots: []string{"root"}, PollInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if err := s.Add(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := s.Commit(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed != 0 || !sum.Created {
		t.Fatalf("sync summary %+v", sum)
	}
	return sum.VectorStoreID
}

func ingested(docs []store.Document) []store.SourceDocument {
	out := make([]store.SourceDocument, len(docs))
	for i, d := range docs {
		out[i] = store.SourceDocument{Document: d, Root: "root", File: d.ID}
	}
	return out
}

// logBuffer collects log output safely.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newStore(t *testing.T, srv *openaitest.Server, vsID string, tweak func(*openaistore.Config)) (*openaistore.Store, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	cfg := openaistore.Config{APIKey: key, VectorStoreID: vsID, BaseURL: srv.URL(), MaxRetries: 2, Timeout: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(logs, nil))}
	if tweak != nil {
		tweak(&cfg)
	}
	st, err := openaistore.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, logs
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, docs []store.Document) store.Store {
		srv := openaitest.NewServer(t, key)
		st, _ := newStore(t, srv, syncDocs(t, srv, ingested(docs)), nil)
		return st
	})
}

func TestSearchGroupsChunksIntoDocuments(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	vs := srv.AddVectorStore("docs")
	long := strings.Repeat("Unrelated words fill this paragraph. ", 60)
	srv.AddFile(vs, "handbook.txt", "Glacier policy. "+long+" The glacier rule applies again here. "+long+" Glacier glacier glacier.",
		map[string]any{"doc_id": "handbook", "title": "Handbook", "url": "https://intranet.example.com/handbook"})
	srv.AddFile(vs, "notes.md", "A note that mentions the glacier once.", map[string]any{"doc_id": "notes"})
	srv.AddFile(vs, "raw.txt", "Glacier files uploaded by another tool.", nil)
	srv.AddFile(vs, "bad-url.txt", "glacier with a storage link", map[string]any{"doc_id": "bad", "url": "https://platform.openai.com/storage/files/file-1x"})
	srv.AddFile(vs, "rel.txt", "glacier with a relative link", map[string]any{"doc_id": "rel", "url": "/docs/rel"})
	st, _ := newStore(t, srv, vs, nil)

	hits, err := st.Search(t.Context(), access.Everyone(), "glacier", 10)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]store.Hit{}
	for _, h := range hits {
		if _, dup := seen[h.ID]; dup {
			t.Fatalf("id %q twice in %v", h.ID, hits)
		}
		seen[h.ID] = h
	}
	if len(hits) != 5 {
		t.Fatalf("got %d hits, want one per document (5): %+v", len(hits), hits)
	}
	for i := 1; i < len(hits); i++ {
		if hits[i].Score > hits[i-1].Score {
			t.Errorf("hits not ordered by score: %v", hits)
		}
	}
	h := seen["handbook"]
	if h.Title != "Handbook" || h.URL != "https://intranet.example.com/handbook" {
		t.Errorf("handbook hit %+v: want the title and url attributes", h)
	}
	if n := len([]rune(h.Snippet)); n > 320 || !strings.Contains(strings.ToLower(h.Snippet), "glacier") {
		t.Errorf("snippet %q (%d chars): want ~300 characters around the match", h.Snippet, n)
	}
	if n := seen["notes"]; n.Title != "notes.md" {
		t.Errorf("untitled document title %q, want the filename", n.Title)
	}
	var raw store.Hit
	for id, h := range seen {
		if strings.HasPrefix(id, "file-") {
			raw = h
		}
	}
	if raw.ID == "" || raw.Title != "raw.txt" {
		t.Errorf("a file without doc_id is found by its file id: %+v", seen)
	}
	if seen["bad"].URL != "" || seen["rel"].URL != "" {
		t.Errorf("non-citable urls passed through: %q %q", seen["bad"].URL, seen["rel"].URL)
	}
	// The request: max_num_results derived from the limit, and options from config.
	st2, _ := newStore(t, srv, vs, func(c *openaistore.Config) { c.RewriteQuery = true; c.ScoreThreshold = 0.2 })
	if _, err := st2.Search(t.Context(), access.Everyone(), "glacier", 3); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests("POST /vector_stores/*/search")
	body := string(reqs[len(reqs)-1].Body)
	for _, want := range []string{`"max_num_results":6`, `"rewrite_query":true`, `"score_threshold":0.2`} {
		if !strings.Contains(body, want) {
			t.Errorf("search request %s lacks %s", body, want)
		}
	}
	limited, _ := st.Search(t.Context(), access.Everyone(), "glacier", 2)
	if len(limited) != 2 {
		t.Errorf("limit 2 gave %d hits", len(limited))
	}
}

func TestFetchJoinsContentAndMetadata(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	var b strings.Builder
	for i := range 30 {
		fmt.Fprintf(&b, "Paragraph %d explains one more detail of the procedure.\n\n", i)
	}
	doc := store.Document{ID: "guides/procedure.md", Title: "The procedure", Text: strings.TrimSpace(b.String()),
		URL: "https://docs.example.com/procedure", Metadata: map[string]string{"team": "ops", "format": "markdown"}}
	vs := syncDocs(t, srv, ingested([]store.Document{doc}))
	st, _ := newStore(t, srv, vs, nil)

	got, err := st.Fetch(t.Context(), access.Everyone(), "guides/procedure.md")
	if err != nil {
		t.Fatal(err)
	}
	if got.Text != doc.Text {
		t.Errorf("text differs:\n got %q\nwant %q", got.Text[:80], doc.Text[:80])
	}
	if got.Title != doc.Title || got.URL != doc.URL || got.ID != doc.ID {
		t.Errorf("got %+v", got)
	}
	if got.Metadata["team"] != "ops" || got.Metadata["filename"] != "procedure.md" || got.Metadata["file_id"] == "" {
		t.Errorf("metadata %v", got.Metadata)
	}
	for _, internal := range []string{"content_sha256", "source_root", "source_file"} {
		if _, ok := got.Metadata[internal]; ok {
			t.Errorf("metadata shows bookkeeping attribute %s", internal)
		}
	}
	if n := len(srv.Requests("GET /vector_stores/*/files/*/content")); n != 1 {
		t.Errorf("content fetched %d times", n)
	}
	// By file id too.
	byFile, err := st.Fetch(t.Context(), access.Everyone(), got.Metadata["file_id"])
	if err != nil || byFile.ID != doc.ID {
		t.Errorf("fetch by file id: %+v %v", byFile, err)
	}
}

func TestFetchUnknownID(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	vs := syncDocs(t, srv, ingested([]store.Document{{ID: "a", Title: "A", Text: "alpha"}}))
	st, _ := newStore(t, srv, vs, nil)
	for _, id := range []string{"nope", "file-999999"} {
		if _, err := st.Fetch(t.Context(), access.Everyone(), id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Fetch(%q): %v, want ErrNotFound", id, err)
		}
	}
}

// unavailable asserts an error is a store.Unavailable of the class.
func unavailable(t *testing.T, err error, class, reason string) {
	t.Helper()
	var u *store.Unavailable
	if !errors.As(err, &u) || u.Class != class || !strings.Contains(u.Reason, reason) {
		t.Fatalf("err = %v, want Unavailable %s %q", err, class, reason)
	}
	if strings.Contains(err.Error(), key) {
		t.Fatalf("error shows the API key: %v", err)
	}
}

func TestUpstreamErrors(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	vs := syncDocs(t, srv, ingested([]store.Document{{ID: "a", Title: "A", Text: "alpha words"}}))

	t.Run("credentials rejected", func(t *testing.T) {
		st, logs := newStore(t, srv, vs, func(c *openaistore.Config) { c.APIKey = "sk-wrong-key" })
		_, err := st.Search(t.Context(), access.Everyone(), "alpha", 5)
		unavailable(t, err, "upstream_auth", "the connector's OpenAI credentials were rejected")
		if !strings.Contains(logs.String(), "OPENAI_API_KEY") || strings.Contains(logs.String(), "sk-wrong-key") {
			t.Errorf("log must name OPENAI_API_KEY and never show it:\n%s", logs)
		}
		_, err = st.Ready(t.Context())
		unavailable(t, err, "upstream_auth", "credentials")
	})
	t.Run("vector store not found", func(t *testing.T) {
		st, logs := newStore(t, srv, "vs_missing", nil)
		_, err := st.Search(t.Context(), access.Everyone(), "alpha", 5)
		unavailable(t, err, "store_missing", "vector store not found")
		_, err = st.Fetch(t.Context(), access.Everyone(), "a")
		unavailable(t, err, "store_missing", "vector store not found")
		if !strings.Contains(logs.String(), "VECTOR_STORE_ID") {
			t.Errorf("log must name VECTOR_STORE_ID:\n%s", logs)
		}
	})
	t.Run("429 then success honours Retry-After", func(t *testing.T) {
		st, _ := newStore(t, srv, vs, nil)
		before := len(srv.Requests("POST /vector_stores/*/search"))
		srv.Fail("POST /vector_stores/*/search", 1, 429, map[string]string{"retry-after-ms": "200"})
		start := time.Now()
		hits, err := st.Search(t.Context(), access.Everyone(), "alpha", 5)
		if err != nil || len(hits) != 1 {
			t.Fatalf("after one 429: %v %v", hits, err)
		}
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Errorf("retried after %v, before the 200ms Retry-After", d)
		}
		if n := len(srv.Requests("POST /vector_stores/*/search")) - before; n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
	})
	t.Run("429 after retries", func(t *testing.T) {
		st, _ := newStore(t, srv, vs, nil)
		srv.Fail("POST /vector_stores/*/search", 3, 429, map[string]string{"retry-after-ms": "1"})
		_, err := st.Search(t.Context(), access.Everyone(), "alpha", 5)
		unavailable(t, err, "rate_limited", "rate limited upstream, try again shortly")
	})
	t.Run("500 until retries run out", func(t *testing.T) {
		st, _ := newStore(t, srv, vs, func(c *openaistore.Config) { c.MaxRetries = 1 })
		before := len(srv.Requests("POST /vector_stores/*/search"))
		srv.Fail("POST /vector_stores/*/search", 2, 500, map[string]string{"retry-after-ms": "1"})
		_, err := st.Search(t.Context(), access.Everyone(), "alpha", 5)
		unavailable(t, err, "upstream_error", "did not answer")
		if n := len(srv.Requests("POST /vector_stores/*/search")) - before; n != 2 {
			t.Errorf("%d requests, want 1 + 1 retry", n)
		}
	})
}

func TestSlowUpstream(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	vs := syncDocs(t, srv, ingested([]store.Document{{ID: "a", Title: "A", Text: "alpha"}}))
	srv.Delay("POST /vector_stores/*/search", 3*time.Second)

	t.Run("cut by the request timeout", func(t *testing.T) {
		st, _ := newStore(t, srv, vs, func(c *openaistore.Config) { c.Timeout = 100 * time.Millisecond; c.MaxRetries = 0 })
		start := time.Now()
		_, err := st.Search(t.Context(), access.Everyone(), "alpha", 5)
		if err == nil || time.Since(start) > 2*time.Second {
			t.Fatalf("err %v after %v, want a timeout well before the 3s upstream", err, time.Since(start))
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want a deadline error (a timeout for the tool)", err)
		}
	})
	t.Run("a cancelled call stops its request", func(t *testing.T) {
		st, _ := newStore(t, srv, vs, nil)
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		_, err := st.Search(ctx, access.Everyone(), "alpha", 5)
		if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
			t.Fatalf("err %v after %v, want context.Canceled at once", err, time.Since(start))
		}
	})
}

func TestFetchCacheAndSingleFlight(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	vs := syncDocs(t, srv, ingested([]store.Document{{ID: "a", Title: "A", Text: "alpha text"}, {ID: "b", Title: "B", Text: "bravo"}}))
	st, _ := newStore(t, srv, vs, nil)
	content := func() int { return len(srv.Requests("GET /vector_stores/*/files/*/content")) }

	srv.Delay("GET /vector_stores/*/files/*/content", 300*time.Millisecond)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			d, err := st.Fetch(t.Context(), access.Everyone(), "a")
			if err == nil && d.Text != "alpha text" {
				err = fmt.Errorf("text %q", d.Text)
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := content(); n != 1 {
		t.Fatalf("20 concurrent fetches made %d content requests, want 1", n)
	}
	if _, err := st.Fetch(t.Context(), access.Everyone(), "a"); err != nil || content() != 1 {
		t.Fatalf("a repeated fetch is not served from the cache: %v, %d requests", err, content())
	}

	// One caller giving up does not fail the others, and the last one
	// giving up stops the request.
	quitter, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := st.Fetch(quitter, access.Everyone(), "b")
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	got := make(chan error, 1)
	go func() {
		d, err := st.Fetch(t.Context(), access.Everyone(), "b")
		if err == nil && d.Text != "bravo" {
			err = fmt.Errorf("text %q", d.Text)
		}
		got <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller: %v", err)
	}
	if err := <-got; err != nil {
		t.Errorf("the other caller failed with its peer: %v", err)
	}
}

func TestReadyIsCached(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	vs := syncDocs(t, srv, ingested([]store.Document{{ID: "a", Title: "A", Text: "alpha"}}))
	st, _ := newStore(t, srv, vs, nil)
	before := len(srv.Requests("GET /vector_stores/" + vs))
	for range 5 {
		s, err := st.Ready(t.Context())
		if err != nil || s.Documents != 1 || s.Backend != "openai" || s.Detail["vector_store_id"] != vs {
			t.Fatalf("Ready = %+v, %v", s, err)
		}
	}
	if n := len(srv.Requests("GET /vector_stores/"+vs)) - before; n != 1 {
		t.Errorf("5 readiness checks made %d requests, want 1", n)
	}
}

// TestReadyWaitsWithinItsDeadline: a readiness check that waits for
// another one, hung upstream, gives up at its own deadline.
func TestReadyWaitsWithinItsDeadline(t *testing.T) {
	srv := openaitest.NewServer(t, key)
	vs := srv.AddVectorStore("docs")
	st, _ := newStore(t, srv, vs, func(c *openaistore.Config) { c.Timeout = time.Minute })
	h := srv.Hold("GET /vector_stores/"+vs, 1)
	defer h.Release()
	first := make(chan error, 1)
	go func() {
		_, err := st.Ready(t.Context())
		first <- err
	}()
	<-h.Arrived()

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	second := make(chan error, 1)
	go func() {
		_, err := st.Ready(ctx)
		second <- err
	}()
	select {
	case err := <-second:
		unavailable(t, err, "upstream_timeout", "did not answer in time")
	case <-time.After(10 * time.Second): // a guard against a hang, not an ordering
		t.Fatal("a readiness check waited past its deadline behind a hung one")
	}
	h.Release()
	if err := <-first; err != nil {
		t.Errorf("the held check, once answered: %v", err)
	}
}

func TestClientOptionsAreExplicit(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-from-the-environment")
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/unused")
	t.Setenv("OPENAI_ORG_ID", "org-env")
	t.Setenv("OPENAI_CUSTOM_HEADERS", "X-Sneaky: yes")
	srv := openaitest.NewServer(t, key)
	vs := srv.AddVectorStore("docs")
	st, _ := newStore(t, srv, vs, func(c *openaistore.Config) { c.Project = "proj_1" })
	if _, err := st.Ready(t.Context()); err != nil {
		t.Fatalf("the configured key and base URL must win over the environment: %v", err)
	}
	r := srv.Requests("GET /vector_stores/*")[0]
	if r.Header.Get("OpenAI-Project") != "proj_1" || r.Header.Get("OpenAI-Organization") != "" || r.Header.Get("X-Sneaky") != "" {
		t.Errorf("headers %v: want exactly the configured ones", r.Header)
	}
	if _, err := openaistore.New(openaistore.Config{}); err == nil || !strings.Contains(err.Error(), "OPENAI_API_KEY") || !strings.Contains(err.Error(), "VECTOR_STORE_ID") {
		t.Errorf("New without key and store: %v", err)
	}
}
