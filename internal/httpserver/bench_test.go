package httpserver

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/docurl"
	"github.com/connectorhq/connector/internal/ingest"
	"github.com/connectorhq/connector/internal/mcpserver"
	"github.com/connectorhq/connector/internal/metrics"
	"github.com/connectorhq/connector/internal/requestid"
	"github.com/connectorhq/connector/internal/store"
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
	err = ingest.Walk(ctx, []ingest.Root{root}, ingest.Options{}, func(d store.SourceDocument) error {
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
	st, err := blevestore.Open(dir, access.DefaultAuthenticated, slog.New(slog.DiscardHandler))
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
		if _, err := st.Search(ctx, access.Everyone(), queries[i%len(queries)], 10); err != nil {
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

// BenchmarkMCPOverhead is one search tool call over Streamable HTTP on
// loopback against a store that answers at once, without and with the abuse
// limits and metrics (production defaults, an info-level JSON log with
// request ids): what they add to every call.
//
//	go test -run '^$' -bench MCPOverhead -benchtime 3000x ./internal/httpserver/
func BenchmarkMCPOverhead(b *testing.B) {
	b.Run("bare", func(b *testing.B) { benchOverhead(b, nil) })
	b.Run("limits+metrics", func(b *testing.B) {
		benchOverhead(b, func(o *Options, m *mcpserver.Options) {
			met := metrics.New()
			logger := slog.New(requestid.Handler(slog.NewJSONHandler(io.Discard, nil)))
			o.Metrics, m.Metrics = met, met
			o.Logger, m.Logger = logger, logger
			o.RateLimit, o.RateBurst = 1e9, 1e9 // every call takes the limiter's path, none is refused
			o.TrustedProxies, _ = ParseTrustedProxies("10.0.0.0/8")
			o.MaxBodyBytes, o.MaxSSESessions = 1<<20, 1000
			o.CORSOrigins = []string{"https://app.example.com"}
		})
	})
}

func benchOverhead(b *testing.B, tweak func(*Options, *mcpserver.Options)) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	linker, _ := docurl.NewLinker("http://" + ln.Addr().String())
	var st benchStore
	mopts := mcpserver.Options{Version: "bench", Linker: linker, ToolTimeout: 30 * time.Second, MaxQueryBytes: 2048}
	opts := Options{Version: "bench", Store: st, Linker: linker, ToolTimeout: 30 * time.Second}
	if tweak != nil {
		tweak(&opts, &mopts)
	}
	opts.MCP = mcpserver.New(st, mopts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- New(opts).Serve(ctx, ln) }()
	b.Cleanup(func() { cancel(); <-done })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench", Version: "v0"}, nil).
		Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + ln.Addr().String() + "/mcp"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cs.Close()
	b.ReportAllocs()
	for b.Loop() {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"query": "constant query words"}})
		if err != nil || res.IsError {
			b.Fatal(err, res)
		}
	}
}

// benchStore answers every search with the same ten hits at once.
type benchStore struct{}

var benchText = strings.Repeat("Constant benchmark text about nothing in particular. ", 6)

func (benchStore) Search(_ context.Context, _ access.Caller, _ string, limit int) ([]store.Hit, error) {
	hits := make([]store.Hit, limit)
	for i := range hits {
		hits[i] = store.Hit{ID: fmt.Sprintf("const-%d", i), Title: "A constant document title", Snippet: benchText, Score: float64(limit - i)}
	}
	return hits, nil
}

func (benchStore) Fetch(_ context.Context, _ access.Caller, id string) (*store.Document, error) {
	return &store.Document{ID: id, Title: "A constant document title", Text: benchText}, nil
}

func (benchStore) LookupURL(context.Context, access.Caller, string) (string, error) {
	return "", store.ErrNotFound
}
func (benchStore) Ready(context.Context) (store.Status, error) {
	return store.Status{Backend: "constant", Documents: 10}, nil
}
func (benchStore) Close() error { return nil }

// BenchmarkMiddleware is the cost of the layers every MCP request passes
// (request id, access log and HTTP metrics, CORS, rate limit, body cap)
// around a handler that does nothing, without the network.
func BenchmarkMiddleware(b *testing.B) {
	noop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	m := metrics.New()
	logger := slog.New(requestid.Handler(slog.NewJSONHandler(io.Discard, nil)))
	limiter := newRateLimiter(1e9, 1e9, clientIPs{}, m)
	full := requestIDs(requestid.NewGenerator(), recoverer(logger, accessLog(logger, m,
		corsHandler(newOriginPolicy([]string{"https://app.example.com"}, false), m, logger,
			limiter.wrap(limitBody(1<<20, m, noop))))))
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"none", noop}, {"all", full}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(callSearch))
				req.RemoteAddr = "203.0.113.9:4000"
				bc.h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
