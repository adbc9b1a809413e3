package blevestore

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// snippetChars is the length a snippet aims at.
const snippetChars = 300

// snippet returns about snippetChars characters of body around the query
// terms it contains, preferring the window that holds the most distinct
// terms, cut at word boundaries with "…" where it cuts the text. A body
// without any query term gives its opening.
func snippet(body string, terms map[string]bool) string {
	type hit struct {
		start, end int
		term       string
	}
	var hits []hit
	stems := map[string]string{} // lower-case word → its term
	for _, w := range wordSpans(body) {
		word := strings.ToLower(body[w[0]:w[1]])
		stem, ok := stems[word]
		if !ok {
			// Stem only words that could match: a term and the word share
			// their opening (stems are prefixes of their words, or nearly).
			if mightMatch(word, terms) {
				stem = stemWord(word)
			}
			stems[word] = stem
		}
		if stem != "" && terms[stem] {
			hits = append(hits, hit{w[0], w[1], stem})
		}
	}
	if len(hits) == 0 {
		return cut(body, 0)
	}
	// The window starting at each hit: how many distinct terms it holds.
	best, bestCount := 0, 0
	for i := range hits {
		seen := map[string]bool{}
		for j := i; j < len(hits) && hits[j].end-hits[i].start <= snippetChars-40; j++ {
			seen[hits[j].term] = true
		}
		if len(seen) > bestCount {
			best, bestCount = i, len(seen)
		}
	}
	// Start a little before the first hit, at a word (or sentence) start.
	start := hits[best].start
	back := max(0, start-60)
	if i := strings.LastIndexAny(body[back:start], ".!?\n"); i >= 0 {
		start = back + i + 1
	} else if i := strings.IndexFunc(body[back:start], unicode.IsSpace); i >= 0 && back > 0 {
		start = back + i + 1
	} else {
		start = back
	}
	return cut(body, start)
}

// cut returns about snippetChars characters of s from start, with white
// space collapsed, ending on a word boundary, marked with "…" where the text
// goes on.
func cut(s string, start int) string {
	for start > 0 && start < len(s) && !utf8.RuneStart(s[start]) {
		start++
	}
	rest := s[start:]
	end := len(rest)
	if utf8.RuneCountInString(rest) > snippetChars {
		n := 0
		for i := range rest {
			if n == snippetChars {
				end = i
				break
			}
			n++
		}
		if i := strings.LastIndexFunc(rest[:end], unicode.IsSpace); i > end/2 {
			end = i
		}
	}
	out := strings.Join(strings.Fields(rest[:end]), " ")
	if start > 0 && strings.TrimSpace(s[:start]) != "" {
		out = "… " + out
	}
	if end < len(rest) {
		out += " …"
	}
	return out
}

// wordSpans returns the byte ranges of the runs of letters and digits in s.
func wordSpans(s string) [][2]int {
	var spans [][2]int
	start := -1
	for i, r := range s {
		inWord := unicode.IsLetter(r) || unicode.IsDigit(r)
		switch {
		case inWord && start < 0:
			start = i
		case !inWord && start >= 0:
			spans = append(spans, [2]int{start, i})
			start = -1
		}
	}
	if start >= 0 {
		spans = append(spans, [2]int{start, len(s)})
	}
	return spans
}

// mightMatch reports whether a lower-case word shares its first letters (up
// to four) with one of the terms.
func mightMatch(word string, terms map[string]bool) bool {
	for t := range terms {
		n := min(4, len(t), len(word))
		if n > 0 && word[:n] == t[:n] {
			return true
		}
	}
	return false
}
