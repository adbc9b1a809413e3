package ingest

import "strings"

// parseText reads a plain-text file (valid UTF-8). The title is the first
// non-empty line when it reads as one (see firstLineTitle), else one made
// from the file name; the text is the whole file, trimmed.
func parseText(data []byte, name string) parsed {
	text := strings.TrimSpace(strings.TrimPrefix(string(data), utf8BOM))
	title := firstLineTitle(text)
	if title == "" {
		title = titleFromName(name)
	}
	return parsed{title: title, text: text, meta: map[string]string{}}
}
