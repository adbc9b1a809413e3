package ingest

import (
	"maps"
	"strings"
	"testing"
)

// formatCase is one file read on its own, and what should come of it.
type formatCase struct {
	name       string
	file, data string            // file name (default by test) and contents
	title, url string            // of the one document
	text       string            // of the one document
	meta       map[string]string // besides source and format; nil: not checked
	problems   []string          // problemStrings of the problems
	noDoc      bool              // no document is emitted
}

// runFormatCases reads each case's file as the only file of the root "sample".
func runFormatCases(t *testing.T, defaultFile, format string, tests []formatCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := tt.file
			if file == "" {
				file = defaultFile
			}
			docs, problems := walkFiles(t, map[string]string{file: tt.data}, Options{})
			checkUTF8(t, docs, problems)
			if got := problemStrings(problems); strings.Join(got, "\n") != strings.Join(tt.problems, "\n") {
				t.Errorf("got problems\n%q\nwant\n%q", got, tt.problems)
			}
			if tt.noDoc {
				if len(docs) != 0 {
					t.Errorf("got %d documents, want none", len(docs))
				}
				return
			}
			if len(docs) != 1 {
				t.Fatalf("got %d documents, want 1", len(docs))
			}
			d := docs[0]
			if d.ID != "sample/"+file || d.File != file {
				t.Errorf("got id %q file %q, want sample/%s", d.ID, d.File, file)
			}
			if d.Title != tt.title {
				t.Errorf("title = %q, want %q", d.Title, tt.title)
			}
			if d.URL != tt.url {
				t.Errorf("url = %q, want %q", d.URL, tt.url)
			}
			if d.Text != tt.text {
				t.Errorf("text = %q, want %q", d.Text, tt.text)
			}
			if d.Metadata["source"] != "sample/"+file || d.Metadata["format"] != format {
				t.Errorf("source %q format %q, want sample/%s %s", d.Metadata["source"], d.Metadata["format"], file, format)
			}
			if tt.meta != nil {
				want := maps.Clone(tt.meta)
				want["source"], want["format"] = "sample/"+file, format
				if !maps.Equal(d.Metadata, want) {
					t.Errorf("metadata = %q, want %q", d.Metadata, want)
				}
			}
		})
	}
}
