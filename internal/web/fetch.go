package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/temoto/robotstxt"

	"github.com/connectorhq/connector/internal/ingest"
)

// maxRobotsBytes limits robots.txt, as Google does (500 KiB).
const maxRobotsBytes = 500 << 10

// result is what a worker found at a page's URL.
type result struct {
	u         *url.URL // the URL requested
	final     *url.URL // after redirects
	cancelled bool     // the crawl was cancelled meanwhile
	// reason, when set, says why the page was skipped; keep tells that
	// its previous document stays.
	reason       string
	keep         bool
	notModified  bool
	etag         string
	lastModified string
	page         page
}

// get requests u with the politeness delay and the time limit, and reads
// at most max bytes of its body (more is an error wrapping errTooLarge).
// hdr adds request headers. The error of a cancelled crawl is ctx.Err().
func (c *crawler) get(ctx context.Context, u *url.URL, hdr http.Header, max int64) (*http.Response, []byte, error) {
	if err := c.limiter.Wait(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		return nil, nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, nil, c.fetchError(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return resp, nil, nil
	}
	if resp.ContentLength > max {
		return resp, nil, &tooLargeError{size: resp.ContentLength}
	}
	if !acceptable(resp, hdr.Get("Accept")) {
		return resp, nil, nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return resp, nil, c.fetchError(ctx, err)
	}
	if int64(len(data)) > max {
		return resp, nil, &tooLargeError{size: -1}
	}
	return resp, data, nil
}

// acceptable reports whether a response's body is worth reading for a
// request that accepts accept: HTML for pages, anything else otherwise.
func acceptable(resp *http.Response, accept string) bool {
	return !strings.HasPrefix(accept, "text/html") || isHTML(resp)
}

// isHTML reports whether a response declares an HTML body.
func isHTML(resp *http.Response) bool {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return mt == "text/html" || mt == "application/xhtml+xml"
}

type tooLargeError struct{ size int64 } // -1: unknown

func (e *tooLargeError) Error() string { return "too large" }

// errTimeout is a request that got no (complete) answer in time.
var errTimeout = errors.New("no answer")

// fetchError makes a request's error readable: the crawl's cancellation
// as ctx.Err(), a timeout as errTimeout, a redirect off the host as is.
func (c *crawler) fetchError(ctx context.Context, err error) error {
	var off *offsiteError
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.As(err, &off):
		return off
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w within %s (WEB_TIMEOUT)", errTimeout, durationText(c.opts.Timeout))
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Errorf("%w within %s (WEB_TIMEOUT)", errTimeout, durationText(c.opts.Timeout))
		}
		return ue.Err
	}
	return err
}

// fetchPage fetches and parses one page, sending its validators.
func (c *crawler) fetchPage(ctx context.Context, j job) result {
	r := result{u: j.u, final: j.u}
	hdr := http.Header{"Accept": {"text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"}}
	if j.etag != "" {
		hdr.Set("If-None-Match", j.etag)
	}
	if j.lastModified != "" {
		hdr.Set("If-Modified-Since", j.lastModified)
	}
	resp, data, err := c.get(ctx, j.u, hdr, c.opts.MaxBytes)
	if resp != nil {
		r.final = normalise(resp.Request.URL)
	}
	var off *offsiteError
	var big *tooLargeError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		r.cancelled = true
		return r
	case errors.As(err, &off):
		r.reason = "redirects to " + off.to.String() + ", outside " + c.site.Key + "; not read (give that URL to index its site)"
		return r
	case errors.As(err, &big):
		r.reason, r.keep = ingest.TooLargeReason("page", big.size, c.opts.MaxBytes)+"; keeps its previous version", true
		return r
	default:
		r.reason, r.keep = "cannot fetch: "+err.Error()+"; keeps its previous version", true
		return r
	}
	switch code := resp.StatusCode; {
	case code == http.StatusNotModified:
		r.notModified = true
		return r
	case code == http.StatusNotFound || code == http.StatusGone:
		r.reason = "HTTP " + resp.Status + "; removed from the index"
		return r
	case code >= 500 || code == http.StatusTooManyRequests || code == http.StatusRequestTimeout:
		r.reason, r.keep = "HTTP "+resp.Status+"; keeps its previous version", true
		return r
	case code != http.StatusOK:
		r.reason = "HTTP " + resp.Status + "; not indexed"
		return r
	case !isHTML(resp):
		ct := resp.Header.Get("Content-Type")
		if ct == "" {
			ct = "none"
		}
		r.reason = fmt.Sprintf("not an HTML page (content type %s); not indexed", ct)
		return r
	}
	r.etag, r.lastModified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	p, err := parsePage(data, r.final)
	if err != nil {
		r.reason, r.keep = fmt.Sprintf("cannot parse the HTML (%v); keeps its previous version", err), true
		return r
	}
	r.page = p
	return r
}

// readRobots reads the host's robots.txt: a missing one (4xx) allows
// everything. A site whose robots.txt cannot be read (5xx, no answer) is
// not crawled, and keeps all it gave before; false then.
func (c *crawler) readRobots(ctx context.Context) (bool, error) {
	u := &url.URL{Scheme: c.site.Start.Scheme, Host: c.site.Start.Host, Path: "/robots.txt"}
	resp, data, err := c.get(ctx, u, nil, maxRobotsBytes)
	var big *tooLargeError
	switch {
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return false, ctx.Err()
	case errors.As(err, &big):
		data, err = nil, nil // like Google: read no rules rather than part of them
		c.logger.Warn("robots.txt is over 500 KiB; read as allowing everything", "url", u.String())
	case err != nil:
		c.rootProblem(fmt.Sprintf("cannot read %s: %v; the site was not read and keeps its previous documents (check the URL and that the site answers)", u, err), true)
		return false, nil
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		c.rootProblem(fmt.Sprintf("%s answers HTTP %s; the site was not read and keeps its previous documents", u, resp.Status), true)
		return false, nil
	}
	status := http.StatusOK
	if resp != nil {
		status = resp.StatusCode
	}
	rd, perr := robotstxt.FromStatusAndBytes(status, data)
	if perr != nil {
		c.logger.Warn("robots.txt cannot be parsed; read as allowing everything", "url", u.String(), "err", perr)
		return true, nil
	}
	c.robots = rd.FindGroup(robotsAgent)
	if d := min(c.robots.CrawlDelay, maxCrawlDelay); d > c.opts.Delay {
		c.logger.Info("robots.txt asks for a crawl delay", "delay", d.String())
		c.setDelay(d)
	}
	for _, s := range rd.Sitemaps {
		if su, err := u.Parse(strings.TrimSpace(s)); err == nil {
			c.sitemapURLs = append(c.sitemapURLs, normalise(su))
		}
	}
	return true, nil
}

// readSitemaps reads the sitemaps robots.txt names, else sitemap.xml in
// the site's folder and at the host's root, with the sitemap indexes among
// them, and returns the pages they list in the site. A sitemap that cannot
// be read is reported and makes the pages of the site not read keep their
// previous documents (its pages cannot be told from removed ones).
func (c *crawler) readSitemaps(ctx context.Context) ([]*url.URL, error) {
	named := len(c.sitemapURLs) > 0
	todo := c.sitemapURLs
	if !named {
		for _, p := range []string{c.site.prefix + "sitemap.xml", "/sitemap.xml"} {
			todo = append(todo, &url.URL{Scheme: c.site.Start.Scheme, Host: c.site.Start.Host, Path: p})
		}
	}
	type item struct {
		u     *url.URL
		depth int
	}
	var queue []item
	for _, u := range todo {
		queue = append(queue, item{u, 0})
	}
	done := map[string]bool{}
	var pages []*url.URL
	listed := map[string]bool{}
	for len(queue) > 0 && len(done) < maxSitemaps {
		it := queue[0]
		queue = queue[1:]
		if done[it.u.String()] {
			continue
		}
		done[it.u.String()] = true
		if !c.site.sameHost(it.u) {
			c.logger.Warn("sitemap on another host; not read", "sitemap", it.u.String())
			continue
		}
		resp, data, err := c.get(ctx, it.u, nil, c.opts.MaxBytes)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var reason string
		switch {
		case err != nil:
			reason = err.Error()
			var big *tooLargeError
			if errors.As(err, &big) {
				reason = ingest.TooLargeReason("sitemap", big.size, c.opts.MaxBytes)
			}
		case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
			if named || it.depth > 0 {
				c.logger.Warn("sitemap not found", "sitemap", it.u.String(), "status", resp.Status)
			}
			continue
		case resp.StatusCode != http.StatusOK:
			reason = "HTTP " + resp.Status
		}
		var found, more []string
		if reason == "" {
			found, more, err = parseSitemap(data, c.opts.MaxBytes)
			if err != nil {
				reason = err.Error()
			}
		}
		if reason != "" && !named && it.depth == 0 {
			// A guessed location: many sites answer any path with a page.
			c.logger.Debug("no sitemap", "url", it.u.String(), "reason", reason)
			continue
		}
		if reason != "" {
			c.rootProblem(fmt.Sprintf("sitemap %s: %s; pages of the site not read keep their previous documents", it.u, reason), false)
			continue
		}
		outside := 0
		for _, s := range found {
			pu, err := it.u.Parse(s)
			if err != nil || pu.Scheme != "http" && pu.Scheme != "https" {
				continue
			}
			pu = normalise(pu)
			switch {
			case listed[pu.String()]:
			case !c.site.inScope(pu):
				outside++
			default:
				listed[pu.String()] = true
				pages = append(pages, pu)
			}
		}
		if outside > 0 {
			what := fmt.Sprintf("%d pages", outside)
			if outside == 1 {
				what = "1 page"
			}
			c.h.Problem(ingest.Problem{Root: c.site.Key, File: it.u.String(), Gone: true, Reason: fmt.Sprintf(
				"sitemap lists %s outside %s; not read (index them as a site of their own)", what, c.site.Key)})
		}
		for _, s := range more {
			su, err := it.u.Parse(s)
			if err != nil {
				continue
			}
			if it.depth+1 > maxSitemapDepth {
				c.logger.Warn("sitemap index nested too deep; not read", "sitemap", su.String())
				continue
			}
			queue = append(queue, item{normalise(su), it.depth + 1})
		}
	}
	return pages, nil
}
