package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/connectorhq/connector/internal/store"
)

// installedBaseline returns the repository's bench/minisearch, or skips the
// test when it is not installed (fails when CONNECTOR_REQUIRE_CLIENTS is
// set, as scripts/test.sh does).
func installedBaseline(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", filepath.FromSlash(BaselineDir)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CheckBaseline(t.Context(), dir); err != nil {
		if os.Getenv("CONNECTOR_REQUIRE_CLIENTS") != "" {
			t.Fatal(err)
		}
		t.Skipf("%v (make test does)", err)
	}
	return dir
}

// children returns the processes whose parent is this one.
func children(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc to list child processes in")
	}
	self := strconv.Itoa(os.Getpid())
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after ')'.
		if i := bytes.LastIndexByte(b, ')'); i >= 0 {
			if f := strings.Fields(string(b[i+1:])); len(f) > 1 && f[1] == self {
				out = append(out, pid)
			}
		}
	}
	return out
}

// processGone reports whether pid has exited and been reaped.
func processGone(pid int) bool {
	_, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid)))
	return errors.Is(err, fs.ErrNotExist)
}

// TestRunWithBaseline runs a tiny benchmark with the TypeScript MiniSearch
// baseline: its load is measured at each concurrency without errors, the
// ratio and its target are reported, and no child process is left.
func TestRunWithBaseline(t *testing.T) {
	dir := installedBaseline(t)
	before := len(children(t))
	rep, err := Run(t.Context(), Options{Collection: Synthetic(300, 7), Baseline: dir,
		Duration: 200 * time.Millisecond, Concurrency: []int{1, 4}, LatencyCalls: 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.MiniSearchFetchLoad) != 2 {
		t.Fatalf("baseline loads %+v, want one per concurrency", rep.MiniSearchFetchLoad)
	}
	for _, l := range rep.MiniSearchFetchLoad {
		if l.Throughput <= 0 || l.Errors != 0 {
			t.Errorf("baseline load at %d: %.0f ops/s, %d errors; want some and none", l.Concurrency, l.Throughput, l.Errors)
		}
	}
	want := rep.SearchFetchLoad[1].Throughput / rep.MiniSearchFetchLoad[1].Throughput
	if rep.ThroughputVsMiniSearch <= 0 || rep.ThroughputVsMiniSearch != want {
		t.Errorf("throughput vs MiniSearch %g, want %g", rep.ThroughputVsMiniSearch, want)
	}
	found := false
	for _, c := range rep.Targets {
		found = found || c.Name == "search+fetch throughput vs TypeScript MiniSearch" && c.Value == want && c.Goal == 10
	}
	if !found {
		t.Errorf("targets %+v lack the MiniSearch ratio", rep.Targets)
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"search+fetch, TypeScript MiniSearch", "search+fetch vs TypeScript MiniSearch", "search+fetch, constant store"} {
		if !strings.Contains(table.String(), line) {
			t.Errorf("table lacks %q:\n%s", line, table.String())
		}
	}
	var svg bytes.Buffer
	if err := rep.WritePlot(&svg); err != nil || !strings.Contains(svg.String(), "TypeScript MiniSearch") {
		t.Errorf("plot lacks the baseline's series: %v", err)
	}
	if after := len(children(t)); after > before {
		t.Errorf("%d child processes after the run, %d before: the baseline was left running", after, before)
	}
}

// TestBaselineStops: the baseline's process is gone once it is stopped, and
// once the run's context is cancelled; its corpus file is removed as soon
// as it listens.
func TestBaselineStops(t *testing.T) {
	dir := installedBaseline(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	logger := slog.New(slog.DiscardHandler)
	s, err := startBaseline(t.Context(), dir, Synthetic(50, 1), logger)
	if err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("%s holds %v while the baseline serves, want its corpus removed", tmp, entries)
	}
	if ids, err := s.search(t.Context(), "anything"); err != nil {
		t.Errorf("search: %v (%v)", err, ids)
	}
	pid := s.pid
	if processGone(pid) || !slices.Contains(children(t), pid) {
		t.Fatalf("baseline pid %d is not running as a child of this process", pid)
	}
	s.stop()
	if !processGone(pid) {
		t.Errorf("baseline pid %d still there after stop", pid)
	}

	ctx, cancel := context.WithCancel(t.Context())
	s, err = startBaseline(ctx, dir, Synthetic(50, 1), logger)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	s.stop()
	if !processGone(s.pid) {
		t.Errorf("baseline pid %d still there after its context was cancelled", s.pid)
	}
}

// TestBaselineUnknownID: fetch of an id the baseline does not have is a
// tool error, as in the connector.
func TestBaselineUnknownID(t *testing.T) {
	dir := installedBaseline(t)
	s, err := startBaseline(t.Context(), dir, Synthetic(20, 1), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer s.stop()
	text, isError, err := s.client.callTool(t.Context(), "fetch", map[string]string{"id": "no-such-id"})
	if err != nil || !isError {
		t.Errorf("fetch of an unknown id: %q, isError %v, %v; want a tool error", text, isError, err)
	}
	text, isError, err = s.client.callTool(t.Context(), "fetch", map[string]string{"id": "syn-3"})
	var doc struct{ ID, Title, Text string }
	if err != nil || isError || json.Unmarshal([]byte(text), &doc) != nil || doc.ID != "syn-3" || doc.Text == "" {
		t.Errorf("fetch syn-3: %q, isError %v, %v", text, isError, err)
	}
}

// TestBaselineNotInstalled: a baseline folder without node_modules names
// the install script.
func TestBaselineNotInstalled(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "server.ts"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := CheckBaseline(t.Context(), dir)
	if err == nil || !strings.Contains(err.Error(), "scripts/install-bench-baseline.sh") || !strings.Contains(err.Error(), "not installed") {
		t.Errorf("CheckBaseline of an uninstalled folder = %v, want it named not installed, with the install script", err)
	}
	_, err = Run(t.Context(), Options{Collection: Synthetic(20, 1), Baseline: dir, Duration: 50 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "scripts/install-bench-baseline.sh") {
		t.Errorf("Run with an uninstalled baseline = %v, want the install script named", err)
	}
}

func TestFindBaseline(t *testing.T) {
	got, err := FindBaseline(".")
	want, _ := filepath.Abs(filepath.Join("..", "..", filepath.FromSlash(BaselineDir)))
	if err != nil || got != want {
		t.Errorf("FindBaseline(.) = %q, %v; want %q", got, err, want)
	}
	if _, err := FindBaseline(t.TempDir()); err == nil || !strings.Contains(err.Error(), "connector repository") {
		t.Errorf("FindBaseline outside the repository = %v, want an error", err)
	}
}

// TestWriteCorpus: the corpus file has one record a line, as server.ts
// reads it.
func TestWriteCorpus(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	c := &Collection{Name: "two", Docs: func(_ context.Context, emit func(store.SourceDocument) error) error {
		for _, d := range []store.Document{{ID: "a", Title: "A <b>", Text: "one\ntwo"}, {ID: "b", Title: "B", Text: "x", URL: "https://example.com/b"}} {
			if err := emit(store.SourceDocument{Document: d}); err != nil {
				return err
			}
		}
		return nil
	}}
	path, n, err := writeCorpus(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []corpusRecord
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var r corpusRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, r)
	}
	if n != 2 || len(got) != 2 || got[0].Text != "one\ntwo" || got[0].Title != "A <b>" || got[1].URL != "https://example.com/b" {
		t.Errorf("corpus %+v (n=%d)", got, n)
	}
}

// TestListenWatcher finds the listening line however the output is split.
func TestListenWatcher(t *testing.T) {
	w := &listenWatcher{addr: make(chan string, 1)}
	for _, p := range []string{"loading\nlis", "tening 127.0.0.1:4", "242\nmore\n"} {
		if n, err := w.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	select {
	case addr := <-w.addr:
		if addr != "127.0.0.1:4242" {
			t.Errorf("addr %q, want 127.0.0.1:4242", addr)
		}
	default:
		t.Error("no address from the listening line")
	}
}

func TestTailWriter(t *testing.T) {
	w := &tailWriter{max: 5}
	w.Write([]byte("abc"))
	w.Write([]byte("defg"))
	if got := w.String(); got != "cdefg" {
		t.Errorf("tail %q, want cdefg", got)
	}
}
