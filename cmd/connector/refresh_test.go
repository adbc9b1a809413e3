package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestRefreshSourceRoots: sources become roots once each; a website URL
// gets the message of the missing crawler; every bad source is reported.
func TestRefreshSourceRoots(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"docs/a.md": "a"})
	docs := filepath.Join(dir, "docs")
	roots, err := sourceRoots([]string{docs, docs + "/", filepath.Join(docs, "a.md")})
	if err != nil || len(roots) != 2 {
		t.Fatalf("roots %v, err %v: want the folder and the file once each", roots, err)
	}
	_, err = sourceRoots([]string{docs, "HTTPS://example.com/docs", filepath.Join(dir, "missing")})
	if !errors.Is(err, errWebsites) {
		t.Errorf("a website source: %v, want errWebsites", err)
	}
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("a missing path is not reported with the website: %v", err)
	}
}
