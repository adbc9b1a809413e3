package refresh

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock stands in for time.After: every timer the Scheduler arms is
// the same channel, which fires when the test says so. The Scheduler
// waits only on its latest timer, so one fire runs what is due.
type fakeClock struct {
	fire  chan time.Time
	armed atomic.Int32 // timers armed so far
	last  atomic.Int64 // duration of the last timer armed
}

func newFakeClock() *fakeClock { return &fakeClock{fire: make(chan time.Time)} }

func (c *fakeClock) after(d time.Duration) <-chan time.Time {
	c.armed.Add(1)
	c.last.Store(int64(d))
	return c.fire
}

// tick fires the armed timer; it blocks until the Scheduler takes it.
func (c *fakeClock) tick(t *testing.T) {
	t.Helper()
	select {
	case c.fire <- time.Now():
	case <-time.After(10 * time.Second):
		t.Fatal("the scheduler did not wait on a timer")
	}
}

// harness runs a Scheduler whose runs block until released, and reports
// each start and each finished run on channels.
type harness struct {
	s       *Scheduler
	clock   *fakeClock
	started chan struct{}
	release chan error
	done    chan Report
	runs    atomic.Int32
}

func newHarness(t *testing.T, interval time.Duration) *harness {
	return newRetryHarness(t, interval, 0)
}

func newRetryHarness(t *testing.T, interval, retry time.Duration) *harness {
	h := &harness{clock: newFakeClock(), started: make(chan struct{}, 10), release: make(chan error), done: make(chan Report, 10)}
	h.s = NewScheduler(Options{
		Debounce: 2 * time.Second, Interval: interval, Retry: retry, After: h.clock.after,
		Run: func(ctx context.Context) (Counts, error) {
			h.runs.Add(1)
			h.started <- struct{}{}
			select {
			case err := <-h.release:
				return Counts{Added: 1}, err
			case <-ctx.Done():
				return Counts{}, ctx.Err()
			}
		},
		OnDone: func(r Report) { h.done <- r },
	})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { h.s.Loop(ctx); close(stopped) }()
	t.Cleanup(func() { cancel(); <-stopped })
	return h
}

func (h *harness) waitStart(t *testing.T) {
	t.Helper()
	select {
	case <-h.started:
	case <-time.After(10 * time.Second):
		t.Fatal("no run started")
	}
}

// finish lets the running run end with err and waits for its report.
func (h *harness) finish(t *testing.T, err error) Report {
	t.Helper()
	h.release <- err
	select {
	case r := <-h.done:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no report")
	}
	return Report{}
}

// TestBurstMakesOneRun: many changes before the debounce fires make a
// single run, and nothing more is scheduled after it.
func TestBurstMakesOneRun(t *testing.T) {
	h := newHarness(t, 0)
	for range 20 {
		h.s.Changed()
	}
	if got := time.Duration(h.clock.last.Load()); got != 2*time.Second {
		t.Errorf("debounce armed for %v, want 2s", got)
	}
	h.clock.tick(t)
	h.waitStart(t)
	if r := h.finish(t, nil); r.Err != nil || r.Counts.Added != 1 {
		t.Errorf("report %+v", r)
	}
	if n := h.runs.Load(); n != 1 {
		t.Errorf("%d runs, want 1", n)
	}
	if n := h.clock.armed.Load(); n != 20 {
		t.Errorf("%d timers armed, want one per change and none after the run", n)
	}
	if st := h.s.Status(); st.Running || st.Runs != 1 || st.Last == nil || st.LastSuccess.IsZero() {
		t.Errorf("status %+v", st)
	}
}

// TestChangeDuringRunMakesOneMore: changes while a run is in progress
// make exactly one more run once it ends.
func TestChangeDuringRunMakesOneMore(t *testing.T) {
	h := newHarness(t, 0)
	h.s.Changed()
	h.clock.tick(t)
	h.waitStart(t)
	if !h.s.Status().Running {
		t.Error("status does not say running")
	}
	armed := h.clock.armed.Load()
	for range 5 {
		h.s.Changed() // returns once the scheduler took it: no race with finish
	}
	if n := h.clock.armed.Load(); n != armed {
		t.Errorf("changes during a run armed %d timers", n-armed)
	}
	h.finish(t, nil)
	if n := h.clock.armed.Load(); n != armed+1 {
		t.Fatalf("after the run %d timers armed, want 1 (the debounced second run)", n-armed)
	}
	h.clock.tick(t)
	h.waitStart(t)
	h.finish(t, nil)
	if n := h.clock.armed.Load(); n != armed+1 {
		t.Errorf("a third run was scheduled")
	}
	if n := h.runs.Load(); n != 2 {
		t.Errorf("%d runs, want 2", n)
	}
}

// TestFailedRunReportedAndRetried: a failing run is reported, the status
// keeps the last success, and the next change runs again.
func TestFailedRunReportedAndRetried(t *testing.T) {
	h := newHarness(t, 0)
	h.s.Changed()
	h.clock.tick(t)
	h.waitStart(t)
	h.finish(t, nil)
	okAt := h.s.Status().LastSuccess

	h.s.Changed()
	h.clock.tick(t)
	h.waitStart(t)
	boom := errors.New("disk full")
	r := h.finish(t, boom)
	if !errors.Is(r.Err, boom) || r.Counts != (Counts{}) {
		t.Errorf("report %+v, want the error and no counts", r)
	}
	st := h.s.Status()
	if st.Last == nil || !errors.Is(st.Last.Err, boom) || !st.LastSuccess.Equal(okAt) || st.Runs != 2 {
		t.Errorf("status %+v", st)
	}

	h.s.Changed()
	h.clock.tick(t)
	h.waitStart(t)
	if r := h.finish(t, nil); r.Err != nil {
		t.Errorf("retry: %v", r.Err)
	}
	if st := h.s.Status(); st.Last.Err != nil || !st.LastSuccess.After(okAt) {
		t.Errorf("status after retry %+v", st)
	}
}

// TestFailedRunRetriedOnItsOwn: with Retry, a failed run runs again after
// Retry, then twice as long after each failure in a row, capped; a success
// stops the retries.
func TestFailedRunRetriedOnItsOwn(t *testing.T) {
	h := newRetryHarness(t, 0, 30*time.Second)
	h.s.Changed()
	boom := errors.New("index locked")
	for i, want := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute} {
		h.clock.tick(t)
		h.waitStart(t)
		h.finish(t, boom)
		if got := time.Duration(h.clock.last.Load()); got != want {
			t.Errorf("after failure %d the retry is armed for %v, want %v", i+1, got, want)
		}
	}
	for range 5 {
		h.clock.tick(t)
		h.waitStart(t)
		h.finish(t, boom)
	}
	if got := time.Duration(h.clock.last.Load()); got != 16*time.Minute {
		t.Errorf("retries are not capped at 32×Retry: armed for %v", got)
	}
	h.clock.tick(t)
	h.waitStart(t)
	armed := h.clock.armed.Load()
	h.finish(t, nil)
	if n := h.clock.armed.Load(); n != armed {
		t.Errorf("a successful run armed %d more timers, want none", n-armed)
	}
}

// TestRunNowAndInterval: RunNow runs without debounce; with an interval
// a run is due that long after the last one ended.
func TestRunNowAndInterval(t *testing.T) {
	h := newHarness(t, 15*time.Minute)
	for deadline := time.Now().Add(10 * time.Second); h.clock.armed.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("no timer armed for the interval")
		}
		runtime.Gosched()
	}
	if got := time.Duration(h.clock.last.Load()); got != 15*time.Minute {
		t.Errorf("first timer %v, want the interval", got)
	}
	h.s.RunNow()
	if got := time.Duration(h.clock.last.Load()); got != 0 {
		t.Errorf("RunNow armed %v, want 0", got)
	}
	h.clock.tick(t)
	h.waitStart(t)
	h.finish(t, nil)
	if got := time.Duration(h.clock.last.Load()); got != 15*time.Minute {
		t.Errorf("after a run the timer is %v, want the interval", got)
	}
	h.clock.tick(t) // the interval passes
	h.waitStart(t)
	h.finish(t, nil)
}

// TestMaxDelay: a steady stream of changes cannot postpone a run past
// MaxDelay.
func TestMaxDelay(t *testing.T) {
	clock := newFakeClock()
	s := NewScheduler(Options{Debounce: time.Hour, MaxDelay: time.Nanosecond, After: clock.after,
		Run: func(context.Context) (Counts, error) { return Counts{}, nil }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Loop(ctx)
	s.Changed()
	s.Changed() // the first change is older than MaxDelay now
	if got := time.Duration(clock.last.Load()); got != 0 {
		t.Errorf("timer %v, want 0 once MaxDelay has passed", got)
	}
}

// TestStopDuringRun: cancelling stops a run in progress and Loop returns;
// Changed after that does not block.
func TestStopDuringRun(t *testing.T) {
	clock := newFakeClock()
	started := make(chan struct{})
	s := NewScheduler(Options{After: clock.after, Run: func(ctx context.Context) (Counts, error) {
		close(started)
		<-ctx.Done()
		return Counts{}, ctx.Err()
	}})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { s.Loop(ctx); close(stopped) }()
	s.RunNow()
	clock.tick(t)
	<-started
	cancel()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("Loop did not return")
	}
	s.Changed()
}
