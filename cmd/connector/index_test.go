package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectorhq/connector/internal/ingest"
)

// lockedBuffer is a bytes.Buffer safe for the reporter's goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestProgressLinesWhenNotATerminal: a long run that is not on a terminal
// (CI, a pipe, a log file) reports progress as log lines: reading, then
// writing the index, a line at each of the store's steps, and nothing once
// the reporter stops (the summary line comes next).
func TestProgressLinesWhenNotATerminal(t *testing.T) {
	var logs lockedBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	p := &ingest.Progress{}
	rep := newReporter(logger, indexOptions{progress: &bytes.Buffer{}}, p)
	rep.logEvery = 20 * time.Millisecond
	rep.start(context.Background(), 10, 1000)
	p.Files.Add(4)
	p.Bytes.Add(400)
	time.Sleep(100 * time.Millisecond)
	rep.problem(slog.LevelWarn, "skipped", "problem", "x.bin: binary file")
	rep.walked()
	for _, step := range []string{"batches", "checksums"} {
		rep.writing(step) // as the bleve index's OnPhase does
		time.Sleep(60 * time.Millisecond)
	}
	rep.stop()
	out := logs.String()
	for _, want := range []string{`"msg":"reading"`, `"files_read":4`, `"files_total":10`, `"bytes_read":400`, `"bytes_total":1000`, `"msg":"skipped"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	var phases []string // each phase and step once, in the order logged
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var l struct{ Msg, Step string }
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatal(err)
		}
		if l.Msg == "skipped" {
			continue
		}
		if ph := strings.TrimSuffix(l.Msg+": "+l.Step, ": "); len(phases) == 0 || phases[len(phases)-1] != ph {
			phases = append(phases, ph)
		}
	}
	want := []string{"reading", "writing the index: batches", "writing the index: checksums"}
	if !slices.Equal(phases, want) {
		t.Errorf("phases logged %q, want %q:\n%s", phases, want, out)
	}
	time.Sleep(60 * time.Millisecond)
	if logs.String() != out {
		t.Errorf("progress logged after the reporter stopped:\n%s", strings.TrimPrefix(logs.String(), out))
	}
}

func TestSummaryLine(t *testing.T) {
	tests := []struct {
		name string
		res  indexResult
		want string
	}{
		{name: "singular", res: indexResult{summary: indexSummary{State: "index updated", Documents: 1, Added: 1}, skipped: 1, warned: 1, errors: 1,
			elapsed: 12 * time.Millisecond},
			want: "index updated: 1 document (1 added, 0 updated, 0 unchanged, 0 deleted); 1 skipped, 1 warning, 1 error; 12ms"},
		{name: "plural", res: indexResult{summary: indexSummary{State: "index updated", Documents: 2, Added: 1, Updated: 1}, skipped: 2, warned: 2, errors: 2},
			want: "index updated: 2 documents (1 added, 1 updated, 0 unchanged, 0 deleted); 2 skipped, 2 warnings, 2 errors; 0s"},
		{name: "none", res: indexResult{summary: indexSummary{State: "index unchanged"}},
			want: "index unchanged: 0 documents (0 added, 0 updated, 0 unchanged, 0 deleted); 0 skipped, 0 warnings, 0 errors; 0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.res.summaryLine(); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestIndexCountsWarningsApart: a file indexed with a warning (front matter
// ignored) counts as a warning, not as skipped; a file not indexed counts as
// skipped, as a record with no id is; and no logged problem says
// "skipped" twice.
func TestIndexCountsWarningsApart(t *testing.T) {
	work := t.TempDir()
	docs := filepath.Join(work, "docs")
	writeFiles(t, docs, map[string]string{
		"bad-front-matter.md": "---\ntitle: [unclosed\n---\nThe text is indexed all the same.",
		"ok.md":               "# Fine\n\nNothing wrong here.",
		"scan.pdf":            "%PDF-1.4\nnot really a PDF",
		"r.jsonl":             `{"id":"a","text":"x","url":"/relative"}` + "\n" + `{"text":"no id"}` + "\n",
	})
	var logs lockedBuffer
	c := command{cfg: config{Store: "bleve", IndexDir: filepath.Join(work, "index"), MaxFileBytes: 1 << 20},
		logger: slog.New(slog.NewTextHandler(&logs, nil))}
	root, err := ingest.OSRoot(docs)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.runIndex(context.Background(), []ingest.Root{root}, indexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.summary.Documents != 3 || res.warned != 2 || res.skipped != 2 || res.errors != 0 {
		t.Errorf("got %d documents, %d warnings, %d skipped, %d errors; want 3, 2, 2, 0\n%s",
			res.summary.Documents, res.warned, res.skipped, res.errors, logs.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Count(line, "skipped") > 1 {
			t.Errorf("log line repeats itself: %s", line)
		}
	}
}

// TestIndexRejectsIDFromAnotherSource: a record whose id a document from
// another folder already has is an error naming both; the earlier stays.
func TestIndexRejectsIDFromAnotherSource(t *testing.T) {
	work := t.TempDir()
	writeFiles(t, work, map[string]string{
		"old/a.jsonl": `{"id":"x","text":"the earlier record"}` + "\n",
		"new/b.jsonl": "\n" + `{"id":"x","text":"a record reusing its id"}` + "\n",
	})
	var logs lockedBuffer
	c := command{cfg: config{Store: "bleve", IndexDir: filepath.Join(work, "index"), MaxFileBytes: 1 << 20},
		logger: slog.New(slog.NewTextHandler(&logs, nil))}
	var res indexResult
	for _, dir := range []string{"old", "new"} {
		root, err := ingest.OSRoot(filepath.Join(work, dir))
		if err != nil {
			t.Fatal(err)
		}
		if res, err = c.runIndex(t.Context(), []ingest.Root{root}, indexOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if s := res.summary; res.errors != 1 || s.Added+s.Updated+s.Deleted != 0 || s.Documents != 1 {
		t.Errorf("second run: %s", res.summaryLine())
	}
	out := logs.String()
	if !strings.Contains(out, `new/b.jsonl:2: id \"x\" is already indexed from old/a.jsonl`) {
		t.Errorf("log does not name both sources:\n%s", out)
	}
}

// TestIndexAccessFlag: a bad --access is a usage error naming the flag and
// what it accepts, before anything is read; a good one applies to the
// documents with no list of their own and no .access file, and changing it
// re-indexes just those.
func TestIndexAccessFlag(t *testing.T) {
	work := t.TempDir()
	docs := filepath.Join(work, "docs")
	index := filepath.Join(work, "index")
	writeFiles(t, docs, map[string]string{
		"open.md":       "# Open\n\nNo list of its own.",
		"own.md":        "---\naccess: group:own\n---\nIts own list.",
		"team/.access":  "group:team\n",
		"team/inner.md": "Under an .access file.",
	})
	var stdout, stderr bytes.Buffer
	e := env{stdout: &stdout, stderr: &stderr, getenv: func(k string) string {
		if k == "INDEX_DIR" {
			return index
		}
		return ""
	}}
	if code := e.index(t.Context(), []string{"--access", "group:eng,team:x", docs}); code != exitUsage {
		t.Fatalf("bad --access: exit %d, want %d\n%s", code, exitUsage, stderr.String())
	}
	if msg := stderr.String(); !strings.Contains(msg, "-access") || !strings.Contains(msg, `"team:x"`) || !strings.Contains(msg, "write group:NAME") {
		t.Errorf("bad --access: message does not name the flag, the entry and what is accepted:\n%s", msg)
	}
	if _, err := os.Stat(index); !os.IsNotExist(err) {
		t.Errorf("bad --access: index folder exists (%v); nothing should have been read", err)
	}

	// Only open.md takes the run's list, so only it changes with it.
	for i, run := range []struct {
		flags []string
		want  string
	}{
		{nil, "3 added"},
		{[]string{"--access", "group:eng"}, "1 updated, 2 unchanged"},
		{[]string{"--access", "group:ops,group:eng"}, "1 updated, 2 unchanged"},
		{[]string{"--access", "group:eng, group:ops,group:eng"}, "0 updated, 3 unchanged"}, // the same list
	} {
		stdout.Reset()
		stderr.Reset()
		if code := e.index(t.Context(), append(run.flags, docs)); code != exitOK {
			t.Fatalf("run %d: exit %d\n%s", i+1, code, stderr.String())
		}
		if !strings.Contains(stdout.String(), run.want) {
			t.Errorf("run %d %v: %s; want %q", i+1, run.flags, strings.TrimSpace(stdout.String()), run.want)
		}
	}
}

// TestIndexAccessFiles: changing an .access file re-indexes the documents
// below it; a bad one is an error naming it, and its folder's documents
// stay as they were while the rest of the run goes on.
func TestIndexAccessFiles(t *testing.T) {
	work := t.TempDir()
	docs := filepath.Join(work, "docs")
	writeFiles(t, docs, map[string]string{
		"top.md":          "Top.",
		"team/.access":    "group:team\n",
		"team/a.md":       "A.",
		"team/deep/b.md":  "B.",
		"other/.access":   "group:other\n",
		"other/c.md":      "C.",
		"other/r.jsonl":   `{"id":"r","text":"a record"}` + "\n",
		"other/own.jsonl": `{"id":"own","text":"its own list","access":"group:own"}` + "\n",
	})
	var logs lockedBuffer
	c := command{cfg: config{Store: "bleve", IndexDir: filepath.Join(work, "index"), MaxFileBytes: 1 << 20},
		logger: slog.New(slog.NewTextHandler(&logs, nil))}
	root, err := ingest.OSRoot(docs)
	if err != nil {
		t.Fatal(err)
	}
	run := func(name string) indexResult {
		t.Helper()
		res, err := c.runIndex(t.Context(), []ingest.Root{root}, indexOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res
	}
	if res := run("first"); res.summary.Added != 6 || res.errors != 0 {
		t.Fatalf("first run: %s\n%s", res.summaryLine(), logs.String())
	}
	writeFiles(t, docs, map[string]string{"other/.access": "group:other\ngroup:more\n"})
	if s := run("changed").summary; s.Updated != 2 || s.Unchanged != 4 {
		t.Errorf("after changing other/.access: %d updated, %d unchanged; want c.md and r updated, 4 unchanged", s.Updated, s.Unchanged)
	}
	writeFiles(t, docs, map[string]string{
		"team/.access":  "group:team\nteam:x\n",
		"team/new.md":   "Not read: its folder's list is broken.",
		"other/.access": "group:other\n",
	})
	res := run("bad")
	if s := res.summary; res.errors != 1 || s.Documents != 6 || s.Deleted != 0 || s.Added != 0 || s.Updated != 2 {
		t.Errorf("with a bad team/.access: %s; want 6 documents, 2 updated, 0 added or deleted, 1 error\n%s", res.summaryLine(), logs.String())
	}
	if !strings.Contains(logs.String(), `docs/team/.access:2: \"team:x\": unknown kind`) {
		t.Errorf("log does not name the access file and line:\n%s", logs.String())
	}
}
