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

// docView serves GET /docs/{id}: a read-only page with a document's title
// and text, the link citations point at when a document has no URL of its
// own. Markdown is shown rendered, sanitised; every passage has an anchor
// (#p-N) that search results link to (see renderer).
//
// With authentication on, the tools hand out signed links that expire
// (docurl.Linker.Signed): the person who opens one in a browser sends no
// token, and the signature, made for a caller who could read the document,
// stands in for it. Such a link opens its one document; any other link
// gets the same short page, whether or not the document exists.
type docView struct {
	store  store.Store
	links  docurl.Linker
	render *renderer
	logger *slog.Logger
}

// viewPage is the document view. Each passage of the text is a section
// whose id is the passage's anchor (p-N): a citation link ending in #p-N
// scrolls there, and :target marks it, without any script.
var viewPage = template.Must(template.New("doc").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{.Doc.Title}}</title>
<style>
body{max-width:52rem;margin:2rem auto;padding:0 1rem;font:16px/1.6 system-ui,sans-serif;color:#1b1b1b}
pre{white-space:pre-wrap;word-wrap:break-word;background:#f5f5f5;padding:.5rem .75rem;border-radius:4px}
code{font:.9em/1.5 ui-monospace,monospace}
table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.2rem .5rem}
blockquote{margin-left:0;padding-left:1rem;border-left:3px solid #ccc;color:#444}
.meta{color:#555;font-size:.9rem}
.toc{border:1px solid #ddd;border-radius:4px;padding:.5rem 1rem;margin:1rem 0;font-size:.95rem}
.toc ul{margin:.25rem 0;padding-left:1.25rem}.toc .l2{margin-left:1rem}.toc .l3{margin-left:2rem}
.passage{position:relative;margin:0 -.75rem;padding:.05rem .75rem;border-left:4px solid transparent;scroll-margin-top:1.5rem}
.passage:target,.passage:target+.passage>.overlap{background:#fff4c2}
.passage:target{border-left-color:#e0a800}
.overlap{margin:0 -.75rem;padding:.05rem .75rem}
.plain p{white-space:pre-wrap;word-wrap:break-word}
.pn{position:absolute;right:-1.5rem;top:.4rem;font-size:.75rem;color:#aaa;text-decoration:none}
.pn:hover,.passage:target .pn{color:#555}
</style>
</head>
<body>
<article>
<h1>{{.Doc.Title}}</h1>
<p class="meta">Document <code>{{.Doc.ID}}</code>{{if .Doc.URL}} · source: <a href="{{.Doc.URL}}" rel="noopener noreferrer">{{.Doc.URL}}</a>{{end}}</p>
{{with .Body.TOC}}<nav class="toc" aria-label="Contents"><strong>Contents</strong><ul>
{{range .}}<li class="l{{.Level}}"><a href="#{{.ID}}">{{.Text}}</a></li>
{{end}}</ul></nav>
{{end}}{{range .Body.Sections}}<section id="{{.ID}}" class="passage{{if $.Body.Plain}} plain{{end}}"><a class="pn" href="#{{.ID}}" title="Link to passage {{.N}}">§{{.N}}</a>
{{with .Overlap}}<div class="overlap">{{.}}</div>
{{end}}{{.Body}}</section>
{{end}}</article>
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
	page := struct {
		Doc  *store.Document
		Body rendered
	}{doc, v.render.render(doc.Text, doc.Metadata["format"])}
	h.Set("Content-Type", "text/html; charset=utf-8")
	if err := viewPage.Execute(w, page); err != nil {
		v.logger.DebugContext(ctx, "document view: write failed", "err", err)
	}
}
