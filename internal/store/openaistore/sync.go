package openaistore

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/connectorhq/connector/internal/docurl"
	"github.com/connectorhq/connector/internal/store"
)

// ErrDuplicateID is returned, wrapped, by Add for a document whose id is
// already used by a document from another source: one added earlier in this
// run, or one uploaded before from a root this run does not read (see Add).
// It wraps store.ErrRejected: the run goes on, and the earlier document stays.
var ErrDuplicateID = fmt.Errorf("duplicate id (%w)", store.ErrRejected)

// SyncOptions configure an index run into a vector store.
type SyncOptions struct {
	// Roots are the keys of the roots this run reads: a document uploaded
	// from one of them before and not seen again is removed. Documents from
	// other roots stay.
	Roots []string
	// Prune removes every document this run does not see, whatever its
	// root. Files uploaded by other tools (without a doc_id) always stay.
	Prune bool
	// Name names a vector store this run creates (when Config has none).
	Name string
	// Concurrency is how many documents upload at once (default 4).
	Concurrency int
	// PollInterval is the longest wait between checks of a file's processing
	// status (default 2s); checks start sooner and back off to it.
	PollInterval time.Duration
	// ProcessTimeout is how long to wait for OpenAI to process one file
	// (default 15m). A file still in progress then is reported as failed
	// and stays attached; the next run checks it again.
	ProcessTimeout time.Duration
	// OnProgress is called as documents finish, with how many are done of
	// how many have been queued so far. It may be called concurrently.
	OnProgress func(done, queued int)
	// OnFailure is called for each document that could not be stored; the
	// run goes on. It may be called concurrently.
	OnFailure func(id, source string, err error)
	Logger    *slog.Logger
}

// Summary reports what a run changed.
type Summary struct {
	Added, Updated, Unchanged, Deleted, Failed int
	// Documents is the number of processed files in the vector store after the run.
	Documents int64
	// VectorStoreID is the store written; Created tells that this run made it.
	VectorStoreID string
	Created       bool
}

// Syncer applies one index run to a vector store: new and changed documents
// are uploaded as files and attached with attributes (doc_id, title, url,
// content_sha256, source, access terms and metadata), unchanged ones are
// skipped, and at Commit the ones that are gone are detached and deleted.
// A document's access list is part of its content hash, so a changed list
// uploads it again. A changed document's old file is removed only once its
// new one is processed, so a document never disappears; an interrupted run
// leaves at most a duplicate, which the next run removes.
type Syncer struct {
	cfg    Config
	client client
	opts   SyncOptions
	logger *slog.Logger

	ctx    context.Context // cancelled by Abort
	cancel context.CancelFunc
	jobs   chan job
	wg     sync.WaitGroup

	remote map[string][]remoteFile // doc id → its files (several after an interrupted run)
	seen   map[string]string       // doc id → where it came from, this run
	stale  []remoteFile            // extra versions of unchanged documents
	kept   map[string]bool         // root hash + "\x00" + path: failed files and folders

	mu     sync.Mutex // guards sum, queued, done
	sum    Summary
	queued int
	done   int
	closed bool
}

type remoteFile struct {
	fileID, sha, root, file string
	source                  string // for messages: the "source" metadata, else file
	completed               bool
	attrs                   map[string]string // all its attributes, for Previous
}

type job struct {
	doc store.SourceDocument
	sha string
	old []remoteFile
}

// NewSyncer opens the vector store (or creates one when cfg.VectorStoreID
// is empty), lists its files, and starts the upload workers. Call Commit or
// Abort exactly once.
func NewSyncer(ctx context.Context, cfg Config, opts SyncOptions) (*Syncer, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("OPENAI_API_KEY is empty: set it in the environment or .env")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 2 * time.Second
	}
	if opts.ProcessTimeout <= 0 {
		opts.ProcessTimeout = 15 * time.Minute
	}
	s := &Syncer{
		cfg: cfg, client: newClient(cfg), opts: opts, logger: opts.Logger.With("store", "openai"),
		remote: map[string][]remoteFile{}, seen: map[string]string{}, kept: map[string]bool{},
	}
	if err := s.open(ctx); err != nil {
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.jobs = make(chan job, opts.Concurrency)
	for range opts.Concurrency {
		s.wg.Go(s.work)
	}
	return s, nil
}

func (s *Syncer) open(ctx context.Context) error {
	if s.cfg.VectorStoreID == "" {
		vs, err := s.client.vectorStores.New(ctx, openai.VectorStoreNewParams{Name: openai.String(cmp.Or(s.opts.Name, "connector"))})
		if err != nil {
			return upstreamError(s.logger, "", err, "create a vector store")
		}
		s.cfg.VectorStoreID, s.sum.Created = vs.ID, true
		s.logger.Info("created vector store", "vector_store_id", vs.ID)
	} else if _, err := s.client.vectorStores.Get(ctx, s.cfg.VectorStoreID); err != nil {
		return upstreamError(s.logger, s.cfg.VectorStoreID, err, "open the vector store")
	}
	s.sum.VectorStoreID = s.cfg.VectorStoreID
	pages := s.client.vectorStores.Files.ListAutoPaging(ctx, s.cfg.VectorStoreID, openai.VectorStoreFileListParams{Limit: openai.Int(100)})
	foreign := 0
	for pages.Next() {
		f := pages.Current()
		attrs := fileAttributes(f.Attributes)
		id := attrs[attrDocID]
		if id == "" {
			foreign++
			continue
		}
		s.remote[id] = append(s.remote[id], remoteFile{
			fileID: f.ID, sha: attrs[attrSHA], root: attrs[attrRoot], file: attrs[attrFile],
			source:    cmp.Or(attrs["source"], attrs[attrFile]),
			completed: f.Status == openai.VectorStoreFileStatusCompleted,
			attrs:     attrs,
		})
	}
	if err := pages.Err(); err != nil {
		return upstreamError(s.logger, s.cfg.VectorStoreID, err, "list the vector store's files")
	}
	if foreign > 0 {
		s.logger.Info("vector store holds files not uploaded by connector; they are left alone", "files", foreign)
	}
	return nil
}

// VectorStoreID returns the store this run writes to.
func (s *Syncer) VectorStoreID() string { return s.cfg.VectorStoreID }

// Add uploads the document unless the vector store holds it unchanged. The
// upload runs in the background; failures reach OnFailure and the Summary.
//
// An id belongs to one source (root and file). Add rejects, with an error
// wrapping ErrDuplicateID that names both sources, a document whose id is
// already used by a document from another source that
//   - this run added (the first one read keeps the id), or
//   - was uploaded before from a root outside this run (SyncOptions.Roots,
//     unless Prune): that document stays, so the id is not taken from it.
//
// A document uploaded before from another file of this run's roots is
// replaced: it moved there, as its old file no longer yields it (if the
// old file still does, that later Add is the duplicate).
func (s *Syncer) Add(ctx context.Context, d store.SourceDocument) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch {
	case d.ID == "":
		return errors.New("document has an empty id")
	case len([]rune(d.ID)) > maxAttributeValue:
		return fmt.Errorf("%s: id %q…: longer than %d characters, which a vector store attribute cannot hold (%w)",
			d.Place(), truncateRunes(d.ID, 40), maxAttributeValue, store.ErrRejected)
	case len(d.Access) > MaxPrincipals:
		return fmt.Errorf("%s: id %q: the access list names %d principals, more than the %d a vector store file can hold; "+
			"grant access to a group instead (%w)", d.Place(), d.ID, len(d.Access), MaxPrincipals, store.ErrRejected)
	}
	if first, dup := s.seen[d.ID]; dup {
		return fmt.Errorf("%s: id %q is also used by a document from %s, which keeps it: %w",
			d.Place(), d.ID, first, ErrDuplicateID)
	}
	old := s.remote[d.ID]
	if other, ok := s.elsewhere(d, old); ok {
		return fmt.Errorf("%s: id %q is already uploaded from %s, which this run does not read and which keeps it "+
			"(to move the document, index both paths in one run, or use --prune): %w",
			d.Place(), d.ID, other.source, ErrDuplicateID)
	}
	s.seen[d.ID] = d.Place()
	sum := d.ContentHash()
	sha := hex.EncodeToString(sum[:])
	for i, f := range old {
		if f.sha == sha && f.completed {
			s.stale = append(s.stale, old[:i]...)
			s.stale = append(s.stale, old[i+1:]...)
			s.mu.Lock()
			s.sum.Unchanged++
			s.mu.Unlock()
			return nil
		}
	}
	s.mu.Lock()
	s.queued++
	s.mu.Unlock()
	select {
	case s.jobs <- job{doc: d, sha: sha, old: old}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

// elsewhere returns the file of an earlier version of d, from another source
// outside this run's scope, whose id d must not take. Files without a
// source_root attribute have an unknown source and never collide.
func (s *Syncer) elsewhere(d store.SourceDocument, old []remoteFile) (remoteFile, bool) {
	if len(old) == 0 || s.opts.Prune {
		return remoteFile{}, false
	}
	root, file := rootHash(d.Root), truncateRunes(d.File, maxAttributeValue)
	for _, f := range old {
		if f.root == "" || (f.root == root && f.file == file) {
			return remoteFile{}, false
		}
	}
	if slices.ContainsFunc(s.opts.Roots, func(r string) bool { return rootHash(r) == old[0].root }) {
		return remoteFile{}, false // its old source is read by this run: a move
	}
	return old[0], true
}

// Previous returns the attributes (the metadata that fitted, and the
// syncer's own) of the processed file the vector store holds for the
// document id, for a source that sends what it had before (the web
// crawler's validators); false when there is none. Call it from the
// goroutine that calls Add.
func (s *Syncer) Previous(id string) (map[string]string, bool) {
	for _, f := range s.remote[id] {
		if f.completed {
			return maps.Clone(f.attrs), true
		}
	}
	return nil, false
}

// Keep marks a source file or folder (slash-separated, relative to the
// root; "" for the whole root) whose reading failed this run: the documents
// it gave before stay.
func (s *Syncer) Keep(root, path string) {
	s.kept[rootHash(root)+"\x00"+path] = true
}

func (s *Syncer) isKept(root, file string) bool {
	p := file
	for {
		if s.kept[root+"\x00"+p] {
			return true
		}
		if p == "" {
			return false
		}
		if i := strings.LastIndexByte(p, '/'); i >= 0 {
			p = p[:i]
		} else {
			p = ""
		}
	}
}

func (s *Syncer) work() {
	for j := range s.jobs {
		err := s.upload(s.ctx, j)
		s.mu.Lock()
		s.done++
		switch {
		case err != nil:
			s.sum.Failed++
		case len(j.old) > 0:
			s.sum.Updated++
		default:
			s.sum.Added++
		}
		done, queued := s.done, s.queued
		s.mu.Unlock()
		if err != nil && s.opts.OnFailure != nil && s.ctx.Err() == nil {
			s.opts.OnFailure(j.doc.ID, j.doc.Place(), err)
		}
		if s.opts.OnProgress != nil {
			s.opts.OnProgress(done, queued)
		}
	}
}

// upload stores one document: upload the file, attach it with attributes,
// wait until it is processed, then remove the versions it replaces.
func (s *Syncer) upload(ctx context.Context, j job) error {
	d := j.doc
	content := d.Text
	if d.Title != "" {
		content = d.Title + "\n\n" + d.Text // the title is searchable too; fetch strips it
	}
	f, err := s.client.files.New(ctx, openai.FileNewParams{
		File:    openai.File(strings.NewReader(content), fileName(d.ID), "text/plain"),
		Purpose: openai.FilePurposeAssistants,
	})
	if err != nil {
		return s.syncError(err, "upload")
	}
	attrs, dropped := s.attributes(d, j.sha)
	if len(dropped) > 0 {
		s.logger.Debug("metadata left out of the vector store attributes (16 at most, keys of 64 characters)", "doc_id", d.ID, "keys", dropped)
	}
	vf, err := s.client.vectorStores.Files.New(ctx, s.cfg.VectorStoreID, openai.VectorStoreFileNewParams{FileID: f.ID, Attributes: attrs})
	if err != nil {
		s.remove(remoteFile{fileID: f.ID}, false)
		return s.syncError(err, "attach")
	}
	wait := min(s.opts.PollInterval, 200*time.Millisecond) // small files finish fast; back off for big ones
	expired := time.NewTimer(s.opts.ProcessTimeout)
	defer expired.Stop()
	for vf.Status == openai.VectorStoreFileStatusInProgress {
		select {
		case <-ctx.Done():
			return ctx.Err() // attached but unfinished: the next run checks it
		case <-expired.C:
			return fmt.Errorf("OpenAI is still processing the file after %s; the next run checks it again", s.opts.ProcessTimeout)
		case <-time.After(wait):
		}
		wait = min(2*wait, s.opts.PollInterval)
		if vf, err = s.client.vectorStores.Files.Get(ctx, s.cfg.VectorStoreID, f.ID); err != nil {
			return s.syncError(err, "check processing")
		}
	}
	if vf.Status != openai.VectorStoreFileStatusCompleted {
		s.remove(remoteFile{fileID: f.ID}, true)
		reason := cmp.Or(vf.LastError.Message, string(vf.Status))
		return fmt.Errorf("OpenAI could not process the file: %s", reason)
	}
	for _, old := range j.old {
		s.remove(old, true)
	}
	return nil
}

// syncError turns an API failure into a short reason for the run's report
// (and logs what an operator must fix).
func (s *Syncer) syncError(err error, what string) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	return upstreamError(s.logger, s.cfg.VectorStoreID, err, what)
}

// attributes builds the file's attributes: the syncer's own, the access
// terms (see accessAttributes), then as much metadata as fits.
func (s *Syncer) attributes(d store.SourceDocument, sha string) (map[string]openai.VectorStoreFileNewParamsAttributeUnion, []string) {
	str := func(v string) openai.VectorStoreFileNewParamsAttributeUnion {
		return openai.VectorStoreFileNewParamsAttributeUnion{OfString: openai.String(v)}
	}
	attrs := map[string]openai.VectorStoreFileNewParamsAttributeUnion{
		attrDocID: str(d.ID),
		attrSHA:   str(sha),
		attrRoot:  str(rootHash(d.Root)),
		attrFile:  str(truncateRunes(d.File, maxAttributeValue)),
	}
	if d.Title != "" {
		attrs[attrTitle] = str(truncateRunes(d.Title, maxAttributeValue))
	}
	for k, v := range accessAttributes(d.Access) {
		attrs[k] = str(v)
	}
	var dropped []string
	if docurl.IsCitable(d.URL) {
		if len([]rune(d.URL)) <= maxAttributeValue {
			attrs[attrURL] = str(d.URL)
		} else {
			dropped = append(dropped, attrURL)
		}
	}
	meta, more := metadataAttributes(d.Metadata, maxAttributes-len(attrs))
	for k, v := range meta {
		attrs[k] = str(v)
	}
	return attrs, append(dropped, more...)
}

// remove detaches a file from the vector store (when attached) and deletes
// the file object. Failures are logged: the next run retries.
func (s *Syncer) remove(f remoteFile, attached bool) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), time.Minute)
	defer cancel()
	if attached {
		if _, err := s.client.vectorStores.Files.Delete(ctx, s.cfg.VectorStoreID, f.fileID); err != nil && statusCode(err) != 404 {
			s.logger.Warn("could not detach a file from the vector store; the next run retries", "file_id", f.fileID, "err", err)
			return
		}
	}
	if _, err := s.client.files.Delete(ctx, f.fileID); err != nil && statusCode(err) != 404 {
		s.logger.Warn("could not delete a file; delete it in the OpenAI dashboard", "file_id", f.fileID, "err", err)
	}
}

// Commit waits for the uploads, then removes the documents that are gone
// and the stale versions of unchanged ones.
func (s *Syncer) Commit(ctx context.Context) (Summary, error) {
	if !s.finishUploads() {
		return Summary{}, errors.New("index run already finished")
	}
	if err := ctx.Err(); err != nil {
		return Summary{}, err
	}
	scoped := map[string]bool{}
	for _, r := range s.opts.Roots {
		scoped[rootHash(r)] = true
	}
	for id, files := range s.remote {
		if _, ok := s.seen[id]; ok || len(files) == 0 {
			continue
		}
		f := files[0]
		if !s.opts.Prune && (!scoped[f.root] || s.isKept(f.root, f.file)) {
			continue
		}
		for _, f := range files {
			s.remove(f, true)
		}
		s.sum.Deleted++
	}
	for _, f := range s.stale {
		s.remove(f, true)
	}
	if vs, err := s.client.vectorStores.Get(ctx, s.cfg.VectorStoreID); err == nil {
		s.sum.Documents = vs.FileCounts.Completed
	} else {
		s.sum.Documents = -1
	}
	s.cancel()
	return s.sum, nil
}

// Abort stops the uploads in flight. Files already processed stay; the
// next run reconciles them. Safe to call after Commit.
func (s *Syncer) Abort() {
	s.cancel()
	s.finishUploads()
}

// finishUploads closes the job queue once and waits for the workers; it
// reports whether this call closed it.
func (s *Syncer) finishUploads() bool {
	s.mu.Lock()
	first := !s.closed
	s.closed = true
	s.mu.Unlock()
	if first {
		close(s.jobs)
	}
	s.wg.Wait()
	return first
}

// rootHash names an ingest root in 16 hex characters (root keys are
// absolute paths, which may be longer than an attribute value).
func rootHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:8])
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// fileName is the upload's file name: the document id's last segment,
// made safe, with a .md or .txt extension (formats the API parses as text).
func fileName(id string) string {
	base := unsafeName.ReplaceAllString(path.Base(id), "_")
	base = strings.Trim(base, "._")
	if base == "" {
		base = "document"
	}
	base = truncateRunes(base, 100)
	if strings.HasSuffix(strings.ToLower(base), ".md") || strings.HasSuffix(strings.ToLower(base), ".txt") {
		return base
	}
	return base + ".txt"
}
