package httpserver

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/docurl"
	"github.com/connectorhq/connector/internal/store"
)

// docView serves GET /docs/{id}: a plain, read-only page with a document's
// title and text, the link citations point at when a document has no URL of
// its own.
//
// With authentication on, the tools hand out signed links that expire
// (docurl.Linker.Signed): the person who opens one in a browser sends no
// token, and the signature, made for a caller who could read the document,
// stands in for it. Such a link opens its one document; any other link
// gets the same short page, whether or not the document exists.
type docView struct {
	store  store.Store
	links  docurl.Linker
	logger *slog.Logger
}

var viewPage = template.Must(template.New("doc").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.Title}}</title>
<style>
body{max-width:52rem;margin:2rem auto;padding:0 1rem;font:16px/1.6 system-ui,sans-serif;color:#1b1b1b}
pre{white-space:pre-wrap;word-wrap:break-word;font:inherit}
.meta{color:#555;font-size:.9rem}
</style>
</head>
<body>
<article>
<h1>{{.Title}}</h1>
<p class="meta">Document <code>{{.ID}}</code>{{if .URL}} · source: <a href="{{.URL}}" rel="noopener noreferrer">{{.URL}}</a>{{end}}</p>
<pre>{{.Text}}</pre>
</article>
</body>
</html>
`))

var badLinkPage = template.Must(template.New("expired").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Link expired</title></head>
<body><h1>This link has expired</h1><p>Links to documents work for a limited time, and only as they were given out. Ask again in ChatGPT (or the app that showed you this link) to get a fresh one.</p></body></html>
`))

var notFoundPage = template.Must(template.New("missing").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>Document not found</title></head>
<body><h1>Document not found</h1><p>No document has id <code>{{.}}</code>. It may have been removed from the collection since it was cited.</p></body></html>
`))

func (v docView) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Robots-Tag", "noindex")
	h.Set("Cache-Control", "private, no-cache")

	id, ok := docurl.ViewID(r.URL)
	if !ok {
		http.Error(w, "missing document id: use /docs/{id} or /docs/?id={id}", http.StatusNotFound)
		return
	}
	who := access.FromContext(r.Context()) // Everyone without authentication
	if v.links.Signing() {
		if _, err := v.links.Verify(r.URL); err != nil {
			v.logger.DebugContext(r.Context(), "document view: link refused", "err", err)
			h.Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusForbidden)
			_ = badLinkPage.Execute(w, nil)
			return
		}
		who = access.Everyone() // the signature grants this one document
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	doc, err := v.store.Fetch(ctx, who, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_ = notFoundPage.Execute(w, id)
		return
	case err != nil:
		v.logger.ErrorContext(ctx, "document view: fetch failed", "err", err)
		http.Error(w, "the document store did not answer; try again shortly", http.StatusServiceUnavailable)
		return
	}
	if doc.Title == "" {
		doc.Title = doc.ID
	}
	h.Set("Content-Type", "text/html; charset=utf-8")
	if err := viewPage.Execute(w, doc); err != nil {
		v.logger.DebugContext(ctx, "document view: write failed", "err", err)
	}
}
