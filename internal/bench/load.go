package bench

import (
	"context"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Latency summarises the durations of a run.
type Latency struct {
	Calls int     `json:"calls"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Mean  float64 `json:"mean_ms"`
}

func summarize(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	slices.Sort(d)
	pct := func(p float64) float64 {
		i := int(float64(len(d)-1) * p)
		return ms(d[i])
	}
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return Latency{Calls: len(d), P50: pct(0.50), P95: pct(0.95), P99: pct(0.99), Mean: ms(sum / time.Duration(len(d)))}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Load is one throughput measurement: workers calling op as fast as they
// can for a while.
type Load struct {
	Concurrency int     `json:"concurrency"`
	Throughput  float64 `json:"ops_per_second"`
	Errors      int     `json:"errors"`
	Latency
}

// loadRound is how long each operation runs at a time in runLoads.
const loadRound = 500 * time.Millisecond

// runLoads measures operations, each called by n workers as fast as they
// can for d in all (each call gets the next query index), and reports their
// throughput and latency. The operations take turns, round runs at a time,
// so that a change in the machine's speed during the run (it may share its
// CPUs) touches them all alike and comparing them is fair.
func runLoads(ctx context.Context, n int, d, round time.Duration, ops ...func(ctx context.Context, i int) error) []Load {
	rounds := max(1, int(d/round))
	runs := make([]loadRun, len(ops))
	var next atomic.Int64 // query index, shared so each op sees the queries in turn
	for range rounds {
		for k, op := range ops {
			if ctx.Err() != nil {
				break
			}
			// Each round starts with the garbage of the one before it
			// collected, so that no operation pays for another's.
			runtime.GC()
			runs[k].add(runOnce(ctx, n, d/time.Duration(rounds), &next, op))
		}
	}
	out := make([]Load, len(ops))
	for k, r := range runs {
		out[k] = Load{Concurrency: n, Errors: r.errs, Latency: summarize(r.calls)}
		if r.elapsed > 0 {
			out[k].Throughput = float64(len(r.calls)) / r.elapsed.Seconds()
		}
	}
	return out
}

// latencyRound is how many calls each operation makes at a time in
// serialLatencies.
const latencyRound = 100

// serialLatencies calls each operation calls times, one call at a time, and
// returns the durations of each one's calls. Like runLoads, the operations
// take turns, round calls at a time, each turn starting with the garbage of
// the last collected, so that comparing them is fair on a machine whose
// speed changes while it runs. Call i of each operation gets query index i.
func serialLatencies(ctx context.Context, calls, round int, ops ...func(ctx context.Context, i int) error) ([][]time.Duration, error) {
	out := make([][]time.Duration, len(ops))
	for from := 0; from < calls; from += round {
		for k, op := range ops {
			runtime.GC()
			for i := from; i < min(from+round, calls); i++ {
				t := time.Now()
				if err := op(ctx, i); err != nil {
					return nil, err
				}
				out[k] = append(out[k], time.Since(t))
			}
		}
	}
	return out, nil
}

// loadRun is what a measurement collected.
type loadRun struct {
	calls   []time.Duration
	errs    int
	elapsed time.Duration
}

func (r *loadRun) add(o loadRun) {
	r.calls = append(r.calls, o.calls...)
	r.errs += o.errs
	r.elapsed += o.elapsed
}

// runOnce runs op from n workers for d. Calls under way when d is up are
// let finish, and counted: cancelling them would waste the server work they
// had cost and leave it to slow down whatever runs next.
func runOnce(ctx context.Context, n int, d time.Duration, next *atomic.Int64, op func(ctx context.Context, i int) error) loadRun {
	var errs atomic.Int64
	var mu sync.Mutex
	var all []time.Duration
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			var mine []time.Duration
			for ctx.Err() == nil && time.Now().Before(deadline) {
				i := int(next.Add(1) - 1)
				t := time.Now()
				err := op(ctx, i)
				if ctx.Err() != nil {
					break // the whole run was cancelled
				}
				mine = append(mine, time.Since(t))
				if err != nil {
					errs.Add(1)
				}
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return loadRun{calls: all, errs: int(errs.Load()), elapsed: time.Since(start)}
}

// Memory reads this process's peak resident set size (Linux), and resets it.
type Memory struct{}

// ResetPeak starts a new peak measurement; it reports whether it could.
func (Memory) ResetPeak() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// PeakMiB returns the peak resident set size since the last reset, in MiB,
// or 0 where /proc is not available.
func (Memory) PeakMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			if err == nil {
				return float64(kb) / 1024
			}
		}
	}
	return 0
}
