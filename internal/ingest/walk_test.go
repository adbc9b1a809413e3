package ingest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/connectorhq/connector/internal/store"
)

// mapFS builds a MapFS from file names and contents.
func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for name, data := range files {
		m[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return m
}

// collect walks the roots and returns everything emitted, failing the test
// when Walk returns an error.
func collect(t testing.TB, roots []Root, opts Options) ([]store.SourceDocument, []Problem) {
	t.Helper()
	var docs []store.SourceDocument
	var problems []Problem
	err := Walk(context.Background(), roots, opts, func(d store.SourceDocument) error {
		docs = append(docs, d)
		return nil
	}, func(p Problem) { problems = append(problems, p) })
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	return docs, problems
}

// walkFiles walks a MapFS of the files as the root "sample".
func walkFiles(t testing.TB, files map[string]string, opts Options) ([]store.SourceDocument, []Problem) {
	t.Helper()
	return collect(t, []Root{FSRoot("sample", "sample", mapFS(files))}, opts)
}

// checkUTF8 fails the test when any emitted string is not valid UTF-8.
func checkUTF8(t testing.TB, docs []store.SourceDocument, problems []Problem) {
	t.Helper()
	for _, d := range docs {
		for _, s := range []string{d.ID, d.Title, d.URL, d.Text} {
			if !utf8.ValidString(s) {
				t.Fatalf("document %q: invalid UTF-8 %q", d.ID, s)
			}
		}
		for k, v := range d.Metadata {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				t.Fatalf("document %q: invalid UTF-8 metadata %q: %q", d.ID, k, v)
			}
		}
		if d.Title == "" {
			t.Fatalf("document %q has an empty title", d.ID)
		}
	}
	for _, p := range problems {
		if !utf8.ValidString(p.Reason) {
			t.Fatalf("problem with invalid UTF-8 reason %q", p.Reason)
		}
	}
}

// failFS makes Open fail with a permission error for one name, or returns
// a file whose reads fail after failAfter bytes.
type failFS struct {
	fs.FS
	fail      string
	failAfter int // with fail: open works, reading fails after this many bytes; 0: open fails
}

func (f failFS) Open(name string) (fs.File, error) {
	if name != f.fail {
		return f.FS.Open(name)
	}
	if f.failAfter == 0 {
		return nil, &fs.PathError{Op: "open", Path: "/home/someone/" + name, Err: fs.ErrPermission}
	}
	file, err := f.FS.Open(name)
	if err != nil {
		return nil, err
	}
	return &failFile{File: file, left: f.failAfter}, nil
}

// failFile fails reads with an I/O error once left bytes have been read.
type failFile struct {
	fs.File
	left int
}

func (f *failFile) Read(b []byte) (int, error) {
	if f.left <= 0 {
		return 0, &fs.PathError{Op: "read", Path: "/home/someone/x", Err: errors.New("input/output error")}
	}
	n, err := f.File.Read(b[:min(len(b), f.left)])
	f.left -= n
	return n, err
}

// problemStrings formats problems as "W|I|E file:line: reason" for
// comparison: W skipped with a warning, I indexed with a warning, E error.
func problemStrings(problems []Problem) []string {
	out := make([]string, 0, len(problems))
	for _, p := range problems {
		kind := "W"
		switch {
		case p.Error:
			kind = "E"
		case p.Indexed:
			kind = "I"
		}
		out = append(out, kind+" "+p.String())
	}
	return out
}

func docIDs(docs []store.SourceDocument) []string {
	ids := make([]string, 0, len(docs))
	for _, d := range docs {
		ids = append(ids, d.ID)
	}
	return ids
}

func TestWalkProblems(t *testing.T) {
	tests := []struct {
		name      string
		files     map[string]string
		wrap      func(fs.FS) fs.FS
		opts      Options
		wantFile  string
		wantError bool
		wantWords []string // substrings of the reason
		wantDocs  int
	}{
		{name: "unsupported extension", files: map[string]string{"logo.png": "x", "a.md": "a"},
			wantFile: "logo.png", wantWords: []string{`".png"`, "supported: .md", ".pdf, .docx", ".jsonl"}, wantDocs: 1},
		{name: "no extension", files: map[string]string{"Makefile": "all:"},
			wantFile: "Makefile", wantWords: []string{"no extension", "supported:"}},
		{name: "binary markdown", files: map[string]string{"a.md": "abc\x00def"},
			wantFile: "a.md", wantWords: []string{"binary", "NUL"}},
		{name: "non-UTF-8 text", files: map[string]string{"a.txt": "caf\xe9 au lait"},
			wantFile: "a.txt", wantWords: []string{"not valid UTF-8", "convert"}},
		{name: "file over the limit", files: map[string]string{"big.txt": strings.Repeat("x", 2000)},
			opts: Options{MaxFileBytes: 1024}, wantFile: "big.txt",
			wantWords: []string{"2.0 KiB (2000 bytes)", "limit of 1.0 KiB (1024 bytes)", "MAX_FILE_BYTES"}},
		{name: "record file over the limit is read", files: map[string]string{"r.jsonl": `{"id":"a","text":"` + strings.Repeat("x ", 400) + `"}` + "\n" + strings.Repeat(`{"id":"b","text":"b"}`+"\n", 100)},
			opts: Options{MaxFileBytes: 1024}, wantDocs: 101},
		{name: "unreadable file", files: map[string]string{"a.md": "a", "b.md": "b"},
			wrap: func(f fs.FS) fs.FS { return failFS{FS: f, fail: "a.md"} }, wantFile: "a.md",
			wantWords: []string{"cannot read file: permission denied"}, wantDocs: 1},
		{name: "unreadable directory", files: map[string]string{"sub/a.md": "a", "b.md": "b"},
			wrap: func(f fs.FS) fs.FS { return failFS{FS: f, fail: "sub"} }, wantFile: "sub",
			wantWords: []string{"cannot read directory: permission denied"}, wantDocs: 1},
		{name: "unreadable root directory is an error", files: map[string]string{"a.md": "a"},
			wrap: func(f fs.FS) fs.FS { return failFS{FS: f, fail: "."} }, wantError: true,
			wantWords: []string{"cannot read", "permission denied"}},
		{name: "read error in the middle of a text file", files: map[string]string{"a.md": strings.Repeat("x", 100)},
			wrap: func(f fs.FS) fs.FS { return failFS{FS: f, fail: "a.md", failAfter: 10} }, wantFile: "a.md",
			wantWords: []string{"cannot read file: input/output error"}},
		{name: "empty markdown", files: map[string]string{"a.md": "---\ntitle: T\n---\n \n"},
			wantFile: "a.md", wantWords: []string{"empty document"}},
		{name: "empty text", files: map[string]string{"a.txt": " \n\t\n"},
			wantFile: "a.txt", wantWords: []string{"empty document"}},
		{name: "empty html", files: map[string]string{"a.html": "<html><head><title>T</title></head><body><script>x()</script></body></html>"},
			wantFile: "a.html", wantWords: []string{"empty document"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fsys fs.FS = mapFS(tt.files)
			if tt.wrap != nil {
				fsys = tt.wrap(fsys)
			}
			docs, problems := collect(t, []Root{FSRoot("/home/someone/docs", "docs", fsys)}, tt.opts)
			if len(docs) != tt.wantDocs {
				t.Errorf("got %d documents, want %d", len(docs), tt.wantDocs)
			}
			if len(tt.wantWords) == 0 {
				if len(problems) != 0 {
					t.Errorf("got problems %q, want none", problemStrings(problems))
				}
				return
			}
			if len(problems) != 1 {
				t.Fatalf("got problems %q, want one", problemStrings(problems))
			}
			p := problems[0]
			if p.File != tt.wantFile || p.Error != tt.wantError || p.Root != "/home/someone/docs" {
				t.Errorf("got %+v, want file %q error %v", p, tt.wantFile, tt.wantError)
			}
			for _, w := range tt.wantWords {
				if !strings.Contains(p.Reason, w) {
					t.Errorf("reason %q does not contain %q", p.Reason, w)
				}
			}
			if strings.Contains(p.Reason, "/home/someone") {
				t.Errorf("reason %q repeats the absolute path", p.Reason)
			}
			if p.Reason != strings.ToLower(p.Reason[:1])+p.Reason[1:] {
				t.Errorf("reason %q does not start in lower case", p.Reason)
			}
		})
	}
}

func TestWalkSkipsHiddenSilently(t *testing.T) {
	docs, problems := walkFiles(t, map[string]string{
		".git/config.md":         "x",
		".env.md":                "x",
		"node_modules/pkg/a.md":  "x",
		"sub/.cache/a.md":        "x",
		"sub/node_modules/b.txt": "x",
		"sub/visible.md":         "visible",
	}, Options{})
	if got := docIDs(docs); !slices.Equal(got, []string{"sample/sub/visible.md"}) {
		t.Errorf("got ids %q, want only sample/sub/visible.md", got)
	}
	if len(problems) != 0 {
		t.Errorf("got problems %q, want none", problemStrings(problems))
	}
}

func TestWalkHiddenRoot(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".notes")
	writeFile(t, filepath.Join(dir, "a.md"), "# A\n\ntext")
	root, err := OSRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	docs, problems := collect(t, []Root{root}, Options{})
	if got := docIDs(docs); !slices.Equal(got, []string{".notes/a.md"}) || len(problems) != 0 {
		t.Errorf("got ids %q problems %q, want .notes/a.md only", got, problemStrings(problems))
	}
	single, err := OSRoot(filepath.Join(dir, "a.md"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, ".hidden.md"), "hidden but named")
	hidden, err := OSRoot(filepath.Join(dir, ".hidden.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs, _ = collect(t, []Root{single, hidden}, Options{})
	if got := docIDs(docs); !slices.Equal(got, []string{"a.md", ".hidden.md"}) {
		t.Errorf("got ids %q, want a.md and .hidden.md", got)
	}
}

func writeFile(t testing.TB, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWalkSymlinks(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "target", "t.md"), "target")
	writeFile(t, filepath.Join(dir, "root", "a.md"), "a")
	for name, target := range map[string]string{
		"dirlink":     filepath.Join(dir, "target"),
		"filelink.md": filepath.Join(dir, "target", "t.md"),
		"broken.md":   filepath.Join(dir, "missing.md"),
	} {
		if err := os.Symlink(target, filepath.Join(dir, "root", name)); err != nil {
			t.Skipf("symlinks not supported: %v", err)
		}
	}
	root, err := OSRoot(filepath.Join(dir, "root"))
	if err != nil {
		t.Fatal(err)
	}
	docs, problems := collect(t, []Root{root}, Options{})
	if got := docIDs(docs); !slices.Equal(got, []string{"root/a.md", "root/filelink.md"}) {
		t.Errorf("got ids %q, want a.md and the file link", got)
	}
	want := []string{
		"W root/broken.md: broken symbolic link: no such file or directory",
		"W root/dirlink: symbolic link to a directory; not followed (pass the target directory as its own path to index it)",
	}
	if got := problemStrings(problems); !slices.Equal(got, want) {
		t.Errorf("got problems\n%q\nwant\n%q", got, want)
	}
	files, bytes, err := Size(context.Background(), []Root{root}, Options{})
	if err != nil || files != 2 || bytes != 1+int64(len("target")) {
		t.Errorf("Size = %d, %d, %v; want 2 files of 7 bytes", files, bytes, err)
	}
}

func TestWalkOrderIsLexicalAndDeterministic(t *testing.T) {
	files := map[string]string{
		"b.md":        "b",
		"b-c.md":      "b-c",
		"b/c.md":      "b/c",
		"a.txt":       "a",
		"Z.md":        "Z",
		"b/a/deep.md": "deep",
		"r.jsonl":     "{\"id\":\"r2\",\"text\":\"x\"}\n{\"id\":\"r1\",\"text\":\"y\"}\n",
		"x.png":       "png",
	}
	want := []string{"sample/Z.md", "sample/a.txt", "sample/b/a/deep.md", "sample/b/c.md", "sample/b-c.md", "sample/b.md", "r2", "r1"}
	var first []string
	for i := range 5 {
		var got []string
		err := Walk(context.Background(), []Root{FSRoot("sample", "sample", mapFS(files))}, Options{},
			func(d store.SourceDocument) error { got = append(got, d.ID); return nil },
			func(p Problem) { got = append(got, "problem "+p.String()) })
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = got
			wantAll := slices.Insert(slices.Clone(want), len(want), "problem sample/x.png: "+unsupportedReason("x.png"))
			if !slices.Equal(got, wantAll) {
				t.Fatalf("got order\n%q\nwant\n%q", got, wantAll)
			}
		} else if !slices.Equal(got, first) {
			t.Fatalf("run %d: order changed:\n%q\n%q", i, got, first)
		}
	}
}

func TestWalkRootsInOrder(t *testing.T) {
	r1 := FSRoot("one", "one", mapFS(map[string]string{"z.md": "z"}))
	r2 := FSRoot("two", "two", mapFS(map[string]string{"a.md": "a"}))
	docs, _ := collect(t, []Root{r2, r1}, Options{})
	if got := docIDs(docs); !slices.Equal(got, []string{"two/a.md", "one/z.md"}) {
		t.Errorf("got %q, want roots in the order given", got)
	}
}

func TestWalkIDs(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "docs", "guides", "setup.md"), "# Setup\n\ninstall it")
	writeFile(t, filepath.Join(dir, "notes.txt"), "Notes\nsome notes")
	dirRoot, err := OSRoot(filepath.Join(dir, "docs"))
	if err != nil {
		t.Fatal(err)
	}
	fileRoot, err := OSRoot(filepath.Join(dir, "notes.txt"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                         string
		root                         Root
		wantID, wantFile, wantSource string
	}{
		{name: "directory root", root: dirRoot, wantID: "docs/guides/setup.md", wantFile: "guides/setup.md", wantSource: "docs/guides/setup.md"},
		{name: "single-file root", root: fileRoot, wantID: "notes.txt", wantFile: "notes.txt", wantSource: "notes.txt"},
		{name: "fs root", root: FSRoot("sample", "sample", mapFS(map[string]string{"guides/setup.md": "x"})),
			wantID: "sample/guides/setup.md", wantFile: "guides/setup.md", wantSource: "sample/guides/setup.md"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 2 { // stable across runs
				docs, problems := collect(t, []Root{tt.root}, Options{})
				if len(docs) != 1 || len(problems) != 0 {
					t.Fatalf("got %d documents, problems %q; want 1 document", len(docs), problemStrings(problems))
				}
				d := docs[0]
				if d.ID != tt.wantID || d.File != tt.wantFile || d.Metadata["source"] != tt.wantSource || d.Root != tt.root.Key {
					t.Errorf("got id %q file %q source %q root %q; want %q %q %q %q",
						d.ID, d.File, d.Metadata["source"], d.Root, tt.wantID, tt.wantFile, tt.wantSource, tt.root.Key)
				}
			}
		})
	}
}

func TestWalkRootProblems(t *testing.T) {
	tests := []struct {
		name string
		root Root
		want string
	}{
		{name: "missing path", root: Root{Key: "k", Name: "k", FS: mapFS(map[string]string{"a.md": "a"}), Path: "nope"},
			want: "E k: cannot read: file does not exist"},
		{name: "invalid path", root: Root{Key: "k", Name: "k", FS: mapFS(nil), Path: "../x"},
			want: `E k: "../x" is not a valid slash-separated path inside the root`},
		{name: "no filesystem", root: Root{Key: "k", Name: "k"}, want: "E k: root has no filesystem to read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, problems := collect(t, []Root{tt.root}, Options{})
			if got := problemStrings(problems); len(docs) != 0 || !slices.Equal(got, []string{tt.want}) {
				t.Errorf("got %d docs, problems %q; want %q", len(docs), got, tt.want)
			}
		})
	}
}

func TestWalkSubdirectoryPath(t *testing.T) {
	fsys := mapFS(map[string]string{"a/b/c.md": "c", "a/x.md": "x"})
	docs, _ := collect(t, []Root{{Key: "k", Name: "b", FS: fsys, Path: "a/b"}}, Options{})
	if got := docIDs(docs); !slices.Equal(got, []string{"b/c.md"}) || docs[0].File != "c.md" {
		t.Errorf("got %q, want b/c.md with File c.md", got)
	}
	docs, _ = collect(t, []Root{{Key: "k", Name: "x.md", FS: fsys, Path: "a/x.md"}}, Options{})
	if got := docIDs(docs); !slices.Equal(got, []string{"x.md"}) || docs[0].File != "x.md" {
		t.Errorf("got %q, want x.md", got)
	}
}

func TestWalkBEIR(t *testing.T) {
	corpus := `{"_id":"d1","title":"One","text":"first"}` + "\n" + `{"_id":"d2","title":"Two","text":"second"}` + "\n"
	tests := []struct {
		name          string
		files         map[string]string
		wantIDs       []string
		wantProblems  []string
		wantSizeFiles int64
	}{
		{name: "qrels directory", files: map[string]string{
			"bench/corpus.jsonl": corpus, "bench/queries.jsonl": `{"_id":"q1","text":"query"}`,
			"bench/qrels/test.tsv": "q\tc\t1", "bench/qrels/dev.tsv": "q\tc\t1", "bench/README.md": "# readme",
			"bench/.DS_Store": "x", "other.md": "other",
		}, wantIDs: []string{"d1", "d2", "sample/other.md"}, wantSizeFiles: 2, wantProblems: []string{
			"W sample/bench/README.md: " + beirSkipped,
			"W sample/bench/qrels: " + beirSkipped,
			"W sample/bench/queries.jsonl: " + beirSkipped,
		}},
		{name: "qrels.tsv", files: map[string]string{
			"corpus.jsonl": corpus, "queries.jsonl": `{"_id":"q1","text":"query"}`, "qrels.tsv": "q\tc\t1",
		}, wantIDs: []string{"d1", "d2"}, wantSizeFiles: 1, wantProblems: []string{
			"W sample/qrels.tsv: " + beirSkipped,
			"W sample/queries.jsonl: " + beirSkipped,
		}},
		{name: "no qrels: not a collection", files: map[string]string{
			"corpus.jsonl": corpus, "queries.jsonl": `{"_id":"q1","text":"query"}`,
		}, wantIDs: []string{"d1", "d2", "q1"}, wantSizeFiles: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, problems := walkFiles(t, tt.files, Options{})
			if got := docIDs(docs); !slices.Equal(got, tt.wantIDs) {
				t.Errorf("got ids %q, want %q", got, tt.wantIDs)
			}
			if got := problemStrings(problems); !slices.Equal(got, tt.wantProblems) {
				t.Errorf("got problems\n%q\nwant\n%q", got, tt.wantProblems)
			}
			files, _, err := Size(context.Background(), []Root{FSRoot("sample", "sample", mapFS(tt.files))}, Options{})
			if err != nil || files != tt.wantSizeFiles {
				t.Errorf("Size counted %d files (%v), want %d", files, err, tt.wantSizeFiles)
			}
		})
	}
}

func TestWalkRealBEIRCollections(t *testing.T) {
	t.Parallel() // the slowest tests run side by side
	for _, name := range []string{"scifact", "cranfield"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("..", "..", "..", "shared", "data", name)
			if _, err := os.Stat(filepath.Join(dir, "corpus.jsonl")); err != nil {
				dir = filepath.Join("/work/shared/data", name)
				if _, err := os.Stat(filepath.Join(dir, "corpus.jsonl")); err != nil {
					t.Skipf("%s collection not present", name)
				}
			}
			root, err := OSRoot(dir)
			if err != nil {
				t.Fatal(err)
			}
			lines := countLines(t, filepath.Join(dir, "corpus.jsonl"))
			var progress Progress
			docs, problems := collect(t, []Root{root}, Options{Progress: &progress})
			checkUTF8(t, docs, problems)
			skipped := 0
			for _, p := range problems {
				switch {
				case p.Error:
					t.Errorf("unexpected error problem %s", p)
				case p.File == "corpus.jsonl":
					skipped++ // records with neither title nor text
					if !strings.Contains(p.Reason, `no "title" and no text`) {
						t.Errorf("unexpected problem %s", p)
					}
				case p.Reason != beirSkipped:
					t.Errorf("unexpected problem %s", p)
				}
			}
			if len(docs)+skipped != lines {
				t.Errorf("got %d documents and %d skipped records, want %d records", len(docs), skipped, lines)
			}
			info, _ := os.Stat(filepath.Join(dir, "corpus.jsonl"))
			files, bytes, err := Size(context.Background(), []Root{root}, Options{})
			if err != nil || files != 1 || bytes != info.Size() || progress.Files.Load() != files || progress.Bytes.Load() != bytes {
				t.Errorf("Size = %d, %d, %v; progress %d, %d; want 1 file of %d bytes",
					files, bytes, err, progress.Files.Load(), progress.Bytes.Load(), info.Size())
			}
		})
	}
}

func countLines(t testing.TB, name string) int {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for line := range strings.Lines(string(data)) {
		if strings.TrimSpace(line) != "" {
			n++
		}
	}
	return n
}

func TestWalkCancelled(t *testing.T) {
	files := map[string]string{"a.md": "a", "b.md": "b"}
	for i := range 200 {
		files[fmt.Sprintf("r%03d.jsonl", i)] = `{"id":1,"text":"x"}` + "\n" + `{"id":2,"text":"y"}` + "\n"
	}
	root := FSRoot("sample", "sample", mapFS(files))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	err := Walk(ctx, []Root{root}, Options{}, func(store.SourceDocument) error { called = true; return nil }, nil)
	if !errors.Is(err, context.Canceled) || called {
		t.Errorf("before start: got %v, emit called %v; want context.Canceled and no documents", err, called)
	}
	if _, _, err := Size(ctx, []Root{root}, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Size: got %v, want context.Canceled", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	n := 0
	err = Walk(ctx, []Root{root}, Options{}, func(store.SourceDocument) error {
		if n++; n == 3 {
			cancel()
		}
		return nil
	}, nil)
	if !errors.Is(err, context.Canceled) || n != 3 {
		t.Errorf("during walk: got %v after %d documents, want context.Canceled after 3", err, n)
	}
}

func TestWalkReturnsEmitError(t *testing.T) {
	errStop := errors.New("disk full")
	for _, files := range []map[string]string{
		{"a.md": "a", "b.md": "b"},
		{"a.jsonl": `{"id":1,"text":"x"}` + "\n" + `{"id":2,"text":"y"}`},
		{"a.json": `[{"id":1,"text":"x"},{"id":2,"text":"y"}]`},
	} {
		n := 0
		err := Walk(context.Background(), []Root{FSRoot("s", "s", mapFS(files))}, Options{},
			func(store.SourceDocument) error { n++; return errStop }, nil)
		if !errors.Is(err, errStop) || n != 1 {
			t.Errorf("%v: got %v after %d documents, want %v after 1", files, err, n, errStop)
		}
	}
}

func TestSizeMatchesWalk(t *testing.T) {
	files := map[string]string{
		"a.md":                  "# A\n\nalpha",
		"b.txt":                 "beta",
		"c.html":                "<p>gamma</p>",
		"big.md":                strings.Repeat("x", 3000),
		"empty.md":              "",
		"binary.txt":            "\x00\x01",
		"r.jsonl":               strings.Repeat(`{"id":1,"text":"`+strings.Repeat("y", 100)+`"}`+"\n", 50),
		"s.json":                `[{"id":"s","text":"s"}]`,
		"logo.png":              "png",
		".hidden/a.md":          "hidden",
		"bench/corpus.jsonl":    `{"_id":"c","text":"c"}`,
		"bench/queries.jsonl":   `{"_id":"q","text":"q"}`,
		"bench/qrels.tsv":       "q\tc\t1",
		"node_modules/x/a.md":   "x",
		"sub/deeper/another.md": "another",
	}
	root := FSRoot("sample", "sample", mapFS(files))
	opts := Options{MaxFileBytes: 2048}
	sizeFiles, sizeBytes, err := Size(context.Background(), []Root{root}, opts)
	if err != nil {
		t.Fatal(err)
	}
	var progress Progress
	opts.Progress = &progress
	collect(t, []Root{root}, opts)
	var wantFiles, wantBytes int64
	for _, name := range []string{"a.md", "b.txt", "c.html", "empty.md", "binary.txt", "r.jsonl", "s.json", "bench/corpus.jsonl", "sub/deeper/another.md"} {
		wantFiles++
		wantBytes += int64(len(files[name]))
	}
	if sizeFiles != wantFiles || sizeBytes != wantBytes {
		t.Errorf("Size = %d files, %d bytes; want %d, %d", sizeFiles, sizeBytes, wantFiles, wantBytes)
	}
	if progress.Files.Load() != sizeFiles || progress.Bytes.Load() != sizeBytes {
		t.Errorf("Walk progress = %d files, %d bytes; Size said %d, %d",
			progress.Files.Load(), progress.Bytes.Load(), sizeFiles, sizeBytes)
	}
}

func TestProgressIsSafeToReadConcurrently(t *testing.T) {
	var progress Progress
	done := make(chan struct{})
	go func() {
		defer close(done)
		for progress.Files.Load() < 20 {
			_ = progress.Bytes.Load()
		}
	}()
	files := map[string]string{}
	for i := range 20 {
		files[fmt.Sprintf("f%02d.txt", i)] = strings.Repeat("z", i+1)
	}
	collect(t, []Root{FSRoot("s", "s", mapFS(files))}, Options{Progress: &progress})
	<-done
	if progress.Bytes.Load() != 210 {
		t.Errorf("progress bytes = %d, want 210", progress.Bytes.Load())
	}
}

func TestWalkNilProblemAndReaderErrors(t *testing.T) {
	// A nil problem callback is allowed.
	err := Walk(context.Background(), []Root{FSRoot("s", "s", mapFS(map[string]string{"x.png": "x"}))}, Options{},
		func(store.SourceDocument) error { return nil }, nil)
	if err != nil {
		t.Fatal(err)
	}
	// io.ReadAll errors other than EOF are reported, never returned.
	fsys := failFS{FS: mapFS(map[string]string{"a.jsonl": strings.Repeat(`{"id":1,"text":"x"}`+"\n", 10)}), fail: "a.jsonl", failAfter: 45}
	docs, problems := collect(t, []Root{FSRoot("s", "s", fsys)}, Options{})
	if got := problemStrings(problems); len(docs) != 2 || len(got) != 1 || !strings.Contains(got[0], "W s/a.jsonl:3: cannot read file at line 3: input/output error") {
		t.Errorf("got %d docs, problems %q; want 2 docs and a read error at line 3", len(docs), got)
	}
}

func TestExclude(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"docs/a.md":                       "# A\n\ntext",
		"data/index/gen-000001/meta.json": `{"x":1}`,
		"data/other.md":                   "# Other\n\ntext",
	} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
	}
	root, err := OSRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	var problems []string
	opts := Options{Exclude: []string{filepath.Join(root.Key, "data", "index")}}
	err = Walk(t.Context(), []Root{root}, opts, func(d store.SourceDocument) error {
		ids = append(ids, d.ID)
		return nil
	}, func(p Problem) { problems = append(problems, p.String()) })
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Base(root.Key)
	if want := []string{base + "/data/other.md", base + "/docs/a.md"}; !slices.Equal(ids, want) || len(problems) != 0 {
		t.Errorf("ids %v problems %v, want %v and no problems", ids, problems, want)
	}
	if files, _, _ := Size(t.Context(), []Root{root}, opts); files != 2 {
		t.Errorf("Size counts %d files, want 2", files)
	}
}

func TestWalkPDFAndDOCX(t *testing.T) {
	report := string(writePDF(testPDF{info: map[string]string{"Title": "Sales Report", "Author": "Ann"}, pages: []string{pdfLines("Sales rose.")}}))
	files := map[string]string{
		"report.pdf":         report,
		"notes/minutes.DOCX": testDOCX(para("Title", "Minutes")+para("", "Agreed."), nil),
		"scan.pdf":           string(writePDF(testPDF{pages: []string{noText}})),
		"broken.docx":        "not a zip",
		"big.pdf":            string(writePDF(testPDF{pages: []string{pdfLines(strings.Repeat("x", 3000))}})),
	}
	root := FSRoot("/home/someone/docs", "docs", mapFS(files))
	var progress Progress
	opts := Options{MaxFileBytes: 2048, Progress: &progress}
	docs, problems := collect(t, []Root{root}, opts)
	checkUTF8(t, docs, problems)
	type doc struct{ id, file, title, text, format, source, author string }
	var got []doc
	for _, d := range docs {
		if d.Root != root.Key {
			t.Errorf("document %q has root %q, want %q", d.ID, d.Root, root.Key)
		}
		got = append(got, doc{d.ID, d.File, d.Title, d.Text, d.Metadata["format"], d.Metadata["source"], d.Metadata["author"]})
	}
	want := []doc{
		{"docs/notes/minutes.DOCX", "notes/minutes.DOCX", "Minutes", "Minutes\n\nAgreed.", "docx", "docs/notes/minutes.DOCX", ""},
		{"docs/report.pdf", "report.pdf", "Sales Report", "Sales rose.", "pdf", "docs/report.pdf", "Ann"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got documents\n%+v\nwant\n%+v", got, want)
	}
	wantProblems := []string{
		fmt.Sprintf("W docs/big.pdf: file is %s, over the limit of 2.0 KiB (2048 bytes); set MAX_FILE_BYTES to a larger number of bytes to index it",
			formatBytes(int64(len(files["big.pdf"])))),
		"W docs/broken.docx: cannot parse the DOCX (zip: not a valid zip file); the file may be damaged, or not a Word document",
		"W docs/scan.pdf: the PDF has no text layer (scanned images?); run OCR first to index it",
	}
	if got := problemStrings(problems); !slices.Equal(got, wantProblems) {
		t.Errorf("got problems\n%q\nwant\n%q", got, wantProblems)
	}
	for _, p := range problems {
		if p.Root != root.Key || p.Line != 0 {
			t.Errorf("problem %+v: want root %q and no line", p, root.Key)
		}
	}
	files2, bytes, err := Size(context.Background(), []Root{root}, opts)
	var wantBytes int64
	for _, name := range []string{"report.pdf", "notes/minutes.DOCX", "scan.pdf", "broken.docx"} {
		wantBytes += int64(len(files[name]))
	}
	if err != nil || files2 != 4 || bytes != wantBytes || progress.Files.Load() != 4 || progress.Bytes.Load() != wantBytes {
		t.Errorf("Size = %d files, %d bytes (%v); progress %d, %d; want 4 files, %d bytes",
			files2, bytes, err, progress.Files.Load(), progress.Bytes.Load(), wantBytes)
	}

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "report.pdf"), report)
	single, err := OSRoot(filepath.Join(dir, "report.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	docs, problems = collect(t, []Root{single}, Options{})
	if len(docs) != 1 || len(problems) != 0 || docs[0].ID != "report.pdf" || docs[0].File != "report.pdf" || docs[0].Metadata["pages"] != "1" {
		t.Errorf("single-file root: got %d documents %+v, problems %q; want report.pdf", len(docs), docs, problemStrings(problems))
	}
}
