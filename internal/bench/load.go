package bench

import (
	"context"
	"os"
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

// runLoad runs op from n workers for d (each call gets the next query
// index) and reports throughput and latency.
func runLoad(ctx context.Context, n int, d time.Duration, op func(ctx context.Context, i int) error) Load {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var next, errs atomic.Int64
	var mu sync.Mutex
	var all []time.Duration
	start := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			var mine []time.Duration
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				t := time.Now()
				err := op(ctx, i)
				if ctx.Err() != nil {
					break // the run ended during the call: do not count it
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
	elapsed := time.Since(start)
	l := Load{Concurrency: n, Errors: int(errs.Load()), Latency: summarize(all)}
	l.Throughput = float64(len(all)) / elapsed.Seconds()
	return l
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
