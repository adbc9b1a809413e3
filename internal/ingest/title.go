package ingest

import (
	"path"
	"regexp"
	"strings"
	"unicode"
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

// placeholderTitles are metadata titles that say nothing about a document,
// lower case: what editors and converters fill in by default.
var placeholderTitles = map[string]bool{
	"untitled": true, "untitled document": true, "no title": true, "title": true, "none": true, "null": true,
	"unknown": true, "anonymous": true, "(anonymous)": true, "document": true, "new document": true,
	"word document": true, "microsoft word document": true, "presentation": true, "powerpoint presentation": true,
	"pdf": true, "blank": true,
}

// numberedPlaceholder matches the titles new, unsaved files get: "Document1",
// "Untitled-3", "Presentation 2".
var numberedPlaceholder = regexp.MustCompile(`^(untitled|document|doc|presentation|new document)[ _-]?[0-9]+$`)

// appTitlePrefixes are put before the file name by "print to PDF" in
// Microsoft Office, as in "Microsoft Word - report.docx".
var appTitlePrefixes = []string{"microsoft word -", "microsoft powerpoint -", "microsoft excel -"}

// documentExtensions mark a title that is a file name, as converters set it.
var documentExtensions = map[string]bool{
	".doc": true, ".docx": true, ".dot": true, ".dotx": true, ".rtf": true, ".odt": true, ".pages": true,
	".wpd": true, ".pdf": true, ".ps": true, ".eps": true, ".dvi": true, ".tex": true, ".txt": true,
	".md": true, ".htm": true, ".html": true, ".xls": true, ".xlsx": true, ".ppt": true, ".pptx": true,
	".indd": true, ".qxd": true, ".qxp": true, ".pub": true, ".vsd": true, ".xps": true,
}

// metadataTitle returns the title stored in a document's metadata (PDF Info
// or XMP, DOCX core properties) with white space collapsed and an Office
// "Microsoft Word - " prefix removed, or "" when it says nothing: a
// placeholder ("Untitled", "Document1"), a file name ("report.pdf"), the
// name of the file itself (name), or no letter at all.
func metadataTitle(title, name string) string {
	t := collapse(title)
	for _, p := range appTitlePrefixes {
		if len(t) >= len(p) && strings.EqualFold(t[:len(p)], p) {
			t = strings.TrimSpace(t[len(p):])
			break
		}
	}
	lower := strings.ToLower(t)
	switch {
	case !strings.ContainsFunc(t, unicode.IsLetter),
		placeholderTitles[lower], numberedPlaceholder.MatchString(lower),
		documentExtensions[path.Ext(strings.ReplaceAll(lower, `\`, "/"))],
		strings.EqualFold(titleFromName(t+".x"), titleFromName(name)):
		return ""
	}
	return t
}
