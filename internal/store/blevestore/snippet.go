package blevestore

import (
	"iter"
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
func snippet(m *termMatcher, body string) string {
	type hit struct {
		start, end int
		term       int // index into the matcher's terms
	}
	var hits []hit
	var buf [64]byte
	for start, end := range wordSpans(body) {
		if !m.mayMatch(body[start]) {
			continue
		}
		if id, ok := m.match(lowerInto(buf[:0], body[start:end])); ok {
			hits = append(hits, hit{start, end, id})
		}
	}
	if len(hits) == 0 {
		return cut(body, 0)
	}
	// The window starting at each hit: how many distinct terms it holds
	// (a sliding window over the hits).
	best, bestCount := 0, 0
	counts := make([]int, m.terms())
	distinct, j := 0, 0
	for i := range hits {
		for j < len(hits) && hits[j].end-hits[i].start <= snippetChars-40 {
			if counts[hits[j].term] == 0 {
				distinct++
			}
			counts[hits[j].term]++
			j++
		}
		if distinct > bestCount {
			best, bestCount = i, distinct
		}
		if j > i { // hit i leaves the window
			counts[hits[i].term]--
			if counts[hits[i].term] == 0 {
				distinct--
			}
		} else {
			j = i + 1
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

// wordSpans yields the byte ranges of the runs of letters and digits in s.
func wordSpans(s string) iter.Seq2[int, int] {
	return func(yield func(start, end int) bool) {
		start := -1
		for i := 0; i < len(s); {
			c := s[i]
			var inWord bool
			size := 1
			if c < utf8.RuneSelf {
				inWord = asciiWord[c]
			} else {
				var r rune
				r, size = utf8.DecodeRuneInString(s[i:])
				inWord = unicode.IsLetter(r) || unicode.IsDigit(r)
			}
			switch {
			case inWord && start < 0:
				start = i
			case !inWord && start >= 0:
				if !yield(start, i) {
					return
				}
				start = -1
			}
			i += size
		}
		if start >= 0 {
			yield(start, len(s))
		}
	}
}

// asciiWord marks the ASCII letters and digits.
var asciiWord = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	}
	return t
}()

// termMatcher finds the words whose stems are among a query's terms. It
// stems only words that could match: a word's stem keeps all but at most
// the last three letters of the word's opening ("possibility" stems to
// "possibl", "hoping" to "hope", "dying" to "die"), so a word that does not
// begin like one of the terms is passed over (TestStemKeepsOpening).
type termMatcher struct {
	stems *stemmer
	ids   map[string]int
	// openings holds, by first byte, the openings of the terms.
	openings [256][]string
}

func newTermMatcher(stems *stemmer, terms map[string]bool) *termMatcher {
	m := &termMatcher{stems: stems, ids: make(map[string]int, len(terms))}
	for t := range terms {
		if t == "" {
			continue
		}
		m.ids[t] = len(m.ids)
		open := stemOpening(t)
		m.openings[open[0]] = append(m.openings[open[0]], open)
	}
	return m
}

// stemOpening is the part of a stem every word with that stem begins with.
func stemOpening(stem string) string {
	return stem[:max(1, len(stem)-3)]
}

// terms returns how many terms m matches.
func (m *termMatcher) terms() int { return len(m.ids) }

// mayMatch reports whether a word beginning with byte c can match, before
// the word is lower-cased: false only for an ASCII letter or digit no term
// begins with (lower-casing may change a non-ASCII first byte).
func (m *termMatcher) mayMatch(c byte) bool {
	if c >= utf8.RuneSelf {
		return true
	}
	if 'A' <= c && c <= 'Z' {
		c += 'a' - 'A'
	}
	return len(m.openings[c]) > 0
}

// match returns the index of the term a lower-case word stems to.
func (m *termMatcher) match(lower []byte) (int, bool) {
	if len(lower) == 0 {
		return 0, false
	}
	for _, open := range m.openings[lower[0]] {
		if len(lower) >= len(open) && string(lower[:len(open)]) == open {
			id, ok := m.ids[m.stems.stemOf(lower)]
			return id, ok
		}
	}
	return 0, false
}
