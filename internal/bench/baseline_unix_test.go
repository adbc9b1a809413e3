//go:build unix

package bench

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeNode writes a shell script that stands in for node.
func fakeNode(t *testing.T, script string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "node")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBaselineFailsToStart: a baseline that exits before it listens, or
// never listens, is a clear error with the end of its stderr, and leaves
// no process behind.
func TestBaselineFailsToStart(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name, script string
		want         []string
	}{
		{"exits", "echo 'Error: ENOENT: no such file' >&2; exit 3", []string{"exited before it listened", "exit status 3", "ENOENT: no such file"}},
		{"hangs", "echo 'indexing' >&2; exec sleep 60", []string{"did not listen within", "indexing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(children(t))
			start := time.Now()
			_, err := startBaselineProcess(t.Context(), t.TempDir(), fakeNode(t, tc.script), "corpus.jsonl", 300*time.Millisecond, logger)
			if err == nil {
				t.Fatal("started, want an error")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			if time.Since(start) > 4*time.Second {
				t.Errorf("took %s: the child was not stopped at once", time.Since(start))
			}
			if after := len(children(t)); after > before {
				t.Errorf("%d child processes, %d before: the failed baseline was left running", after, before)
			}
		})
	}
}
