package openaistore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/openai/openai-go/v3"
)

// DefaultListInterval is how often at most a miss lists the vector store's
// files again; see fileIndex.
const DefaultListInterval = 5 * time.Second

// listPage is the page size of a listing, the API's largest.
const listPage = 100

// errNotListed says that no listing fresh enough names the key.
var errNotListed = errors.New("not in the vector store's file list")

// fileIndex maps document ids (the doc_id attribute) and URLs (the url
// attribute) to vector store files, from listings of the vector store's
// files (GET /vector_stores/{id}/files, newest first, 100 a page).
//
// Why a listing rather than a search filtered on doc_id: the list is the
// documented way to read every file's attributes, exactly, and its answer
// does not depend on how search ranks or thresholds chunks (a search only
// promises relevant chunks, and it compares an attribute by its JSON type,
// so a numeric doc_id never equals the string id a search result gave).
//
// The cost is bounded. One listing runs at a time and callers share it,
// seeing its pages as they arrive. A miss (an id or URL not in the map)
// starts one only when none started within interval: a short "head"
// listing, which stops at the files earlier listings saw (files are listed
// newest first, and a new version is a new file), or a full one when the
// last full one is older than maxAge. A file in the map
// that the API no longer has is evidence that the map is stale: the caller
// then asks for a full listing that starts after it saw the 404, whatever
// interval says; each such listing removes the stale entries, so stale
// files cannot start more listings than there were changes.
type fileIndex struct {
	client        client
	vectorStoreID string
	interval      time.Duration
	maxAge        time.Duration
	ctx           context.Context // the store's: listings outlive their callers, not the store
	wg            *sync.WaitGroup
	logger        *slog.Logger

	mu      sync.Mutex
	docs    map[string]indexedFile // doc id → its file
	urls    map[string]indexedURL  // url attribute → its document
	newest  int64                  // created_at of the newest file a listing that succeeded saw
	running *listing               // in flight, or nil
	last    *listing               // the last one that ended, or nil
	full    time.Time              // start of the last full listing that succeeded
	changed chan struct{}          // closed, and replaced, when the maps change or a listing ends
	closed  bool                   // no listing starts once set
}

type indexedFile struct {
	fileID    string
	createdAt int64
	completed bool
}

// indexedURL is the document a url attribute names, with the access terms
// of the file that names it.
type indexedURL struct {
	id    string
	terms []string
}

// better tells whether f should name its document rather than old: a
// processed file over one that is not, then the newer.
func (f indexedFile) better(old indexedFile) bool {
	switch {
	case old.fileID == "" || old.fileID == f.fileID:
		return true
	case f.completed != old.completed:
		return f.completed
	}
	return f.createdAt > old.createdAt
}

// listing is one pass over the file list.
type listing struct {
	start time.Time
	full  bool
	err   error // once ended
}

func newFileIndex(ctx context.Context, wg *sync.WaitGroup, logger *slog.Logger, c client, vectorStoreID string, interval, maxAge time.Duration) *fileIndex {
	return &fileIndex{
		client: c, vectorStoreID: vectorStoreID, interval: interval, maxAge: maxAge, ctx: ctx, wg: wg, logger: logger,
		docs: map[string]indexedFile{}, urls: map[string]indexedURL{}, newest: -1, changed: make(chan struct{}),
	}
}

// peek returns the file of a document id without any request.
func (x *fileIndex) peek(id string) (string, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	f, ok := x.docs[id]
	return f.fileID, ok
}

// file returns the file of document id, other than skip. See find for
// notBefore and full.
func (x *fileIndex) file(ctx context.Context, id, skip string, notBefore time.Time, full bool) (string, error) {
	return x.find(ctx, notBefore, full, func() (string, bool) {
		f, ok := x.docs[id]
		return f.fileID, ok && f.fileID != skip
	})
}

// document returns the id of the document whose url attribute is url, and
// the access terms of its file (see storedTerms).
func (x *fileIndex) document(ctx context.Context, url string) (string, []string, error) {
	var terms []string
	id, err := x.find(ctx, time.Now().Add(-x.interval), false, func() (string, bool) {
		u, ok := x.urls[url]
		terms = u.terms
		return u.id, ok
	})
	return id, terms, err
}

// find returns what lookup finds, as soon as it finds it, or errNotListed
// once a listing that started at or after notBefore (a full one, if full)
// has ended without it, or that listing's error. It starts that listing
// when none is running or fresh enough; lookup runs with x.mu held.
func (x *fileIndex) find(ctx context.Context, notBefore time.Time, full bool, lookup func() (string, bool)) (string, error) {
	fresh := func(l *listing) bool { return l != nil && !l.start.Before(notBefore) && (l.full || !full) }
	for {
		x.mu.Lock()
		if v, ok := lookup(); ok {
			x.mu.Unlock()
			return v, nil
		}
		switch {
		case x.running == nil && fresh(x.last):
			err := x.last.err
			x.mu.Unlock()
			return "", cmp.Or(err, errNotListed)
		case x.running == nil && x.closed:
			x.mu.Unlock()
			return "", errors.New("the store is closed")
		case x.running == nil:
			x.startLocked(full || time.Since(x.full) > x.maxAge)
		}
		// Wait for the running listing: its next page, or its end (after
		// which a listing it does not satisfy makes way for a new one).
		ch := x.changed
		x.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// close stops new listings from starting; the caller then cancels x.ctx
// and waits for x.wg.
func (x *fileIndex) close() {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.closed = true
}

// startLocked starts a listing; x.mu is held.
func (x *fileIndex) startLocked(full bool) {
	l := &listing{start: time.Now(), full: full}
	x.running = l
	// A head listing reads the files created since the newest one seen
	// (that second included): a file is created when it is attached, and a
	// new version of a document is a new file. What changes in older files
	// (processing ends, a file goes) needs no listing: fetch reads a
	// file's status itself, and a file gone is a 404, then a full listing.
	stopAt := int64(-1)
	if !full {
		stopAt = x.newest
	}
	x.wg.Go(func() { x.run(l, stopAt) })
}

// run lists the files, newest first, down to those created at stopAt (-1:
// all), merging the documents and URLs of every page into the maps as they
// come. A full listing that succeeds then replaces the maps.
func (x *fileIndex) run(l *listing, stopAt int64) {
	lst := listed{docs: map[string]indexedFile{}, urls: map[string]indexedURL{}, files: map[string]bool{}, newest: -1}
	pages := x.client.vectorStores.Files.ListAutoPaging(x.ctx, x.vectorStoreID, openai.VectorStoreFileListParams{
		Limit: openai.Int(listPage), Order: openai.VectorStoreFileListParamsOrderDesc})
	var err error
	for pages.Next() {
		vf := pages.Current()
		if vf.CreatedAt < stopAt {
			break // seen by an earlier listing
		}
		if lst.files[vf.ID] {
			err = fmt.Errorf("the file list names %s twice", vf.ID) // a cursor gone wrong
			break
		}
		lst.add(vf)
		if len(lst.files)%listPage == 0 {
			x.merge(&lst, nil)
		}
	}
	if err == nil {
		err = pages.Err()
	}
	if err != nil {
		err = upstreamError(x.logger, x.vectorStoreID, err, "list the vector store's files")
	}
	x.merge(&lst, func() {
		switch {
		case err != nil:
			// A listing cut short may have missed older new files: its
			// newest file must not stop the next one.
		case l.full:
			x.docs, x.urls, x.newest, x.full = lst.docs, lst.urls, lst.newest, l.start
		default:
			x.newest = max(x.newest, lst.newest)
		}
		l.err = err
		x.running, x.last = nil, l
	})
}

// listed is what a listing has seen: its choice of file for each document,
// the URLs, the files and the newest one's created_at, and which documents
// and URLs changed since the last merge.
type listed struct {
	docs             map[string]indexedFile
	urls             map[string]indexedURL
	files            map[string]bool
	newest           int64
	newDocs, newURLs []string
}

func (l *listed) add(vf openai.VectorStoreFile) {
	f := indexedFile{fileID: vf.ID, createdAt: vf.CreatedAt, completed: vf.Status == openai.VectorStoreFileStatusCompleted}
	l.files[vf.ID] = true
	l.newest = max(l.newest, vf.CreatedAt)
	attrs := fileAttributes(vf.Attributes)
	if id := attrs[attrDocID]; id != "" && f.better(l.docs[id]) {
		l.docs[id] = f
		l.newDocs = append(l.newDocs, id)
	}
	// The newest file naming a URL keeps it, as in the merges of head
	// listings: after a document's access list changed, its old file
	// (still attached until the new one is processed) must not answer.
	if u := attrs[attrURL]; u != "" {
		if _, seen := l.urls[u]; !seen {
			l.urls[u] = indexedURL{id: cmp.Or(attrs[attrDocID], vf.ID), terms: storedTerms(attrs)}
			l.newURLs = append(l.newURLs, u)
		}
	}
}

// merge copies what the listing has seen since the last merge into the
// maps (a document keeps a processed file over a new one still processing:
// a file gone shows as a 404), runs end (at the end of the listing) if not
// nil, and wakes the callers waiting in find.
func (x *fileIndex) merge(l *listed, end func()) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, id := range l.newDocs {
		if f := l.docs[id]; f.better(x.docs[id]) {
			x.docs[id] = f
		}
	}
	for _, u := range l.newURLs {
		x.urls[u] = l.urls[u]
	}
	l.newDocs, l.newURLs = l.newDocs[:0], l.newURLs[:0]
	if end != nil {
		end()
	}
	close(x.changed)
	x.changed = make(chan struct{})
}
