// Package refresh keeps indexed sources fresh while the server runs: a
// Scheduler runs an injected refresh function after changes settle
// (debounced), on a timer, or at once, one run at a time; a Watcher turns
// file system changes under folders into Scheduler triggers.
package refresh

import (
	"context"
	"sync"
	"time"
)

// Counts are what one refresh changed.
type Counts struct {
	Added, Updated, Unchanged, Deleted int
	// Errors are documents that could not be indexed; the run still
	// committed the rest, keeping what the failed ones gave before.
	Errors int
	// Documents is the number of documents the store holds after the run.
	Documents int64
}

// Report is the outcome of one run.
type Report struct {
	Start    time.Time
	Duration time.Duration
	Counts   Counts // zero when Err is set
	Err      error  // the run failed: the store still serves what it had
}

// Status is what a Scheduler says about its runs, for /readyz.
type Status struct {
	Running bool
	Runs    int     // runs finished, failed ones included
	Last    *Report // the last finished run; nil before the first
	// LastSuccess is when the last successful run finished; zero if none.
	LastSuccess time.Time
}

// Options configure a Scheduler.
type Options struct {
	// Run refreshes the sources. It is never called twice at once.
	Run func(ctx context.Context) (Counts, error)
	// Debounce is how long changes must settle before a run starts: a burst
	// of changes makes one run. 0 runs at the first change.
	Debounce time.Duration
	// MaxDelay bounds how long a steady stream of changes (a log file being
	// written) can postpone a run; 0 means 10×Debounce.
	MaxDelay time.Duration
	// Interval, when positive, also runs every Interval after the last run
	// ended (timer-driven sources such as websites).
	Interval time.Duration
	// Retry, when positive, runs again that long after a failed run (the
	// index locked by a manual run, a site down), doubling with each
	// failure in a row up to 32×Retry, so that sources do not stay stale
	// until their next change.
	Retry time.Duration
	// OnDone is told of every finished run, from the Scheduler's goroutine.
	OnDone func(Report)
	// After returns a channel that receives once d has passed; nil means
	// time.After. Tests inject their own clock here.
	After func(d time.Duration) <-chan time.Time
}

// Scheduler runs a refresh function after changes, one run at a time: a
// change during a run makes exactly one more run after it.
type Scheduler struct {
	opts    Options
	changes chan bool     // true: run now, without waiting for changes to settle
	noted   chan struct{} // answers each change once Loop has acted on it
	stopped chan struct{}

	mu     sync.Mutex
	status Status
}

// NewScheduler returns a Scheduler; Loop must run for it to do anything.
func NewScheduler(opts Options) *Scheduler {
	if opts.After == nil {
		opts.After = time.After
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = 10 * opts.Debounce
	}
	return &Scheduler{opts: opts, changes: make(chan bool), noted: make(chan struct{}), stopped: make(chan struct{})}
}

// Changed tells the Scheduler that the sources changed: a run starts once
// changes have settled for Debounce. It returns once the Scheduler has
// acted on it (armed its timer, or noted a run to follow the current one),
// or when it has stopped.
func (s *Scheduler) Changed() { s.send(false) }

// RunNow asks for a run at once (or right after the current one).
func (s *Scheduler) RunNow() { s.send(true) }

func (s *Scheduler) send(now bool) {
	select {
	case s.changes <- now:
		<-s.noted // only this sender waits: Loop took no other change meanwhile
	case <-s.stopped:
	}
}

// Status returns the state of the runs.
func (s *Scheduler) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	if st.Last != nil {
		last := *st.Last
		st.Last = &last
	}
	return st
}

// Loop schedules runs until ctx is done, then waits for a run in progress
// (which sees ctx cancelled) to end.
func (s *Scheduler) Loop(ctx context.Context) {
	defer close(s.stopped)
	var (
		timer    <-chan time.Time // fires when the next run is due
		first    time.Time        // first change not yet run, for MaxDelay
		running  bool
		again    bool // a change came during the run
		failures int  // failed runs in a row
		done     = make(chan Report, 1)
	)
	arm := func(d time.Duration) { timer = s.opts.After(d) }
	if s.opts.Interval > 0 {
		arm(s.opts.Interval)
	}
	for {
		select {
		case <-ctx.Done():
			if running {
				<-done
			}
			return
		case now := <-s.changes:
			switch {
			case running:
				again = true
			case now:
				first = time.Time{}
				arm(0)
			default:
				if first.IsZero() {
					first = time.Now()
				}
				arm(min(s.opts.Debounce, max(0, s.opts.MaxDelay-time.Since(first))))
			}
			s.noted <- struct{}{}
		case <-timer:
			timer, first, running = nil, time.Time{}, true
			s.mu.Lock()
			s.status.Running = true
			s.mu.Unlock()
			go func() {
				start := time.Now()
				c, err := s.opts.Run(ctx)
				if err != nil {
					c = Counts{}
				}
				done <- Report{Start: start, Duration: time.Since(start), Counts: c, Err: err}
			}()
		case r := <-done:
			running = false
			// Arm the next run before telling OnDone, so that a test that
			// waits for OnDone sees the Scheduler's decision already made.
			if r.Err != nil {
				failures++
			} else {
				failures = 0
			}
			switch {
			case again:
				again = false
				first = time.Now()
				arm(s.opts.Debounce)
			case failures > 0 && s.opts.Retry > 0:
				d := s.opts.Retry << min(failures-1, 5)
				if s.opts.Interval > 0 {
					d = min(d, s.opts.Interval)
				}
				arm(d)
			case s.opts.Interval > 0:
				arm(s.opts.Interval)
			}
			s.mu.Lock()
			s.status.Running = false
			s.status.Runs++
			s.status.Last = &r
			if r.Err == nil {
				s.status.LastSuccess = r.Start.Add(r.Duration)
			}
			s.mu.Unlock()
			if s.opts.OnDone != nil {
				s.opts.OnDone(r)
			}
		}
	}
}
