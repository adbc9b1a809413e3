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
// listing, which stops at the first file an earlier listing saw complete
// (files are listed newest first, and a new version is a new file), or a
// full one when the last full one is older than maxAge. A file in the map
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
	urls    map[string]string      // url attribute → document id
	files   map[string]indexedFile // file id → what the listings saw of it
	running *listing               // in flight, or nil
	last    *listing               // the last one that ended, or nil
	full    time.Time              // start of the last full listing that succeeded
	changed chan struct{}          // closed, and replaced, when the maps change or a listing ends
}

type indexedFile struct {
	fileID    string
	createdAt int64
	completed bool
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
		docs: map[string]indexedFile{}, urls: map[string]string{}, files: map[string]indexedFile{},
		changed: make(chan struct{}),
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

// document returns the id of the document whose url attribute is url.
func (x *fileIndex) document(ctx context.Context, url string) (string, error) {
	return x.find(ctx, time.Now().Add(-x.interval), false, func() (string, bool) {
		id, ok := x.urls[url]
		return id, ok
	})
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

// startLocked starts a listing; x.mu is held.
func (x *fileIndex) startLocked(full bool) {
	l := &listing{start: time.Now(), full: full}
	x.running = l
	// What a head listing may stop at: files seen complete, newer than
	// any seen still processing (which may have finished since).
	stops := map[string]bool{}
	if !full {
		pending := int64(1<<63 - 1)
		for _, f := range x.files {
			if !f.completed {
				pending = min(pending, f.createdAt)
			}
		}
		for id, f := range x.files {
			if f.completed && f.createdAt < pending {
				stops[id] = true
			}
		}
	}
	x.wg.Go(func() { x.run(l, stops) })
}

// run lists the files, newest first, merging every page into the maps as
// it comes; a full listing then replaces the maps, dropping what it did not
// see.
func (x *fileIndex) run(l *listing, stops map[string]bool) {
	var lst listed
	lst.docs, lst.urls, lst.files = map[string]indexedFile{}, map[string]string{}, map[string]indexedFile{}
	pages := x.client.vectorStores.Files.ListAutoPaging(x.ctx, x.vectorStoreID, openai.VectorStoreFileListParams{
		Limit: openai.Int(listPage), Order: openai.VectorStoreFileListParamsOrderDesc})
	stopBelow := int64(-1) // created_at of the first stop file met
	var err error
	for pages.Next() {
		vf := pages.Current()
		if stopBelow >= 0 && vf.CreatedAt < stopBelow {
			break // older than a file seen before, and than its same-second peers
		}
		if _, dup := lst.files[vf.ID]; dup {
			err = fmt.Errorf("the file list names %s twice", vf.ID) // a cursor gone wrong
			break
		}
		lst.add(vf)
		if stops[vf.ID] && stopBelow < 0 {
			stopBelow = vf.CreatedAt
		}
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
		if err == nil && l.full {
			x.docs, x.urls, x.files, x.full = lst.docs, lst.urls, lst.files, l.start
		}
		l.err = err
		x.running, x.last = nil, l
	})
}

// listed is what a listing has seen: its choice of file for each document,
// the URLs and the files, and which of them changed since the last merge.
type listed struct {
	docs                       map[string]indexedFile
	urls                       map[string]string
	files                      map[string]indexedFile
	newDocs, newURLs, newFiles []string
}

func (l *listed) add(vf openai.VectorStoreFile) {
	f := indexedFile{fileID: vf.ID, createdAt: vf.CreatedAt, completed: vf.Status == openai.VectorStoreFileStatusCompleted}
	l.files[vf.ID] = f
	l.newFiles = append(l.newFiles, vf.ID)
	attrs := fileAttributes(vf.Attributes)
	if id := attrs[attrDocID]; id != "" && f.better(l.docs[id]) {
		l.docs[id] = f
		l.newDocs = append(l.newDocs, id)
	}
	if u := attrs[attrURL]; u != "" {
		l.urls[u] = cmp.Or(attrs[attrDocID], vf.ID)
		l.newURLs = append(l.newURLs, u)
	}
}

// merge copies what the listing has seen since the last merge into the
// maps (for each document it saw, its choice replaces the one before), runs
// end (at the end of the listing) if not nil, and wakes the callers waiting
// in find.
func (x *fileIndex) merge(l *listed, end func()) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, id := range l.newDocs {
		x.docs[id] = l.docs[id]
	}
	for _, u := range l.newURLs {
		x.urls[u] = l.urls[u]
	}
	for _, id := range l.newFiles {
		x.files[id] = l.files[id]
	}
	l.newDocs, l.newURLs, l.newFiles = l.newDocs[:0], l.newURLs[:0], l.newFiles[:0]
	if end != nil {
		end()
	}
	close(x.changed)
	x.changed = make(chan struct{})
}
