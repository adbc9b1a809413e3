package ingest

import (
	"strings"
	"testing"
)

func TestMarkdown(t *testing.T) {
	runFormatCases(t, "getting-started.md", "markdown", []formatCase{
		{name: "front matter title wins", data: "---\ntitle: Front  Title\n---\n# Heading\n\nbody\n",
			title: "Front Title", text: "# Heading\n\nbody", meta: map[string]string{}},
		{name: "first ATX heading", data: "intro line\n\n## Second *level* `code`\n\n# Later\n",
			title: "Second level code", text: "intro line\n\n## Second *level* `code`\n\n# Later"},
		{name: "setext heading", data: "Setext Title\n============\n\ntext", title: "Setext Title", text: "Setext Title\n============\n\ntext"},
		{name: "setext level 2", data: "Sub Title\n---------\n\ntext", title: "Sub Title", text: "Sub Title\n---------\n\ntext"},
		{name: "comment in fenced code is not a heading", data: "```sh\n# install\n```\n\nplain",
			title: "getting started", text: "```sh\n# install\n```\n\nplain"},
		{name: "comment in indented code is not a heading", data: "    # not a heading\n\nplain",
			title: "getting started", text: "    # not a heading\n\nplain"},
		{name: "heading with link and autolink", data: "# Read [the docs](http://x.test) at <https://ex.com>\n",
			title: "Read the docs at https://ex.com", text: "# Read [the docs](http://x.test) at <https://ex.com>"},
		{name: "empty heading is skipped", data: "#\n\n## Real\n", title: "Real", text: "#\n\n## Real"},
		{name: "heading in a list counts", data: "- # Listed\n", title: "Listed", text: "- # Listed"},
		{name: "title from file name", file: "my_notes-2024.markdown", data: "just text",
			title: "my notes 2024", text: "just text"},
		{name: "upper-case extension", file: "README.MD", data: "text", title: "README", text: "text"},
		{name: "citable url", data: "---\nurl: https://example.com/start\n---\ntext", title: "getting started",
			url: "https://example.com/start", text: "text", meta: map[string]string{}},
		{name: "relative url is ignored with a warning", data: "---\nurl: /docs/start\n---\ntext", title: "getting started", text: "text",
			problems: []string{`I sample/getting-started.md: front matter url "/docs/start" ignored: it is not an absolute http(s) URL; the document is indexed without one`}},
		{name: "ftp url is ignored", data: "---\nurl: ftp://example.com/x\n---\ntext", title: "getting started", text: "text",
			problems: []string{`I sample/getting-started.md: front matter url "ftp://example.com/x" ignored: it is not an absolute http(s) URL; the document is indexed without one`}},
		{name: "list url is ignored", data: "---\nurl: [a, b]\n---\ntext", title: "getting started", text: "text",
			problems: []string{"I sample/getting-started.md: front matter url ignored: it is not a single URL"}},
		{name: "empty url is no url", data: "---\nurl: \"\"\n---\ntext", title: "getting started", text: "text"},
		{name: "metadata", data: "---\ntitle: T\nauthor: Ann\ntags: [go, search]\nweight: 3\ndraft: false\ndate: 2024-01-02\nnothing: ~\n" +
			"params: {b: 2, a: [1, x], c: {d: true}}\nlist: [1, {k: v}]\nmulti: |\n  line one\n  line two\n---\ntext",
			title: "T", text: "text", meta: map[string]string{
				"author": "Ann", "tags": "go, search", "weight": "3", "draft": "false", "date": "2024-01-02",
				"params": `{"a":[1,"x"],"b":2,"c":{"d":true}}`, "list": `1, {"k":"v"}`, "multi": "line one\nline two\n",
			}},
		{name: "front matter source and format keys are replaced", data: "---\nsource: mine\nformat: other\n---\ntext",
			title: "getting started", text: "text", meta: map[string]string{}},
		{name: "anchors and aliases", data: "---\nbase: &b {x: 1}\ncopy: *b\n---\ntext", title: "getting started", text: "text",
			meta: map[string]string{"base": `{"x":1}`, "copy": `{"x":1}`}},
		{name: "invalid YAML is ignored with a warning", data: "---\ntitle: [unclosed\n---\n# Heading\ntext",
			title: "Heading", text: "# Heading\ntext",
			problems: []string{"I sample/getting-started.md: front matter ignored: it is not valid YAML (yaml: line 1: did not find expected ',' or ']')"}},
		{name: "front matter that is not a mapping", data: "---\n- a\n- b\n---\ntext", title: "getting started", text: "text",
			problems: []string{"I sample/getting-started.md: front matter ignored: it is not a YAML mapping of keys to values"}},
		{name: "empty front matter", data: "---\n---\ntext", title: "getting started", text: "text", meta: map[string]string{}},
		{name: "unclosed front matter is body", data: "---\ntitle: x\n\ntext", title: "getting started", text: "---\ntitle: x\n\ntext"},
		{name: "front matter not at the start is body", data: "\n---\ntitle: x\n---\ntext", title: "title: x", text: "---\ntitle: x\n---\ntext"},
		{name: "CRLF front matter and BOM", data: "\uFEFF---\r\ntitle: Windows\r\n---\r\nbody\r\n", title: "Windows", text: "body"},
		{name: "alias bomb", data: "---\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" +
			"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
			"e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n---\ntext", title: "getting started", text: "text",
			meta: map[string]string{"a": "x, x, x, x, x, x, x, x, x, x", "b": strings.TrimSuffix(strings.Repeat(`["x","x","x","x","x","x","x","x","x","x"], `, 10), ", "),
				"c": strings.TrimSuffix(strings.Repeat("["+strings.TrimSuffix(strings.Repeat(`["x","x","x","x","x","x","x","x","x","x"],`, 10), ",")+"], ", 10), ", ")},
			problems: []string{ // d expands to 11110 nodes
				`I sample/getting-started.md: front matter "d" ignored: its value expands to over 10000 items`,
				`I sample/getting-started.md: front matter "e" ignored: its value expands to over 10000 items`,
			}},
		{name: "heading beyond the scanned start", data: strings.Repeat("para\n\n", 11000) + "# Late",
			title: "getting started", text: strings.Repeat("para\n\n", 11000) + "# Late"},
		{name: "long heading line is cut", data: "# " + strings.Repeat("long ", 300),
			title: strings.TrimSpace(strings.Repeat("long ", 300)[:headingLineBytes-2]), text: "# " + strings.TrimSpace(strings.Repeat("long ", 300))},
		{name: "hostile nesting is bounded", data: strings.Repeat("> - ", 200000) + "x",
			title: "getting started", text: strings.Repeat("> - ", 200000) + "x"},
		{name: "only front matter", data: "---\ntitle: T\n---\n", noDoc: true,
			problems: []string{"W sample/getting-started.md: empty document: no text after extraction"}},
		{name: "binary", data: "# x\x00", noDoc: true,
			problems: []string{"W sample/getting-started.md: binary file (NUL byte in the first 8 KiB); only text files are indexed"}},
		{name: "not UTF-8", data: "# caf\xe9", noDoc: true,
			problems: []string{"W sample/getting-started.md: not valid UTF-8 text; convert the file to UTF-8 to index it"}},
	})
}

func TestSplitFrontMatter(t *testing.T) {
	tests := []struct {
		name, src, wantFM, wantBody string
		wantFound                   bool
	}{
		{name: "basic", src: "---\na: 1\n---\nbody", wantFM: "a: 1\n", wantBody: "body", wantFound: true},
		{name: "closing at end of file", src: "---\na: 1\n---", wantFM: "a: 1\n", wantBody: "", wantFound: true},
		{name: "trailing spaces on fences", src: "--- \na: 1\n---  \nbody", wantFM: "a: 1\n", wantBody: "body", wantFound: true},
		{name: "four dashes is not a fence", src: "----\na: 1\n---\nbody", wantBody: "----\na: 1\n---\nbody"},
		{name: "only opening", src: "---\nbody", wantBody: "---\nbody"},
		{name: "single line", src: "---", wantBody: "---"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fm, body, found := splitFrontMatter(tt.src)
			if fm != tt.wantFM || body != tt.wantBody || found != tt.wantFound {
				t.Errorf("got %q, %q, %v; want %q, %q, %v", fm, body, found, tt.wantFM, tt.wantBody, tt.wantFound)
			}
		})
	}
}

func FuzzMarkdown(f *testing.F) {
	for _, seed := range []string{
		"",
		"# Title\n\ntext",
		"---\ntitle: T\nurl: https://x.test\ntags: [a, b]\n---\nbody",
		"---\nbase: &a [*a]\n---\nx",
		"---\n: :\n---\n",
		"Setext\n===\n",
		"```\n# c\n```\n",
		"> # quoted\n> > ## deeper",
		"\uFEFF---\r\n---\r\n\r\n",
		"# \xff\xfe",
		"[x]: <> \"t\"\n# [x]",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, problems := walkFiles(t, map[string]string{"a.md": string(data)}, Options{})
		checkUTF8(t, docs, problems)
	})
}
