package sample

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// file is one file of the corpus, read once for all tests.
type file struct {
	path string
	data []byte
}

func corpusFiles(t *testing.T) []file {
	t.Helper()
	var files []file
	err := fs.WalkDir(FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		data, err := fs.ReadFile(FS(), p)
		if err != nil {
			return err
		}
		files = append(files, file{path: p, data: data})
		return nil
	})
	if err != nil {
		t.Fatalf("walking the corpus: %v", err)
	}
	return files
}

func TestCorpusShape(t *testing.T) {
	files := corpusFiles(t)
	if len(files) < 24 {
		t.Errorf("corpus has %d files, want at least 24", len(files))
	}
	exts := map[string]int{}
	for _, f := range files {
		exts[path.Ext(f.path)]++
	}
	if len(exts) < 4 {
		t.Errorf("corpus has extensions %v, want at least 4 distinct", exts)
	}
	for ext, min := range map[string]int{".md": 10, ".txt": 4, ".html": 4, ".jsonl": 1} {
		if exts[ext] < min {
			t.Errorf("corpus has %d %s files, want at least %d", exts[ext], ext, min)
		}
	}
	if _, err := fs.Stat(FS(), "quick-start.md"); err != nil {
		t.Errorf("FS is not rooted at the corpus directory: %v", err)
	}
}

func TestEveryFileIsNonEmptyUTF8(t *testing.T) {
	for _, f := range corpusFiles(t) {
		if len(bytes.TrimSpace(f.data)) == 0 {
			t.Errorf("%s is empty", f.path)
		}
		if !utf8.Valid(f.data) {
			t.Errorf("%s is not valid UTF-8", f.path)
		}
	}
}

var canonicalRE = regexp.MustCompile(`(?i)rel\s*=\s*["']?\s*canonical`)

// TestNoDocumentHasItsOwnURL checks that every sample document is cited
// through the server's document view: no url in front matter, no canonical
// link, no url field in a record.
func TestNoDocumentHasItsOwnURL(t *testing.T) {
	for _, f := range corpusFiles(t) {
		if canonicalRE.Match(f.data) {
			t.Errorf("%s contains a canonical link", f.path)
		}
		fm, _, _ := frontMatter(string(f.data))
		for _, line := range strings.Split(fm, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "url:") {
				t.Errorf("%s has url: in its front matter", f.path)
			}
		}
		for _, line := range strings.Split(string(f.data), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "url:") {
				t.Errorf("%s has a line starting with url:", f.path)
			}
		}
		if path.Ext(f.path) == ".jsonl" {
			for _, r := range records(t, f) {
				for _, k := range []string{"url", "URL"} {
					if _, ok := r[k]; ok {
						t.Errorf("%s: record %v has a %s field", f.path, r["id"], k)
					}
				}
			}
		}
	}
}

// frontMatter splits a leading YAML front matter block from the body.
func frontMatter(s string) (fm, body string, ok bool) {
	if !strings.HasPrefix(s, "---\n") {
		return "", s, false
	}
	rest := s[len("---\n"):]
	end := strings.Index(rest, "\n---\n")
	if end < 0 {
		return "", s, false
	}
	return rest[:end], rest[end+len("\n---\n"):], true
}

func records(t *testing.T, f file) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(f.data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%s:%d: %v", f.path, n, err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", f.path, err)
	}
	return out
}

var (
	titleRE     = regexp.MustCompile(`(?is)<title>\s*(\S.*?)\s*</title>`)
	scriptRE    = regexp.MustCompile(`(?is)<script\b.*?</script>`)
	styleRE     = regexp.MustCompile(`(?is)<style\b.*?</style>`)
	headRE      = regexp.MustCompile(`(?is)<head\b.*?</head>`)
	tagRE       = regexp.MustCompile(`(?s)<[^>]*>`)
	headingRE   = regexp.MustCompile(`(?i)<h[1-6]\b`)
	paragraphRE = regexp.MustCompile(`(?i)<p\b`)
	listRE      = regexp.MustCompile(`(?i)<(ul|ol)\b`)
)

// doc is one document as a reader of the corpus would see it.
type doc struct {
	name, title, text string
}

// documents splits the corpus into documents and checks each format's
// conventions on the way.
func documents(t *testing.T) []doc {
	t.Helper()
	var docs []doc
	for _, f := range corpusFiles(t) {
		s := string(f.data)
		switch path.Ext(f.path) {
		case ".md":
			title := ""
			fm, body, ok := frontMatter(s)
			if ok {
				for _, line := range strings.Split(fm, "\n") {
					if v, found := strings.CutPrefix(line, "title:"); found {
						title = strings.Trim(strings.TrimSpace(v), `"'`)
					}
				}
			} else {
				first, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
				if h, found := strings.CutPrefix(first, "# "); found {
					title = strings.TrimSpace(h)
				}
			}
			if title == "" {
				t.Errorf("%s has neither a front matter title nor a leading # heading", f.path)
			}
			docs = append(docs, doc{f.path, title, body})
		case ".txt":
			lines := strings.SplitN(s, "\n", 3)
			if len(lines) < 3 || strings.TrimSpace(lines[0]) == "" || strings.TrimSpace(lines[1]) != "" {
				t.Errorf("%s does not start with a title line followed by a blank line", f.path)
				continue
			}
			docs = append(docs, doc{f.path, lines[0], lines[2]})
		case ".html":
			m := titleRE.FindStringSubmatch(s)
			if m == nil {
				t.Errorf("%s has no <title>", f.path)
				continue
			}
			for what, re := range map[string]*regexp.Regexp{"heading": headingRE, "paragraph": paragraphRE, "list": listRE} {
				if !re.MatchString(s) {
					t.Errorf("%s has no %s", f.path, what)
				}
			}
			text := headRE.ReplaceAllString(s, " ")
			text = scriptRE.ReplaceAllString(text, " ")
			text = styleRE.ReplaceAllString(text, " ")
			text = tagRE.ReplaceAllString(text, " ")
			docs = append(docs, doc{f.path, m[1], text})
		case ".jsonl":
			recs := records(t, f)
			if len(recs) < 5 {
				t.Errorf("%s has %d records, want at least 5", f.path, len(recs))
			}
			seen := map[string]bool{}
			for i, r := range recs {
				id, _ := r["id"].(string)
				title, _ := r["title"].(string)
				text, _ := r["text"].(string)
				topic, _ := r["topic"].(string)
				if id == "" || title == "" || text == "" || topic == "" {
					t.Errorf("%s: record %d lacks a string id, title, text or topic", f.path, i+1)
					continue
				}
				if seen[id] {
					t.Errorf("%s: duplicate id %q", f.path, id)
				}
				seen[id] = true
				docs = append(docs, doc{f.path + "#" + id, title, text})
			}
		default:
			t.Errorf("%s has an extension the indexer does not read", f.path)
		}
	}
	return docs
}

func TestDocumentLengths(t *testing.T) {
	docs := documents(t)
	if len(docs) < 24 {
		t.Errorf("corpus has %d documents, want at least 24", len(docs))
	}
	titles := map[string]string{}
	for _, d := range docs {
		if n := len(strings.Fields(d.text)); n < 150 || n > 900 {
			t.Errorf("%s has %d words, want 150 to 900", d.name, n)
		}
		if other, dup := titles[d.title]; dup {
			t.Errorf("%s and %s share the title %q", d.name, other, d.title)
		}
		titles[d.title] = d.name
	}
}

// TestScriptAndStyleSample checks that at least one HTML page carries the
// script and style blocks that the HTML reader must leave out of the index.
func TestScriptAndStyleSample(t *testing.T) {
	for _, f := range corpusFiles(t) {
		if path.Ext(f.path) == ".html" && scriptRE.Match(f.data) && styleRE.Match(f.data) {
			return
		}
	}
	t.Error("no HTML file has both a <script> and a <style> block")
}
