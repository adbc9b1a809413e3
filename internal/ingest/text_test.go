package ingest

import (
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	long := strings.Repeat("word ", 20) // 100 characters with the trailing space, 99 trimmed
	runFormatCases(t, "release-notes.txt", "text", []formatCase{
		{name: "first line is the title", data: "Release Notes\n\nVersion 2 is out.\n", title: "Release Notes",
			text: "Release Notes\n\nVersion 2 is out.", meta: map[string]string{}},
		{name: "leading blank lines", data: "\n\n   Spaced   Title  \nbody", title: "Spaced Title", text: "Spaced   Title  \nbody"},
		{name: "sentence is not a title", data: "This is a sentence.\nmore", title: "release notes", text: "This is a sentence.\nmore"},
		{name: "clause with colon", data: "Steps:\n1. go", title: "release notes", text: "Steps:\n1. go"},
		{name: "comma", data: "Dear team,\nhi", title: "release notes", text: "Dear team,\nhi"},
		{name: "semicolon", data: "a; b;\nc", title: "release notes", text: "a; b;\nc"},
		{name: "question is a title", data: "Why Go?\nBecause.", title: "Why Go?", text: "Why Go?\nBecause."},
		{name: "100 characters", data: long[:99] + "x\nbody", title: long[:99] + "x", text: long[:99] + "x\nbody"},
		{name: "101 characters", data: long + "x\nbody", title: "release notes", text: long + "x\nbody"},
		{name: "characters not bytes", data: strings.Repeat("é", 100) + "\nbody", title: strings.Repeat("é", 100),
			text: strings.Repeat("é", 100) + "\nbody"},
		{name: "single line", data: "Only", title: "Only", text: "Only"},
		{name: "BOM and CRLF", data: "\uFEFFTitle\r\nbody\r\n", title: "Title", text: "Title\r\nbody"},
		{name: ".text extension", file: "notes.TEXT", data: "Notes\nx", title: "Notes", text: "Notes\nx"},
		{name: "empty", data: "\n \n", noDoc: true,
			problems: []string{"W sample/release-notes.txt: empty document: no text after extraction"}},
		{name: "binary", data: "ELF\x00\x01\x02", noDoc: true,
			problems: []string{"W sample/release-notes.txt: binary file (NUL byte in the first 8 KiB); only text files are indexed"}},
		{name: "NUL after 8 KiB is invalid UTF-8 only if invalid", data: strings.Repeat("a", 9000) + "\x00",
			title: "release notes", text: strings.Repeat("a", 9000) + "\x00"},
		{name: "latin-1", data: "Caf\xe9\n", noDoc: true,
			problems: []string{"W sample/release-notes.txt: not valid UTF-8 text; convert the file to UTF-8 to index it"}},
	})
}

func TestTitleFromName(t *testing.T) {
	tests := []struct{ name, want string }{
		{"getting-started.md", "getting started"},
		{"my_file--name.txt", "my file name"},
		{"README", "README"},
		{"a.b.c.html", "a.b.c"},
		{".md", ".md"},
		{"-.md", "-.md"},
	}
	for _, tt := range tests {
		if got := titleFromName(tt.name); got != tt.want {
			t.Errorf("titleFromName(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestTitleFromText(t *testing.T) {
	eighty := strings.Repeat("abcd ", 16)[:79] + "z" // 80 characters
	tests := []struct{ name, text, want string }{
		{name: "short", text: "A short line\nsecond", want: "A short line"},
		{name: "exactly 80", text: eighty + "\nmore", want: eighty},
		{name: "cut at a word boundary", text: strings.Repeat("word ", 30), want: strings.TrimSpace(strings.Repeat("word ", 16)) + "…"},
		{name: "81st character is a space", text: eighty + " tail", want: eighty + "…"},
		{name: "one long word is cut hard", text: strings.Repeat("x", 100), want: strings.Repeat("x", 80) + "…"},
		{name: "multibyte", text: strings.Repeat("日本語 ", 30), want: strings.TrimSpace(strings.Repeat("日本語 ", 20)) + "…"},
		{name: "white space collapsed", text: "  a \t b  ", want: "a b"},
		{name: "leading blank line", text: "\n\nsecond", want: "second"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := titleFromText(tt.text)
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if n := len([]rune(strings.TrimSuffix(got, "…"))); n > maxRecordTitle {
				t.Errorf("title has %d characters, want at most %d", n, maxRecordTitle)
			}
		})
	}
}
