package openaistore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/maypok86/otter/v2"
	"github.com/openai/openai-go/v3"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/store"
)

// Defaults of the fetch cache. Deep research fetches the same documents
// again and again within one task.
const (
	DefaultCacheBytes = 64 << 20
	DefaultCacheTTL   = 10 * time.Minute
)

// docCache holds fetched documents (bounded by bytes, with a TTL), the file
// ids that search results revealed, and the loads in flight, so that
// concurrent fetches of one id share a single upstream call. Each document
// keeps its file's access terms: every fetch checks them, cache hit or not.
type docCache struct {
	docs  *otter.Cache[string, *loaded]
	files *otter.Cache[string, string] // document id → vector store file id

	mu    sync.Mutex
	loads map[string]*load
}

// loaded is a document read from the API with the access terms of its
// file (see storedTerms). A load that failed after reading the file's
// attributes has terms but no doc.
type loaded struct {
	doc   *store.Document
	terms []string
}

// load is one upstream fetch shared by every caller waiting for it. It is
// cancelled when the last of them gives up.
type load struct {
	done    chan struct{}
	got     loaded
	err     error
	waiters int
	cancel  context.CancelFunc
}

func newDocCache(bytes int64, ttl time.Duration) (*docCache, error) {
	if bytes <= 0 {
		bytes = DefaultCacheBytes
	}
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	docs, err := otter.New(&otter.Options[string, *loaded]{
		MaximumWeight: uint64(bytes),
		Weigher: func(id string, l *loaded) uint32 {
			d := l.doc
			n := len(id) + len(d.Title) + len(d.URL) + len(d.Text) + 64
			for k, v := range d.Metadata {
				n += len(k) + len(v)
			}
			for _, t := range l.terms {
				n += len(t)
			}
			return uint32(min(n, 1<<31))
		},
		ExpiryCalculator: otter.ExpiryWriting[string, *loaded](ttl),
	})
	if err != nil {
		return nil, fmt.Errorf("fetch cache: %w", err)
	}
	files, err := otter.New(&otter.Options[string, string]{
		MaximumSize:      100_000,
		ExpiryCalculator: otter.ExpiryWriting[string, string](ttl),
	})
	if err != nil {
		return nil, fmt.Errorf("file id cache: %w", err)
	}
	return &docCache{docs: docs, files: files, loads: map[string]*load{}}, nil
}

func (c *docCache) rememberFile(docID, fileID string) {
	if docID != fileID {
		c.files.Set(docID, fileID)
	}
}

// Fetch implements store.Store. Documents come from the cache when they
// can; otherwise concurrent callers share one load, which stops when the
// last of them is cancelled. Either way, a document who may not read is
// not found, like a missing one.
func (s *Store) Fetch(ctx context.Context, who access.Caller, id string) (*store.Document, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	terms, all := who.Terms(s.cfg.DefaultAccess)
	if !all && len(terms) == 0 {
		return nil, fmt.Errorf("id %q: %w", id, store.ErrNotFound) // who reads nothing: no need to ask
	}
	if got, ok := s.docs.docs.GetIfPresent(id); ok {
		if !readable(terms, all, got.terms) {
			return nil, fmt.Errorf("id %q: %w", id, store.ErrNotFound)
		}
		return clone(got.doc), nil
	}
	c := s.docs
	c.mu.Lock()
	l := c.loads[id]
	if l == nil {
		lctx := context.WithoutCancel(ctx)
		var cancel context.CancelFunc
		if dl, ok := ctx.Deadline(); ok {
			lctx, cancel = context.WithDeadline(lctx, dl)
		} else {
			lctx, cancel = context.WithCancel(lctx)
		}
		l = &load{done: make(chan struct{}), cancel: cancel}
		c.loads[id] = l
		go s.run(lctx, id, l)
	}
	l.waiters++
	c.mu.Unlock()

	select {
	case <-l.done:
		if l.got.terms != nil && !readable(terms, all, l.got.terms) {
			// Checked before the error too: a file's status says it exists.
			return nil, fmt.Errorf("id %q: %w", id, store.ErrNotFound)
		}
		if l.err != nil {
			return nil, l.err
		}
		return clone(l.got.doc), nil
	case <-ctx.Done():
		c.mu.Lock()
		l.waiters--
		if l.waiters == 0 {
			l.cancel()
			if c.loads[id] == l {
				delete(c.loads, id) // a later caller starts afresh
			}
		}
		c.mu.Unlock()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, timeoutError("fetch", ctx.Err()) // the load waits only for the API
		}
		return nil, ctx.Err()
	}
}

func (s *Store) run(ctx context.Context, id string, l *load) {
	defer l.cancel()
	l.got, l.err = s.load(ctx, id)
	if l.err == nil {
		s.docs.docs.Set(id, &l.got)
	}
	s.docs.mu.Lock()
	if s.docs.loads[id] == l {
		delete(s.docs.loads, id)
	}
	s.docs.mu.Unlock()
	close(l.done)
}

// load reads a document from the API: the vector store file (status and
// attributes), its parsed content, and the file's name. It reads the
// content whoever asks (the caller checks the access terms), so that a
// document a caller may not read costs the same reads as one it may.
func (s *Store) load(ctx context.Context, id string) (loaded, error) {
	fileID, known, err := s.resolve(ctx, id)
	if err != nil {
		return loaded{}, err
	}
	vf, err := s.client.vectorStores.Files.Get(ctx, s.cfg.VectorStoreID, fileID)
	if statusCode(err) == http.StatusNotFound {
		// The file is gone. When a search or a listing named it, that says
		// the document changed or went since: ask for a full listing made
		// from now on. An id the caller made up says nothing, and waits
		// for the interval like any miss.
		s.docs.files.Invalidate(id)
		notBefore, full := time.Now(), true
		if !known {
			notBefore, full = notBefore.Add(-s.cfg.ListInterval), false
		}
		if fileID, err = s.files.file(ctx, id, fileID, notBefore, full); err != nil {
			return loaded{}, s.indexError(ctx, err, fmt.Sprintf("id %q", id), "fetch")
		}
		vf, err = s.client.vectorStores.Files.Get(ctx, s.cfg.VectorStoreID, fileID)
	}
	if statusCode(err) == http.StatusNotFound {
		return loaded{}, s.missing(ctx, id)
	}
	if err != nil {
		return loaded{}, s.upstream(ctx, err, "fetch")
	}
	attrs := fileAttributes(vf.Attributes)
	got := loaded{terms: storedTerms(attrs)}
	switch vf.Status {
	case openai.VectorStoreFileStatusCompleted:
	case openai.VectorStoreFileStatusInProgress:
		return got, &store.Unavailable{Class: "upstream_error", Err: fmt.Errorf("file %s is in progress", fileID),
			Reason: "this document is still being processed by OpenAI; try again in a minute"}
	default:
		s.logger.WarnContext(ctx, "vector store file did not process; run connector index again", "file_id", fileID, "status", vf.Status,
			"error", vf.LastError.Message)
		return got, fmt.Errorf("file %s has status %s: %w", fileID, vf.Status, store.ErrNotFound)
	}

	var text strings.Builder
	pages := s.client.vectorStores.Files.ContentAutoPaging(ctx, s.cfg.VectorStoreID, fileID)
	for pages.Next() {
		item := pages.Current()
		if item.Type != "text" {
			continue
		}
		// Items join as they come; a line break separates two that would
		// otherwise run words together.
		if text.Len() > 0 && item.Text != "" && !endsInSpace(text.String()) && !startsWithSpace(item.Text) {
			text.WriteByte('\n')
		}
		text.WriteString(item.Text)
	}
	if err := pages.Err(); err != nil {
		return got, s.upstream(ctx, err, "fetch content")
	}
	filename := ""
	if f, err := s.client.files.Get(ctx, fileID); err == nil {
		filename = f.Filename
	} else if statusCode(err) != http.StatusNotFound {
		return got, s.upstream(ctx, err, "fetch file name")
	}

	doc := &store.Document{
		ID:       cmp.Or(attrs[attrDocID], fileID),
		Title:    cmp.Or(attrs[attrTitle], filename, fileID),
		URL:      citable(attrs[attrURL]),
		Metadata: map[string]string{"file_id": fileID},
	}
	if filename != "" {
		doc.Metadata["filename"] = filename
	}
	for k, v := range attrs {
		if !internalAttributes[k] && !isAccessKey(k) {
			doc.Metadata[k] = v
		}
	}
	doc.Text = bodyText(text.String(), attrs[attrTitle])
	got.doc = doc
	return got, nil
}

// resolve returns the vector store file of a document id, and whether a
// search or a listing named it (rather than the caller). An id no search
// or listing names, which looks like a file id, is taken as one: a file
// uploaded without our attributes.
func (s *Store) resolve(ctx context.Context, id string) (string, bool, error) {
	if f, ok := s.docs.files.GetIfPresent(id); ok {
		return f, true, nil
	}
	if f, ok := s.files.peek(id); ok {
		return f, true, nil
	}
	if strings.HasPrefix(id, "file-") {
		return id, false, nil
	}
	f, err := s.files.file(ctx, id, "", time.Now().Add(-s.cfg.ListInterval), false)
	if err != nil {
		return "", false, s.indexError(ctx, err, fmt.Sprintf("id %q", id), "fetch")
	}
	return f, true, nil
}

// indexError turns a failed look-up in the file index into ErrNotFound
// (naming what, e.g. `id "x"`), a timeout of the call, or the listing's
// error as it stands.
func (s *Store) indexError(ctx context.Context, err error, what, op string) error {
	switch {
	case errors.Is(err, errNotListed):
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		return timeoutError(op+": waiting for the vector store's file list", err)
	}
	return err
}

// missing tells a document that does not exist from a vector store that
// does not: both answer 404.
func (s *Store) missing(ctx context.Context, id string) error {
	if _, err := s.client.vectorStores.Get(ctx, s.cfg.VectorStoreID); err != nil {
		return s.upstream(ctx, err, "check the vector store")
	}
	return fmt.Errorf("id %q: %w", id, store.ErrNotFound)
}

// bodyText removes the title line the syncer writes at the top of each file.
func bodyText(text, title string) string {
	if title != "" {
		if rest, ok := strings.CutPrefix(text, title+"\n"); ok {
			return strings.TrimLeft(rest, "\n")
		}
	}
	return text
}

func clone(d *store.Document) *store.Document {
	c := *d
	c.Metadata = maps.Clone(d.Metadata)
	return &c
}

func endsInSpace(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return unicode.IsSpace(r)
}

func startsWithSpace(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}
