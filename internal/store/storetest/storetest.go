// Package storetest holds what tests of stores and tools share: Fake, an
// in-memory store, and Run, the contract suite every Store implementation
// passes.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/connectorhq/connector/internal/store"
)

// Fake is an in-memory store for tool tests: a document matches when it
// contains any query word; more matching words rank higher. Err, when set,
// is returned by every call.
type Fake struct {
	Docs []store.Document
	Err  error

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

// Search implements store.Store.
func (f *Fake) Search(ctx context.Context, query string, limit int) ([]store.Hit, error) {
	if err := f.begin(ctx); err != nil {
		return nil, err
	}
	words := strings.FieldsFunc(strings.ToLower(query), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	var hits []store.Hit
	for _, d := range f.Docs {
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
func (f *Fake) Fetch(ctx context.Context, id string) (*store.Document, error) {
	if err := f.begin(ctx); err != nil {
		return nil, err
	}
	for _, d := range f.Docs {
		if d.ID == id {
			d.Metadata = maps.Clone(d.Metadata)
			return &d, nil
		}
	}
	return nil, fmt.Errorf("id %q: %w", id, store.ErrNotFound)
}

// LookupURL implements store.Store.
func (f *Fake) LookupURL(ctx context.Context, url string) (string, error) {
	if err := f.begin(ctx); err != nil {
		return "", err
	}
	for _, d := range f.Docs {
		if d.URL != "" && d.URL == url {
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

	t.Run("search finds by text", func(t *testing.T) {
		hits, err := st.Search(ctx, "partitions consumers", 10)
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
		hits, err := st.Search(ctx, "refund policy", 10)
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
		hits, err := st.Search(ctx, "escalation contact outages", 10)
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
		hits, err := st.Search(ctx, "the a of document text partitions refund tunnel", 2)
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
		hits, err := st.Search(ctx, "xylophonequartz", 10)
		if err != nil || len(hits) != 0 {
			t.Fatalf("got %v, %v; want no hits, nil", ids(hits), err)
		}
	})
	t.Run("fetch returns the whole document", func(t *testing.T) {
		for _, want := range docs {
			got, err := st.Fetch(ctx, want.ID)
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
		_, err := st.Fetch(ctx, "no-such-document")
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("lookup by own URL", func(t *testing.T) {
		id, err := st.LookupURL(ctx, "https://example.com/policies/refunds")
		if err != nil || id != "faq-17" {
			t.Fatalf("LookupURL = %q, %v; want faq-17", id, err)
		}
		if _, err := st.LookupURL(ctx, "https://example.com/nothing"); !errors.Is(err, store.ErrNotFound) {
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
		if _, err := st.Search(cctx, "partitions", 10); !errors.Is(err, context.Canceled) {
			t.Errorf("Search: err = %v, want context.Canceled", err)
		}
		if _, err := st.Fetch(cctx, "faq-17"); !errors.Is(err, context.Canceled) {
			t.Errorf("Fetch: err = %v, want context.Canceled", err)
		}
	})
	t.Run("concurrent use", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 64)
		for i := range 16 {
			wg.Go(func() {
				for range 10 {
					if _, err := st.Search(ctx, "refund partitions tunnel", 5); err != nil {
						errs <- err
					}
					if _, err := st.Fetch(ctx, docs[i%len(docs)].ID); err != nil {
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
