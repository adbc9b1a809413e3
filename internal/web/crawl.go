package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/temoto/robotstxt"
	"golang.org/x/time/rate"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/ingest"
	"github.com/connectorhq/connector/internal/store"
)

// Defaults of Options.
const (
	DefaultMaxPages    = 1000
	DefaultConcurrency = 4
	DefaultDelay       = 200 * time.Millisecond
	DefaultTimeout     = 20 * time.Second
	// maxCrawlDelay caps a robots.txt Crawl-delay, so that a site cannot
	// make a crawl last for days.
	maxCrawlDelay = 10 * time.Second
	// robotsAgent is the name robots.txt groups are matched against.
	robotsAgent = "connector"
	userAgent   = "connector/1 (+https://github.com/connectorhq/connector)"
)

// Metadata keys of a page's document, besides "source" (the URL fetched)
// and "format" ("html"): the validators of its response, sent back on the
// next run as If-None-Match and If-Modified-Since.
const (
	MetaETag         = "etag"
	MetaLastModified = "last_modified"
)

// Options tune a crawl. Zero values take the defaults.
type Options struct {
	MaxPages    int           // pages fetched at most; DefaultMaxPages when 0
	Concurrency int           // requests at once; DefaultConcurrency when 0
	Delay       time.Duration // least time between two requests' starts (0: none); a longer robots.txt Crawl-delay wins
	Timeout     time.Duration // of each request, body included; DefaultTimeout when 0
	MaxBytes    int64         // larger pages are skipped; ingest.DefaultMaxFileBytes when 0
	Access      access.List   // the run's access list (--access), given to every page
	Client      *http.Client  // nil: a client of its own
	Logger      *slog.Logger  // nil: discarded
}

// Handler receives what a crawl finds. Crawl calls it from the goroutine
// that called Crawl only, one call at a time, so it needs no locking.
type Handler struct {
	// Document receives each page read; an error ends the crawl.
	Document func(store.SourceDocument) error
	// Problem receives each page skipped, with the reason. Problem.Gone
	// tells that the page's previous document should be deleted (404,
	// disallowed, not HTML); otherwise it should be kept.
	Problem func(ingest.Problem)
	// NotModified receives each page that answered 304 Not Modified to a
	// conditional request: its previous document stands.
	NotModified func(root, file string)
	// Previous returns the metadata of the document a previous run stored
	// under id, if any: the crawl sends its validators. May be nil.
	Previous func(id string) (map[string]string, bool)
}

// crawler is one crawl of a site.
type crawler struct {
	site    Site
	opts    Options
	h       Handler
	client  *http.Client
	limiter *rate.Limiter
	robots  *robotstxt.Group
	logger  *slog.Logger

	follow  bool            // follow links: the site has no sitemap listing its pages
	seen    map[string]bool // URLs queued or reported, normalised
	queue   []*url.URL
	fetched int               // pages requested
	limited bool              // the page limit was reached
	emitted map[string]string // document id → the URL it was read from

	sitemapURLs []*url.URL // named by robots.txt
}

// job is a page for a worker to fetch, with the validators of its
// previous document.
type job struct {
	u                  *url.URL
	etag, lastModified string
}

// Crawl reads the site: its robots.txt, then its sitemaps (those robots.txt
// names, else sitemap.xml in the site's folder or at the host's root) or,
// when they list no page of the site, the pages linked from the start
// page, level by level. Every page read goes to h.Document, every page
// skipped to h.Problem. It returns ctx.Err() when cancelled, or the first
// error h.Document returns; failures of the site itself are problems.
func Crawl(ctx context.Context, site Site, opts Options, h Handler) error {
	if opts.MaxPages <= 0 {
		opts.MaxPages = DefaultMaxPages
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = ingest.DefaultMaxFileBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if h.Document == nil {
		h.Document = func(store.SourceDocument) error { return nil }
	}
	if h.Problem == nil {
		h.Problem = func(ingest.Problem) {}
	}
	if h.NotModified == nil {
		h.NotModified = func(string, string) {}
	}
	if h.Previous == nil {
		h.Previous = func(string) (map[string]string, bool) { return nil, false }
	}
	c := &crawler{site: site, opts: opts, h: h, logger: opts.Logger.With("site", site.Key),
		seen: map[string]bool{}, emitted: map[string]string{}}
	var client http.Client
	if opts.Client != nil {
		client = *opts.Client
	} else if t, ok := http.DefaultTransport.(*http.Transport); ok {
		// Keep a connection per worker alive, rather than the default two.
		t = t.Clone()
		t.MaxIdleConnsPerHost = opts.Concurrency
		client.Transport = t
		defer t.CloseIdleConnections()
	}
	client.CheckRedirect = c.checkRedirect
	c.client = &client
	c.setDelay(opts.Delay)

	ok, err := c.readRobots(ctx)
	if !ok || err != nil {
		return err
	}
	pages, err := c.readSitemaps(ctx)
	if err != nil {
		return err
	}
	c.follow = len(pages) == 0
	c.add(site.Start, "")
	for _, p := range pages {
		c.add(p, "")
	}
	c.logger.Debug("crawling", "sitemap_pages", len(pages), "follow_links", c.follow)
	return c.run(ctx)
}

// setDelay sets the least time between two requests.
func (c *crawler) setDelay(d time.Duration) {
	if d <= 0 {
		c.limiter = rate.NewLimiter(rate.Inf, 1)
		return
	}
	c.limiter = rate.NewLimiter(rate.Every(d), 1)
}

// run fetches the queued pages with opts.Concurrency workers until none
// is left. Workers only fetch and parse; this goroutine decides and calls
// the handler.
func (c *crawler) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	jobs, results := make(chan job), make(chan result)
	var wg sync.WaitGroup
	for range c.opts.Concurrency {
		wg.Go(func() {
			for j := range jobs {
				r := c.fetchPage(ctx, j)
				select {
				case results <- r:
				case <-ctx.Done():
				}
			}
		})
	}
	defer func() {
		cancel()
		close(jobs)
		wg.Wait()
	}()
	inflight := 0
	for {
		for inflight < c.opts.Concurrency && len(c.queue) > 0 {
			j, ok := c.next()
			if !ok {
				continue
			}
			// A worker is idle: fewer jobs are out than workers.
			select {
			case jobs <- j:
				inflight++
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if inflight == 0 {
			return ctx.Err()
		}
		select {
		case r := <-results:
			inflight--
			if err := c.handle(ctx, r); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// add queues a page found in a sitemap or linked from the page from (""
// for a sitemap), unless it was seen before or the crawl may not read it;
// pages of the host outside the site and pages robots.txt disallows are
// reported once each. Links to other hosts are left out silently.
func (c *crawler) add(u *url.URL, from string) {
	key := u.String()
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	switch {
	case !c.site.sameHost(u):
		if from == "" {
			c.skip(u, "listed in a sitemap but on another host than "+c.site.Key+"; not read", false)
		}
	case !c.site.inScope(u):
		c.skip(u, "outside "+c.site.Key+"; not read (index it as a site of its own to include it)", false)
	case !c.allowed(u):
		c.skip(u, "disallowed by robots.txt; not read", false)
	case notHTMLExt(u.Path) != "":
		c.skip(u, fmt.Sprintf("not an HTML page (a %s file); not read", notHTMLExt(u.Path)), false)
	default:
		c.queue = append(c.queue, u)
	}
}

// next takes the next page off the queue as a job, with the validators
// of its previous document; false when the page limit stops it.
func (c *crawler) next() (job, bool) {
	u := c.queue[0]
	c.queue = c.queue[1:]
	if c.fetched >= c.opts.MaxPages {
		if !c.limited && c.follow {
			// Pages that would have been found through this one cannot be
			// told from pages removed from the site: keep them all.
			c.h.Problem(ingest.Problem{Root: c.site.Key, Reason: fmt.Sprintf(
				"page limit of %d reached; pages not read keep their previous version (set WEB_MAX_PAGES to read more)", c.opts.MaxPages)})
		}
		c.limited = true
		c.skip(u, fmt.Sprintf("over the page limit of %d (WEB_MAX_PAGES); not read, keeps its previous version", c.opts.MaxPages), true)
		return job{}, false
	}
	c.fetched++
	j := job{u: u}
	// Validators only when a sitemap lists the pages: a page answering
	// 304 gives no links to follow, so that the pages found through it
	// would be lost (when following links, content hashes spare unchanged
	// pages the store's work instead). And only when the previous document
	// was read from this very URL, so that a 304 keeps the right file's.
	if meta, ok := c.h.Previous(docID(u)); ok && !c.follow && meta["source"] == u.String() {
		j.etag, j.lastModified = meta[MetaETag], meta[MetaLastModified]
	}
	return j, true
}

// handle turns a fetched page into a document, a kept page or a problem,
// and queues its links.
func (c *crawler) handle(ctx context.Context, r result) error {
	switch {
	case r.cancelled:
		return ctx.Err()
	case r.reason != "":
		c.skip(r.u, r.reason, r.keep)
		return nil
	case r.notModified:
		c.h.NotModified(c.site.Key, c.site.file(r.u))
		return nil
	}
	final := r.final
	redirected := final.String() != r.u.String()
	if redirected {
		switch {
		case !c.site.inScope(final):
			c.skip(r.u, "redirects to "+final.String()+", outside "+c.site.Key+"; not read", false)
			return nil
		case !c.allowed(final):
			c.skip(r.u, "redirects to "+final.String()+", which robots.txt disallows; not read", false)
			return nil
		}
		c.seen[final.String()] = true
	}
	p := r.page
	if !p.nofollow && c.follow {
		for _, l := range p.links {
			c.add(l, final.String())
		}
	}
	if p.noindex {
		c.skip(final, "the page asks not to be indexed (robots meta tag noindex); not read", false)
		return nil
	}
	own := final
	if p.canonical != nil && c.site.sameHost(p.canonical) {
		own = p.canonical
	}
	id := docID(own)
	if from, dup := c.emitted[id]; dup {
		if !redirected && from != final.String() {
			c.skip(final, "same page as "+from+" (canonical URL "+own.String()+"); indexed once", false)
		}
		return nil
	}
	c.emitted[id] = final.String()
	if p.text == "" {
		c.skip(final, "empty page: no text in its main content; not indexed", true)
		return nil
	}
	meta := map[string]string{"source": final.String(), "format": "html"}
	if r.etag != "" {
		meta[MetaETag] = r.etag
	}
	if r.lastModified != "" {
		meta[MetaLastModified] = r.lastModified
	}
	if p.lang != "" {
		meta["lang"] = p.lang
	}
	for k, v := range meta {
		meta[k] = ingest.ValidUTF8(v)
	}
	return c.h.Document(store.SourceDocument{
		Document: store.Document{ID: ingest.ValidUTF8(id), Title: ingest.ValidUTF8(p.title), URL: own.String(),
			Text: ingest.ValidUTF8(p.text), Metadata: meta},
		Root: c.site.Key, File: c.site.file(final), Access: c.opts.Access,
	})
}

// skip reports a page not read. keep tells that its previous document
// stays (a transient failure, a limit); otherwise it is deleted.
func (c *crawler) skip(u *url.URL, reason string, keep bool) {
	file := u.String()
	if c.site.inScope(u) {
		file = c.site.file(u)
	}
	c.logger.Debug("page skipped", "url", u.String(), "reason", reason)
	c.h.Problem(ingest.Problem{Root: c.site.Key, File: file, Reason: reason, Gone: !keep})
}

// rootProblem reports a failure that concerns the whole site: everything
// it gave before is kept. isErr: the site could not be read at all.
func (c *crawler) rootProblem(reason string, isErr bool) {
	c.h.Problem(ingest.Problem{Root: c.site.Key, Reason: reason, Error: isErr})
}

// allowed reports whether robots.txt lets the crawl read u.
func (c *crawler) allowed(u *url.URL) bool {
	if c.robots == nil {
		return true
	}
	p := u.EscapedPath()
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return c.robots.Test(p)
}

// offsiteError stops a redirect to another host.
type offsiteError struct{ to *url.URL }

func (e *offsiteError) Error() string { return "redirects to another host: " + e.to.String() }

// checkRedirect follows redirects on the site's host only, ten at most.
func (c *crawler) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("more than 10 redirects")
	}
	if u := normalise(req.URL); !c.site.sameHost(u) {
		return &offsiteError{to: u}
	}
	return nil
}

// notHTMLExt returns the extension of a path that names a file that is
// surely no HTML page (an image, an archive, a PDF), else "".
func notHTMLExt(p string) string {
	ext := strings.ToLower(path.Ext(p))
	switch ext {
	case ".pdf", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".ico", ".bmp", ".zip", ".gz", ".tgz", ".tar",
		".mp3", ".mp4", ".webm", ".mov", ".avi", ".woff", ".woff2", ".ttf", ".css", ".js", ".docx", ".xlsx", ".pptx", ".exe", ".dmg":
		return ext
	}
	return ""
}

// durationText formats a limit for a message, e.g. "20s".
func durationText(d time.Duration) string { return cmp.Or(d.String(), "0s") }
