package blevestore

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/gofrs/flock"

	"github.com/connectorhq/connector/internal/embed"
	"github.com/connectorhq/connector/internal/passage"
	"github.com/connectorhq/connector/internal/store"
)

const sha256Len = sha256.Size

// Batch limits: a batch is written to the index (and persisted) when either
// is reached. Each batch becomes a segment before merging; records, not
// bytes, bound most batches. Larger batches make fewer segments and a
// faster run, for more memory while indexing (measured in the commit that
// chose 5000).
const (
	batchDocs  = 5000
	batchBytes = 16 << 20
)

// ErrLocked is returned by NewSyncer when another index run holds the folder.
var ErrLocked = errors.New("another `connector index` run is using this index; wait for it to finish")

// ErrDuplicateID is returned, wrapped, by Add for a document whose id is
// already used by a document from another source: one added earlier in this
// run, or one indexed before from a root this run does not read (see Add).
// It wraps store.ErrRejected: the run goes on, and the earlier document stays.
var ErrDuplicateID = fmt.Errorf("duplicate id (%w)", store.ErrRejected)

// Outcome says what Add did with a document.
type Outcome int

const (
	Added     Outcome = iota // new in the index
	Updated                  // replaced a changed document
	Unchanged                // same content as indexed; skipped
)

// SyncOptions configure an index run.
type SyncOptions struct {
	// Roots are the keys of the roots this run reads. A document indexed
	// from one of them before that this run does not see again is deleted
	// (unless its file was kept with Keep). Documents from other roots stay.
	Roots []string
	// Prune deletes every document this run does not see, whatever its root.
	Prune bool
	// Logger receives progress and warnings; nil discards them.
	Logger *slog.Logger
	// OnPhase, if set, is called as Commit enters each of its steps, in
	// this order: "batches" (waiting for the batches being written and
	// writing the last), "vectors" (with an Embedder: embedding the last
	// passages and writing the vector files), "checksums". A run that
	// changed nothing stops after "batches".
	OnPhase func(phase string)
	// Embedder, if set, embeds every passage for semantic search; the
	// vectors are stored in the generation with the embedder's Model.
	// Passages whose text the previous generation embedded with the same
	// model keep their vectors. A previous generation without vectors, or
	// with another model's, is rebuilt: every passage is embedded again.
	// Without an Embedder the new generation has no vectors.
	Embedder embed.Embedder
	// OnEmbed, if set, is called after each batch of passages is
	// embedded, with the passages embedded so far and those queued so far
	// (which grows as documents are added).
	OnEmbed func(done, queued int)

	tokenFilters []string // another analysis chain, for the relevance experiments
	batchRecords int      // records a batch holds; 0 means batchDocs (tests make it small)
	minFree      int64    // free disk space kept in hand; 0 means minFreeBytes (tests make it small)
	beforeBatch  func()   // called where each batch is written, for tests that make it fail
}

// Summary reports what a committed run changed.
type Summary struct {
	Added, Updated, Unchanged, Deleted int
	// Documents is the number of documents in the index after the run.
	Documents uint64
	// Generation is the generation now served; "" when nothing changed.
	Generation string
	// Rebuilt is true when the whole index was rewritten because it was
	// built by another version.
	Rebuilt bool
}

// Syncer applies one index run: documents go into a new generation that
// becomes current only when Commit succeeds. Not safe for concurrent use.
type Syncer struct {
	dir    string
	opts   SyncOptions
	logger *slog.Logger
	lock   *flock.Flock

	base    string // the generation this run starts from; "" for a new index
	genName string
	genPath string
	idx     bleve.Index // the new generation, read-write
	baseIdx bleve.Index // the previous generation when rebuilding, else nil
	rebuild bool
	// baseVectors is the base generation's vector metadata; nil when it has none.
	baseVectors *vectorsMeta
	// vec is the vector side of the run; nil without an Embedder.
	vec *vectorRun

	roots   []string
	rootIdx map[string]uint32
	files   []manifestSource
	fileIdx map[manifestSource]uint32
	docs    map[string]*entry
	kept    map[manifestSource]bool

	batch      *bleve.Batch
	batchCount int
	batchSize  int
	// writing holds the outcomes of the batches being written to the
	// index in the background, oldest first.
	writing []chan error
	sum     Summary
	done    bool
}

// entry is what the run knows of one document id.
type entry struct {
	sha      [sha256Len]byte
	file     uint32
	passages uint32  // passage records the index holds for it
	line     uint32  // of a JSON Lines record added by this run; 0 otherwise
	inBase   bool    // present in the previous generation
	seen     bool    // added by this run
	vec      *vecDoc // where its passages' vectors come from, when this run indexed it with an Embedder
}

// NewSyncer locks the index folder (creating it if needed) and prepares a new
// generation from the current one. Call Commit or Abort exactly once.
func NewSyncer(ctx context.Context, dir string, opts SyncOptions) (*Syncer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create index folder: %w", err)
	}
	lock := flock.New(filepath.Join(dir, lockFile))
	locked, err := lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock index %s: %w", dir, err)
	}
	if !locked {
		return nil, fmt.Errorf("index %s: %w", dir, ErrLocked)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.batchRecords <= 0 {
		opts.batchRecords = batchDocs
	}
	if opts.minFree <= 0 {
		opts.minFree = minFreeBytes
	}
	s := &Syncer{dir: dir, opts: opts, logger: logger, lock: lock}
	s.reset()
	if err := catch(func() error { return s.prepare(ctx) }); err != nil {
		logPanic(logger, err)
		s.Abort()
		return nil, err
	}
	return s, nil
}

// reset forgets what the run knew of the previous generation.
func (s *Syncer) reset() {
	s.roots, s.files = nil, nil
	s.rootIdx = map[string]uint32{}
	s.fileIdx = map[manifestSource]uint32{}
	s.docs = map[string]*entry{}
	s.kept = map[manifestSource]bool{}
}

func (s *Syncer) prepare(ctx context.Context) error {
	base, err := readCurrent(s.dir)
	if err != nil && !errors.Is(err, ErrNoIndex) && !errors.Is(err, errBadPointer) {
		return err
	}
	if errors.Is(err, errBadPointer) {
		err = damaged(s.dir, "", err)
		if !s.opts.Prune {
			return err
		}
		s.logger.Warn("rebuilding the damaged index from this run's sources", "err", err)
		base = ""
	}
	gens, err := generations(s.dir)
	if err != nil {
		return fmt.Errorf("list index generations: %w", err)
	}
	next, _ := genNumber(base)
	for _, g := range gens {
		n, _ := genNumber(g)
		switch {
		case base == "": // CURRENT is missing or unreadable: keep them all
			next = max(next, n)
		case n > next: // left by a run that never committed
			s.logger.Info("removing unfinished index generation", "generation", g)
			if err := os.RemoveAll(filepath.Join(s.dir, g)); err != nil {
				return fmt.Errorf("remove unfinished generation: %w", err)
			}
		}
	}
	s.base = base
	s.genName = genName(next + 1)
	s.genPath = filepath.Join(s.dir, s.genName)

	if base != "" {
		if err := s.readBase(ctx); err != nil {
			err = damaged(s.dir, base, err)
			if !s.opts.Prune {
				return err
			}
			s.logger.Warn("rebuilding the damaged index from this run's sources", "err", err)
			s.dropBase()
		} else if err := s.copyBase(); err != nil {
			return err
		}
	}
	if err := s.roomFor(0); err != nil {
		return err
	}
	if s.idx == nil {
		m, err := newMapping(s.opts.tokenFilters)
		if err != nil {
			return fmt.Errorf("index mapping: %w", err)
		}
		s.idx, err = bleve.NewUsing(s.genPath, m, scorch.Name, scorch.Name, nil)
		if err != nil {
			return fmt.Errorf("create index generation: %w", err)
		}
	}
	s.sum.Rebuilt = s.rebuild
	s.batch = s.idx.NewBatch()
	if s.opts.Embedder != nil {
		s.vec = newVectorRun(s.opts.Embedder, s.baseVectors, filepath.Join(s.dir, s.base), s.opts.OnEmbed)
	}
	return ctx.Err()
}

// readBase checks the files of the generation the run starts from and
// reads its manifest and schema; an error here means the generation is
// damaged.
func (s *Syncer) readBase(ctx context.Context) error {
	basePath := filepath.Join(s.dir, s.base)
	if err := verifyGeneration(ctx, basePath); err != nil {
		return err
	}
	m, err := readManifest(basePath)
	if err != nil {
		return err
	}
	s.loadManifest(m)
	schema, err := readSchema(basePath)
	if err != nil {
		return err
	}
	s.rebuild = schema != schemaVersion
	if schema != schemaVersion {
		s.logger.Info("index was built by another version; rebuilding it", "schema", schema, "want_schema", schemaVersion)
	}
	if s.baseVectors, err = readVectorsMeta(basePath); err != nil {
		return err
	}
	s.checkVectors()
	if s.rebuild {
		s.baseIdx, err = bleve.OpenUsing(basePath, map[string]any{"read_only": true})
		if err != nil {
			return fmt.Errorf("open index generation %s: %w", s.base, err)
		}
	}
	return nil
}

// checkVectors compares the base generation's vectors with the run's
// embedder: vectors of different models never mix, so a model change (or
// an index without vectors) rebuilds the index, embedding every passage.
func (s *Syncer) checkVectors() {
	emb, old := s.opts.Embedder, s.baseVectors
	switch {
	case emb == nil && old != nil:
		s.logger.Warn("this run has no embedder: documents it changes would have no vectors, so the new generation "+
			"keeps none and servers search by keywords only; configure the embedder to keep semantic search",
			"index_model", modelString(old.Model))
	case emb == nil || s.rebuild:
	case old == nil:
		s.logger.Info("the index has no passage vectors; rebuilding it to embed every passage",
			"model", modelString(emb.Model()))
		s.rebuild = true
	case old.Model != emb.Model():
		s.logger.Info(fmt.Sprintf("the index's vectors were made by model %s, this run uses %s: rebuilding the index and embedding every passage again",
			modelString(old.Model), modelString(emb.Model())))
		s.rebuild = true
	}
}

// copyBase starts the new generation as a copy of the base, unless the run
// rebuilds it.
func (s *Syncer) copyBase() error {
	if s.rebuild {
		return nil
	}
	basePath := filepath.Join(s.dir, s.base)
	if err := cloneIndex(basePath, s.genPath); err != nil {
		return fmt.Errorf("copy index generation %s: %w", s.base, err)
	}
	var err error
	s.idx, err = bleve.Open(s.genPath)
	if err != nil {
		return fmt.Errorf("open index generation %s: %w", s.genPath, err)
	}
	return nil
}

// dropBase forgets a base generation that could not be read, and whatever
// of it the run had opened or copied, so that the run starts a new index.
func (s *Syncer) dropBase() {
	if s.idx != nil {
		_ = catch(s.idx.Close)
		s.idx = nil
	}
	if s.baseIdx != nil {
		_ = catch(s.baseIdx.Close)
		s.baseIdx = nil
	}
	if err := os.RemoveAll(s.genPath); err != nil {
		s.logger.Warn("remove unfinished index generation", "path", s.genPath, "err", err)
	}
	s.base, s.rebuild, s.baseVectors = "", false, nil
	s.reset()
}

// readSchema opens a generation read-only just long enough to read its schema version.
func readSchema(genPath string) (string, error) {
	idx, err := bleve.OpenUsing(genPath, map[string]any{"read_only": true})
	if err != nil {
		return "", fmt.Errorf("open index generation %s: %w", genPath, err)
	}
	defer idx.Close()
	v, err := idx.GetInternal(internalSchemaKey)
	if err != nil {
		return "", fmt.Errorf("read schema of %s: %w", genPath, err)
	}
	return string(v), nil
}

func (s *Syncer) loadManifest(m *manifest) {
	for _, r := range m.Roots {
		s.root(r)
	}
	for _, f := range m.Files {
		s.file(m.Roots[f.Root], f.Path)
	}
	for _, d := range m.Docs {
		s.docs[d.ID] = &entry{sha: d.SHA, file: d.File, passages: max(d.Passages, 1), inBase: true}
	}
}

func (s *Syncer) root(key string) uint32 {
	if i, ok := s.rootIdx[key]; ok {
		return i
	}
	i := uint32(len(s.roots))
	s.roots = append(s.roots, key)
	s.rootIdx[key] = i
	return i
}

func (s *Syncer) file(root, path string) uint32 {
	k := manifestSource{Root: s.root(root), Path: path}
	if i, ok := s.fileIdx[k]; ok {
		return i
	}
	i := uint32(len(s.files))
	s.files = append(s.files, k)
	s.fileIdx[k] = i
	return i
}

// origin names a document's source for messages, as ingest problems do.
func (s *Syncer) origin(e *entry) string {
	f := s.files[e.file]
	return store.Place(s.roots[f.Root], f.Path, int(e.line))
}

// inScope reports whether a document indexed before from root is deleted
// at Commit unless this run adds it again.
func (s *Syncer) inScope(root uint32) bool {
	return s.opts.Prune || slices.Contains(s.opts.Roots, s.roots[root])
}

// Roots returns, sorted, the keys of the roots that the documents of the
// index this run starts from were read from. Call it before Add.
func (s *Syncer) Roots() []string {
	seen := map[uint32]bool{}
	for _, e := range s.docs {
		if e.inBase {
			seen[s.files[e.file].Root] = true
		}
	}
	keys := make([]string, 0, len(seen))
	for r := range seen {
		keys = append(keys, s.roots[r])
	}
	slices.Sort(keys)
	return keys
}

// Replace adds roots to the run's scope, as if listed in SyncOptions.Roots:
// the documents indexed from them before that this run does not add are
// deleted at Commit, and their ids may be taken by this run's documents.
func (s *Syncer) Replace(roots ...string) {
	s.opts.Roots = append(slices.Clip(s.opts.Roots), roots...)
}

// Add indexes a document unless the index already holds it unchanged.
//
// An id belongs to one source (root and file). Add rejects, with an error
// wrapping ErrDuplicateID that names both sources, a document whose id is
// already used by a document from another source that
//   - this run added (the first one read keeps the id), or
//   - was indexed before from a root outside this run (SyncOptions.Roots,
//     unless Prune): that document stays, so the id is not taken from it.
//
// A document indexed before from another file of this run's roots is
// replaced: it moved there, as its old file no longer yields it (if the
// old file still does, that later Add is the duplicate).
func (s *Syncer) Add(ctx context.Context, d store.SourceDocument) (Outcome, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if d.ID == "" {
		return 0, errors.New("document has an empty id")
	}
	file := s.file(d.Root, d.File)
	e := s.docs[d.ID]
	switch {
	case e == nil:
	case e.seen:
		return 0, fmt.Errorf("%s: id %q is also used by a document from %s, which keeps it: %w",
			d.Place(), d.ID, s.origin(e), ErrDuplicateID)
	case e.file != file && !s.inScope(s.files[e.file].Root):
		return 0, fmt.Errorf("%s: id %q is already indexed from %s, which this run does not read and which keeps it "+
			"(to move the document, index both paths in one run, or use --prune): %w",
			d.Place(), d.ID, s.origin(e), ErrDuplicateID)
	}
	sha := d.ContentHash()
	outcome := Added
	if e == nil {
		e = &entry{}
		s.docs[d.ID] = e
	} else if e.inBase {
		outcome = Updated
		if e.sha == sha && e.file == file && !s.rebuild {
			outcome = Unchanged
		}
	}
	e.sha, e.file, e.line, e.seen = sha, file, uint32(max(d.Line, 0)), true
	switch outcome {
	case Added:
		s.sum.Added++
	case Updated:
		s.sum.Updated++
	case Unchanged:
		s.sum.Unchanged++
		return Unchanged, nil
	}
	if err := s.index(ctx, e, d.Document, d.Access.Terms()); err != nil {
		return 0, err
	}
	return outcome, nil
}

// Previous returns the metadata of the document that the index this run
// starts from holds under id, for a source that sends what it had before
// (the web crawler's validators); false when there is none, when this run
// added the id already, or when it rebuilds the index.
func (s *Syncer) Previous(id string) (map[string]string, bool) {
	e := s.docs[id]
	if e == nil || !e.inBase || e.seen || s.rebuild || s.idx == nil {
		return nil, false
	}
	r, err := readRecord(s.idx, id)
	if err != nil || r.meta == "" {
		return nil, false
	}
	var meta map[string]string
	if err := json.Unmarshal([]byte(r.meta), &meta); err != nil {
		return nil, false
	}
	return meta, true
}

// Keep marks a source file or directory (slash-separated, relative to the
// root; "" for the whole root) whose reading failed this run: the documents
// it gave before stay in the index rather than being deleted as gone.
func (s *Syncer) Keep(root, path string) {
	s.kept[manifestSource{Root: s.root(root), Path: path}] = true
}

// isKept reports whether a document's source file, or a directory above
// it, was kept.
func (s *Syncer) isKept(f manifestSource) bool {
	p := f.Path
	for {
		if s.kept[manifestSource{Root: f.Root, Path: p}] {
			return true
		}
		if p == "" {
			return false
		}
		i := strings.LastIndexByte(p, '/')
		if i < 0 {
			p = ""
		} else {
			p = p[:i]
		}
	}
}

// index writes a document record and its passage records, and deletes the
// passages an earlier, longer version had beyond the new ones. acl is the
// document's access terms (access.List.Terms), on every record.
func (s *Syncer) index(ctx context.Context, e *entry, d store.Document, acl []string) error {
	id, title, text := d.ID, d.Title, d.Text
	passages := passage.Split(text)
	doc := map[string]any{fieldDocTitle: title, fieldPassages: strconv.Itoa(len(passages)), fieldAccess: acl, fieldDocACL: acl}
	if d.URL != "" {
		doc[fieldURL] = d.URL
	}
	if len(d.Metadata) > 0 {
		b, _ := json.Marshal(d.Metadata) // map[string]string always marshals
		doc[fieldMeta] = string(b)
	}
	if err := s.batch.Index(id, doc); err != nil {
		return fmt.Errorf("index document %q: %w", id, err)
	}
	for n, p := range passages {
		body := text[p.Start:p.End]
		rec := map[string]any{
			fieldContent: title + "\n" + body,
			fieldTitle:   title,
			fieldBody:    body,
			fieldAccess:  acl,
		}
		if p.Start > 0 {
			rec[fieldAt] = strconv.Itoa(p.Start)
		}
		if err := s.batch.Index(passageID(id, n), rec); err != nil {
			return fmt.Errorf("index document %q: %w", id, err)
		}
	}
	for n := len(passages); n < int(e.passages); n++ {
		s.batch.Delete(passageID(id, n))
	}
	if s.vec != nil {
		texts := make([]string, len(passages))
		for n, p := range passages {
			texts[n] = embedText(title, text[p.Start:p.End])
		}
		vd, err := s.vec.add(ctx, s.genPath, id, acl, texts)
		if err != nil {
			return err
		}
		e.vec = vd
	}
	e.passages = uint32(len(passages))
	s.batchCount += 1 + len(passages)
	s.batchSize += len(id) + 2*len(title) + 2*len(text)
	if s.batchCount >= s.opts.batchRecords || s.batchSize >= batchBytes {
		return s.flush(ctx)
	}
	return nil
}

// flush starts writing the batch to the index in the background, once
// fewer than batchesWriting batches are being written. Batches hold no
// document in common (an id comes once a run), so their order does not
// matter to the index.
func (s *Syncer) flush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.batch.Size() == 0 {
		return nil
	}
	if len(s.writing) == batchesWriting {
		if err := s.waitOldest(); err != nil {
			return err
		}
	}
	// The batch's segment, and merges of it, take up to about its text's
	// size again on disk.
	if err := s.roomFor(int64(s.batchSize)); err != nil {
		return err
	}
	b, done := s.batch, make(chan error, 1)
	go func() {
		done <- catch(func() error {
			if s.opts.beforeBatch != nil {
				s.opts.beforeBatch()
			}
			return s.idx.Batch(b)
		})
	}()
	s.writing = append(s.writing, done)
	// A fresh batch, not Reset: scorch may still be ranging over the old
	// batch's map in a goroutine after Batch returns.
	s.batch = s.idx.NewBatch()
	s.batchCount, s.batchSize = 0, 0
	return nil
}

// batchesWriting is how many batches are written to the index at once.
// bleve turns an analysed batch into a segment on one CPU; with two under
// way, the next batch is analysed meanwhile (measured in commit 38e2a34).
const batchesWriting = 2

// waitOldest waits for the oldest batch being written and returns its error.
func (s *Syncer) waitOldest() error {
	err := <-s.writing[0]
	s.writing = s.writing[1:]
	if err != nil {
		return fmt.Errorf("write index batch: %w", err)
	}
	return nil
}

// written waits for every batch being written and returns the first error.
func (s *Syncer) written() error {
	var first error
	for len(s.writing) > 0 {
		if err := s.waitOldest(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Commit deletes the documents that are gone, makes the new generation
// current and releases the folder. With nothing changed it keeps the current
// generation and reports an empty Summary.Generation.
func (s *Syncer) Commit(ctx context.Context) (Summary, error) {
	if s.done {
		return Summary{}, errors.New("index run already finished")
	}
	sum, err := s.commit(ctx)
	if err != nil {
		logPanic(s.logger, err)
		s.Abort()
		return Summary{}, err
	}
	return sum, nil
}

func (s *Syncer) commit(ctx context.Context) (Summary, error) {
	s.phase("batches")
	scoped := map[uint32]bool{}
	for _, r := range s.opts.Roots {
		scoped[s.root(r)] = true
	}
	m := &manifest{Roots: s.roots, Files: s.files}
	ids := make([]string, 0, len(s.docs))
	for id := range s.docs {
		ids = append(ids, id)
	}
	slices.Sort(ids) // deterministic manifest and carry-over order
	for _, id := range ids {
		e := s.docs[id]
		if !e.seen {
			f := s.files[e.file]
			if s.opts.Prune || (scoped[f.Root] && !s.isKept(f)) {
				s.sum.Deleted++
				if !s.rebuild {
					if err := s.deleteDoc(ctx, id, e.passages); err != nil {
						return Summary{}, err
					}
				}
				continue
			}
			if s.rebuild {
				if err := s.carryOver(ctx, e, id); err != nil {
					return Summary{}, err
				}
			}
		}
		m.Docs = append(m.Docs, manifestDoc{ID: id, SHA: e.sha, File: e.file, Passages: e.passages})
	}
	if s.sum.Added+s.sum.Updated+s.sum.Deleted == 0 && !s.rebuild && s.base != "" {
		sum := s.sum
		sum.Documents = uint64(len(m.Docs))
		s.Abort()
		return sum, nil
	}
	if err := s.flush(ctx); err != nil {
		return Summary{}, err
	}
	if err := s.written(); err != nil {
		return Summary{}, err
	}
	var records uint64
	for _, d := range m.Docs {
		records += 1 + uint64(d.Passages)
	}
	n, err := s.idx.DocCount()
	if err != nil {
		return Summary{}, fmt.Errorf("count documents: %w", err)
	}
	if n != records {
		return Summary{}, fmt.Errorf("index holds %d records but the run expected %d; nothing was changed", n, records)
	}
	// The final batch, persisted, records what the generation holds.
	s.batch.SetInternal(internalSchemaKey, []byte(schemaVersion))
	s.batch.SetInternal(internalDocumentsKey, []byte(strconv.Itoa(len(m.Docs))))
	final := s.batch
	if err := catch(func() error { return s.idx.Batch(final) }); err != nil {
		return Summary{}, fmt.Errorf("write index batch: %w", err)
	}
	s.batch = s.idx.NewBatch()
	err = catch(s.idx.Close)
	s.idx = nil
	if err != nil {
		return Summary{}, fmt.Errorf("close new index generation: %w", err)
	}
	if s.vec != nil {
		s.phase("vectors")
		err := s.vec.write(ctx, s.genPath, m.Docs, func(id string) *vecDoc { return s.docs[id].vec })
		if err != nil {
			return Summary{}, err
		}
	}
	if err := writeManifest(s.genPath, m); err != nil {
		return Summary{}, err
	}
	s.phase("checksums")
	if err := writeChecksums(ctx, s.genPath); err != nil {
		return Summary{}, err
	}
	if err := syncDir(s.genPath); err != nil {
		return Summary{}, err
	}
	if err := ctx.Err(); err != nil {
		return Summary{}, err
	}
	if err := writeCurrent(s.dir, s.genName); err != nil {
		return Summary{}, err
	}
	s.sum.Documents = uint64(len(m.Docs))
	s.sum.Generation = s.genName
	s.finish()
	s.removeOldGenerations(s.base)
	return s.sum, nil
}

// phase reports a step of Commit to SyncOptions.OnPhase.
func (s *Syncer) phase(name string) {
	if s.opts.OnPhase != nil {
		s.opts.OnPhase(name)
	}
}

func (s *Syncer) deleteDoc(ctx context.Context, id string, passages uint32) error {
	s.batch.Delete(id)
	for n := range max(passages, 1) {
		s.batch.Delete(passageID(id, int(n)))
	}
	s.batchCount += 1 + int(passages)
	if s.batchCount >= s.opts.batchRecords {
		return s.flush(ctx)
	}
	return nil
}

// carryOver copies a document that this run did not touch from the previous
// generation into the rebuilt one.
func (s *Syncer) carryOver(ctx context.Context, e *entry, id string) error {
	d, terms, err := fetchDocument(s.baseIdx, id)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("document %q is listed but missing from the previous index; delete the index folder and index again", id)
	}
	if err != nil {
		return fmt.Errorf("read document %q from the previous index: %w", id, err)
	}
	e.passages = 0 // the rebuilt generation holds none of its passages yet
	return s.index(ctx, e, *d, terms)
}

// Abort discards the new generation and releases the folder. It is safe to
// call more than once and after Commit.
func (s *Syncer) Abort() {
	if s.done {
		return
	}
	_ = s.written() // the index must not close under a batch being written
	if s.vec != nil {
		_ = s.vec.close(s.genPath)
	}
	if s.idx != nil {
		_ = catch(s.idx.Close)
		s.idx = nil
	}
	if s.genPath != "" {
		if err := os.RemoveAll(s.genPath); err != nil {
			s.logger.Warn("remove unfinished index generation", "path", s.genPath, "err", err)
		}
	}
	s.finish()
}

func (s *Syncer) finish() {
	s.done = true
	if s.baseIdx != nil {
		_ = s.baseIdx.Close()
		s.baseIdx = nil
	}
	_ = s.lock.Unlock()
}

// removeOldGenerations deletes generations older than previous, which a
// server may still be reading until its next reload.
func (s *Syncer) removeOldGenerations(previous string) {
	keep := map[string]bool{s.genName: true, previous: true}
	gens, err := generations(s.dir)
	if err != nil {
		s.logger.Warn("list index generations", "err", err)
		return
	}
	for _, g := range gens {
		if keep[g] {
			continue
		}
		if err := os.RemoveAll(filepath.Join(s.dir, g)); err != nil {
			s.logger.Warn("remove old index generation", "generation", g, "err", err)
		}
	}
}
