package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestDamagedIndex: a segment whose bytes changed after the index run wrote
// it is never served. `connector index` says what is wrong and how to get
// out, the server reports not ready and the tools say the index is damaged,
// and the way out (index --prune) brings the running server back.
func TestDamagedIndex(t *testing.T) {
	work := t.TempDir()
	writeFiles(t, work, map[string]string{
		"docs/a.md": "# Alpha\n\nThe first document mentions aardvarks.",
		"docs/b.md": "# Bravo\n\nThe second document mentions badgers.",
	})
	index := filepath.Join(work, "index")
	env := []string{"INDEX_DIR=" + index, "LOG_FORMAT=json"}
	if out, stderr, code := runCLI(t, work, env, "index", "docs"); code != 0 {
		t.Fatalf("first run: %d %s %s", code, out, stderr)
	}
	segs, _ := filepath.Glob(filepath.Join(index, "gen-*", "store", "*.zap"))
	if len(segs) == 0 {
		t.Fatal("no segment files")
	}
	b, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/3] ^= 0x55
	if err := os.WriteFile(segs[0], b, 0o644); err != nil {
		t.Fatal(err)
	}

	out, stderr, code := runCLI(t, work, env, "index", "docs")
	if code == 0 || !strings.Contains(stderr, "damaged") || !strings.Contains(stderr, "--prune") ||
		strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine") {
		t.Fatalf("index over a damaged index: exit %d\nstdout: %s\nstderr: %s", code, out, stderr)
	}

	srv := serve(t, work, "INDEX_DIR="+index, "INDEX_RELOAD_INTERVAL=100ms")
	if code := readyStatus(t, srv.base); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz on a damaged index = %d, want 503", code)
	}
	cs := connectClient(t, &mcp.StreamableClientTransport{Endpoint: srv.base + "/mcp"})
	isErr, text := callJSON(t, cs, "search", map[string]any{"query": "aardvarks"}, nil)
	if !isErr || !strings.Contains(text, "damaged") || strings.Contains(text, "aardvarks") {
		t.Fatalf("search on a damaged index: isError %v, %s", isErr, text)
	}
	isErr, text = callJSON(t, cs, "fetch", map[string]any{"id": "docs/a.md"}, nil)
	if !isErr || !strings.Contains(text, "damaged") || strings.Contains(text, "aardvarks") {
		t.Fatalf("fetch on a damaged index: isError %v, %s", isErr, text)
	}

	if out, stderr, code := runCLI(t, work, env, "index", "--prune", "docs"); code != 0 {
		t.Fatalf("index --prune: %d %s %s", code, out, stderr)
	}
	deadline := time.Now().Add(20 * time.Second)
	for readyStatus(t, srv.base) != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("the server did not switch to the rebuilt index")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var res searchOut
	if isErr, text := callJSON(t, cs, "search", map[string]any{"query": "aardvarks"}, &res); isErr ||
		len(res.Results) == 0 || res.Results[0].ID != "docs/a.md" {
		t.Fatalf("search after the rebuild: %v %s", isErr, text)
	}
}

func readyStatus(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode
}
