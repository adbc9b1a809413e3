// Package storetest holds what tests of stores and tools share: Fake, an
// in-memory store, and Run, the contract suite every Store implementation
// passes.
package storetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/store"
)

// Fake is an in-memory store for tool tests: a document matches when it
// contains any query word; more matching words rank higher. Err, when set,
// is returned by every call. Access lists documents' access lists by id;
// those not in it are unlisted, and Default decides for them (zero means
// access.DefaultAuthenticated, DEFAULT_ACCESS's default).
type Fake struct {
	Docs    []store.Document
	Err     error
	Access  map[string]access.List
	Default access.Default

	mu    sync.Mutex
	calls int
}

var _ store.Store = (*Fake)(nil)

// Calls returns how many store calls were made.
func (f *Fake) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *Fake) begin(ctx context.Context) error {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	if f.Err != nil {
		return f.Err
	}
	return ctx.Err()
}

func (f *Fake) mayRead(who access.Caller, id string) bool {
	return who.MayRead(f.Access[id], cmp.Or(f.Default, access.DefaultAuthenticated))
}

// Search implements store.Store.
func (f *Fake) Search(ctx context.Context, who access.Caller, query string, limit int) ([]store.Hit, error) {
	if err := f.begin(ctx); err != nil {
		return nil, err
	}
	words := strings.FieldsFunc(strings.ToLower(query), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	var hits []store.Hit
	for _, d := range f.Docs {
		if !f.mayRead(who, d.ID) {
			continue
		}
		body := strings.ToLower(d.Title + " " + d.Text)
		score := 0
		for _, w := range words {
			if strings.Contains(body, w) {
				score++
			}
		}
		if score > 0 {
			hits = append(hits, store.Hit{ID: d.ID, Title: d.Title, URL: d.URL, Snippet: d.Text, Score: float64(score)})
		}
	}
	slices.SortStableFunc(hits, func(a, b store.Hit) int { return int(b.Score - a.Score) })
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits, nil
}

// Fetch implements store.Store.
func (f *Fake) Fetch(ctx context.Context, who access.Caller, id string) (*store.Document, error) {
	if err := f.begin(ctx); err != nil {
		return nil, err
	}
	for _, d := range f.Docs {
		if d.ID == id && f.mayRead(who, id) {
			d.Metadata = maps.Clone(d.Metadata)
			return &d, nil
		}
	}
	return nil, fmt.Errorf("id %q: %w", id, store.ErrNotFound)
}

// LookupURL implements store.Store.
func (f *Fake) LookupURL(ctx context.Context, who access.Caller, url string) (string, error) {
	if err := f.begin(ctx); err != nil {
		return "", err
	}
	for _, d := range f.Docs {
		if d.URL != "" && d.URL == url && f.mayRead(who, d.ID) {
			return d.ID, nil
		}
	}
	return "", fmt.Errorf("url %q: %w", url, store.ErrNotFound)
}

// Ready implements store.Store.
func (f *Fake) Ready(ctx context.Context) (store.Status, error) {
	if err := f.begin(ctx); err != nil {
		return store.Status{}, err
	}
	return store.Status{Backend: "fake", Documents: int64(len(f.Docs))}, nil
}

// Close implements store.Store.
func (f *Fake) Close() error { return nil }

// Corpus is the collection the contract suite loads into a store.
func Corpus() []store.Document {
	return []store.Document{
		{ID: "guide/tunnels.md", Title: "Exposing the connector through a tunnel",
			Text:     "ChatGPT reaches only public HTTPS addresses. Start a tunnel such as ngrok or cloudflared to the local port, then set PUBLIC_BASE_URL to the tunnel address so that citations and host checks use it.",
			Metadata: map[string]string{"format": "markdown", "source": "guide/tunnels.md"}},
		{ID: "faq-17", Title: "Refund policy for annual plans",
			Text:     "Annual plans can be refunded within thirty days of purchase. After thirty days the remaining months are credited to the account instead.",
			URL:      "https://example.com/policies/refunds",
			Metadata: map[string]string{"topic": "billing"}},
		{ID: "notes/kafka.txt", Title: "Stream processing notes",
			Text: "Partitions let consumers scale horizontally. Each partition is read by one consumer of a group, so the number of partitions bounds the parallelism of the group."},
		{ID: "unicode-ü", Title: "Überblick über Zeichensätze",
			Text: "Grüße aus Köln: this document mixes languages, emoji 🚀 and accents like café and naïve to test round trips."},
		{ID: "long", Title: "A long handbook",
			Text: strings.Repeat("Filler paragraph about nothing in particular. ", 400) + "The escalation contact for outages is the on-call duty manager. " + strings.Repeat("More filler text follows here. ", 400)},
	}
}

// Run checks that a store built by open over Corpus() meets the Store
// contract. open is called once per subtest with the same documents.
func Run(t *testing.T, open func(t *testing.T, docs []store.Document) store.Store) {
	t.Helper()
	docs := Corpus()
	byID := map[string]store.Document{}
	for _, d := range docs {
		byID[d.ID] = d
	}
	st := open(t, docs)
	ctx := t.Context()
	all := access.Everyone()

	t.Run("search finds by text", func(t *testing.T) {
		hits, err := st.Search(ctx, all, "partitions consumers", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 || hits[0].ID != "notes/kafka.txt" {
			t.Fatalf("hits = %v, want notes/kafka.txt first", ids(hits))
		}
		if !strings.Contains(strings.ToLower(hits[0].Snippet), "partition") {
			t.Errorf("snippet %q does not show the matched words", hits[0].Snippet)
		}
		if hits[0].Title != "Stream processing notes" {
			t.Errorf("title = %q", hits[0].Title)
		}
	})
	t.Run("search finds by title", func(t *testing.T) {
		hits, err := st.Search(ctx, all, "refund policy", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 || hits[0].ID != "faq-17" {
			t.Fatalf("hits = %v, want faq-17 first", ids(hits))
		}
		if hits[0].URL != "https://example.com/policies/refunds" {
			t.Errorf("url = %q, want the document's own URL", hits[0].URL)
		}
	})
	t.Run("search finds a passage deep in a long document", func(t *testing.T) {
		hits, err := st.Search(ctx, all, "escalation contact outages", 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 || hits[0].ID != "long" {
			t.Fatalf("hits = %v, want long first", ids(hits))
		}
		if !strings.Contains(strings.ToLower(hits[0].Snippet), "escalation") {
			t.Errorf("snippet %q is not around the match", hits[0].Snippet)
		}
		if n := len([]rune(hits[0].Snippet)); n > 400 {
			t.Errorf("snippet has %d characters, want a short excerpt", n)
		}
	})
	t.Run("search respects the limit and never repeats an id", func(t *testing.T) {
		hits, err := st.Search(ctx, all, "the a of document text partitions refund tunnel", 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) > 2 {
			t.Fatalf("got %d hits, limit 2", len(hits))
		}
		seen := map[string]bool{}
		for _, h := range hits {
			if seen[h.ID] {
				t.Errorf("id %q twice", h.ID)
			}
			seen[h.ID] = true
		}
	})
	t.Run("no match is no hits and no error", func(t *testing.T) {
		hits, err := st.Search(ctx, all, "xylophonequartz", 10)
		if err != nil || len(hits) != 0 {
			t.Fatalf("got %v, %v; want no hits, nil", ids(hits), err)
		}
	})
	t.Run("fetch returns the whole document", func(t *testing.T) {
		for _, want := range docs {
			got, err := st.Fetch(ctx, all, want.ID)
			if err != nil {
				t.Fatalf("Fetch(%q): %v", want.ID, err)
			}
			// Stores may normalise white space (a vector store parses files).
			if got.ID != want.ID || got.Title != want.Title || fields(got.Text) != fields(want.Text) || got.URL != want.URL {
				t.Errorf("Fetch(%q) = %+v, want %+v", want.ID, brief(got), brief(&want))
			}
			for k, v := range want.Metadata {
				if got.Metadata[k] != v {
					t.Errorf("Fetch(%q).Metadata[%q] = %q, want %q", want.ID, k, got.Metadata[k], v)
				}
			}
		}
	})
	t.Run("fetch of an unknown id is ErrNotFound", func(t *testing.T) {
		_, err := st.Fetch(ctx, all, "no-such-document")
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("lookup by own URL", func(t *testing.T) {
		id, err := st.LookupURL(ctx, all, "https://example.com/policies/refunds")
		if err != nil || id != "faq-17" {
			t.Fatalf("LookupURL = %q, %v; want faq-17", id, err)
		}
		if _, err := st.LookupURL(ctx, all, "https://example.com/nothing"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown url: err = %v, want ErrNotFound", err)
		}
	})
	t.Run("ready counts documents", func(t *testing.T) {
		s, err := st.Ready(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if s.Documents != int64(len(docs)) || s.Backend == "" {
			t.Errorf("status = %+v, want %d documents and a backend name", s, len(docs))
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := st.Search(cctx, all, "partitions", 10); !errors.Is(err, context.Canceled) {
			t.Errorf("Search: err = %v, want context.Canceled", err)
		}
		if _, err := st.Fetch(cctx, all, "faq-17"); !errors.Is(err, context.Canceled) {
			t.Errorf("Fetch: err = %v, want context.Canceled", err)
		}
	})
	t.Run("concurrent use", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for i := range 16 {
			wg.Go(func() {
				for range 10 {
					if _, err := st.Search(ctx, all, "refund partitions tunnel", 5); err != nil {
						errs <- err
					}
					if _, err := st.Fetch(ctx, all, docs[i%len(docs)].ID); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

func fields(s string) string { return strings.Join(strings.Fields(s), " ") }

func ids(hits []store.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

func brief(d *store.Document) string {
	text := d.Text
	if len(text) > 40 {
		text = text[:40] + "…"
	}
	return fmt.Sprintf("{%q %q %q %q}", d.ID, d.Title, d.URL, text)
}

// AccessCorpus is the collection RunAccess loads: documents with every kind
// of access list, and fillers only group:eng may read that outrank the
// others on the word "quarterly", more of them than a store over-fetches.
func AccessCorpus() []store.SourceDocument {
	doc := func(id, title, url, text string, l ...access.Principal) store.SourceDocument {
		return store.SourceDocument{Document: store.Document{ID: id, Title: title, URL: url, Text: text},
			Root: "root", File: id + ".md", Access: access.List(l)}
	}
	docs := []store.SourceDocument{
		doc("handbook", "Company handbook", "", "The quarterly all-hands and the holiday calendar.", access.Authenticated),
		doc("eng-design", "Storage engine design", "https://intranet.example.com/eng/design",
			"Quarterly plan: the zirconium migration of the storage engine.", "group:eng"),
		doc("hr-salaries", "Salary bands", "https://intranet.example.com/hr/salaries",
			"Quarterly salary review: the marmalade bands for every level.", "group:hr"),
		doc("alice-notes", "Alice's notes", "", "My quarterly goals and the tangerine project.", "user:alice@example.com"),
		doc("unlisted", "Office map", "https://intranet.example.com/map", "Where the quarterly meeting room is."),
		doc("sealed", "Sealed report", "", "The quarterly audit, withheld from everyone.", access.None),
	}
	for i := range 40 {
		docs = append(docs, doc(fmt.Sprintf("eng-%02d", i), "Quarterly quarterly", "",
			"Quarterly quarterly quarterly: the quarterly report of the quarterly engineering review.", "group:eng"))
	}
	return docs
}

// RunAccess checks that a store built by open over AccessCorpus() with the
// default def shows each caller exactly what access.Caller.MayRead allows,
// on every call, under both defaults: searches filled up to their limit
// from the documents the caller may read, and a document it may not read
// answered exactly like a missing one.
func RunAccess(t *testing.T, open func(t *testing.T, docs []store.SourceDocument, def access.Default) store.Store) {
	t.Helper()
	docs := AccessCorpus()
	callers := map[string]access.Caller{
		"eng":      access.NewCaller("u-eng", "", []string{"eng"}, nil),
		"hr":       access.NewCaller("u-hr", "", []string{"hr"}, []string{"reader"}),
		"alice":    access.NewCaller("u-alice", "alice@example.com", nil, nil),
		"plain":    access.NewCaller("u-plain", "", nil, nil),
		"nobody":   {},
		"everyone": access.Everyone(),
	}
	for _, def := range []access.Default{access.DefaultAuthenticated, access.DefaultNone} {
		t.Run("DEFAULT_ACCESS="+def.String(), func(t *testing.T) {
			st := open(t, docs, def)
			ctx := t.Context()
			for name, who := range callers {
				var may []string
				for _, d := range docs {
					if who.MayRead(d.Access, def) {
						may = append(may, d.ID)
					}
				}
				t.Run(name, func(t *testing.T) {
					hits, err := st.Search(ctx, who, "quarterly", len(docs))
					if err != nil {
						t.Fatal(err)
					}
					if got := ids(hits); !sameSet(got, may) {
						t.Errorf("search: got %d hits %v, want %d: %v", len(got), got, len(may), may)
					}
					// Fillers outrank the rest: a post-filter would come back short.
					limit := min(3, len(may))
					if hits, err = st.Search(ctx, who, "quarterly", 3); err != nil || len(hits) != limit {
						t.Errorf("search with limit 3: got %v, %v; want %d hits", ids(hits), err, limit)
					}
					for _, d := range docs {
						allowed := slices.Contains(may, d.ID)
						got, err := st.Fetch(ctx, who, d.ID)
						switch {
						case allowed && (err != nil || got.ID != d.ID):
							t.Errorf("Fetch(%q) = %v, %v; want the document", d.ID, got, err)
						case !allowed && !errors.Is(err, store.ErrNotFound):
							t.Errorf("Fetch(%q) = %v, %v; want ErrNotFound", d.ID, got, err)
						}
						if d.URL == "" {
							continue
						}
						id, err := st.LookupURL(ctx, who, d.URL)
						switch {
						case allowed && (err != nil || id != d.ID):
							t.Errorf("LookupURL(%q) = %q, %v; want %q", d.URL, id, err, d.ID)
						case !allowed && !errors.Is(err, store.ErrNotFound):
							t.Errorf("LookupURL(%q) = %q, %v; want ErrNotFound", d.URL, id, err)
						}
					}
					// A search for words only forbidden documents hold finds nothing.
					for _, d := range docs {
						if slices.Contains(may, d.ID) || d.ID == "sealed" {
							continue
						}
						word := strings.Fields(d.Text)[len(strings.Fields(d.Text))-4]
						if hits, _ := st.Search(ctx, who, word, 10); len(hits) > 0 && slices.Contains(ids(hits), d.ID) {
							t.Errorf("search %q found forbidden %q", word, d.ID)
						}
					}
				})
			}
		})
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
