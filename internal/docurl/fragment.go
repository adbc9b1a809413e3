package docurl

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/connectorhq/connector/internal/passage"
)

// Text fragments: a link ending in #:~:text=WORDS makes browsers that
// support them (Chromium, Safari, Firefox 131+) scroll to the first place
// the page shows WORDS and highlight it; others open the page as usual.

// fragmentWords bounds the words a text fragment quotes: enough to be
// distinctive, few enough to sit in one sentence of the page.
const (
	fragmentWords    = 8
	fragmentMinWords = 3
)

// HitURL returns the citation URL for a search hit: URL(id, own) with a
// fragment that leads to the passage that matched. A document's own page
// gets a text fragment quoting the snippet; the document view gets the
// passage's anchor (#p-N) when the store knows the passage number (from
// 1), else a text fragment. Fetch keeps handing out URL's plain link.
func (l Linker) HitURL(id, own string, passageNo int, snippet string) string {
	link := l.URL(id, own)
	switch {
	case link == "":
		return ""
	case !IsCitable(own) && passageNo > 0:
		return link + "#" + passage.Anchor(passageNo)
	}
	return WithTextFragment(link, snippet)
}

// WithTextFragment returns link with a text fragment quoting a short run of
// words from snippet, or link itself when snippet has no run fit to quote.
// A fragment link already holds keeps its place: the directive follows it.
func WithTextFragment(link, snippet string) string {
	words := quotable(snippet)
	if words == "" || strings.Contains(link, ":~:") {
		return link
	}
	sep := "#"
	if strings.Contains(link, "#") {
		sep = ""
	}
	return link + sep + ":~:text=" + EncodeTextDirective(words)
}

// StripTextFragment removes a text fragment directive (":~:" and what
// follows) from a URL, and the "#" it leaves bare, so that a cited link
// can be looked up by the URL it was made from.
func StripTextFragment(link string) string {
	i := strings.Index(link, ":~:")
	if i < 0 || !strings.Contains(link[:i], "#") {
		return link
	}
	return strings.TrimSuffix(link[:i], "#")
}

// EncodeTextDirective percent-encodes a text directive's value: everything
// but ASCII letters, digits and ".", "_", "~" is encoded as UTF-8 bytes, so
// that "-", "&" and "," (which the directive's syntax uses) and spaces are
// never read as syntax.
func EncodeTextDirective(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// quotable picks the words of snippet a text fragment quotes: the first
// run of at least fragmentMinWords plain words (letters and digits, with
// punctuation only inside or at the end of a word, so that no markup such
// as Markdown's "**" or "[" is quoted: the page shows it rendered), cut to
// fragmentWords words; else the longest run. A run never crosses a line
// break, which on the page may be a block boundary the browser does not
// match across, nor the "…" marks of a cut snippet.
func quotable(snippet string) string {
	var best []string
	for line := range strings.Lines(snippet) {
		var run []string
		flush := func() {
			if len(run) > len(best) && (len(best) < fragmentMinWords) {
				best = run
			}
			run = nil
		}
		for _, w := range strings.Fields(line) {
			if !plainWord(w) {
				flush()
				continue
			}
			run = append(run, w)
			if len(run) == fragmentWords {
				flush()
			}
		}
		flush()
	}
	if len(best) > 0 {
		// A word that ends a sentence ends the quote well; a trailing
		// comma or colon is dropped (the page may break the line there).
		last := strings.TrimRight(best[len(best)-1], ",;:")
		if last == "" {
			best = best[:len(best)-1]
		} else {
			best[len(best)-1] = last
		}
	}
	return strings.Join(best, " ")
}

// plainWord reports whether a word is letters and digits, with an
// apostrophe, hyphen or dot inside and sentence punctuation at the end.
func plainWord(w string) bool {
	w = strings.TrimRight(w, ".,;:!?")
	if w == "" {
		return false
	}
	first, _ := utf8.DecodeRuneInString(w)
	last, _ := utf8.DecodeLastRuneInString(w)
	if !unicode.IsLetter(first) && !unicode.IsDigit(first) || !unicode.IsLetter(last) && !unicode.IsDigit(last) {
		return false
	}
	for _, r := range w {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("'’-.", r) {
			return false
		}
	}
	return true
}
