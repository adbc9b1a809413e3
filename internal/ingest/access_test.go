package ingest

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/store"
)

// byFile indexes documents by their file (and line, for records).
func byFile(docs []store.SourceDocument) map[string]store.SourceDocument {
	m := map[string]store.SourceDocument{}
	for _, d := range docs {
		k := d.File
		if d.Line > 0 {
			k += ":" + strconv.Itoa(d.Line)
		}
		m[k] = d
	}
	return m
}

// runList is the run-wide list the access tests pass as Options.Access.
var runList = access.List{"group:run"}

func TestFrontMatterAccess(t *testing.T) {
	tests := []struct {
		name, front string
		want        access.List // nil: no document; the problem names the file
		problem     string      // in the reason of the error problem
	}{
		{"flow list", "access: [group:ops, group:eng, group:ops]", access.List{"group:eng", "group:ops"}, ""},
		{"block list", "access:\n  - user:Ann@Example.com\n  - authenticated", access.List{"authenticated", "user:ann@example.com"}, ""},
		{"string", "access: group:ops, role:admin", access.List{"group:ops", "role:admin"}, ""},
		{"blank inherits", "access: ''", access.List{"group:run"}, ""},
		{"null inherits", "access:", access.List{"group:run"}, ""},
		{"none", "access: none", access.List{"none"}, ""},
		{"bad principal", "access: [group:eng, team:x]", nil, `entry 2: "team:x": unknown kind`},
		{"none with others", "access: none, group:eng", nil, "cannot be combined"},
		{"mapping", "access: {group: eng}", nil, "write a list of principals"},
		{"nested list", "access: [[group:eng]]", nil, "entry 1 is not a principal"},
		{"invalid YAML", "title: [unclosed\naccess: group:eng", nil, "access list cannot be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, problems := walkFiles(t, map[string]string{
				"a.md": "---\n" + tt.front + "\ntitle: T\n---\nBody text.",
			}, Options{Access: runList})
			if tt.want == nil {
				if len(docs) != 0 || len(problems) != 1 {
					t.Fatalf("got %d documents and problems %v; want none and one problem", len(docs), problems)
				}
				p := problems[0]
				if !p.Error || p.Indexed || p.File != "a.md" || !strings.Contains(p.Reason, tt.problem) {
					t.Errorf("problem %+v; want an error about a.md containing %q", p, tt.problem)
				}
				return
			}
			if len(docs) != 1 || len(problems) != 0 {
				t.Fatalf("got %d documents and problems %v; want one and none", len(docs), problems)
			}
			if !slices.Equal(docs[0].Access, tt.want) {
				t.Errorf("Access = %q, want %q", docs[0].Access, tt.want)
			}
			if _, ok := docs[0].Metadata["access"]; ok {
				t.Errorf("metadata holds access: %v", docs[0].Metadata)
			}
		})
	}
}

func TestRecordAccess(t *testing.T) {
	docs, problems := walkFiles(t, map[string]string{
		"r.jsonl": strings.Join([]string{
			`{"id":"a","text":"x","access":["group:b","group:a"]}`,
			`{"id":"b","text":"x","access":"user:u1, group:a"}`,
			`{"id":"c","text":"x","access":"group:a,bogus"}`,
			`{"id":"d","text":"x","access":null}`,
			`{"id":"e","text":"x","access":[1]}`,
			`{"id":"f","text":"x","access":true}`,
		}, "\n"),
		"r.json": `[{"id":"g","text":"x"},{"id":"h","text":"x","access":"team:x"}]`,
	}, Options{Access: runList})
	got := map[string]access.List{}
	for _, d := range docs {
		got[d.ID] = d.Access
		if _, ok := d.Metadata["access"]; ok {
			t.Errorf("%s: metadata holds access: %v", d.ID, d.Metadata)
		}
	}
	want := map[string]access.List{
		"a": {"group:a", "group:b"},
		"b": {"group:a", "user:u1"},
		"d": {"group:run"},
		"g": {"group:run"},
	}
	if len(got) != len(want) {
		t.Errorf("documents %v, want %v", got, want)
	}
	for id, l := range want {
		if !slices.Equal(got[id], l) {
			t.Errorf("%s: Access = %q, want %q", id, got[id], l)
		}
	}
	var named []string
	for _, p := range problems {
		if !p.Error || p.Indexed || !strings.Contains(p.Reason, "access") {
			t.Errorf("problem %+v; want an error about access", p)
		}
		named = append(named, p.String())
	}
	for _, prefix := range []string{`sample/r.jsonl:3: record "c": access: entry 2`, `sample/r.jsonl:5: record "e"`,
		`sample/r.jsonl:6: record "f"`, `sample/r.json: record 2: record "h": access: entry 1`} {
		if !slices.ContainsFunc(named, func(s string) bool { return strings.HasPrefix(s, prefix) }) {
			t.Errorf("no problem starts %q; got\n%s", prefix, strings.Join(named, "\n"))
		}
	}
}

// TestFolderAccess: a folder's .access applies below it, a nearer one
// wins, a document's own list wins over both, the run's list applies where
// there is none, and .access files are not documents.
func TestFolderAccess(t *testing.T) {
	docs, problems := walkFiles(t, map[string]string{
		"top.md":                  "Top.",
		"team/.access":            "# the team\ngroup:team\n\nuser:boss@example.com # and the boss\n",
		"team/a.md":               "A.",
		"team/own.md":             "---\naccess: group:own\n---\nOwn.",
		"team/r.jsonl":            `{"id":"r","text":"x"}`,
		"team/deep/b.md":          "B.",
		"team/deep/inner/.access": "group:inner\r\n",
		"team/deep/inner/c.md":    "C.",
		"empty/.access":           "# nobody\n",
		"empty/d.md":              "D.",
	}, Options{Access: runList})
	if len(problems) != 0 {
		t.Fatalf("problems %v", problems)
	}
	want := map[string]access.List{
		"top.md":               {"group:run"},
		"team/a.md":            {"group:team", "user:boss@example.com"},
		"team/own.md":          {"group:own"},
		"team/r.jsonl:1":       {"group:team", "user:boss@example.com"},
		"team/deep/b.md":       {"group:team", "user:boss@example.com"},
		"team/deep/inner/c.md": {"group:inner"},
		"empty/d.md":           {"none"},
	}
	got := byFile(docs)
	if len(got) != len(want) {
		t.Errorf("got %d documents, want %d", len(got), len(want))
	}
	for f, l := range want {
		if d, ok := got[f]; !ok || !slices.Equal(d.Access, l) {
			t.Errorf("%s: Access = %q (found %v), want %q", f, d.Access, ok, l)
		}
	}
	// Without a run-wide list, a document under no .access has none.
	docs, _ = walkFiles(t, map[string]string{"top.md": "Top."}, Options{})
	if len(docs) != 1 || docs[0].Access != nil {
		t.Errorf("documents %+v; want one without an access list", docs)
	}
}

// TestBadAccessFileSkipsFolder: an .access file that does not parse is an
// error naming its file and line, about its folder, which is skipped with
// its sub-folders (so that an index run keeps their documents), by Walk and
// Size alike.
func TestBadAccessFileSkipsFolder(t *testing.T) {
	fsys := mapFS(map[string]string{
		"top.md":            "Top.",
		"sub/.access":       "group:ok\n\nteam:x\n",
		"sub/a.md":          "A.",
		"sub/deeper/b.md":   "B.",
		"sibling/c.md":      "C.",
		"sibling/.access/x": "a folder named .access",
	})
	docs, problems := collect(t, []Root{FSRoot("sample", "sample", fsys)}, Options{})
	if len(docs) != 1 || docs[0].File != "top.md" {
		t.Errorf("documents %v; want only top.md", byFile(docs))
	}
	wants := map[string]string{
		"sub":     `sample/sub: sample/sub/.access:3: "team:x": unknown kind`,
		"sibling": `sample/sibling: sample/sibling/.access: is a folder`,
	}
	for _, p := range problems {
		want, ok := wants[p.File]
		if !ok || !p.Error || !strings.HasPrefix(p.String(), want) || !strings.Contains(p.Reason, "keep their previous state") {
			t.Errorf("problem %q (%+v); want one starting %q", p, p, want)
		}
		delete(wants, p.File)
	}
	if len(wants) != 0 {
		t.Errorf("missing problems %v", wants)
	}
	n, _, err := Size(t.Context(), []Root{FSRoot("sample", "sample", fsys)}, Options{})
	if err != nil || n != 1 {
		t.Errorf("Size counted %d files (%v), want 1", n, err)
	}
}

// TestSingleFileRootAccess: a file indexed on its own takes the list of the
// .access file beside it; a bad one skips it, naming the access file.
func TestSingleFileRootAccess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "docs")
	writeAccessFiles(t, dir, map[string]string{"a.md": "A.", ".access": "group:eng\n"})
	root, err := OSRoot(filepath.Join(dir, "a.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs, problems := collect(t, []Root{root}, Options{Access: runList})
	if len(docs) != 1 || !slices.Equal(docs[0].Access, access.List{"group:eng"}) || len(problems) != 0 {
		t.Fatalf("documents %+v, problems %v; want a.md with group:eng", docs, problems)
	}
	writeAccessFiles(t, dir, map[string]string{".access": "eng\n"})
	docs, problems = collect(t, []Root{root}, Options{Access: runList})
	if len(docs) != 0 || len(problems) != 1 || !strings.HasPrefix(problems[0].String(), "a.md: docs/.access:1:") {
		t.Fatalf("documents %+v, problems %v; want one problem naming docs/.access:1", docs, problems)
	}
}

func writeAccessFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
