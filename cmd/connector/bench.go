package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/connectorhq/connector/internal/bench"
)

const benchUsage = `bench [flags] BEIR-FOLDER | bench --synthetic N [flags]

Builds the local index of a BEIR collection (corpus.jsonl, queries.jsonl,
qrels.tsv), serves it, runs every judged query through the MCP search tool,
and reports quality (nDCG@10, Recall@10/100, MRR@10), index build time and
size, search latency, throughput at several concurrencies (search alone, and
search then fetch of the top hit, beside a constant store), peak memory,
and the targets met. --synthetic N generates N documents instead.`

func (e env) bench(ctx context.Context, args []string) int {
	var (
		synthetic int
		seed      uint64
		asJSON    bool
		plotFile  string
		keep      string
		duration  time.Duration
		client    string
		profile   string
	)
	c, code, ok := e.setup("bench", benchUsage, forBench, args, func(fs *flag.FlagSet) {
		fs.IntVar(&synthetic, "synthetic", 0, "generate this many documents (about 150 words each) instead of reading a collection")
		fs.Uint64Var(&seed, "seed", 1, "seed of --synthetic")
		fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
		fs.StringVar(&plotFile, "plot", "", "also draw latency and throughput against concurrency into this SVG file")
		fs.StringVar(&keep, "keep-index", "", "build the index in this folder and keep it (default: a temporary folder)")
		fs.DurationVar(&duration, "duration", 3*time.Second, "length of each throughput measurement")
		fs.StringVar(&profile, "cpuprofile", "", "write a CPU profile of the serving measurements to this file (read it with go tool pprof)")
		fs.StringVar(&client, "client", bench.ClientHTTP, `MCP client that loads the server: "http" (a lean Streamable HTTP client, as remote clients are) or "sdk" (go-sdk's client, which shares the CPUs with the server)`)
	})
	if !ok {
		return code
	}
	// Flags are checked before the run, which may index for minutes.
	usage := func(format string, args ...any) int {
		fmt.Fprintf(e.stderr, "connector bench: "+format+"\n", args...)
		return exitUsage
	}
	switch {
	case synthetic < 0:
		return usage("--synthetic %d: give a positive number of documents", synthetic)
	case duration <= 0:
		return usage("--duration %s: give a positive length, such as 3s", duration)
	case client != bench.ClientHTTP && client != bench.ClientSDK:
		return usage("--client %q: give %q or %q", client, bench.ClientHTTP, bench.ClientSDK)
	}
	var coll *bench.Collection
	switch {
	case synthetic > 0 && len(c.args) == 0:
		coll = bench.Synthetic(synthetic, seed)
	case synthetic == 0 && len(c.args) == 1:
		var err error
		if coll, err = bench.LoadBEIR(c.args[0]); err != nil {
			return usage("%v", err)
		}
	default:
		return usage("give one BEIR folder (e.g. ../shared/data/scifact) or --synthetic N")
	}
	opts := bench.Options{
		Collection: coll, IndexDir: keep, Duration: duration, Logger: c.logger, Client: client,
		Stage: func(format string, args ...any) { fmt.Fprintf(e.stderr, "bench: "+format+"\n", args...) },
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return usage("--cpuprofile: %v", err)
		}
		defer f.Close()
		opts.CPUProfile = f
	}
	// The plot's file is made now, so that a path that cannot be written
	// fails before the run rather than after it; a failed run removes it.
	var plot *os.File
	if plotFile != "" {
		var err error
		if plot, err = os.Create(plotFile); err != nil {
			return usage("--plot: %v", err)
		}
		defer plot.Close()
	}
	rep, err := bench.Run(ctx, opts)
	if err != nil {
		if plot != nil {
			os.Remove(plotFile)
		}
		fmt.Fprintf(e.stderr, "connector bench: %v\n", err)
		return exitFailure
	}
	if plot != nil {
		err := rep.WritePlot(plot)
		if cerr := plot.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "connector bench: plot: %v\n", err)
			return exitFailure
		}
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return exitFailure
		}
		return exitOK
	}
	if err := rep.WriteTable(e.stdout); err != nil {
		return exitFailure
	}
	return exitOK
}
