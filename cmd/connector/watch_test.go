package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestWatchRefresh: under a running `serve --watch DIR`, an edit, a new
// file and a deletion each show in search within a bounded time, while
// clients search and fetch without a single failed call; a refresh that
// fails keeps the last index serving and says why in /readyz.
func TestWatchRefresh(t *testing.T) {
	work := t.TempDir()
	writeFiles(t, work, map[string]string{
		"docs/alpha.md":      "# Alpha\n\nThe alpha page talks about lighthouses.\n",
		"docs/beta.md":       "# Beta\n\nThe beta page talks about lighthouses and the word beetroot.\n",
		"docs/sub/gamma.txt": "Gamma notes on lighthouses.\n",
	})
	// INDEX_RELOAD_INTERVAL is long: the server must switch to each
	// refresh's generation by itself, not through the poll.
	p := serve(t, work, "WATCH=./docs", "WATCH_DEBOUNCE=200ms", "INDEX_RELOAD_INTERVAL=1h")
	if !strings.Contains(p.log(), `"msg":"refreshed"`) {
		t.Fatalf("an empty index folder was not filled from WATCH before listening")
	}
	cs := connectClient(t, &mcp.StreamableClientTransport{Endpoint: p.base + "/mcp"})
	var first searchOut
	callJSON(t, cs, "search", map[string]any{"query": "lighthouses"}, &first)
	if len(first.Results) != 3 {
		t.Fatalf("search lighthouses: %d results, want 3: %+v", len(first.Results), first.Results)
	}

	// The load: clients searching and fetching throughout the swaps.
	var calls, failures atomic.Int64
	var failed sync.Mutex
	var failedWith []string
	loadCtx, stopLoad := context.WithCancel(t.Context())
	var load sync.WaitGroup
	for i := range 4 {
		lc := connectClient(t, &mcp.StreamableClientTransport{Endpoint: p.base + "/mcp"})
		load.Go(func() {
			for n := 0; loadCtx.Err() == nil; n++ {
				params := &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"query": "lighthouses"}}
				if (i+n)%2 == 1 {
					params = &mcp.CallToolParams{Name: "fetch", Arguments: map[string]any{"id": first.Results[0].ID}}
				}
				res, err := lc.CallTool(loadCtx, params)
				if loadCtx.Err() != nil {
					return // the test is done with the load: not a failure
				}
				calls.Add(1)
				if err != nil || res.IsError {
					failures.Add(1)
					failed.Lock()
					failedWith = append(failedWith, fmt.Sprintf("%s: %v %s", params.Name, err, toolText(res)))
					failed.Unlock()
				}
			}
		})
	}

	// eventually polls search until found says the results reflect the change.
	eventually := func(what, query string, found func(searchOut) bool) {
		t.Helper()
		start := time.Now()
		for deadline := start.Add(30 * time.Second); ; {
			var out searchOut
			if isErr, text := callJSON(t, cs, "search", map[string]any{"query": query}, &out); isErr {
				t.Fatalf("%s: search %q failed: %s", what, query, text)
			}
			if found(out) {
				t.Logf("%s: seen by search %v after the change", what, time.Since(start).Round(time.Millisecond))
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: search %q still shows %+v after 30s", what, query, out.Results)
			}
			time.Sleep(50 * time.Millisecond) // a polling interval, not an ordering
		}
	}
	titled := func(title string) func(searchOut) bool {
		return func(out searchOut) bool {
			return slices.ContainsFunc(out.Results, func(r struct{ ID, Title, URL, Text string }) bool { return r.Title == title })
		}
	}

	writeFiles(t, work, map[string]string{"docs/alpha.md": "# Alpha\n\nThe alpha page now mentions quokkas.\n"})
	eventually("edit", "quokkas", titled("Alpha"))
	writeFiles(t, work, map[string]string{"docs/new/deeper/delta.md": "# Delta\n\nA new page about marmalade.\n"})
	eventually("new file in a new folder", "marmalade", titled("Delta"))
	if err := os.Remove(filepath.Join(work, "docs", "beta.md")); err != nil {
		t.Fatal(err)
	}
	eventually("delete", "beetroot", func(out searchOut) bool { return len(out.Results) == 0 })

	stopLoad()
	load.Wait()
	if n := calls.Load(); n < 10 {
		t.Errorf("the load made only %d calls", n)
	}
	if n := failures.Load(); n > 0 {
		t.Errorf("%d of %d calls failed during the refreshes: %v", n, calls.Load(), failedWith[:min(len(failedWith), 5)])
	}
	t.Logf("load: %d calls, %d failed", calls.Load(), failures.Load())

	status := refreshStatus(t, p.base)
	if status.Runs < 4 || status.LastRefreshError != "" || status.LastRefreshCounts == nil {
		t.Errorf("/readyz refresh after the changes: %+v", status)
	}
	if !strings.Contains(scrape(t, p.base), `connector_refresh_runs_total{outcome="ok",sources="files"}`) {
		t.Error("no connector_refresh_runs_total in /metrics")
	}

	// The watched folder goes away: the refresh fails, /readyz stays ready
	// and names the error, and the last index still answers.
	if err := os.RemoveAll(filepath.Join(work, "docs")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for status = refreshStatus(t, p.base); status.LastRefreshError == ""; status = refreshStatus(t, p.base) {
		if time.Now().After(deadline) {
			t.Fatalf("no last_refresh_error in /readyz 30s after the folder was removed: %+v", status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(status.LastRefreshError, "docs") {
		t.Errorf("last_refresh_error does not name the source: %q", status.LastRefreshError)
	}
	var out searchOut
	callJSON(t, cs, "search", map[string]any{"query": "marmalade"}, &out)
	if !titled("Delta")(out) {
		t.Errorf("after a failed refresh the last index no longer answers: %+v", out.Results)
	}
	if !strings.Contains(p.log(), "refresh failed; still serving the previous index") {
		t.Error("the failed refresh is not logged")
	}
}

func toolText(res *mcp.CallToolResult) string {
	if res == nil || len(res.Content) == 0 {
		return ""
	}
	if tc, ok := res.Content[0].(*mcp.TextContent); ok {
		return tc.Text
	}
	return ""
}

// watchStatus is the files part of /readyz's refresh detail.
type watchStatus struct {
	Runs              int            `json:"runs"`
	LastRefreshError  string         `json:"last_refresh_error"`
	LastRefreshCounts map[string]int `json:"last_refresh_counts"`
}

// refreshStatus reads the refresh detail of /readyz, which must stay 200.
func refreshStatus(t *testing.T, base string) watchStatus {
	t.Helper()
	res, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Refresh struct{ Files watchStatus } `json:"refresh"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != 200 {
		t.Fatalf("/readyz: %d %v", res.StatusCode, err)
	}
	return body.Refresh.Files
}

func scrape(t *testing.T, base string) string {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}
