package bench

import (
	"slices"
	"testing"
)

// checkNames returns the names of the checks and whether each was met.
func checkNames(checks []Check) map[string]bool {
	out := map[string]bool{}
	for _, c := range checks {
		out[c.Name] = c.Met
	}
	return out
}

// TestTargets: each collection gets the targets for it, every run
// gets the errors check, and the MiniSearch ratio is judged only when the
// baseline ran; the constant store is never a target.
func TestTargets(t *testing.T) {
	loads := func(errs int) []Load { return []Load{{Concurrency: 16, Throughput: 1000, Errors: errs}} }
	for _, tc := range []struct {
		name string
		r    Report
		want map[string]bool // check name: met
	}{
		{"scifact met", Report{Collection: "scifact", Quality: Quality{NDCG10: 0.70}, Search: Latency{P99: 19.9}, SearchLoad: loads(0), SearchFetchLoad: loads(0)},
			map[string]bool{"nDCG@10": true, "search p99 ms (MCP, concurrency 1)": true, "errors under load": true}},
		{"scifact missed", Report{Collection: "SciFact", Quality: Quality{NDCG10: 0.68}, Search: Latency{P99: 20.1}, SearchLoad: loads(0), SearchFetchLoad: loads(2)},
			map[string]bool{"nDCG@10": false, "search p99 ms (MCP, concurrency 1)": false, "errors under load": false}},
		{"cranfield", Report{Collection: "cranfield", Quality: Quality{NDCG10: 0.40}},
			map[string]bool{"nDCG@10": true, "errors under load": true}},
		{"a million synthetic", Report{Collection: "synthetic-1000000", Documents: 1_000_000, IndexPeakRSSMiB: 2048, IndexDocsPerSecond: 1999, Search: Latency{P99: 80}},
			map[string]bool{"index peak RSS MiB": true, "indexing docs/s": false, "search p99 ms (MCP, concurrency 1)": true, "errors under load": true}},
		{"fewer synthetic", Report{Collection: "synthetic-100000", Documents: 100_000, IndexPeakRSSMiB: 5000, Search: Latency{P99: 500}},
			map[string]bool{"errors under load": true}},
		{"other collection", Report{Collection: "nfcorpus", Quality: Quality{NDCG10: 0.1}},
			map[string]bool{"errors under load": true}},
		{"baseline, 10x", Report{Collection: "synthetic-100", MiniSearchFetchLoad: loads(0), ThroughputVsMiniSearch: 10, ThroughputRatio: 0.5},
			map[string]bool{"errors under load": true, "search+fetch throughput vs TypeScript MiniSearch": true}},
		{"baseline, 9.9x", Report{Collection: "synthetic-100", MiniSearchFetchLoad: loads(3), ThroughputVsMiniSearch: 9.9},
			map[string]bool{"errors under load": true, "search+fetch throughput vs TypeScript MiniSearch": false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checks := targets(&tc.r)
			got := checkNames(checks)
			if len(got) != len(checks) {
				t.Errorf("a check appears twice: %+v", checks)
			}
			for name, met := range tc.want {
				if m, ok := got[name]; !ok || m != met {
					t.Errorf("%q: present %v, met %v; want met %v", name, ok, m, met)
				}
			}
			for name := range got {
				if _, ok := tc.want[name]; !ok {
					t.Errorf("unexpected check %q", name)
				}
			}
		})
	}
}

// TestTargetsDirection: limits are at most, floors at least.
func TestTargetsDirection(t *testing.T) {
	r := &Report{Collection: "synthetic-1000000", Documents: 1_000_000, MiniSearchFetchLoad: []Load{{}}}
	atMost := []string{"index peak RSS MiB", "search p99 ms (MCP, concurrency 1)", "errors under load"}
	for _, c := range targets(r) {
		if c.AtMost != slices.Contains(atMost, c.Name) {
			t.Errorf("%q: at most %v", c.Name, c.AtMost)
		}
	}
}

// TestHybridTargets: a run with embeddings is held to issue 18's goals.
func TestHybridTargets(t *testing.T) {
	r := &Report{Collection: "scifact", Embeddings: "all-MiniLM-L6-v2 (384 dims)",
		Quality: Quality{NDCG10: 0.71}, Search: Latency{P99: 30}}
	got := map[string]Check{}
	for _, c := range targets(r) {
		got[c.Name] = c
	}
	if c := got["nDCG@10"]; c.Goal != 0.72 || c.Met {
		t.Errorf("nDCG@10 check %+v: want goal 0.72, not met", c)
	}
	if c := got["search p99 ms (MCP, concurrency 1)"]; c.Goal != 50 || !c.Met {
		t.Errorf("p99 check %+v: want goal 50, met", c)
	}
}
