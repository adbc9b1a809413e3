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
type docView struct {
	store  store.Store
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
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	doc, err := v.store.Fetch(ctx, access.FromContext(ctx), id)
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
