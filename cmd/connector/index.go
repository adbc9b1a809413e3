package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/cli"
	"github.com/connectorhq/connector/internal/ingest"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/web"
)

func (e env) index(ctx context.Context, args []string) int {
	var prune bool
	var runAccess access.List
	c, code, ok := e.setup("index", "index [flags] PATH|URL...", forIndex, args, func(fs *flag.FlagSet) {
		fs.BoolVar(&prune, "prune", false, "also delete documents that came from paths or websites not given in this run (the index then holds exactly these)")
		fs.Var(accessFlag{&runAccess}, "access", "access list (comma-separated principals, e.g. group:eng,user:ann@example.com) of documents with none of their own and no .access file above them, and of web pages: only callers it names may read them (with AUTH_MODE apikey or oauth)")
	})
	if !ok {
		return code
	}
	sources := c.args
	if len(sources) == 0 {
		sources = c.cfg.Sources
	}
	if len(sources) == 0 {
		fmt.Fprintln(e.stderr, "connector index: give at least one file, folder or website to index, e.g. connector index ./docs https://docs.example.com/, or set SOURCES in .env")
		return exitUsage
	}
	roots, sites, err := parseSources(sources)
	if err != nil {
		fmt.Fprintf(e.stderr, "connector index: nothing was indexed:\n%s\n", err)
		return exitUsage
	}
	c, closeEmbedder, err := c.withEmbedder()
	if err != nil {
		fmt.Fprintf(e.stderr, "connector index: %v\n", err)
		return exitUsage
	}
	defer closeEmbedder()
	res, err := c.runIndex(ctx, roots, indexOptions{prune: prune, progress: e.stderr, access: runAccess, sites: sites})
	if err != nil {
		switch {
		case errors.Is(err, context.Canceled) && c.cfg.Store == "openai":
			fmt.Fprintln(e.stderr, "connector index: interrupted; documents already uploaded stay, and the next run completes the rest")
		case errors.Is(err, context.Canceled):
			fmt.Fprintf(e.stderr, "connector index: interrupted; the index in %s is unchanged\n", c.cfg.IndexDir)
		default:
			fmt.Fprintf(e.stderr, "connector index: %v\n", err)
		}
		return exitFailure
	}
	s := res.summary
	fmt.Fprintln(e.stdout, res.summaryLine())
	if s.CreatedVectorStore != "" {
		fmt.Fprintf(e.stdout, "created vector store %s; to serve it, add this line to .env:\nVECTOR_STORE_ID=%s\n", s.CreatedVectorStore, s.CreatedVectorStore)
	}
	if res.errors > 0 {
		return exitFailure
	}
	return exitOK
}

// parseSources sorts the arguments of an index run (or SOURCES) into
// folders and files on disk and websites (http and https URLs), each once.
// The error lists every argument that is neither.
func parseSources(args []string) ([]ingest.Root, []web.Site, error) {
	var roots []ingest.Root
	var sites []web.Site
	var errs []error
	seen := map[string]bool{}
	for _, p := range args {
		if web.IsURL(p) {
			s, err := web.ParseSite(p)
			switch {
			case err != nil:
				errs = append(errs, err)
			case !seen[s.Key]:
				seen[s.Key] = true
				sites = append(sites, s)
			}
			continue
		}
		r, err := ingest.OSRoot(p)
		switch {
		case err != nil:
			errs = append(errs, err)
		case !seen[r.Key]:
			seen[r.Key] = true
			roots = append(roots, r)
		}
	}
	return roots, sites, errors.Join(errs...)
}

// accessFlag is the --access flag: an access list, checked when parsed so
// that a bad one is a usage error before anything is read.
type accessFlag struct{ l *access.List }

func (f accessFlag) Set(s string) error {
	l, err := access.ParseList(s)
	if err != nil {
		return err
	}
	*f.l = l
	return nil
}

func (f accessFlag) String() string {
	if f.l == nil {
		return ""
	}
	return f.l.String()
}

// ValueName names the value in help.
func (accessFlag) ValueName() string { return "list" }

type indexOptions struct {
	prune bool
	// progress receives a progress bar when it is a terminal; otherwise
	// progress goes to the log every few seconds. nil means no progress.
	progress io.Writer
	quiet    bool // log problems at debug level only
	// access is the run-wide access list (--access); nil for none.
	access access.List
	// sites are the websites the run crawls, after the roots on disk.
	sites []web.Site
	// webClient makes the crawl's requests; nil for a client of its own.
	webClient *http.Client
}

type indexResult struct {
	summary indexSummary
	skipped int // files and records not indexed, with a warning
	warned  int // warnings about files and records indexed all the same
	errors  int // files, records and uploads that failed
	elapsed time.Duration
}

// summaryLine is the line a run ends with, e.g. "index updated: 2 documents
// (1 added, 1 updated, 0 unchanged, 0 deleted); 1 skipped, 0 warnings,
// 1 error; 12ms".
func (r indexResult) summaryLine() string {
	s := r.summary
	return fmt.Sprintf("%s: %s (%d added, %d updated, %d unchanged, %d deleted); %d skipped, %s, %s; %s",
		s.State, plural(s.Documents, "document"), s.Added, s.Updated, s.Unchanged, s.Deleted,
		r.skipped, plural(r.warned, "warning"), plural(r.errors, "error"), r.elapsed.Round(time.Millisecond))
}

// plural formats n and a noun that takes an s in the plural: "1 error", "2 errors".
func plural[N int | int64](n N, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// runIndex reads the roots into the configured store as one run. For the
// bleve index, documents go into a new index generation that becomes current
// only when the whole run succeeded, so an interrupted run changes nothing.
func (c command) runIndex(ctx context.Context, roots []ingest.Root, opts indexOptions) (indexResult, error) {
	start := time.Now()
	keys := make([]string, 0, len(roots)+len(opts.sites))
	for _, r := range roots {
		keys = append(keys, r.Key)
	}
	for _, s := range opts.sites {
		keys = append(keys, s.Key)
	}
	var exclude []string
	if abs, err := filepath.Abs(c.cfg.IndexDir); err == nil && c.cfg.Store == "bleve" {
		exclude = []string{abs} // never index the index
	}
	progress := &ingest.Progress{}
	rep := newReporter(c.logger, opts, progress)
	sink, err := c.newSink(ctx, keys, opts, rep)
	if err != nil {
		return indexResult{}, err
	}
	defer sink.Abort() // no-op after a successful Commit

	if opts.progress != nil {
		files, bytes, err := ingest.Size(ctx, roots, ingest.Options{MaxFileBytes: c.cfg.MaxFileBytes, Exclude: exclude, Access: opts.access})
		if err != nil {
			return indexResult{}, err
		}
		rep.start(ctx, files, bytes)
	}
	defer rep.stop()

	var res indexResult
	emit := func(d store.SourceDocument) error {
		err := sink.Add(ctx, d)
		if errors.Is(err, store.ErrRejected) { // the error names the document's source
			res.errors++
			rep.problem(slog.LevelError, "could not index", "problem", err.Error())
			return nil
		}
		return err
	}
	problem := func(p ingest.Problem) {
		if p.Indexed { // the file or record is in the index: nothing of it to keep
			res.warned++
			rep.problem(slog.LevelWarn, "indexed with a warning", "problem", p.String())
			return
		}
		if !p.Gone { // what this file or folder ("": the root) gave before stays
			sink.Keep(p.Root, p.File)
		}
		if p.Error {
			res.errors++
			rep.problem(slog.LevelError, "could not index", "problem", p.String())
			return
		}
		res.skipped++
		rep.problem(slog.LevelWarn, "skipped", "problem", p.String())
	}
	opt := ingest.Options{MaxFileBytes: c.cfg.MaxFileBytes, Progress: progress, Exclude: exclude, Access: opts.access}
	if err := ingest.Walk(ctx, roots, opt, emit, problem); err != nil {
		return indexResult{}, err
	}
	notModified := 0
	for _, s := range opts.sites {
		wopt := web.Options{MaxPages: c.cfg.WebMaxPages, Concurrency: c.cfg.WebConcurrency, Delay: c.cfg.WebDelay,
			Timeout: c.cfg.WebTimeout, MaxBytes: c.cfg.MaxFileBytes, Access: opts.access, Client: opts.webClient, Logger: c.logger}
		err := web.Crawl(ctx, s, wopt, web.Handler{
			Document: emit,
			Problem:  problem,
			NotModified: func(root, file string) {
				notModified++
				sink.Keep(root, file)
			},
			Previous: func(id string) (map[string]string, bool) { return sink.Previous(ctx, id) },
		})
		if err != nil {
			return indexResult{}, err
		}
	}
	rep.walked()
	res.summary, err = sink.Commit(ctx)
	if err != nil {
		return indexResult{}, err
	}
	// A page that answered 304 Not Modified kept its document unread.
	res.summary.Unchanged += notModified
	rep.stop()
	res.errors += res.summary.Failed
	res.elapsed = time.Since(start)
	return res, nil
}

// reporter shows indexing progress: a bar on a terminal, a log line every
// few seconds and at each change of phase otherwise; and logs problems
// without garbling the bar. A run reads files (counted in bytes), then, for
// a vector store, waits for its uploads (counted in documents), or, for the
// bleve index, writes the index (a spinner naming the store's step).
type reporter struct {
	logger   *slog.Logger
	opts     indexOptions
	progress *ingest.Progress
	logEvery time.Duration // progress log interval when not on a terminal

	walkDone              atomic.Bool
	uploadsDone, uploadsQ atomic.Int64
	embedDone, embedQ     atomic.Int64           // passages embedded, of those queued (OnEmbed)
	step                  atomic.Pointer[string] // the store's step of writing the index; nil while reading

	mu      sync.Mutex
	bar     *progressbar.ProgressBar
	barKind string // "reading", "uploading" or "writing the index"
	barDesc string // the bar's description, e.g. "writing the index: checksums"
	cancel  context.CancelFunc
	stopped chan struct{}
}

func newReporter(logger *slog.Logger, opts indexOptions, p *ingest.Progress) *reporter {
	return &reporter{logger: logger, opts: opts, progress: p, logEvery: 5 * time.Second}
}

// uploaded records upload progress (a vector store's OnProgress).
func (r *reporter) uploaded(done, queued int) {
	r.uploadsDone.Store(int64(done))
	r.uploadsQ.Store(int64(queued))
}

// walked records that every file has been read.
func (r *reporter) walked() { r.walkDone.Store(true) }

// writing records the store's step of writing the index (the bleve
// index's OnPhase), e.g. "checksums".
func (r *reporter) writing(step string) { r.step.Store(&step) }

// embedded records the embedding of passages (the bleve index's OnEmbed),
// which runs while files are read and finishes in the "vectors" step.
func (r *reporter) embedded(done, queued int) {
	r.embedDone.Store(int64(done))
	r.embedQ.Store(int64(queued))
}

// phase names what the run is doing now, and the store's step when it is
// writing the index.
func (r *reporter) phase() (phase, step string) {
	switch s := r.step.Load(); {
	case s != nil && *s == "vectors":
		return "writing the index", fmt.Sprintf("vectors: %d of %d passages embedded", r.embedDone.Load(), r.embedQ.Load())
	case s != nil:
		return "writing the index", *s
	case r.walkDone.Load() && r.uploadsQ.Load() > r.uploadsDone.Load():
		return "uploading", ""
	default:
		return "reading", ""
	}
}

func (r *reporter) start(ctx context.Context, files, bytes int64) {
	ctx, r.cancel = context.WithCancel(ctx)
	r.stopped = make(chan struct{})
	terminal := cli.IsTerminal(r.opts.progress)
	go func() {
		defer close(r.stopped)
		begin := time.Now()
		var logged time.Time   // when the last progress line was logged
		var loggedPhase string // and its phase and step
		t := time.NewTicker(min(r.logEvery, 200*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				r.finishBar()
				return
			case <-t.C:
			}
			phase, step := r.phase()
			if !terminal {
				// A line every logEvery once the run has lasted that long,
				// and one as soon as the phase changes after that.
				changed := !logged.IsZero() && phase+step != loggedPhase
				if time.Since(begin) < r.logEvery || !changed && time.Since(logged) < r.logEvery {
					continue
				}
				logged, loggedPhase = time.Now(), phase+step
				elapsed := time.Since(begin).Round(time.Second).String()
				switch phase {
				case "writing the index":
					r.logger.Info(phase, "step", step, "elapsed", elapsed)
				case "uploading":
					r.logger.Info(phase, "documents_done", r.uploadsDone.Load(), "documents_queued", r.uploadsQ.Load(), "elapsed", elapsed)
				default:
					r.logger.Info(phase, "files_read", r.progress.Files.Load(), "files_total", files,
						"bytes_read", r.progress.Bytes.Load(), "bytes_total", bytes, "elapsed", elapsed)
				}
				continue
			}
			if time.Since(begin) < time.Second { // short runs need no bar
				continue
			}
			switch phase {
			case "writing the index":
				r.show(phase, phase+": "+step, -1, 0, false)
			case "uploading":
				r.show(phase, phase, r.uploadsQ.Load(), r.uploadsDone.Load(), false)
			default:
				r.show(phase, phase, bytes, min(r.progress.Bytes.Load(), bytes), true)
			}
		}
	}()
}

// show draws the bar of a phase, replacing the other phase's bar; a total
// of -1 draws a spinner with the time the phase has taken.
func (r *reporter) show(kind, desc string, total, done int64, bytes bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil && r.barKind != kind {
		_ = r.bar.Finish()
		r.bar = nil
	}
	if r.bar == nil {
		r.barKind, r.barDesc = kind, desc
		opts := []progressbar.Option{
			progressbar.OptionSetWriter(r.opts.progress),
			progressbar.OptionSetDescription(desc),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionFullWidth(),
			progressbar.OptionThrottle(100 * time.Millisecond),
			progressbar.OptionClearOnFinish(),
		}
		if total < 0 {
			opts = append(opts, progressbar.OptionSpinnerType(14))
		} else {
			opts = append(opts, progressbar.OptionShowBytes(bytes), progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true))
		}
		r.bar = progressbar.NewOptions64(total, opts...)
	}
	if desc != r.barDesc {
		r.barDesc = desc
		r.bar.Describe(desc)
	}
	if total < 0 {
		_ = r.bar.Add64(0) // starts the spinner, which then turns by itself
		return
	}
	if r.bar.GetMax64() != total {
		r.bar.ChangeMax64(total)
	}
	_ = r.bar.Set64(done)
}

func (r *reporter) finishBar() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		_ = r.bar.Finish()
		r.bar = nil
	}
}

func (r *reporter) stop() {
	if r.cancel != nil {
		r.cancel()
		<-r.stopped
		r.cancel = nil
	}
}

func (r *reporter) problem(level slog.Level, msg string, attrs ...any) {
	if r.opts.quiet {
		level = slog.LevelDebug
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		_ = r.bar.Clear()
	}
	r.logger.Log(context.Background(), level, msg, attrs...)
}
