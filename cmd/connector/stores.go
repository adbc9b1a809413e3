package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/connectorhq/connector/internal/embed"
	"github.com/connectorhq/connector/internal/ingest"
	"github.com/connectorhq/connector/internal/sample"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/store/blevestore"
	"github.com/connectorhq/connector/internal/store/openaistore"
)

// This file holds the only switches over STORE: which store serves, and
// where an index run writes.

// openStore opens the configured store. For serving, a bleve folder with no
// index is first filled from the bundled sample corpus (unless
// SAMPLE_CORPUS=false), so that a fresh machine answers searches at once.
func (c command) openStore(ctx context.Context, serving bool) (store.Store, error) {
	switch c.cfg.Store {
	case "openai":
		cfg := c.openaiConfig()
		if m := c.metrics; m != nil {
			cfg.OnAttempt = func(a openaistore.Attempt) { m.UpstreamAttempt(a.Operation, a.Retry, a.Status, a.Duration) }
		}
		return openaistore.New(cfg)
	case "bleve":
		st, err := c.openBleve()
		switch {
		case err == nil && serving && c.cfg.SampleCorpus && st.Outdated():
			// Built by an earlier version: if it is the sample, build it
			// again rather than serve nothing until someone runs index.
			st.Close()
			c.logger.Info("the index was built by an earlier version: building the sample index again, unless it holds your documents",
				"index_dir", c.cfg.IndexDir)
			return c.buildSample(ctx)
		case !errors.Is(err, blevestore.ErrNoIndex):
			return st, err
		case !serving:
			return nil, fmt.Errorf("no index in %s: run `connector index PATH...` (or `connector serve`, which builds the sample index) first", c.cfg.IndexDir)
		case !c.cfg.SampleCorpus:
			return nil, fmt.Errorf("no index in %s: run `connector index PATH...` first, or point INDEX_DIR at an index", c.cfg.IndexDir)
		}
		c.logger.Info("no index yet: building one from the bundled sample corpus; run `connector index PATH...` to replace it with your own documents",
			"index_dir", c.cfg.IndexDir)
		return c.buildSample(ctx)
	default:
		return nil, fmt.Errorf("STORE=%q: want bleve or openai", c.cfg.Store)
	}
}

// buildSample indexes the bundled sample corpus into the local index and
// opens it. An index that holds the user's documents is opened as it is.
func (c command) buildSample(ctx context.Context) (store.Store, error) {
	res, err := c.runIndex(ctx, []ingest.Root{ingest.FSRoot(sampleRoot, "sample", sample.FS())}, indexOptions{quiet: true})
	if errors.Is(err, errHoldsYours) { // your documents: serve them as they are
		c.logger.Info("not building the sample index: the index holds your documents", "index_dir", c.cfg.IndexDir)
		return c.openBleve()
	}
	if err != nil {
		return nil, fmt.Errorf("build the sample index: %w", err)
	}
	if res.errors > 0 {
		return nil, fmt.Errorf("build the sample index: %d documents failed", res.errors)
	}
	c.logger.Info("sample index built", "documents", res.summary.Documents, "elapsed", res.elapsed.Round(time.Millisecond).String())
	return c.openBleve()
}

// openBleve opens the local index for serving, searching with the
// configured embedder as well when there is one.
func (c command) openBleve() (*blevestore.Store, error) {
	return blevestore.OpenWith(c.cfg.IndexDir, c.cfg.DefaultAccess, c.logger, blevestore.OpenOptions{Embedder: c.embedder})
}

// withEmbedder returns c with the embedder EMBEDDINGS configures, for the
// local store; nil when it is none. A vector store ranks with its own
// embeddings, so for it EMBEDDINGS only gets a note in the log. Close the
// returned closer when done (it frees a local model).
func (c command) withEmbedder() (command, func(), error) {
	if c.cfg.Embeddings == "" || c.cfg.Embeddings == embed.ProviderNone {
		return c, func() {}, nil
	}
	if c.cfg.Store != "bleve" {
		c.logger.Info("EMBEDDINGS applies to the local index: the OpenAI vector store ranks by its own embeddings", "embeddings", c.cfg.Embeddings)
		return c, func() {}, nil
	}
	e, err := embed.New(c.cfg.embedConfig(c.logger))
	if err != nil {
		return c, nil, fmt.Errorf("EMBEDDINGS=%s: %w", c.cfg.Embeddings, err)
	}
	c.embedder = e
	return c, func() {
		if cl, ok := e.(io.Closer); ok {
			cl.Close()
		}
	}, nil
}

func (c command) openaiConfig() openaistore.Config {
	return openaistore.Config{
		APIKey:         c.cfg.OpenAIKey,
		VectorStoreID:  c.cfg.VectorStoreID,
		BaseURL:        c.cfg.OpenAIBaseURL,
		Organization:   c.cfg.OpenAIOrg,
		Project:        c.cfg.OpenAIProject,
		Timeout:        c.cfg.OpenAITimeout,
		MaxRetries:     c.cfg.OpenAIRetries,
		RewriteQuery:   c.cfg.RewriteQuery,
		ScoreThreshold: c.cfg.ScoreThreshold,
		DefaultAccess:  c.cfg.DefaultAccess,
		CacheBytes:     c.cfg.CacheBytes,
		CacheTTL:       c.cfg.CacheTTL,
		Logger:         c.logger,
	}
}

// sink is where an index run writes: the bleve index or a vector store.
type sink interface {
	// Add stores a document, or skips it unchanged. An error wrapping
	// store.ErrRejected concerns this document only; any other ends the run.
	Add(ctx context.Context, d store.SourceDocument) error
	// Keep protects what a failed file or folder gave before from deletion.
	Keep(root, path string)
	// Previous returns the metadata of the document stored under id before
	// this run, if any (a web page's validators). Call it before Add of id.
	Previous(ctx context.Context, id string) (map[string]string, bool)
	Commit(ctx context.Context) (indexSummary, error)
	Abort()
}

// indexSummary is what a committed run reports, whatever the store.
type indexSummary struct {
	Added, Updated, Unchanged, Deleted, Failed int
	Documents                                  int64
	// State says where the documents are now, for the summary line.
	State string
	// CreatedVectorStore is the id of a vector store this run created.
	CreatedVectorStore string
}

// newSink starts an index run into the configured store.
func (c command) newSink(ctx context.Context, roots []string, opts indexOptions, rep *reporter) (sink, error) {
	switch c.cfg.Store {
	case "openai":
		s, err := openaistore.NewSyncer(ctx, c.openaiConfig(), openaistore.SyncOptions{
			Roots: roots, Prune: opts.prune, Concurrency: c.cfg.UploadWorkers, Logger: c.logger,
			OnProgress: rep.uploaded,
			OnFailure: func(id, source string, err error) {
				rep.problem(slog.LevelError, "could not upload", "doc_id", id, "source", source, "err", err)
			},
		})
		if err != nil {
			return nil, err
		}
		return openaiSink{s}, nil
	case "bleve":
		s, err := blevestore.NewSyncer(ctx, c.cfg.IndexDir, blevestore.SyncOptions{Roots: roots, Prune: opts.prune, Logger: c.logger,
			OnPhase: rep.writing, Embedder: c.embedder, OnEmbed: rep.embedded})
		if err != nil {
			return nil, err
		}
		if err := c.keepSampleApart(s, roots); err != nil {
			s.Abort()
			return nil, err
		}
		return bleveSink{s: s, dir: c.cfg.IndexDir}, nil
	default:
		return nil, fmt.Errorf("STORE=%q: want bleve or openai", c.cfg.Store)
	}
}

// sampleRoot is the root key of the bundled sample corpus in an index's
// manifest. The keys of the user's paths are absolute, so never this one.
const sampleRoot = "sample"

// errHoldsYours refuses a run of the sample into an index that holds the
// user's documents.
var errHoldsYours = errors.New("the index holds your documents: the bundled sample is not added to them")

// keepSampleApart keeps the bundled sample, a demo, out of an index of the
// user's documents: a run of the user's paths replaces the sample's
// documents (as --prune would), and a run of the sample into an index that
// holds the user's documents is refused.
func (c command) keepSampleApart(s *blevestore.Syncer, roots []string) error {
	held := s.Roots()
	switch {
	case slices.Contains(roots, sampleRoot):
		if slices.ContainsFunc(held, func(r string) bool { return r != sampleRoot }) {
			return fmt.Errorf("index %s: %w", c.cfg.IndexDir, errHoldsYours)
		}
	case slices.Contains(held, sampleRoot):
		c.logger.Info("replacing the sample documents with yours", "index_dir", c.cfg.IndexDir)
		s.Replace(sampleRoot)
	}
	return nil
}

type bleveSink struct {
	s   *blevestore.Syncer
	dir string
}

func (b bleveSink) Add(ctx context.Context, d store.SourceDocument) error {
	_, err := b.s.Add(ctx, d)
	return err
}

func (b bleveSink) Keep(root, path string) { b.s.Keep(root, path) }
func (b bleveSink) Previous(_ context.Context, id string) (map[string]string, bool) {
	return b.s.Previous(id)
}
func (b bleveSink) Abort() { b.s.Abort() }

func (b bleveSink) Commit(ctx context.Context) (indexSummary, error) {
	s, err := b.s.Commit(ctx)
	if err != nil {
		return indexSummary{}, err
	}
	state := "index " + b.dir + " updated to " + s.Generation
	if s.Generation == "" {
		state = "index " + b.dir + " already up to date"
	}
	return indexSummary{Added: s.Added, Updated: s.Updated, Unchanged: s.Unchanged, Deleted: s.Deleted,
		Documents: int64(s.Documents), State: state}, nil
}

type openaiSink struct{ s *openaistore.Syncer }

func (o openaiSink) Add(ctx context.Context, d store.SourceDocument) error { return o.s.Add(ctx, d) }
func (o openaiSink) Keep(root, path string)                                { o.s.Keep(root, path) }
func (o openaiSink) Previous(_ context.Context, id string) (map[string]string, bool) {
	return o.s.Previous(id)
}
func (o openaiSink) Abort() { o.s.Abort() }

func (o openaiSink) Commit(ctx context.Context) (indexSummary, error) {
	s, err := o.s.Commit(ctx)
	if err != nil {
		return indexSummary{}, err
	}
	sum := indexSummary{Added: s.Added, Updated: s.Updated, Unchanged: s.Unchanged, Deleted: s.Deleted,
		Failed: s.Failed, Documents: s.Documents, State: "vector store " + s.VectorStoreID + " synced"}
	if s.Created {
		sum.CreatedVectorStore = s.VectorStoreID
	}
	return sum, nil
}
