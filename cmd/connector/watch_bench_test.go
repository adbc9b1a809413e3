package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/sample"
)

// newWord returns a made-up word for edit n, far (more than fuzzy
// matching's two edits) from the words of the other edits.
func newWord(n int) string {
	sum := sha256.Sum256([]byte(strconv.Itoa(n)))
	w := make([]byte, 14)
	for i := range w {
		w[i] = 'a' + sum[i]%26
	}
	return string(w)
}

// BenchmarkWatchEdit measures how long an edit takes to show in search under
// `serve --watch` on the bundled sample corpus, with the default
// WATCH_DEBOUNCE (2s): each iteration appends a new word to one file and
// searches for it every 10 ms until it is found. Run it with
// go test -run '^$' -bench WatchEdit -benchtime 5x ./cmd/connector/
func BenchmarkWatchEdit(b *testing.B) {
	work := b.TempDir()
	docs := filepath.Join(work, "docs")
	if err := os.CopyFS(docs, sample.FS()); err != nil {
		b.Fatal(err)
	}
	p := serve(b, work, "WATCH=./docs")
	cs := connectClient(b, &mcp.StreamableClientTransport{Endpoint: p.base + "/mcp"})
	file := filepath.Join(docs, "glossary.md")
	if _, err := os.Stat(file); err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	n := 0
	for b.Loop() {
		n++
		word := newWord(n)
		f, err := os.OpenFile(file, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		fmt.Fprintf(f, "\n\nThe %s entry.\n", word)
		f.Close()
		for {
			var found searchOut
			callJSON(b, cs, "search", map[string]any{"query": word}, &found)
			if len(found.Results) > 0 {
				break
			}
			if time.Since(start) > time.Minute {
				b.Fatalf("%s not found a minute after the edit", word)
			}
			time.Sleep(10 * time.Millisecond)
		}
		total += time.Since(start)
	}
	b.ReportMetric(total.Seconds()/float64(n), "edit-to-search-s")
	if !strings.Contains(p.log(), `"msg":"refreshed"`) {
		b.Error("no refresh was logged")
	}

}
