package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/connectorhq/connector/internal/cli/clitest"
	"github.com/connectorhq/connector/internal/embed/embedtest"
)

// These tests build connector-bench and run it as users do.

var binary string // path of the built connector-bench

func TestMain(m *testing.M) { clitest.Main(m, "connector-bench", &binary) }

func runCLI(t *testing.T, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()
	return clitest.Run(t, binary, dir, env, args...)
}

// TestBenchFlags checks that connector-bench refuses bad flags at once,
// naming the flag, before it indexes anything, and leaves no plot file
// behind.
func TestBenchFlags(t *testing.T) {
	dir := t.TempDir()
	plot := filepath.Join(dir, "missing", "plot.svg")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--synthetic", "-5"}, "--synthetic -5"},
		{[]string{"--duration", "0s", "--synthetic", "10"}, "--duration 0s"},
		{[]string{"--duration", "-1s", "--synthetic", "10"}, "--duration -1s"},
		{[]string{"--client", "curl", "--synthetic", "10"}, `--client "curl"`},
		{[]string{"--plot", plot, "--synthetic", "10"}, "--plot"},
		{[]string{"--synthetic", "10", "extra"}, "give one BEIR folder"},
		{[]string{filepath.Join(dir, "nowhere")}, "nowhere: the folder does not exist"},
		{[]string{filepath.Join(dir, "nowhere")}, "BEIR/datasets/scifact.zip"},
		{[]string{"--log-level", "loud", "--synthetic", "10"}, "--log-level"},
		{[]string{"--env-file", filepath.Join(dir, "none.env"), "--synthetic", "10"}, "none.env"},
		{[]string{"--minisearch", "--synthetic", "10"}, "--minisearch: bench/minisearch/server.ts is not in"},
	} {
		_, stderr, code := runCLI(t, dir, nil, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "indexing") {
			t.Errorf("%v: exit %d, stderr %q; want %d naming %q, before indexing", tc.args, code, stderr, exitUsage, tc.want)
		}
	}
}

// TestBenchUsage: -h prints the synopsis, the flags and what the garbage
// collector runs at.
func TestBenchUsage(t *testing.T) {
	_, stderr, code := runCLI(t, t.TempDir(), nil, "-h")
	for _, want := range []string{"Usage: connector-bench", "-synthetic", "-log-level", "-env-file", "GOMEMLIMIT", "-minisearch", "scripts/install-bench-baseline.sh"} {
		if code != 0 || !strings.Contains(stderr, want) {
			t.Errorf("-h: exit %d, want 0 and %q in\n%s", code, want, stderr)
		}
	}
}

// TestBenchSmoke runs connector-bench on Cranfield once: it completes and
// its quality is far above chance (the targets are the benchmark's to report).
func TestBenchSmoke(t *testing.T) {
	coll, _ := filepath.Abs(filepath.Join("..", "..", "..", "shared", "data", "cranfield"))
	if _, err := os.Stat(filepath.Join(coll, "corpus.jsonl")); err != nil {
		t.Skip("Cranfield collection not present at " + coll)
	}
	plot := filepath.Join(t.TempDir(), "plot.svg")
	profile := filepath.Join(t.TempDir(), "cpu.pprof")
	out, stderr, code := runCLI(t, t.TempDir(), nil, "--json", "--duration", "200ms", "--plot", plot, "--cpuprofile", profile, coll)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var rep struct {
		Documents int64
		Quality   struct {
			NDCG10 float64 `json:"ndcg_at_10"`
		}
		Targets []struct{ Name string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if rep.Documents < 1398 || rep.Quality.NDCG10 < 0.2 || len(rep.Targets) == 0 { // two records have no text
		t.Errorf("report: %+v", rep)
	}
	if info, err := os.Stat(plot); err != nil || info.Size() < 1000 {
		t.Errorf("plot not written: %v", err)
	}
	if info, err := os.Stat(profile); err != nil || info.Size() < 100 {
		t.Errorf("CPU profile not written: %v", err)
	}
}

// TestBenchWritesNothingByDefault: without --plot, --keep-index or
// --cpuprofile a run leaves nothing behind, in the working folder (a clone,
// usually) or in the temporary folder it indexes in.
func TestBenchWritesNothingByDefault(t *testing.T) {
	work, tmp := t.TempDir(), t.TempDir()
	_, stderr, code := runCLI(t, work, []string{"TMPDIR=" + tmp}, "--synthetic", "200", "--duration", "100ms")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, dir := range []string{work, tmp} {
		if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
			t.Errorf("%s holds %v after the run (%v), want nothing", dir, entries, err)
		}
	}
}

// TestBenchMiniSearch runs connector-bench --minisearch from the repository,
// as its usage says: the report has the baseline's load and the ratio, and
// the run leaves nothing in the temporary folder (the baseline's corpus).
func TestBenchMiniSearch(t *testing.T) {
	if _, err := os.Stat(filepath.Join("..", "..", "bench", "minisearch", "node_modules", "minisearch")); err != nil {
		msg := "the TypeScript MiniSearch baseline is not installed; run scripts/install-bench-baseline.sh"
		if os.Getenv("CONNECTOR_REQUIRE_CLIENTS") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg + " (make test does)")
	}
	tmp := t.TempDir()
	out, stderr, code := runCLI(t, ".", []string{"TMPDIR=" + tmp}, "--json", "--minisearch", "--synthetic", "200", "--duration", "200ms")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var rep struct {
		Baseline []struct {
			Throughput float64 `json:"ops_per_second"`
			Errors     int
		} `json:"minisearch_search_fetch_load"`
		Ratio   float64 `json:"throughput_vs_minisearch"`
		Targets []struct{ Name string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if len(rep.Baseline) == 0 || rep.Baseline[0].Throughput <= 0 || rep.Ratio <= 0 {
		t.Errorf("report lacks the baseline's load or the ratio: %+v", rep)
	}
	if entries, err := os.ReadDir(tmp); err != nil || len(entries) != 0 {
		t.Errorf("%s holds %v after the run (%v), want nothing", tmp, entries, err)
	}
}

// TestBenchHybrid runs connector-bench with EMBEDDINGS=openai against an
// embeddings API double: the run indexes and searches hybrid, reports the
// model, and no call fails.
func TestBenchHybrid(t *testing.T) {
	api := embedtest.NewServer(t, embedtest.New("fake-model", 64), "sk-bench-e2e")
	env := []string{"EMBEDDINGS=openai", "EMBEDDINGS_BASE_URL=" + api.URL + "/v1/", "EMBEDDINGS_MODEL=fake-model",
		"EMBEDDINGS_DIMENSIONS=64", "EMBEDDINGS_API_KEY=sk-bench-e2e"}
	out, stderr, code := runCLI(t, t.TempDir(), env, "--json", "--synthetic", "200", "--duration", "100ms")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	var rep struct {
		Embeddings string
		Search     struct{ Calls int }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if !strings.Contains(rep.Embeddings, "fake-model") || rep.Search.Calls == 0 {
		t.Errorf("report: %+v", rep)
	}
	if strings.Contains(out+stderr, "sk-bench-e2e") {
		t.Error("the API key is in the output")
	}
}
