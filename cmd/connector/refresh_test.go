package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRefreshSourceRoots: sources become roots and sites once each; every
// bad source is reported.
func TestRefreshSourceRoots(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"docs/a.md": "a"})
	docs := filepath.Join(dir, "docs")
	roots, sites, err := parseSources([]string{docs, docs + "/", filepath.Join(docs, "a.md"), "https://example.com/docs/", "https://example.com/docs"})
	if err != nil || len(roots) != 2 || len(sites) != 1 {
		t.Fatalf("roots %v, sites %v, err %v: want the folder, the file and the site once each", roots, sites, err)
	}
	_, _, err = parseSources([]string{docs, "https://", filepath.Join(dir, "missing")})
	if err == nil || !strings.Contains(err.Error(), "missing") || !strings.Contains(err.Error(), "https://") {
		t.Errorf("every bad source is not reported: %v", err)
	}
}
