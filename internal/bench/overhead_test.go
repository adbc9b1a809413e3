package bench

import (
	"context"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/store/blevestore"
)

// BenchmarkMCPOverhead is one search tool call over Streamable HTTP on
// loopback against a store that answers at once: the cost of the MCP and
// HTTP layers alone.
//
//	go test -run '^$' -bench MCPOverhead -cpuprofile /tmp/cpu.out ./internal/bench/
func BenchmarkMCPOverhead(b *testing.B) {
	ctx := context.Background()
	s, err := startServer(ctx, defaultConstant, 0, ClientSDK)
	if err != nil {
		b.Fatal(err)
	}
	defer s.stop()
	for b.Loop() {
		if _, err := s.search(ctx, "constant query words"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearchFetch is the benchmark's search-then-fetch load at
// concurrency 16 over SciFact, against the local store and against the
// constant store, for profiling what the store adds to a call:
//
//	go test -run '^$' -bench SearchFetch -cpuprofile /tmp/cpu.out ./internal/bench/
//
// Besides time per call it reports cpu-us/op, the process's CPU time per
// call (client and server) as the kernel counts it: the ratio of the two
// cases' cpu-us/op is the throughput ratio when both keep the CPUs equally
// busy. On a shared machine both figures move from run to run; compare
// alternating runs.
func BenchmarkSearchFetch(b *testing.B) {
	c, st, typical := sciFactStore(b)
	ctx := context.Background()
	query := func(i int) string { return c.Queries[i%len(c.Queries)].Text }
	for _, tc := range []struct {
		name string
		st   store.Store
	}{{"local", st}, {"constant", typical}} {
		b.Run(tc.name, func(b *testing.B) {
			s, err := startServer(ctx, tc.st, 0, ClientHTTP)
			if err != nil {
				b.Fatal(err)
			}
			defer s.stop()
			op := s.searchFetch(query)
			var next atomic.Int64
			b.SetParallelism(8) // 16 callers on 2 CPUs
			runtime.GC()
			b.ResetTimer()
			cpu := processCPU()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := op(ctx, int(next.Add(1))); err != nil {
						b.Error(err)
						return
					}
				}
			})
			if cpu := processCPU() - cpu; cpu > 0 {
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/op")
			}
		})
	}
}

// BenchmarkSearchSerial is the benchmark's latency run: one search at a
// time over SciFact through the lean client, as connector-bench measures
// p50 and p99 at concurrency 1, with the same cpu-us/op as
// BenchmarkSearchFetch.
//
//	go test -run '^$' -bench SearchSerial -cpuprofile /tmp/cpu.out ./internal/bench/
func BenchmarkSearchSerial(b *testing.B) {
	c, st, _ := sciFactStore(b)
	ctx := context.Background()
	s, err := startServer(ctx, st, 0, ClientHTTP)
	if err != nil {
		b.Fatal(err)
	}
	defer s.stop()
	runtime.GC()
	cpu := processCPU()
	for i := 0; b.Loop(); i++ {
		if _, err := s.search(ctx, c.Queries[i%len(c.Queries)].Text); err != nil {
			b.Fatal(err)
		}
	}
	if cpu := processCPU() - cpu; cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-us/op")
	}
}

// sciFactStore indexes SciFact from ../shared/data into a temporary folder
// and opens it, with the constant store the benchmark compares it with; it
// skips the benchmark when the collection is not there.
func sciFactStore(tb testing.TB) (*Collection, *blevestore.Store, constantStore) {
	tb.Helper()
	dir, _ := filepath.Abs("../../../shared/data/scifact")
	c, err := LoadBEIR(dir)
	if err != nil {
		tb.Skip("SciFact not present at " + dir)
	}
	idx := tb.TempDir()
	if _, err := build(context.Background(), idx, c, slog.New(slog.DiscardHandler), nil); err != nil {
		tb.Fatal(err)
	}
	st, err := blevestore.Open(idx, access.DefaultAuthenticated, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	typical, err := typicalAnswer(context.Background(), st, c.Queries)
	if err != nil {
		tb.Fatal(err)
	}
	return c, st, typical
}
