package ingest

import (
	"bufio"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/connectorhq/connector/internal/store"
)

// recordDoc is what a test expects of one record document.
type recordDoc struct {
	id, title, url, text string
	meta                 map[string]string // besides source and format; nil: not checked
}

func TestRecords(t *testing.T) {
	tests := []struct {
		name     string
		file     string // default r.jsonl
		data     string
		opts     Options
		docs     []recordDoc
		lines    []int // of the documents, when checked
		problems []string
	}{
		{name: "string id, title, text", data: `{"id":"doc-1","title":" A  Title ","text":"  body  "}`,
			docs: []recordDoc{{id: "doc-1", title: "A Title", text: "body", meta: map[string]string{}}}},
		{name: "_id integer", data: `{"_id": 42, "title": "T", "text": "x"}`, docs: []recordDoc{{id: "42", title: "T", text: "x"}}},
		{name: "negative and big integer ids", data: `{"id": -7, "text": "x"}` + "\n" + `{"id": 123456789012345678901234567890, "text": "y"}`,
			docs: []recordDoc{{id: "-7", title: "x", text: "x"}, {id: "123456789012345678901234567890", title: "y", text: "y"}}},
		{name: "id wins over _id", data: `{"id":"a","_id":"b","text":"x"}`, docs: []recordDoc{{id: "a", title: "x", text: "x"}}},
		{name: "null id falls back to _id", data: `{"id":null,"_id":"b","text":"x"}`, docs: []recordDoc{{id: "b", title: "x", text: "x"}}},
		{name: "id kept as is", data: `{"id":"Docs/A B?x=1","text":"x"}`, docs: []recordDoc{{id: "Docs/A B?x=1", title: "x", text: "x"}}},
		{name: "bad ids", data: `{"text":"no id"}` + "\n" + `{"id":1.5,"text":"x"}` + "\n" + `{"_id":true,"text":"x"}` + "\n" +
			`{"id":"","text":"x"}` + "\n" + `{"id":{"a":1},"text":"x"}` + "\n" + `{"id":1e3,"text":"x"}` + "\n" + `{"id":"ok","text":"x"}`,
			docs: []recordDoc{{id: "ok", title: "x", text: "x"}},
			problems: []string{
				`W sample/r.jsonl:1: record has no "id" or "_id"`,
				`W sample/r.jsonl:2: record "id" must be a string or an integer, not 1.5`,
				`W sample/r.jsonl:3: record "_id" must be a string or an integer, not true`,
				`W sample/r.jsonl:4: record has an empty "id"`,
				`W sample/r.jsonl:5: record "id" must be a string or an integer, not {"a":1}`,
				`W sample/r.jsonl:6: record "id" must be a string or an integer, not 1e3`,
			}},
		{name: "text from content or body", data: `{"id":1,"title":"T","text":"","content":"from content"}` + "\n" +
			`{"id":2,"title":"T","text":"  ","content":null,"body":"from body"}` + "\n" + `{"id":3,"title":"T","text":5,"body":"b"}`,
			docs: []recordDoc{{id: "1", title: "T", text: "from content"}, {id: "2", title: "T", text: "from body"}, {id: "3", title: "T", text: "b"}}},
		{name: "title only", data: `{"id":1,"title":"Just a title"}`, docs: []recordDoc{{id: "1", title: "Just a title", text: ""}}},
		{name: "title from text", data: `{"id":1,"text":"` + strings.Repeat("lorem ipsum ", 10) + `\nsecond line"}`,
			docs: []recordDoc{{id: "1", title: strings.Repeat("lorem ipsum ", 6) + "lorem…",
				text: strings.Repeat("lorem ipsum ", 10) + "\nsecond line"}}},
		{name: "neither title nor text", data: `{"id":1,"title":"","text":""}` + "\n" + `{"id":2,"url":"https://x.test"}`,
			problems: []string{
				`W sample/r.jsonl:1: record "1" has no "title" and no text ("text", "content" or "body")`,
				`W sample/r.jsonl:2: record "2" has no "title" and no text ("text", "content" or "body")`,
			}},
		{name: "no id and no text are treated alike", data: `{"text":"x"}` + "\n" + `{"id":"a"}` + "\n" + `{"id":"b","text":"y"}`,
			docs: []recordDoc{{id: "b", title: "y", text: "y"}},
			problems: []string{
				`W sample/r.jsonl:1: record has no "id" or "_id"`,
				`W sample/r.jsonl:2: record "a" has no "title" and no text ("text", "content" or "body")`,
			}},
		{name: "urls", data: `{"id":1,"text":"x","url":"https://example.com/1"}` + "\n" + `{"id":2,"text":"x","url":"/relative"}` + "\n" +
			`{"id":3,"text":"x","url":42}` + "\n" + `{"id":4,"text":"x","url":""}` + "\n" + `{"id":5,"text":"x","url":null}`,
			docs: []recordDoc{{id: "1", title: "x", text: "x", url: "https://example.com/1"}, {id: "2", title: "x", text: "x"},
				{id: "3", title: "x", text: "x"}, {id: "4", title: "x", text: "x"}, {id: "5", title: "x", text: "x"}},
			problems: []string{
				`I sample/r.jsonl:2: record "2": url "/relative" ignored: it is not an absolute http(s) URL; the record is indexed without one`,
				`I sample/r.jsonl:3: record "3": url ignored: it is not a string; the record is indexed without one`,
			}},
		{name: "metadata", data: `{"id":1,"text":"x","lang":"en","year":2024,"score":0.5,"ok":true,"none":null,"tags":["a", "b"],` +
			`"obj":{"k": [1, 2]},"metadata":{"author":"Ann","lang":"fr","id":"no","text":"no","nested":{"x":1}},"_id":"ignored","body":"b","content":"c"}`,
			docs: []recordDoc{{id: "1", title: "x", text: "x", meta: map[string]string{
				"lang": "en", "year": "2024", "score": "0.5", "ok": "true", "tags": `["a","b"]`, "obj": `{"k":[1,2]}`,
				"author": "Ann", "nested": `{"x":1}`,
			}}}},
		{name: "non-object metadata is ignored", data: `{"id":1,"text":"x","metadata":"plain"}`,
			docs: []recordDoc{{id: "1", title: "x", text: "x", meta: map[string]string{}}}},
		{name: "bad lines go on", lines: []int{2, 8}, data: "\n{\"id\":1,\"text\":\"a\"}\r\n  \nnot json\n[1,2]\n\"str\"\n{\"id\":2,\"text\":\"b\"} trailing\n{\"id\":3,\"text\":\"c\"}\n\n",
			docs: []recordDoc{{id: "1", title: "a", text: "a"}, {id: "3", title: "c", text: "c"}},
			problems: []string{
				"E sample/r.jsonl:4: line is not valid JSON (invalid character 'o' in literal null (expecting 'u')); fix or remove the line",
				`E sample/r.jsonl:5: line is not a JSON object; each line must be one record like {"id": ..., "text": ...}`,
				`E sample/r.jsonl:6: line is not a JSON object; each line must be one record like {"id": ..., "text": ...}`,
				"E sample/r.jsonl:7: line is not valid JSON (invalid character 't' after top-level value); fix or remove the line",
			}},
		{name: "BOM and ndjson", file: "R.NDJSON", data: "\uFEFF{\"id\":1,\"text\":\"a\"}", docs: []recordDoc{{id: "1", title: "a", text: "a"}}},
		{name: "invalid UTF-8 in strings", data: "{\"id\":\"a\xff\",\"text\":\"b\xfe\",\"m\":[\"\xfd\"]}",
			docs: []recordDoc{{id: "a\uFFFD", title: "b\uFFFD", text: "b\uFFFD", meta: map[string]string{"m": "[\"\uFFFD\"]"}}}},
		{name: "empty jsonl", data: "\n\n", problems: []string{"W sample/r.jsonl: no records: the file has no JSON lines"}},
		{name: "record text over the limit", opts: Options{MaxFileBytes: 10},
			data:     `{"id":"big","text":"0123456789a"}` + "\n" + `{"id":"small","text":"0123456789"}`,
			docs:     []recordDoc{{id: "small", title: "0123456789", text: "0123456789"}},
			problems: []string{`W sample/r.jsonl:1: record "big": its text is 11 bytes, over the limit of 10 bytes; set MAX_FILE_BYTES to a larger number of bytes to index it`}},
		{name: "line over the line limit", opts: Options{MaxFileBytes: 1},
			data:     `{"id":"big","text":"` + strings.Repeat("x", 2<<20) + `"}` + "\n" + `{"id":"s","text":"y"}`,
			docs:     []recordDoc{{id: "s", title: "y", text: "y"}},
			problems: []string{"W sample/r.jsonl:1: line is over 1.0 MiB (1048580 bytes) (MAX_FILE_BYTES sets the limit on a record's text)"}},

		{name: "json array", file: "r.json", data: "\uFEFF [\n {\"id\":\"a\",\"text\":\"x\"},\n {\"_id\":2,\"title\":\"T\",\"body\":\"y\"}\n]\n",
			docs: []recordDoc{{id: "a", title: "x", text: "x"}, {id: "2", title: "T", text: "y"}}},
		{name: "json single object", file: "r.json", data: `{"id":"one","title":"One","text":"x","tags":["a"]}`,
			docs: []recordDoc{{id: "one", title: "One", text: "x", meta: map[string]string{"tags": `["a"]`}}}},
		{name: "json array with bad records", file: "r.json", data: `[{"id":"a","text":"x"}, 5, {"text":"no id"}, {"id":"b","text":"y","url":"x"}]`,
			docs: []recordDoc{{id: "a", title: "x", text: "x"}, {id: "b", title: "y", text: "y"}},
			problems: []string{
				`E sample/r.json: record 2: not a JSON object; the array must hold records like {"id": ..., "text": ...}`,
				`W sample/r.json: record 3: record has no "id" or "_id"`,
				`I sample/r.json: record 4: record "b": url "x" ignored: it is not an absolute http(s) URL; the record is indexed without one`,
			}},
		{name: "json malformed midway", file: "r.json", data: `[{"id":"a","text":"x"}, {"id":"b","text":"y"} {"id":"c"}]`,
			docs:     []recordDoc{{id: "a", title: "x", text: "x"}, {id: "b", title: "y", text: "y"}},
			problems: []string{"E sample/r.json: not valid JSON (expected comma after array element) after 2 records; fix the file and index it again"}},
		{name: "json truncated", file: "r.json", data: `[{"id":"a","text":"x"}, {"id":"b","te`,
			docs:     []recordDoc{{id: "a", title: "x", text: "x"}},
			problems: []string{"E sample/r.json: not valid JSON (unexpected end of file) after 1 records; fix the file and index it again"}},
		{name: "json unclosed array", file: "r.json", data: `[{"id":"a","text":"x"}`,
			docs:     []recordDoc{{id: "a", title: "x", text: "x"}},
			problems: []string{"E sample/r.json: not valid JSON (unexpected end of file) after 1 records; fix the file and index it again"}},
		{name: "json trailing data", file: "r.json", data: `{"id":"a","text":"x"} {"id":"b"}`,
			docs:     []recordDoc{{id: "a", title: "x", text: "x"}},
			problems: []string{"E sample/r.json: not valid JSON (unexpected data after the end of the JSON value) after 1 records; fix the file and index it again"}},
		{name: "json configuration object", file: "package.json", data: `{"name":"site","version":"1.0.0","scripts":{}}`,
			problems: []string{`W sample/package.json: a JSON object without "id"/"_id" or text is not a document record`}},
		{name: "json object with text but no id", file: "r.json", data: `{"text":"orphan"}`,
			problems: []string{`W sample/r.json: record has no "id" or "_id"`}},
		{name: "json scalar", file: "r.json", data: `"just a string"`,
			problems: []string{`E sample/r.json: not a JSON array of records or a record object; the file must hold [{"id": ..., "text": ...}, ...] or one such object`}},
		{name: "json empty file", file: "r.json", data: " \n", problems: []string{"W sample/r.json: no records: the file is empty"}},
		{name: "json empty array", file: "r.json", data: "[]", problems: []string{"W sample/r.json: no records: the JSON array is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := tt.file
			if file == "" {
				file = "r.jsonl"
			}
			docs, problems := walkFiles(t, map[string]string{file: tt.data}, tt.opts)
			checkUTF8(t, docs, problems)
			if got := problemStrings(problems); strings.Join(got, "\n") != strings.Join(tt.problems, "\n") {
				t.Errorf("got problems\n%q\nwant\n%q", got, tt.problems)
			}
			if len(docs) != len(tt.docs) {
				t.Fatalf("got %d documents %q, want %d", len(docs), docIDs(docs), len(tt.docs))
			}
			for i, line := range tt.lines {
				if docs[i].Line != line {
					t.Errorf("document %d is on line %d, want %d", i, docs[i].Line, line)
				}
			}
			format := "jsonl"
			if strings.HasSuffix(file, ".json") {
				format = "json"
			}
			for i, want := range tt.docs {
				d := docs[i]
				if format == "jsonl" && (d.Line < 1 || d.Place() != fmt.Sprintf("sample/%s:%d", file, d.Line)) {
					t.Errorf("document %d: line %d, place %q", i, d.Line, d.Place())
				}
				if d.ID != want.id || d.Title != want.title || d.URL != want.url || d.Text != want.text || d.File != file {
					t.Errorf("document %d = {%q %q %q %q %q}, want {%q %q %q %q %q}", i,
						d.ID, d.Title, d.URL, d.Text, d.File, want.id, want.title, want.url, want.text, file)
				}
				if d.Metadata["source"] != "sample/"+file || d.Metadata["format"] != format {
					t.Errorf("document %d: source %q format %q", i, d.Metadata["source"], d.Metadata["format"])
				}
				if want.meta != nil {
					wantMeta := maps.Clone(want.meta)
					wantMeta["source"], wantMeta["format"] = "sample/"+file, format
					if !maps.Equal(d.Metadata, wantMeta) {
						t.Errorf("document %d: metadata = %q, want %q", i, d.Metadata, wantMeta)
					}
				}
			}
		})
	}
}

func TestJSONLStreamsLargeFile(t *testing.T) {
	t.Parallel() // the slowest tests run side by side
	const records = 50000
	name := filepath.Join(t.TempDir(), "big.jsonl")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range records {
		fmt.Fprintf(w, `{"_id":%d,"title":"Record %d","text":"text of record %d with some words","group":"g%d"}`+"\n", i, i, i, i%7)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	root, err := OSRoot(name)
	if err != nil {
		t.Fatal(err)
	}
	// The file is far over MaxFileBytes: record files stream and are exempt.
	var progress Progress
	opts := Options{MaxFileBytes: 4096, Progress: &progress}
	n := 0
	var last store.SourceDocument
	err = Walk(context.Background(), []Root{root}, opts, func(d store.SourceDocument) error {
		n++
		last = d
		return nil
	}, func(p Problem) { t.Errorf("unexpected problem %s", p) })
	if err != nil {
		t.Fatal(err)
	}
	if n != records || last.ID != fmt.Sprint(records-1) || last.Metadata["group"] != fmt.Sprintf("g%d", (records-1)%7) || last.File != "big.jsonl" {
		t.Errorf("got %d documents, last %+v", n, last)
	}
	if progress.Files.Load() != 1 || progress.Bytes.Load() != info.Size() {
		t.Errorf("progress = %d files, %d bytes; want 1, %d", progress.Files.Load(), progress.Bytes.Load(), info.Size())
	}
}

func FuzzJSONL(f *testing.F) {
	for _, seed := range []string{
		"",
		`{"id":1,"text":"x"}`,
		"{\"_id\":\"a\",\"title\":\"t\",\"metadata\":{\"k\":[1,{\"z\":null}]}}\n\n{\"id\":2.5}\n[]",
		`{"id":"\ud800","text":"\udfff","x":"\u0000"}`,
		"{\"id\":\"\xff\",\"text\":\"\xfe\",\"m\":{\"\xfd\":\"\xfc\"}}",
		`{"id":1,"text":"` + strings.Repeat("word ", 40) + `"}`,
		"\uFEFF{\"id\":1,\"content\":\"c\",\"url\":\"http://[::1]:80/\"}\r\n",
		`{"id":1,"text":"x"}{"id":2,"text":"y"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"a.jsonl", "a.json"} {
			docs, problems := walkFiles(t, map[string]string{name: string(data)}, Options{MaxFileBytes: 64})
			checkUTF8(t, docs, problems)
		}
	})
}
