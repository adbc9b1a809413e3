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
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/embed"
	"github.com/connectorhq/connector/internal/passage"
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
	// reloading serialises Reload, which both Watch and a refresh after an
	// index run call, so that a generation is opened once.
	reloading sync.Mutex

	// def is DEFAULT_ACCESS, for documents indexed without a list.
	def     access.Default
	ranking ranking
	timings searchTimings

	// emb embeds queries for semantic search; nil searches by keywords only.
	emb           embed.Embedder
	minSimilarity float64
}

// OpenOptions configure a store beyond Open's arguments.
type OpenOptions struct {
	// Embedder, if set, makes searches hybrid: BM25 fused with the
	// nearest passages by vector, when the generation served holds
	// vectors of the embedder's Model. A generation without vectors, or
	// with another model's, is searched by keywords only, with a warning
	// in the log and in Ready.
	Embedder embed.Embedder
	// MinSimilarity is the cosine similarity below which a passage does
	// not rank by its vector; 0 means DefaultMinSimilarity.
	MinSimilarity float64
}

// generation is one opened, read-only index generation.
type generation struct {
	name      string
	idx       bleve.Index
	schema    string
	analyzer  analysis.Analyzer
	documents int64  // documents
	passages  uint64 // and their passages
	// vectors are the passages' vectors, loaded when the store has an
	// embedder of the model that made them; nil otherwise.
	vectors *vectorSet
	// vectorsWarning says why a store with an embedder searches this
	// generation by keywords only; "" when it does not.
	vectorsWarning string
}

func (g *generation) close() error { return g.idx.Close() }

// reader returns a reader of the generation's index, for term statistics.
func (g *generation) reader() (index.IndexReader, error) {
	adv, err := g.idx.Advanced()
	if err != nil {
		return nil, err
	}
	return adv.Reader()
}

// Open opens the index in dir for serving. It returns an error wrapping
// ErrNoIndex when no index run has committed one there yet.
//
// A damaged index (CURRENT or the generation it names unreadable, or a file
// that differs from its checksum) opens too, serving nothing: Ready, Search
// and Fetch report the damage and the way out, and Watch switches to the
// next generation an index run commits.
//
// def is DEFAULT_ACCESS: who may read documents indexed without an access
// list.
func Open(dir string, def access.Default, logger *slog.Logger) (*Store, error) {
	return OpenWith(dir, def, logger, OpenOptions{})
}

// OpenWith is Open with options: an embedder for hybrid search.
func OpenWith(dir string, def access.Default, logger *slog.Logger, opts OpenOptions) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{dir: dir, logger: logger, def: def, ranking: defaultRanking, emb: opts.Embedder, minSimilarity: opts.MinSimilarity}
	if s.minSimilarity == 0 {
		s.minSimilarity = DefaultMinSimilarity
	}
	name, err := readCurrent(dir)
	if err != nil && !errors.Is(err, errBadPointer) {
		return nil, fmt.Errorf("open index %s: %w", dir, err)
	}
	if err == nil {
		s.gen, err = s.openGeneration(name)
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
	s.logVectors(s.gen)
	return s, nil
}

// logVectors says how a newly opened generation is searched, when the
// store has an embedder.
func (s *Store) logVectors(g *generation) {
	switch {
	case s.emb == nil:
	case g.vectorsWarning != "":
		s.logger.Warn(g.vectorsWarning, "index", s.dir, "generation", g.name)
	case g.vectors != nil:
		s.logger.Info("semantic search on: keyword and vector rankings are fused", "index", s.dir,
			"generation", g.name, "model", modelString(g.vectors.model), "passages", len(g.vectors.vecs)/g.vectors.model.Dims)
	}
}

// openGeneration verifies a generation's files against its checksums and
// opens it, with its vectors when the store's embedder made them.
func (s *Store) openGeneration(name string) (*generation, error) {
	path := filepath.Join(s.dir, name)
	ctx := context.Background()
	if err := verifyGeneration(ctx, path); err != nil {
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
	if s.emb != nil && g.schema == schemaVersion {
		if err := g.loadVectors(ctx, path, s.emb.Model()); err != nil {
			g.close()
			return nil, fmt.Errorf("open index %s: %w", path, err)
		}
	}
	return g, nil
}

// loadVectors loads the generation's vectors if model made them, and
// otherwise says why not in vectorsWarning.
func (g *generation) loadVectors(ctx context.Context, path string, model embed.Model) error {
	meta, err := readVectorsMeta(path)
	if err != nil {
		return err
	}
	switch {
	case meta == nil:
		g.vectorsWarning = fmt.Sprintf("index has no passage vectors (built without an embedder), server configured with %s: "+
			"searching by keywords only; run `connector index` again to add them", modelString(model))
	case meta.Model != model:
		g.vectorsWarning = fmt.Sprintf("index built with model %s, server configured with %s: "+
			"searching by keywords only; run `connector index` again", modelString(meta.Model), modelString(model))
	default:
		g.vectors, err = loadVectors(ctx, path, meta)
	}
	return err
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
	records, err := g.idx.DocCount()
	if err != nil {
		return err
	}
	g.passages = records - uint64(max(g.documents, 0))
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
	s.reloading.Lock()
	defer s.reloading.Unlock()
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
	gen, err := s.openGeneration(name)
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
	s.logVectors(gen)
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

// Search implements store.Store. It ranks the passages who may read (see
// ranking.go) and returns each document once, at the rank of its best
// passage, with a snippet from that passage.
func (s *Store) Search(ctx context.Context, who access.Caller, q string, limit int) ([]store.Hit, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("search limit %d: want at least 1", limit)
	}
	filter, ok := s.filter(who)
	if !ok {
		return nil, ctx.Err() // who reads nothing
	}
	// The query is embedded before the read lock is taken: an embedding
	// API call may take a while, and a reload waiting for the write lock
	// would hold up every other search meanwhile.
	start := time.Now()
	qv, qerr := s.embedQuery(ctx, q)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	gen, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	if gen.schema != schemaVersion {
		return nil, fmt.Errorf("index %s was built by another version of connector: run `connector index` again", gen.name)
	}
	var ranked []rankedPassage
	if gen.vectors != nil {
		if qv == nil && qerr == nil { // the generation switched to one with vectors meanwhile
			qv, qerr = s.embedQuery(ctx, q)
		}
		ranked, err = s.hybrid(ctx, gen, who, q, qv, qerr, limit, filter)
	} else {
		ranked, err = s.rank(ctx, gen, q, limit, filter)
	}
	if err != nil {
		return nil, err
	}
	rankedAt := time.Now()
	out := make([]store.Hit, 0, len(ranked))
	for _, p := range ranked {
		hit, err := s.hit(gen, p)
		if err != nil {
			return nil, err
		}
		out = append(out, hit)
	}
	s.timings.add(rankedAt.Sub(start), time.Since(rankedAt))
	return out, nil
}

// embedQuery returns the query's vector when the generation served holds
// vectors to compare it with; nil, nil when it does not.
func (s *Store) embedQuery(ctx context.Context, q string) ([]float32, error) {
	s.mu.RLock()
	vs := s.gen != nil && s.gen.vectors != nil
	s.mu.RUnlock()
	if !vs {
		return nil, nil
	}
	vecs, err := s.emb.Embed(ctx, []string{q})
	if err != nil {
		return nil, fmt.Errorf("embed the query: %w", err)
	}
	if dims := s.emb.Model().Dims; len(vecs) != 1 || len(vecs[0]) != dims {
		return nil, fmt.Errorf("embed the query: the embedder returned no vector of %d dims", dims)
	}
	return vecs[0], nil
}

// hit turns a ranked passage into a search hit, with a snippet of the
// passage around the words that matched.
func (s *Store) hit(gen *generation, p rankedPassage) (store.Hit, error) {
	id := parentID(p.id)
	d, err := readRecord(gen.idx, id)
	if err != nil {
		return store.Hit{}, err
	}
	body, _, err := readPassage(gen.idx, p.id)
	if err != nil {
		return store.Hit{}, err
	}
	snip := snippet(body, bodyMatches(p.locations, d.title, body))
	n, _ := passageIndex(p.id)
	return store.Hit{ID: id, Title: d.title, URL: d.url, Snippet: snip, Score: p.score, Passage: n + 1}, nil
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

// filter returns the query term that selects the records who may read, nil
// when who reads everything; ok is false when who reads nothing.
func (s *Store) filter(who access.Caller) (q query.Query, ok bool) {
	terms, all := who.Terms(s.def)
	switch {
	case all:
		return nil, true
	case len(terms) == 0:
		return nil, false
	}
	qs := make([]query.Query, len(terms))
	for i, t := range terms {
		tq := bleve.NewTermQuery(t)
		tq.SetField(fieldAccess)
		qs[i] = tq
	}
	return bleve.NewDisjunctionQuery(qs...), true
}

// Fetch implements store.Store. A document who may not read is not found,
// after the same reads as one that is.
func (s *Store) Fetch(ctx context.Context, who access.Caller, id string) (*store.Document, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	gen, err := s.acquire()
	if err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()

	r, err := readRecord(gen.idx, id)
	if err != nil {
		return nil, err
	}
	if !s.mayRead(who, r.acl) {
		return nil, fmt.Errorf("id %q: %w", id, store.ErrNotFound)
	}
	doc, _, err := fetchDocument(gen.idx, id)
	return doc, err
}

// mayRead reports whether who may read a document with the access terms
// acl (the stored List.Terms).
func (s *Store) mayRead(who access.Caller, acl []string) bool {
	terms, all := who.Terms(s.def)
	if all {
		return true
	}
	for _, t := range acl {
		if slices.Contains(terms, t) {
			return true
		}
	}
	return false
}

// record is what a document record holds.
type record struct {
	title, url, meta string
	text             string // before schema 7, the text of a document of several passages
	hasText          bool
	passages         int
	acl              []string // access terms; [access.Unlisted] before schema 8
}

// readRecord reads a document's record.
func readRecord(idx bleve.Index, id string) (record, error) {
	var r record
	d, err := idx.Document(id)
	if err != nil {
		return r, fmt.Errorf("load document %q: %w", id, err)
	}
	if d == nil || strings.Contains(id, passageSep) {
		return r, fmt.Errorf("id %q: %w", id, store.ErrNotFound)
	}
	d.VisitFields(func(f index.Field) {
		switch f.Name() {
		case fieldDocTitle, "title": // "title" in schema 1
			r.title = string(f.Value())
		case fieldURL:
			r.url = string(f.Value())
		case fieldMeta:
			r.meta = string(f.Value())
		case fieldText:
			r.text, r.hasText = string(f.Value()), true
		case fieldPassages:
			r.passages, _ = strconv.Atoi(string(f.Value()))
		case fieldDocACL:
			r.acl = append(r.acl, string(f.Value()))
		}
	})
	if len(r.acl) == 0 {
		r.acl = []string{access.Unlisted}
	}
	return r, nil
}

// readPassage reads a passage's text and where it starts in its document's.
func readPassage(idx bleve.Index, id string) (body string, at int, err error) {
	d, err := idx.Document(id)
	if err != nil || d == nil {
		return "", 0, fmt.Errorf("load passage %q: %v", id, err)
	}
	d.VisitFields(func(f index.Field) {
		switch f.Name() {
		case fieldBody:
			body = string(f.Value())
		case fieldAt:
			at, _ = strconv.Atoi(string(f.Value()))
		}
	})
	return body, at, nil
}

// fetchDocument reads a document: its record, and its text from its
// passages; and its access terms.
func fetchDocument(idx bleve.Index, id string) (*store.Document, []string, error) {
	r, err := readRecord(idx, id)
	if err != nil {
		return nil, nil, err
	}
	doc := &store.Document{ID: id, Title: r.title, URL: r.url, Text: r.text}
	if !r.hasText {
		bodies, at := make([]string, max(r.passages, 1)), make([]int, max(r.passages, 1))
		for n := range bodies {
			if bodies[n], at[n], err = readPassage(idx, passageID(id, n)); err != nil {
				return nil, nil, fmt.Errorf("document %q: %w", id, err)
			}
		}
		doc.Text = passage.Join(bodies, at)
	}
	if r.meta != "" {
		if err := json.Unmarshal([]byte(r.meta), &doc.Metadata); err != nil {
			return nil, nil, fmt.Errorf("document %q: decode metadata: %w", id, err)
		}
	}
	return doc, r.acl, nil
}

// LookupURL implements store.Store.
func (s *Store) LookupURL(ctx context.Context, who access.Caller, url string) (string, error) {
	filter, ok := s.filter(who)
	if !ok {
		return "", fmt.Errorf("url %q: %w", url, store.ErrNotFound)
	}
	gen, err := s.acquire()
	if err != nil {
		return "", err
	}
	defer s.mu.RUnlock()

	tq := bleve.NewTermQuery(url)
	tq.SetField(fieldURL)
	res, err := gen.idx.SearchInContext(ctx, bleve.NewSearchRequestOptions(filtered(tq, filter), 1, 0, false))
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
	switch {
	case gen.schema != schemaVersion:
		st.Detail["warning"] = "index built by another version of connector; run `connector index` again"
	case gen.vectorsWarning != "":
		st.Detail["warning"] = gen.vectorsWarning
	case gen.vectors != nil:
		st.Detail["semantic"] = modelString(gen.vectors.model)
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
