package bench

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the report for people.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }
	p("collection\t%s (%d documents, %d judged queries)", r.Collection, r.Documents, r.Quality.Queries)
	if r.Embeddings != "" {
		p("ranking\thybrid: BM25 fused with %s", r.Embeddings)
	}
	p("")
	p("quality\tnDCG@10 %.4f\tRecall@10 %.4f\tRecall@100 %.4f\tMRR@10 %.4f",
		r.Quality.NDCG10, r.Quality.Recall10, r.Quality.Recall100, r.Quality.MRR10)
	p("index build\t%.2f s\t%.0f docs/s\t%.1f MiB on disk\tpeak RSS %.0f MiB", r.IndexSeconds, r.IndexDocsPerSecond, r.IndexSizeMiB, r.IndexPeakRSSMiB)
	p("start-up\t%.0f ms (open an existing index)", r.StartupMS)
	p("search, MCP, c=1\tp50 %.2f ms\tp95 %.2f ms\tp99 %.2f ms\t(%d calls)", r.Search.P50, r.Search.P95, r.Search.P99, r.Search.Calls)
	p("  constant store\tp50 %.2f ms\tp95 %.2f ms\tp99 %.2f ms\t(in turns with the above: the MCP layer alone)",
		r.SearchConstant.P50, r.SearchConstant.P95, r.SearchConstant.P99)
	p("store search split\tranking %.2f ms\tsnippets %.2f ms\t(mean per search, no MCP)", r.StoreRetrieveMS, r.StoreSnippetsMS)
	p("serving\tpeak RSS %.0f MiB", r.ServingPeakRSSMiB)
	p("")
	p("throughput\tconcurrency\tops/s\tp99 ms\terrors")
	row := func(name string, loads []Load) {
		for _, l := range loads {
			p("%s\t%d\t%.0f\t%.2f\t%d", name, l.Concurrency, l.Throughput, l.P99, l.Errors)
		}
	}
	row("search", r.SearchLoad)
	row("search+fetch", r.SearchFetchLoad)
	row("search+fetch, constant store", r.ConstantFetchLoad)
	row("search+fetch, TypeScript MiniSearch", r.MiniSearchFetchLoad)
	if n := len(r.SearchFetchLoad); n > 0 {
		c := r.SearchFetchLoad[n-1].Concurrency
		p("") // the ratios align among themselves, not with the loads
		p("search+fetch vs constant store\t%.2f× at concurrency %d\t(what the MCP layer costs; not a target)", r.ThroughputRatio, c)
		if m := len(r.MiniSearchFetchLoad); m > 0 {
			note := ""
			if errs := r.MiniSearchFetchLoad[m-1].Errors; errs > 0 {
				note = fmt.Sprintf("\t(the baseline had %d errors)", errs)
			}
			p("search+fetch vs TypeScript MiniSearch\t%.1f× at concurrency %d%s", r.ThroughputVsMiniSearch, c, note)
		}
	}
	p("")
	p("target\tvalue\tgoal\tmet")
	for _, c := range r.Targets {
		op := "≥"
		if c.AtMost {
			op = "≤"
		}
		met := "yes"
		if !c.Met {
			met = "NO"
		}
		p("%s\t%s\t%s %s\t%s", c.Name, num(c.Value), op, num(c.Goal), met)
	}
	p("")
	client := "a lean Streamable HTTP client"
	if r.Client == ClientSDK {
		client = "go-sdk's client"
	}
	baseline := ""
	if len(r.MiniSearchFetchLoad) > 0 {
		baseline = "; the MiniSearch baseline runs in its own node process"
	}
	p("machine\t%d CPUs, %s; %s and the server share this process%s", r.CPUs, r.GoVersion, client, baseline)
	return tw.Flush()
}

func num(v float64) string {
	s := fmt.Sprintf("%.4f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "" || s == "-" {
		return "0"
	}
	return s
}
