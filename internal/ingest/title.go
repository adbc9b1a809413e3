package ingest

import (
	"path"
	"strings"
	"unicode/utf8"
)

// Title length limits, in characters.
const (
	maxTextTitle   = 100 // a plain-text first line longer than this is not a title
	maxRecordTitle = 80  // a record title taken from its text is cut to this
)

// collapse trims s and replaces each run of white space in it by one space.
func collapse(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// titleFromName makes a title from a file name: "getting-started.md"
// becomes "getting started".
func titleFromName(name string) string {
	base := strings.TrimSuffix(name, path.Ext(name))
	title := collapse(strings.NewReplacer("-", " ", "_", " ").Replace(base))
	if title == "" {
		return collapse(name)
	}
	return title
}

// firstLineTitle returns the first non-empty line of text when it reads as
// a title: at most maxTextTitle characters and not ending like a sentence
// or clause (".", ",", ";", ":"). It returns "" otherwise.
func firstLineTitle(text string) string {
	for line := range strings.Lines(text) {
		line = collapse(line)
		if line == "" {
			continue
		}
		if utf8.RuneCountInString(line) > maxTextTitle || strings.ContainsAny(line[len(line)-1:], ".,;:") {
			return ""
		}
		return line
	}
	return ""
}

// titleFromText returns the first line of text cut at a word boundary to at
// most maxRecordTitle characters, plus "…" when cut.
func titleFromText(text string) string {
	var first string
	for line := range strings.Lines(text) {
		if first = collapse(line); first != "" {
			break
		}
	}
	if utf8.RuneCountInString(first) <= maxRecordTitle {
		return first
	}
	cut, n := 0, 0
	for i := range first {
		if n == maxRecordTitle {
			cut = i
			break
		}
		n++
	}
	head := first[:cut]
	if first[cut] != ' ' { // cut inside a word: drop the partial word
		if i := strings.LastIndexByte(head, ' '); i > 0 {
			head = head[:i]
		}
	}
	return strings.TrimRight(head, " ") + "…"
}
