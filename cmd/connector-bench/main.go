// Command connector-bench measures the connector's quality and speed on a
// judged collection: it builds the local index, serves it in-process as
// `connector serve` does, and loads it over MCP. It is a command of its own
// so that the server binary carries no plotting stack or load generator.
//
//	go run ./cmd/connector-bench [flags] BEIR-FOLDER
//	go run ./cmd/connector-bench --synthetic N [flags]
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/connectorhq/connector/internal/bench"
	"github.com/connectorhq/connector/internal/cli"
	"github.com/connectorhq/connector/internal/embed"
)

// Exit codes, as connector's.
const (
	exitOK      = 0
	exitFailure = 1 // the run failed
	exitUsage   = 2 // bad flags or arguments: nothing was measured
)

func main() {
	os.Exit(run(cli.SignalContext(), os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

const usage = `Usage: connector-bench [flags] BEIR-FOLDER | connector-bench --synthetic N [flags]

Builds the local index of a BEIR collection (corpus.jsonl, queries.jsonl,
qrels.tsv), serves it, runs every judged query through the MCP search tool,
and reports quality (nDCG@10, Recall@10/100, MRR@10), index build time and
size, search latency, throughput at several concurrencies (search alone, and
search then fetch of the top hit, beside a constant store that shows what
the MCP layer costs), peak memory, and the targets met. --synthetic N
generates N documents instead.

--minisearch also starts bench/minisearch, a plain TypeScript MCP server
over an in-memory MiniSearch index of the same documents, and loads it in
turns with the connector: the throughput target is 10 times its
search+fetch throughput at the highest concurrency. Install it once with
scripts/install-bench-baseline.sh (npm).

Targets: nDCG@10 at least 0.69 on SciFact and 0.40 on Cranfield; search
p99 at concurrency 1 at most 20 ms on SciFact; at a million synthetic
documents or more, index peak RSS at most 2048 MiB, at least 2000 docs/s
indexed and search p99 at most 100 ms; no errors under load in any run.

The garbage collector runs as in connector: at Go's defaults unless GOGC or
GOMEMLIMIT is set, so that the numbers are the server's.

Flags:
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	var (
		synthetic int
		seed      uint64
		asJSON    bool
		plotFile  string
		keep      string
		duration  time.Duration
		client    string
		profile   string
		baseline  bool
	)
	fs := flag.NewFlagSet("connector-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envFile := cli.EnvFileFlag(fs)
	logging := cli.AddLogging(fs)
	fs.IntVar(&synthetic, "synthetic", 0, "generate this many documents (about 150 words each) instead of reading a collection")
	fs.Uint64Var(&seed, "seed", 1, "seed of --synthetic")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fs.StringVar(&plotFile, "plot", "", "also draw latency and throughput against concurrency into this SVG file")
	fs.StringVar(&keep, "keep-index", "", "build the index in this folder and keep it (default: a temporary folder)")
	fs.DurationVar(&duration, "duration", 3*time.Second, "length of each throughput measurement")
	fs.StringVar(&profile, "cpuprofile", "", "write a CPU profile of the serving measurements to this file (read it with go tool pprof)")
	fs.BoolVar(&baseline, "minisearch", false, "start the TypeScript MiniSearch server from "+bench.BaselineDir+" (a Node child process) and compare its search+fetch throughput; it needs scripts/install-bench-baseline.sh first")
	fs.StringVar(&client, "client", bench.ClientHTTP, `MCP client that loads the server: "http" (a lean Streamable HTTP client, as remote clients are) or "sdk" (go-sdk's client, which shares the CPUs with the server)`)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		cli.PrintFlags(stderr, fs)
	}
	positional, err := cli.Parse(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case err != nil:
		return exitUsage
	}
	// Flags are checked before the run, which may index for minutes.
	fail := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "connector-bench: "+format+"\n", args...)
		return exitUsage
	}
	envFileGiven := false
	fs.Visit(func(f *flag.Flag) { envFileGiven = envFileGiven || f.Name == "env-file" })
	getenv, err = cli.Getenv(getenv, *envFile, envFileGiven)
	if err != nil {
		return fail("%v", err)
	}
	logger, err := logging.Logger(stderr, getenv)
	if err != nil {
		return fail("invalid configuration:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	switch {
	case synthetic < 0:
		return fail("--synthetic %d: give a positive number of documents", synthetic)
	case duration <= 0:
		return fail("--duration %s: give a positive length, such as 3s", duration)
	case client != bench.ClientHTTP && client != bench.ClientSDK:
		return fail("--client %q: give %q or %q", client, bench.ClientHTTP, bench.ClientSDK)
	}
	var coll *bench.Collection
	switch {
	case synthetic > 0 && len(positional) == 0:
		coll = bench.Synthetic(synthetic, seed)
	case synthetic == 0 && len(positional) == 1:
		if coll, err = bench.LoadBEIR(positional[0]); err != nil {
			return fail("%v", err)
		}
	default:
		return fail("give one BEIR folder (e.g. ../shared/data/scifact) or --synthetic N")
	}
	opts := bench.Options{
		Collection: coll, IndexDir: keep, Duration: duration, Logger: logger, Client: client,
		Stage: func(format string, args ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", args...) },
	}
	// EMBEDDINGS and its settings, as connector reads them, make the run
	// hybrid (issue 18).
	if opts.Embedder, err = embedder(getenv, logger); err != nil {
		return fail("%v", err)
	}
	if c, ok := opts.Embedder.(io.Closer); ok {
		defer c.Close()
	}
	if baseline {
		// Found and checked now, before the run indexes for minutes.
		if opts.Baseline, err = bench.FindBaseline("."); err != nil {
			return fail("--minisearch: %v", err)
		}
		if _, err := bench.CheckBaseline(ctx, opts.Baseline); err != nil {
			return fail("--minisearch: %v", err)
		}
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return fail("--cpuprofile: %v", err)
		}
		defer f.Close()
		opts.CPUProfile = f
	}
	// The plot's file is made now, so that a path that cannot be written
	// fails before the run rather than after it; a failed run removes it.
	var plot *os.File
	if plotFile != "" {
		if plot, err = os.Create(plotFile); err != nil {
			return fail("--plot: %v", err)
		}
		defer plot.Close()
	}
	rep, err := bench.Run(ctx, opts)
	if err != nil {
		if plot != nil {
			os.Remove(plotFile)
		}
		fmt.Fprintf(stderr, "connector-bench: %v\n", err)
		return exitFailure
	}
	if plot != nil {
		err := rep.WritePlot(plot)
		if cerr := plot.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			fmt.Fprintf(stderr, "connector-bench: plot: %v\n", err)
			return exitFailure
		}
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return exitFailure
		}
		return exitOK
	}
	if err := rep.WriteTable(stdout); err != nil {
		return exitFailure
	}
	return exitOK
}

// embedder builds the embedder the EMBEDDINGS settings name, or nil for
// none (BM25 alone).
func embedder(getenv func(string) string, logger *slog.Logger) (embed.Embedder, error) {
	cfg := embed.Config{
		Provider: getenv("EMBEDDINGS"), Model: getenv("EMBEDDINGS_MODEL"),
		ModelDir: getenv("EMBEDDINGS_MODEL_DIR"), LibraryPath: getenv("ONNXRUNTIME_LIB"),
		BaseURL: getenv("EMBEDDINGS_BASE_URL"), APIKey: cmp.Or(getenv("EMBEDDINGS_API_KEY"), getenv("OPENAI_API_KEY")),
		MaxRetries: 2, Timeout: 30 * time.Second, Logger: logger,
	}
	if d := getenv("EMBEDDINGS_DIMENSIONS"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil {
			return nil, fmt.Errorf("EMBEDDINGS_DIMENSIONS=%q: want a number", d)
		}
		cfg.Dims = n
	}
	return embed.New(cfg)
}
