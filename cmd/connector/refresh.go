package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/connectorhq/connector/internal/metrics"
	"github.com/connectorhq/connector/internal/refresh"
	"github.com/connectorhq/connector/internal/web"
)

// This file keeps the WATCH sources fresh while serving: paths are watched
// and re-indexed after they change, websites are crawled again on a timer.
// Both kinds go through runIndex, as `connector index` does, one run at a
// time; a run commits a new index generation (or syncs the vector store),
// and the serving store switches to it at once.

// refreshRetry is how soon a failed refresh runs again (then twice as long
// after each failure in a row): a manual `connector index` holding the
// index, or a site that was down, does not leave the sources stale until
// their next change.
const refreshRetry = 30 * time.Second

// refresher runs the refreshes of the WATCH sources.
type refresher struct {
	c       command
	metrics *metrics.Metrics
	// reload makes the serving store switch to the generation a run
	// committed (the bleve index's Reload); nil for a vector store, which
	// serves what it holds.
	reload func() (bool, error)

	mu    sync.Mutex // one index run at a time, whichever kind of source; guards reload
	kinds []*sourceKind
	loops sync.WaitGroup // the schedulers' loops
}

// sourceKind is the sources refreshed together, and their scheduler.
type sourceKind struct {
	name    string // "files" or "websites", in logs, metrics and /readyz
	sources []string
	sched   *refresh.Scheduler
	first   chan error // the first run's outcome (buffered; later ones dropped)
}

func (c command) newRefresher(m *metrics.Metrics) *refresher {
	r := &refresher{c: c, metrics: m}
	var paths, sites []string
	for _, s := range c.cfg.Watch {
		if web.IsURL(s) {
			sites = append(sites, s)
		} else {
			paths = append(paths, s)
		}
	}
	if len(paths) > 0 {
		r.add("files", paths, refresh.Options{Debounce: c.cfg.WatchDebounce, Retry: refreshRetry})
	}
	if len(sites) > 0 {
		r.add("websites", sites, refresh.Options{Interval: c.cfg.WatchInterval, Retry: refreshRetry})
	}
	return r
}

func (r *refresher) add(name string, sources []string, opts refresh.Options) {
	k := &sourceKind{name: name, sources: sources, first: make(chan error, 1)}
	opts.Run = func(ctx context.Context) (refresh.Counts, error) { return r.run(ctx, k) }
	opts.OnDone = func(rep refresh.Report) { r.done(k, rep) }
	k.sched = refresh.NewScheduler(opts)
	r.kinds = append(r.kinds, k)
}

// waitFirst waits for the first run of every kind to end, and returns
// the first failure. For an empty index folder, serve waits so, before
// listening: until the first run there is nothing to serve.
func (r *refresher) waitFirst(ctx context.Context) error {
	for _, k := range r.kinds {
		select {
		case err := <-k.first:
			if err != nil {
				return fmt.Errorf("index the WATCH sources (%s): %w", k.name, err)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// setReload sets the serving store's reload, once it is open.
func (r *refresher) setReload(reload func() (bool, error)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reload = reload
}

// start runs the schedulers and the file watcher until ctx is done, and
// refreshes each kind at once. The watches are in place before that
// first run, so no change is missed.
func (r *refresher) start(ctx context.Context) error {
	for _, k := range r.kinds {
		r.loops.Go(func() { k.sched.Loop(ctx) })
		if k.name == "files" {
			var exclude []string
			if abs, err := filepath.Abs(r.c.cfg.IndexDir); err == nil && r.c.cfg.Store == "bleve" {
				exclude = []string{abs} // every run writes there: never a change of the sources
			}
			w, err := refresh.NewWatcher(k.sources, refresh.WatchOptions{Exclude: exclude, OnChange: k.sched.Changed, Logger: r.c.logger})
			if err != nil {
				return err
			}
			go w.Run(ctx)
		}
		k.sched.RunNow()
	}
	return nil
}

// wait waits for the schedulers to stop (after ctx is done), each after
// its run in progress.
func (r *refresher) wait() { r.loops.Wait() }

// run indexes one kind of sources as `connector index` does, then makes
// the serving store switch to what it committed.
func (r *refresher) run(ctx context.Context, k *sourceKind) (refresh.Counts, error) {
	roots, sites, err := parseSources(k.sources) // again at each run: a folder may have gone
	if err != nil {
		return refresh.Counts{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	res, err := r.c.runIndex(ctx, roots, indexOptions{sites: sites})
	if err != nil {
		return refresh.Counts{}, err
	}
	s := res.summary
	c := refresh.Counts{Added: s.Added, Updated: s.Updated, Unchanged: s.Unchanged, Deleted: s.Deleted,
		Errors: res.errors, Documents: s.Documents}
	if r.reload != nil {
		if _, err := r.reload(); err != nil {
			return c, fmt.Errorf("the new index was built but cannot be served: %w", err)
		}
	}
	return c, nil
}

// done logs and records a finished run.
func (r *refresher) done(k *sourceKind, rep refresh.Report) {
	select {
	case k.first <- rep.Err:
	default:
	}
	c := rep.Counts
	r.metrics.Refreshed(metrics.RefreshRun{Sources: k.name, End: rep.Start.Add(rep.Duration), Duration: rep.Duration,
		Added: c.Added, Updated: c.Updated, Deleted: c.Deleted, Errors: c.Errors, Failed: rep.Err != nil})
	duration := rep.Duration.Round(time.Millisecond).String()
	switch {
	case errors.Is(rep.Err, context.Canceled):
		r.c.logger.Info("refresh interrupted by shutdown", "sources", k.name, "duration", duration)
	case rep.Err != nil:
		r.c.logger.Error("refresh failed; still serving the previous index, the next change retries",
			"sources", k.name, "duration", duration, "err", rep.Err)
	default:
		r.c.logger.Info("refreshed", "sources", k.name, "duration", duration,
			"added", c.Added, "updated", c.Updated, "unchanged", c.Unchanged, "deleted", c.Deleted,
			"errors", c.Errors, "documents", c.Documents)
	}
}

// status is the refresh state /readyz shows in its detail, by kind.
func (r *refresher) status() any {
	out := map[string]any{}
	for _, k := range r.kinds {
		st := k.sched.Status()
		m := map[string]any{"sources": len(k.sources), "running": st.Running, "runs": st.Runs}
		if !st.LastSuccess.IsZero() {
			m["last_success"] = st.LastSuccess.UTC().Format(time.RFC3339)
		}
		if l := st.Last; l != nil {
			m["last_refresh"] = l.Start.Add(l.Duration).UTC().Format(time.RFC3339)
			m["last_refresh_duration_ms"] = l.Duration.Milliseconds()
			if l.Err != nil {
				m["last_refresh_error"] = l.Err.Error()
			} else {
				c := l.Counts
				m["last_refresh_counts"] = map[string]any{"added": c.Added, "updated": c.Updated,
					"unchanged": c.Unchanged, "deleted": c.Deleted, "errors": c.Errors, "documents": c.Documents}
			}
		}
		out[k.name] = m
	}
	return out
}
