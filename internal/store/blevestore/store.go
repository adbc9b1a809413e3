// Package blevestore is the embedded document store: a persistent bleve
// (scorch) full-text index on local disk with English analysis and BM25
// scoring. It needs no account and no network.
//
// Serving (Open) and building (NewSyncer) are separate: a server opens the
// current index generation read-only and follows new generations as index
// runs commit them, so re-indexing never disturbs searches in flight.
package blevestore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/connectorhq/connector/internal/store"
)

var _ store.Store = (*Store)(nil)

// titleBoost weighs a match in the title against one in the text.
const titleBoost = 2.0

// Store serves searches and fetches from the current index generation.
type Store struct {
	dir    string
	logger *slog.Logger

	mu     sync.RWMutex // held for reading by every search and fetch; for writing to swap generations
	gen    *generation
	closed bool
}

// generation is one opened, read-only index generation.
type generation struct {
	name   string
	idx    bleve.Index
	schema string
}

// Open opens the index in dir for serving. It returns an error wrapping
// ErrNoIndex when no index run has committed one there yet.
func Open(dir string, logger *slog.Logger) (*Store, error) {
	name, err := readCurrent(dir)
	if err != nil {
		return nil, fmt.Errorf("open index %s: %w", dir, err)
	}
	gen, err := openGeneration(dir, name)
	if err != nil {
		return nil, err
	}
	if gen.schema != schemaVersion {
		logger.Warn("index was built by another version of connector; run `connector index` again to rebuild it",
			"index", dir, "schema", gen.schema, "want_schema", schemaVersion)
	}
	return &Store{dir: dir, logger: logger, gen: gen}, nil
}

func openGeneration(dir, name string) (*generation, error) {
	path := filepath.Join(dir, name)
	idx, err := bleve.OpenUsing(path, map[string]any{"read_only": true})
	if err != nil {
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	schema, err := idx.GetInternal(internalSchemaKey)
	if err != nil {
		idx.Close()
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	return &generation{name: name, idx: idx, schema: string(schema)}, nil
}

// Generation returns the name of the generation being served.
func (s *Store) Generation() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.gen == nil {
		return ""
	}
	return s.gen.name
}

// Reload switches to the generation CURRENT names, if it changed, and reports
// whether it did. Searches in flight finish on the old generation first.
func (s *Store) Reload() (bool, error) {
	name, err := readCurrent(s.dir)
	if err != nil {
		return false, err
	}
	if name == s.Generation() {
		return false, nil
	}
	gen, err := openGeneration(s.dir, name)
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		gen.idx.Close()
		return false, errors.New("store is closed")
	}
	old := s.gen
	s.gen = gen
	s.mu.Unlock()
	if old != nil {
		if err := old.idx.Close(); err != nil {
			s.logger.Warn("close previous index generation", "generation", old.name, "err", err)
		}
	}
	return true, nil
}

// Watch reloads the index every interval until ctx is done, logging each switch.
func (s *Store) Watch(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			switched, err := s.Reload()
			switch {
			case err != nil:
				s.logger.Error("reload index failed; still serving the previous generation", "index", s.dir, "err", err)
			case switched:
				s.logger.Info("index reloaded", "index", s.dir, "generation", s.Generation())
			}
		}
	}
}

// acquire returns the generation to read, with the read lock held; callers
// must call s.mu.RUnlock when done.
func (s *Store) acquire() (*generation, error) {
	s.mu.RLock()
	if s.closed || s.gen == nil {
		s.mu.RUnlock()
		return nil, errors.New("index is closed")
	}
	return s.gen, nil
}

// Search implements store.Store.
func (s *Store) Search(ctx context.Context, q string, limit int) ([]store.Hit, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("search limit %d: want at least 1", limit)
	}
	gen, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()

	req := bleve.NewSearchRequestOptions(newQuery(q), limit, 0, false)
	req.Fields = []string{fieldTitle, fieldURL, fieldLead}
	req.Highlight = bleve.NewHighlightWithStyle("html")
	req.Highlight.AddField(fieldText)
	res, err := gen.idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("search index: %w", err)
	}
	hits := make([]store.Hit, 0, len(res.Hits))
	for _, h := range res.Hits {
		lead := stringField(h.Fields, fieldLead)
		snippet := ""
		if frags := h.Fragments[fieldText]; len(frags) > 0 {
			snippet = fragmentText(frags[0])
		}
		if snippet == "" {
			snippet = leadSnippet(lead)
		}
		hits = append(hits, store.Hit{
			ID:      h.ID,
			Title:   stringField(h.Fields, fieldTitle),
			URL:     stringField(h.Fields, fieldURL),
			Snippet: snippet,
			Score:   h.Score,
		})
	}
	return hits, nil
}

// newQuery matches any of the query's terms in the title (boosted) or the
// text; BM25 ranks documents that match more, and rarer, terms first.
func newQuery(q string) query.Query {
	title := bleve.NewMatchQuery(q)
	title.SetField(fieldTitle)
	title.SetBoost(titleBoost)
	text := bleve.NewMatchQuery(q)
	text.SetField(fieldText)
	return bleve.NewDisjunctionQuery(title, text)
}

// Fetch implements store.Store.
func (s *Store) Fetch(ctx context.Context, id string) (*store.Document, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	gen, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()

	d, err := gen.idx.Document(id)
	if err != nil {
		return nil, fmt.Errorf("load document %q: %w", id, err)
	}
	if d == nil {
		return nil, fmt.Errorf("id %q: %w", id, store.ErrNotFound)
	}
	doc := &store.Document{ID: id}
	var meta string
	d.VisitFields(func(f index.Field) {
		switch f.Name() {
		case fieldTitle:
			doc.Title = string(f.Value())
		case fieldText:
			doc.Text = string(f.Value())
		case fieldURL:
			doc.URL = string(f.Value())
		case fieldMeta:
			meta = string(f.Value())
		}
	})
	if meta != "" {
		if err := json.Unmarshal([]byte(meta), &doc.Metadata); err != nil {
			return nil, fmt.Errorf("document %q: decode metadata: %w", id, err)
		}
	}
	return doc, nil
}

// LookupURL implements store.Store.
func (s *Store) LookupURL(ctx context.Context, url string) (string, error) {
	gen, err := s.acquire()
	if err != nil {
		return "", err
	}
	defer s.mu.RUnlock()

	q := bleve.NewTermQuery(url)
	q.SetField(fieldURL)
	res, err := gen.idx.SearchInContext(ctx, bleve.NewSearchRequestOptions(q, 1, 0, false))
	if err != nil {
		return "", fmt.Errorf("look up url: %w", err)
	}
	if len(res.Hits) == 0 {
		return "", fmt.Errorf("url %q: %w", url, store.ErrNotFound)
	}
	return res.Hits[0].ID, nil
}

// Ready implements store.Store.
func (s *Store) Ready(ctx context.Context) (store.Status, error) {
	if err := ctx.Err(); err != nil {
		return store.Status{}, err
	}
	gen, err := s.acquire()
	if err != nil {
		return store.Status{}, err
	}
	defer s.mu.RUnlock()
	n, err := gen.idx.DocCount()
	if err != nil {
		return store.Status{}, fmt.Errorf("count documents: %w", err)
	}
	st := store.Status{Backend: "bleve", Documents: int64(n), Detail: map[string]string{"generation": gen.name}}
	if gen.schema != schemaVersion {
		st.Detail["warning"] = "index built by another version of connector; run `connector index` again"
	}
	return st, nil
}

// Close implements store.Store.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.gen == nil {
		return nil
	}
	err := s.gen.idx.Close()
	s.gen = nil
	return err
}

// Exists reports whether dir holds a committed index.
func Exists(dir string) (bool, error) {
	_, err := readCurrent(dir)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNoIndex):
		return false, nil
	default:
		return false, err
	}
}

func stringField(fields map[string]any, name string) string {
	s, _ := fields[name].(string)
	return s
}

// fragmentText turns a highlighted fragment ("html" style: escaped text
// with <mark> around matches, and "…" where the fragment cuts the text) into
// plain text that starts and ends on whole words.
func fragmentText(frag string) string {
	s := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(frag)
	s = html.UnescapeString(s)
	cutStart, cutEnd := strings.HasPrefix(s, "…"), strings.HasSuffix(s, "…")
	s = collapseSpace(strings.TrimSuffix(strings.TrimPrefix(s, "…"), "…"))
	if s == "" {
		return ""
	}
	// The fragmenter cuts on a character budget, often inside a word.
	if cutStart {
		if i := strings.IndexByte(s, ' '); i > 0 && i < 25 {
			s = s[i+1:]
		}
		s = "… " + s
	}
	if cutEnd {
		if i := strings.LastIndexByte(s, ' '); i > len(s)-25 && i > 0 {
			s = s[:i]
		}
		s += " …"
	}
	return s
}

// leadSnippet shortens the stored opening of a document to a snippet.
func leadSnippet(lead string) string {
	s := collapseSpace(lead)
	if utf8.RuneCountInString(s) < leadChars {
		return s
	}
	cut := s
	if i := strings.LastIndexByte(s[:min(len(s), 300)], ' '); i > 0 {
		cut = s[:i]
	}
	return strings.TrimRightFunc(cut, unicode.IsPunct) + " …"
}

// collapseSpace replaces runs of white space with single spaces.
func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
