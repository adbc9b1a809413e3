package store

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"testing"
)

// TestNoIngestImport checks that no package under internal/store, tests
// included, imports internal/ingest: stores index SourceDocuments and must
// not depend on how files are read.
func TestNoIngestImport(t *testing.T) {
	const forbidden = "github.com/connectorhq/connector/internal/ingest"
	fset := token.NewFileSet()
	seen := map[string]bool{}
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".go" {
			return err
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		seen[filepath.Dir(p)] = true
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); path == forbidden {
				t.Errorf("%s imports %s", fset.Position(imp.Pos()), forbidden)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"blevestore", "openaistore"} {
		if !seen[dir] {
			t.Errorf("no Go files scanned in %s", dir)
		}
	}
}
