package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/connectorhq/connector/internal/sample"
)

// TestQueryBlankArgument: a blank query or id on the command line is a
// usage error naming what to give, as a missing one is. The search tool
// answers a blank query with no results, which a person at a shell (or a
// script with an empty variable) would take for an empty index.
func TestQueryBlankArgument(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"search", "  "}, `connector search: give a query, e.g. connector search "how do I connect ChatGPT"`},
		{[]string{"search", "", "\t"}, `connector search: give a query`},
		{[]string{"fetch", " "}, "connector fetch: give exactly one document id (from connector search)"},
		{[]string{"fetch", "a", "b"}, "e.g. connector fetch " + exampleID},
	} {
		var stdout, stderr bytes.Buffer
		args := append([]string{tt.args[0], "--index", dir + "/index"}, tt.args[1:]...)
		code := run(t.Context(), args, &stdout, &stderr, func(string) string { return "" })
		if code != exitUsage || !strings.Contains(stderr.String(), tt.want) || stdout.Len() != 0 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d and %q", tt.args, code, stdout.String(), stderr.String(), exitUsage, tt.want)
		}
	}
}

// TestExampleIDsExist: every id of the bundled sample corpus that a message,
// help text, README or the corpus itself gives as an example (sample/...)
// names a document the corpus has, so that trying it works.
func TestExampleIDsExist(t *testing.T) {
	root := filepath.Join("..", "..")
	idRE := regexp.MustCompile(`\bsample/[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.(?:md|txt|html|jsonl)\b`)
	found := map[string][]string{} // id: files that mention it
	check := func(path string) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range idRE.FindAllString(string(b), -1) {
			found[id] = append(found[id], path)
		}
	}
	check(filepath.Join(root, "README.md"))
	for _, dir := range []string{"cmd", "internal", "docs"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return err
			case d.IsDir() && d.Name() == "archive":
				return filepath.SkipDir // history, not instructions
			case d.IsDir() || strings.HasSuffix(path, "_test.go"): // tests make up their own ids
				return nil
			case strings.HasSuffix(path, ".go") || strings.HasSuffix(path, ".md") || strings.Contains(path, "internal/sample/corpus"):
				check(path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := found[exampleID]; !ok {
		t.Fatalf("found no mention of exampleID %s: is the pattern wrong?", exampleID)
	}
	for id, paths := range found {
		if _, err := fs.Stat(sample.FS(), strings.TrimPrefix(id, "sample/")); err != nil {
			t.Errorf("%s, mentioned in %s, is not a document of the sample corpus (internal/sample/corpus)", id, strings.Join(paths, ", "))
		}
	}
}
