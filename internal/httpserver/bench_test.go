package httpserver

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/docurl"
	"github.com/connectorhq/connector/internal/ingest"
	"github.com/connectorhq/connector/internal/mcpserver"
	"github.com/connectorhq/connector/internal/store/blevestore"
)

// Benchmarks over the SciFact collection (../shared/data/scifact, BEIR
// layout), through the real stack. Run with:
//
//	go test -run '^$' -bench . -benchtime 2000x ./internal/httpserver/
//
// They skip when the collection is absent.

const scifact = "../../../shared/data/scifact"

// scifactIndex builds the bleve index of SciFact once per benchmark run and
// returns it with the test queries.
func scifactIndex(b *testing.B) (*blevestore.Store, []string) {
	b.Helper()
	if _, err := os.Stat(filepath.Join(scifact, "corpus.jsonl")); err != nil {
		b.Skip("SciFact collection not present at " + scifact)
	}
	dir := b.TempDir()
	root, err := ingest.OSRoot(scifact)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	s, err := blevestore.NewSyncer(ctx, dir, blevestore.SyncOptions{Roots: []string{root.Key}})
	if err != nil {
		b.Fatal(err)
	}
	err = ingest.Walk(ctx, []ingest.Root{root}, ingest.Options{}, func(d ingest.Document) error {
		_, err := s.Add(ctx, d)
		return err
	}, nil)
	if err != nil {
		b.Fatal(err)
	}
	sum, err := s.Commit(ctx)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("indexed %d documents in %v", sum.Documents, time.Since(start).Round(time.Millisecond))
	st, err := blevestore.Open(dir, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })

	f, err := os.Open(filepath.Join(scifact, "queries.jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var queries []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var q struct{ Text string }
		if json.Unmarshal(sc.Bytes(), &q) == nil && q.Text != "" {
			queries = append(queries, q.Text)
		}
	}
	return st, queries
}

// BenchmarkStoreSearch is one search of the index, without MCP or HTTP.
func BenchmarkStoreSearch(b *testing.B) {
	st, queries := scifactIndex(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := st.Search(ctx, queries[i%len(queries)], 10); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMCPSearch is one search tool call from the go-sdk client over
// Streamable HTTP on loopback: what a client sees, less the network.
func BenchmarkMCPSearch(b *testing.B) {
	st, queries := scifactIndex(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	linker, _ := docurl.NewLinker("http://" + ln.Addr().String())
	m := mcpserver.New(st, mcpserver.Options{Version: "bench", Linker: linker, ToolTimeout: 30 * time.Second})
	srv := New(Options{Version: "bench", Store: st, MCP: m, Linker: linker, ToolTimeout: 30 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	b.Cleanup(func() { cancel(); <-done })

	cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "v0"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + ln.Addr().String() + "/mcp"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cs.Close()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"query": queries[i%len(queries)]}})
		if err != nil || res.IsError {
			b.Fatal(err, res)
		}
	}
}
