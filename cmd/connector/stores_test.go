package main

import (
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/connectorhq/connector/internal/ingest"
	"github.com/connectorhq/connector/internal/sample"
)

// TestSampleNeverMixesWithYours: a run of the user's paths replaces the
// sample's documents, saying so; a run of the sample into an index of the
// user's documents (a server building the sample while `connector index`
// committed) is refused and changes nothing.
func TestSampleNeverMixesWithYours(t *testing.T) {
	work := t.TempDir()
	writeFiles(t, work, map[string]string{"mine/notes.md": "# Notes\n\nMy own notes."})
	var logs lockedBuffer
	c := command{cfg: config{Store: "bleve", IndexDir: filepath.Join(work, "index"), MaxFileBytes: 1 << 20},
		logger: slog.New(slog.NewTextHandler(&logs, nil))}
	demo := ingest.FSRoot(sampleRoot, "sample", sample.FS())
	mine, err := ingest.OSRoot(filepath.Join(work, "mine"))
	if err != nil {
		t.Fatal(err)
	}

	res, err := c.runIndex(t.Context(), []ingest.Root{demo}, indexOptions{quiet: true})
	if err != nil || res.summary.Documents < 10 {
		t.Fatalf("sample run: %v %+v", err, res.summary)
	}
	samples := res.summary.Documents
	res, err = c.runIndex(t.Context(), []ingest.Root{mine}, indexOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s := res.summary; s.Documents != 1 || s.Added != 1 || int64(s.Deleted) != samples {
		t.Errorf("your run: %s, want 1 added and the %d sample documents deleted", res.summaryLine(), samples)
	}
	if n := strings.Count(logs.String(), "replacing the sample documents with yours"); n != 1 {
		t.Errorf("%d lines say the sample is replaced, want 1:\n%s", n, logs.String())
	}

	_, err = c.runIndex(t.Context(), []ingest.Root{demo}, indexOptions{quiet: true})
	if !errors.Is(err, errHoldsYours) {
		t.Fatalf("sample run into your index: %v, want errHoldsYours", err)
	}
	res, err = c.runIndex(t.Context(), []ingest.Root{mine}, indexOptions{})
	if err != nil || res.summary.Documents != 1 || res.summary.Unchanged != 1 {
		t.Errorf("after the refused sample run: %v %s", err, res.summaryLine())
	}
	if n := strings.Count(logs.String(), "replacing the sample"); n != 1 {
		t.Errorf("the line about the sample comes again on a run with no sample documents:\n%s", logs.String())
	}
}
