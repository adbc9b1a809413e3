// Package store defines the documents the connector serves and the Store
// interface behind the search and fetch tools. Each backend lives in a
// package of its own (blevestore, openaistore) and implements Store.
package store

import (
	"context"
	"errors"

	"github.com/connectorhq/connector/internal/access"
)

// ErrNotFound is returned, wrapped, when no document has the requested id or URL.
var ErrNotFound = errors.New("document not found")

// ErrRejected is returned, wrapped, by an index run for a document it cannot
// take (a duplicate id, an id the store cannot hold). The run goes on
// without it and reports it as an error. The error's message starts with
// the document's Place.
var ErrRejected = errors.New("document rejected")

// Document is one document of the collection, as fetch returns it.
type Document struct {
	// ID is stable across index runs and is what search results carry.
	ID string
	// Title is a human-readable title; never empty once ingested.
	Title string
	// URL is the document's own absolute http(s) URL, or "" when it has
	// none. The tools turn "" into a link to this server's document view.
	URL string
	// Text is the full text.
	Text string
	// Metadata holds any further fields of the source record, as strings.
	Metadata map[string]string
}

// Hit is one search result.
type Hit struct {
	ID    string
	Title string
	// URL is the document's own URL, or "" (see Document.URL).
	URL string
	// Snippet is a short plain-text passage around the matched terms.
	Snippet string
	// Score orders hits, higher first; it is only comparable within one search.
	Score float64
	// Passage is the number (from 1) of the passage of the document's text
	// that matched, as passage.Split numbers them, so that a citation can
	// link the document view at its anchor (passage.Anchor); 0 when the
	// store does not know (openaistore).
	Passage int
}

// Status describes a store that answered a readiness check.
type Status struct {
	// Backend names the implementation: "bleve" or "openai".
	Backend string `json:"backend"`
	// Documents is the number of documents served, or -1 when unknown.
	Documents int64 `json:"documents"`
	// Detail holds backend-specific facts safe to show to anyone (never secrets).
	Detail map[string]string `json:"detail,omitempty"`
}

// Store is a searchable document collection. Implementations are safe for
// concurrent use, honour context cancellation, and wrap ErrNotFound for
// missing documents.
//
// Every call that shows documents names who asks. A store shows a caller
// only the documents it may read (access.Caller.MayRead under the store's
// DEFAULT_ACCESS), and answers for any other exactly as for a missing one:
// nothing tells that it exists.
type Store interface {
	// Search returns at most limit hits that who may read, best first. The
	// filter is part of the query, so a caller gets limit hits whenever
	// that many readable documents match. No hits is not an error.
	Search(ctx context.Context, who access.Caller, query string, limit int) ([]Hit, error)
	// Fetch returns the document with the id, or an error wrapping
	// ErrNotFound when there is none or who may not read it.
	Fetch(ctx context.Context, who access.Caller, id string) (*Document, error)
	// LookupURL returns the id of the document whose own URL is url, or an
	// error wrapping ErrNotFound when there is none or who may not read it.
	LookupURL(ctx context.Context, who access.Caller, url string) (string, error)
	// Ready reports whether the store is open and answering, with a short
	// description of what it serves.
	Ready(ctx context.Context) (Status, error)
	Close() error
}

// Unavailable is a store failure with a reason safe to show to the model
// (credentials rejected, rate limited, collection missing); the cause stays
// in Err, for the log.
type Unavailable struct {
	// Class names the failure for logs and metrics: "upstream_auth",
	// "rate_limited", "store_missing", "upstream_error", "upstream_timeout"
	// (the upstream did not answer in time; the error also wraps
	// context.DeadlineExceeded), "index_damaged" (blevestore: the index's
	// files differ from their checksums).
	Class string
	// Reason is one sentence the model can act on; no internals.
	Reason string
	Err    error
}

func (u *Unavailable) Error() string {
	if u.Err != nil {
		return u.Reason + ": " + u.Err.Error()
	}
	return u.Reason
}

func (u *Unavailable) Unwrap() error { return u.Err }
