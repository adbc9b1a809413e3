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
func snippet(stemmer *stemmer, body string, terms map[string]bool) string {
	type hit struct {
		start, end int
		term       int // index into ids
	}
	// Stem only words that could match: a stem begins with its word's
	// first two letters, so a word whose opening no term shares is passed
	// over.
	openings := map[string]bool{}
	ids := map[string]int{}
	var buf [openingLetters]byte
	for t := range terms {
		openings[lowerOpening(t, &buf)] = true
		ids[t] = len(ids)
	}
	var hits []hit
	for start, end := range wordSpans(body) {
		word := body[start:end]
		if !openings[lowerOpening(word, &buf)] {
			continue
		}
		if id, ok := ids[stemmer.stem(strings.ToLower(word))]; ok {
			hits = append(hits, hit{start, end, id})
		}
	}
	if len(hits) == 0 {
		return cut(body, 0)
	}
	// The window starting at each hit: how many distinct terms it holds
	// (a sliding window over the hits).
	best, bestCount := 0, 0
	counts := make([]int, len(ids))
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
				inWord = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
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

// openingLetters is how many first letters of a word its stem surely
// shares ("flying" stems to "fli").
const openingLetters = 2

// lowerOpening returns the first openingLetters letters of word in lower
// case, without allocating for ASCII words.
func lowerOpening(word string, buf *[openingLetters]byte) string {
	n := min(len(word), openingLetters)
	for i := range n {
		c := word[i]
		if c >= utf8.RuneSelf {
			w := []rune(strings.ToLower(word))
			return string(w[:min(len(w), openingLetters)])
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return string(buf[:n])
}
