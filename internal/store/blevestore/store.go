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
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/connectorhq/connector/internal/bm25"
	"github.com/connectorhq/connector/internal/store"
)

var _ store.Store = (*Store)(nil)

// Store serves searches and fetches from the current index generation.
type Store struct {
	dir    string
	logger *slog.Logger

	mu     sync.RWMutex // held for reading by every search and fetch; for writing to swap generations
	gen    *generation  // nil while the index is damaged
	closed bool
	// damage says why nothing is served, while gen is nil.
	damage error
	// failed is the last generation that could not be opened, so that a
	// reload does not try it again until CURRENT names another.
	failed string

	ranking ranking
	stems   stemmer
	timings searchTimings
}

// generation is one opened, read-only index generation.
type generation struct {
	name      string
	idx       bleve.Index
	schema    string
	analyzer  analysis.Analyzer
	documents int64       // documents, not passages
	ranks     *bm25.Index // the passages' ranking file
}

// close closes the generation's index and ranking file.
func (g *generation) close() error {
	err := g.idx.Close()
	if g.ranks != nil {
		if cerr := g.ranks.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// Open opens the index in dir for serving. It returns an error wrapping
// ErrNoIndex when no index run has committed one there yet.
//
// A damaged index (CURRENT or the generation it names unreadable, or a file
// that differs from its checksum) opens too, serving nothing: Ready, Search
// and Fetch report the damage and the way out, and Watch switches to the
// next generation an index run commits.
func Open(dir string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{dir: dir, logger: logger, ranking: defaultRanking}
	name, err := readCurrent(dir)
	if err != nil && !errors.Is(err, errBadPointer) {
		return nil, fmt.Errorf("open index %s: %w", dir, err)
	}
	if err == nil {
		s.gen, err = openGeneration(dir, name)
	}
	if err != nil {
		s.damage, s.failed = damaged(dir, name, err), name
		logger.Error("the index cannot be served", "err", s.damage)
		return s, nil
	}
	if s.gen.schema != schemaVersion {
		logger.Warn("index was built by another version of connector; run `connector index` again to rebuild it",
			"index", dir, "schema", s.gen.schema, "want_schema", schemaVersion)
	}
	return s, nil
}

// openGeneration verifies a generation's files against its checksums and
// opens it.
func openGeneration(dir, name string) (*generation, error) {
	path := filepath.Join(dir, name)
	if err := verifyGeneration(context.Background(), path); err != nil {
		return nil, err
	}
	idx, err := bleve.OpenUsing(path, map[string]any{"read_only": true})
	if err != nil {
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	g := &generation{name: name, idx: idx}
	if err := g.load(path); err != nil {
		g.close()
		return nil, fmt.Errorf("open index %s: %w", path, err)
	}
	return g, nil
}

// load reads what a generation keeps besides its records.
func (g *generation) load(path string) error {
	schema, err := g.idx.GetInternal(internalSchemaKey)
	if err != nil {
		return err
	}
	g.schema = string(schema)
	if g.schema != schemaVersion {
		return nil // served as well as it can be, with a warning; Search falls back
	}
	docs, err := g.idx.GetInternal(internalDocumentsKey)
	if err != nil {
		return err
	}
	g.documents, _ = strconv.ParseInt(string(docs), 10, 64)
	if g.ranks, err = bm25.Open(filepath.Join(path, rankFileName)); err != nil {
		return fmt.Errorf("%w; run `connector index` again to rebuild the index", err)
	}
	im, ok := g.idx.Mapping().(*mapping.IndexMappingImpl)
	if !ok {
		return errors.New("unexpected index mapping")
	}
	if g.analyzer = im.AnalyzerNamed(analyzerName); g.analyzer == nil {
		return fmt.Errorf("analyzer %s missing from the index mapping", analyzerName)
	}
	return nil
}

// Outdated reports whether the generation served was built by another
// version of connector, whose index layout this one cannot search: the
// next index run rebuilds it.
func (s *Store) Outdated() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.gen != nil && s.gen.schema != schemaVersion
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
// whether it did. Searches in flight finish on the old generation first. A
// generation that cannot be opened leaves the store as it was: serving the
// previous generation, or reporting the damage.
func (s *Store) Reload() (bool, error) {
	name, err := readCurrent(s.dir)
	if err != nil {
		return false, err
	}
	s.mu.RLock()
	same := name == s.failed || (s.gen != nil && s.gen.name == name)
	s.mu.RUnlock()
	if same {
		return false, nil
	}
	gen, err := openGeneration(s.dir, name)
	s.mu.Lock()
	if err != nil {
		err = damaged(s.dir, name, err)
		s.failed = name
		if s.gen == nil {
			s.damage = err
		}
		s.mu.Unlock()
		return false, err
	}
	if s.closed {
		s.mu.Unlock()
		gen.close()
		return false, errors.New("store is closed")
	}
	old := s.gen
	s.gen, s.damage, s.failed = gen, nil, ""
	s.mu.Unlock()
	if old != nil {
		if err := old.close(); err != nil {
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
	var last string // the last failure logged, so that one is not logged every tick
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			switched, err := s.Reload()
			switch {
			case err != nil && err.Error() != last:
				last = err.Error()
				if s.Generation() == "" {
					s.logger.Error("reload index failed; serving nothing until the index is rebuilt", "index", s.dir, "err", err)
				} else {
					s.logger.Error("reload index failed; still serving the previous generation", "index", s.dir, "err", err)
				}
			case err == nil:
				last = ""
			}
			if switched {
				s.logger.Info("index reloaded", "index", s.dir, "generation", s.Generation())
			}
		}
	}
}

// Verify checks the served generation's files against their checksums, as
// Open did, and stops serving it if they changed since: damage that appears
// while serving (a failing disk) turns into ErrDamaged rather than wrong
// text. Searches go on meanwhile; the check holds no lock.
func (s *Store) Verify(ctx context.Context) error {
	name := s.Generation()
	if name == "" {
		return nil // nothing served
	}
	err := verifyGeneration(ctx, filepath.Join(s.dir, name))
	if err == nil || ctx.Err() != nil {
		return ctx.Err()
	}
	err = damaged(s.dir, name, err)
	s.mu.Lock()
	if s.gen == nil || s.gen.name != name || s.closed {
		s.mu.Unlock()
		return nil // switched meanwhile; the old generation may be gone
	}
	old := s.gen
	s.gen, s.damage, s.failed = nil, err, name
	s.mu.Unlock()
	if cerr := old.close(); cerr != nil {
		s.logger.Warn("close damaged index generation", "generation", name, "err", cerr)
	}
	return err
}

// Scrub runs Verify every interval until ctx is done, logging damage.
func (s *Store) Scrub(ctx context.Context, interval time.Duration) {
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
			start := time.Now()
			if err := s.Verify(ctx); err != nil && ctx.Err() == nil {
				s.logger.Error("the index is damaged; serving nothing until it is rebuilt", "err", err)
			} else {
				s.logger.Debug("index verified", "generation", s.Generation(), "took", time.Since(start).String())
			}
		}
	}
}

// acquire returns the generation to read, with the read lock held; callers
// must call s.mu.RUnlock when done.
func (s *Store) acquire() (*generation, error) {
	s.mu.RLock()
	if s.closed || s.gen == nil {
		closed, err := s.closed, s.damage
		s.mu.RUnlock()
		if err != nil && !closed {
			return nil, &store.Unavailable{Class: "index_damaged",
				Reason: "the document index is damaged and cannot be searched until the server's operator rebuilds it", Err: err}
		}
		return nil, errors.New("index is closed")
	}
	return s.gen, nil
}

// Search implements store.Store. It ranks passages (see ranking.go) and
// returns each document once, at the rank of its best passage, with a
// snippet from that passage.
func (s *Store) Search(ctx context.Context, q string, limit int) ([]store.Hit, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("search limit %d: want at least 1", limit)
	}
	gen, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	if gen.schema != schemaVersion {
		return nil, fmt.Errorf("index %s was built by another version of connector: run `connector index` again", gen.name)
	}
	start := time.Now()
	hits, terms, err := s.rank(ctx, gen, q, limit)
	if err != nil {
		return nil, err
	}
	ranked := time.Now()
	out := make([]store.Hit, 0, len(hits))
	matcher := newTermMatcher(&s.stems, terms)
	for _, h := range hits {
		hit, err := s.hit(gen, h, matcher)
		if err != nil {
			return nil, err
		}
		out = append(out, hit)
	}
	s.timings.add(ranked.Sub(start), time.Since(ranked))
	return out, nil
}

// rank returns the best passage of each of the top documents and the
// query terms to highlight.
func (s *Store) rank(ctx context.Context, gen *generation, q string, limit int) ([]rankedPassage, map[string]bool, error) {
	terms := analyzeQuery(gen.analyzer, q)
	if len(terms) == 0 {
		return nil, nil, ctx.Err() // only stop words: nothing to match
	}
	ranks := gen.ranks
	df := func(term string) uint32 { return ranks.DocFreq(rankContent, term) }
	highlight := map[string]bool{}
	for i, t := range terms {
		highlight[t.text] = true
		if df(t.text) > 0 || !misspellable(t.text) || s.ranking.FuzzyEdits < 0 {
			continue
		}
		// Found nowhere: a misspelling, perhaps. Search its near spellings.
		terms[i].fuzzy = fuzzyTerms(ranks, t.text, s.ranking.FuzzyEdits)
		for _, n := range terms[i].fuzzy {
			highlight[n] = true
		}
	}

	r := s.ranking
	query, err := ranks.NewQuery(ctx, bm25.Params{LengthScale: r.LengthScale, K1: r.K1})
	if err != nil {
		return nil, nil, err
	}
	defer query.Close()
	if err := query.Add(ctx, clauses(terms, r.TitleBoost)); err != nil {
		return nil, nil, err
	}
	if r.Feedback {
		more := r.feedback(ranks, query.Top(feedbackDocs), terms)
		if err := query.Add(ctx, clauses(more, r.TitleBoost)); err != nil {
			return nil, nil, err
		}
	}
	// Enough passages to fill limit documents.
	matches := query.Top(max(3*limit, 30))
	seen := map[string]bool{}
	var best []rankedPassage
	for _, m := range matches {
		id := ranks.ID(m.Passage)
		doc := parentID(id)
		if seen[doc] {
			continue
		}
		seen[doc] = true
		best = append(best, rankedPassage{id: id, ord: m.Passage, score: m.Score})
		if len(best) == limit {
			break
		}
	}
	return best, highlight, nil
}

// rankedPassage is a passage search ranked, by id.
type rankedPassage struct {
	id    string
	ord   uint32 // in the ranking file
	score float64
}

// storedPassage is what a passage record keeps for display.
type storedPassage struct {
	title, body, url string
	meta             string // its document's metadata, in a document's only passage
}

// passage reads a passage record's stored fields.
func (s *Store) passage(gen *generation, id string) (storedPassage, error) {
	var p storedPassage
	d, err := gen.idx.Document(id)
	if err != nil || d == nil {
		return p, fmt.Errorf("load passage %q: %v", id, err)
	}
	d.VisitFields(func(f index.Field) { p.set(f) })
	return p, nil
}

// set keeps f when it is one of the fields a passage shows.
func (p *storedPassage) set(f index.Field) {
	switch f.Name() {
	case fieldBody:
		p.body = string(f.Value())
	case fieldPTitle:
		p.title = string(f.Value())
	case fieldPURL:
		p.url = string(f.Value())
	case fieldPMeta:
		p.meta = string(f.Value())
	}
}

// hit turns a ranked passage into a search hit with its snippet. It reads
// the passage from the ranking file, or from its record when the ranking
// file does not have it.
func (s *Store) hit(gen *generation, h rankedPassage, matcher *termMatcher) (store.Hit, error) {
	var p storedPassage
	var words string
	if v := gen.ranks.Stored(h.ord); len(v) > storedURL { // files before storedMeta have three values
		p = storedPassage{title: v[storedTitle], body: v[storedBody], url: v[storedURL]}
		if len(v) > storedWords { // and before storedWords, four
			words = v[storedWords]
		}
	} else {
		var err error
		if p, err = s.passage(gen, h.id); err != nil {
			return store.Hit{}, err
		}
	}
	return store.Hit{ID: parentID(h.id), Title: p.title, URL: p.url, Snippet: snippet(matcher, p.body, words), Score: h.score}, nil
}

// SearchTimings reports how many searches ran and the time they spent
// ranking and building snippets (for connector-bench).
func (s *Store) SearchTimings() (int64, time.Duration, time.Duration) {
	return s.timings.get()
}

// searchTimings accumulates the two phases of searches.
type searchTimings struct {
	mu                  sync.Mutex
	n                   int64
	ranking, snippeting time.Duration
}

func (t *searchTimings) add(ranking, snippeting time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n++
	t.ranking += ranking
	t.snippeting += snippeting
}

func (t *searchTimings) get() (int64, time.Duration, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n, t.ranking, t.snippeting
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

	if doc, ok, err := fetchOnePassage(gen, id); ok || err != nil {
		return doc, err
	}
	return fetchRecord(gen, id)
}

// fetchRecord reads a document from its bleve record, and its text from
// its first passage's record when the document is that passage.
func fetchRecord(gen *generation, id string) (*store.Document, error) {
	d, err := gen.idx.Document(id)
	if err != nil {
		return nil, fmt.Errorf("load document %q: %w", id, err)
	}
	if d == nil || strings.Contains(id, passageSep) {
		return nil, fmt.Errorf("id %q: %w", id, store.ErrNotFound)
	}
	doc := &store.Document{ID: id}
	var meta string
	hasText := false
	d.VisitFields(func(f index.Field) {
		switch f.Name() {
		case fieldDocTitle:
			doc.Title = string(f.Value())
		case fieldText:
			doc.Text, hasText = string(f.Value()), true
		case fieldURL:
			doc.URL = string(f.Value())
		case fieldMeta:
			meta = string(f.Value())
		}
	})
	if !hasText { // one passage holds the whole text
		p, err := gen.idx.Document(passageID(id, 0))
		if err != nil || p == nil {
			return nil, fmt.Errorf("load document %q: text missing (%v)", id, err)
		}
		p.VisitFields(func(f index.Field) {
			if f.Name() == fieldBody {
				doc.Text = string(f.Value())
			}
		})
	}
	if meta != "" {
		if err := json.Unmarshal([]byte(meta), &doc.Metadata); err != nil {
			return nil, fmt.Errorf("document %q: decode metadata: %w", id, err)
		}
	}
	return doc, nil
}

// fetchOnePassage reads a document held whole in one passage from the
// ranking file, without the two bleve records Fetch otherwise loads. It
// reports false for any other document, and for a passage whose stored
// values do not carry its document's metadata (written before they did).
func fetchOnePassage(gen *generation, id string) (*store.Document, bool, error) {
	if strings.Contains(id, passageSep) {
		return nil, false, nil
	}
	ord, ok := gen.ranks.Ordinal(passageID(id, 0))
	if !ok {
		return nil, false, nil
	}
	if _, more := gen.ranks.Ordinal(passageID(id, 1)); more {
		return nil, false, nil // the text is in the document record
	}
	return documentFromStored(id, gen.ranks.Stored(ord))
}

// documentFromStored makes the document of a one-passage document's stored
// values; false when they do not say what its metadata is.
func documentFromStored(id string, v []string) (*store.Document, bool, error) {
	if len(v) <= storedMeta || v[storedMeta] == "" {
		return nil, false, nil
	}
	doc := &store.Document{ID: id, Title: v[storedTitle], Text: v[storedBody], URL: v[storedURL]}
	if meta := v[storedMeta]; meta != noMetadata {
		if err := json.Unmarshal([]byte(meta), &doc.Metadata); err != nil {
			return nil, false, fmt.Errorf("document %q: decode metadata: %w", id, err)
		}
	}
	return doc, true, nil
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
	st := store.Status{Backend: "bleve", Documents: gen.documents, Detail: map[string]string{"generation": gen.name}}
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
	err := s.gen.close()
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
