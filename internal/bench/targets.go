package bench

import "strings"

// targets returns the goals that apply to the collection: the relevance
// floors of the collections with published baselines, and the speed and
// memory limits the product promises (stated for SciFact and for a million
// synthetic documents).
func targets(r *Report) []Check {
	var out []Check
	add := func(name string, value, goal float64, atMost bool) {
		met := value >= goal
		if atMost {
			met = value <= goal
		}
		out = append(out, Check{Name: name, Value: value, Goal: goal, AtMost: atMost, Met: met})
	}
	errs := 0
	for _, loads := range [][]Load{r.SearchLoad, r.SearchFetchLoad} {
		for _, l := range loads {
			errs += l.Errors
		}
	}
	switch name := strings.ToLower(r.Collection); {
	case name == "scifact":
		add("nDCG@10", r.Quality.NDCG10, 0.69, false)
		add("index build seconds", r.IndexSeconds, 3, true)
		add("search p50 ms (MCP, concurrency 1)", r.Search.P50, 2, true)
		add("search p99 ms (MCP, concurrency 1)", r.Search.P99, 5, true)
		add("serving peak RSS MiB", r.ServingPeakRSSMiB, 150, true)
		add("start-up ms", r.StartupMS, 1000, true)
	case name == "cranfield":
		add("nDCG@10", r.Quality.NDCG10, 0.40, false)
	case strings.HasPrefix(name, "synthetic-") && r.Documents >= 1_000_000:
		add("index peak RSS MiB", r.IndexPeakRSSMiB, 2048, true)
		add("search p99 ms (MCP, concurrency 1)", r.Search.P99, 50, true)
	}
	add("search+fetch throughput vs constant store", r.ThroughputRatio, 0.8, false)
	add("errors under load", float64(errs), 0, true)
	return out
}
