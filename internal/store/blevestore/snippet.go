package blevestore

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/search"
)

// snippetChars is the length a snippet aims at.
const snippetChars = 300

// termHit is a word of a passage's text that matched a query term.
type termHit struct {
	start, end int
	term       string
}

// bodyMatches returns the words of a passage's body that matched the
// query, from bleve's term locations in its content field (the title, a
// line break, the body), in the order of the text.
func bodyMatches(locs search.TermLocationMap, title, body string) []termHit {
	if len(locs) == 0 {
		return nil
	}
	// The analyzer folds accents before it cuts words, so locations are
	// byte offsets in the folded text.
	bodyStart := len(foldAccents(title)) + 1
	unfold := unfolder(body)
	var hits []termHit
	for term, ls := range locs {
		for _, l := range ls {
			start, end := int(l.Start)-bodyStart, int(l.End)-bodyStart
			if start < 0 {
				continue // in the title
			}
			start, end = unfold(start), unfold(end)
			if end <= len(body) && start < end {
				hits = append(hits, termHit{start, end, term})
			}
		}
	}
	slices.SortFunc(hits, func(a, b termHit) int { return a.start - b.start })
	return hits
}

// foldAccents is s as the analyzer's first step makes it.
func foldAccents(s string) string {
	if isASCII(s) {
		return s
	}
	return string(asciifolding.New().Filter([]byte(s)))
}

// unfolder returns a function mapping byte offsets in foldAccents(s) to
// offsets in s.
func unfolder(s string) func(int) int {
	if isASCII(s) {
		return func(i int) int { return i }
	}
	fold := asciifolding.New()
	folded := make([]int, 0, len(s)+1) // where each character of s starts in the folded text
	orig := make([]int, 0, len(s)+1)   // and in s
	at := 0
	for i, r := range s {
		folded, orig = append(folded, at), append(orig, i)
		if r < utf8.RuneSelf {
			at++
		} else {
			at += len(fold.Filter([]byte(string(r))))
		}
	}
	folded, orig = append(folded, at), append(orig, len(s))
	return func(i int) int {
		j, _ := slices.BinarySearch(folded, i)
		return orig[min(j, len(orig)-1)]
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// snippet returns about snippetChars characters of body around the words
// that matched, preferring the window that holds the most distinct terms,
// cut at word boundaries with "…" where it cuts the text. A body without a
// match gives its opening.
func snippet(body string, hits []termHit) string {
	if len(hits) == 0 {
		return cut(body, 0)
	}
	// The window starting at each hit: how many distinct terms it holds
	// (a sliding window over the hits).
	best, bestCount := 0, 0
	counts := map[string]int{}
	j := 0
	for i := range hits {
		for j < len(hits) && hits[j].end-hits[i].start <= snippetChars-40 {
			counts[hits[j].term]++
			j++
		}
		if len(counts) > bestCount {
			best, bestCount = i, len(counts)
		}
		if j > i { // hit i leaves the window
			if counts[hits[i].term]--; counts[hits[i].term] == 0 {
				delete(counts, hits[i].term)
			}
		} else {
			j = i + 1
		}
	}
	// Start a little before the first hit, at a word (or sentence) start.
	start := hits[best].start
	back := max(0, start-60)
	for back > 0 && !utf8.RuneStart(body[back]) {
		back++
	}
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
	n := 0
	for i := range rest {
		if n == snippetChars {
			end = i
			break
		}
		n++
	}
	if end < len(rest) {
		if i := strings.LastIndexFunc(rest[:end], unicode.IsSpace); i > end/2 {
			end = i
		}
	}
	var b strings.Builder
	if strings.TrimSpace(s[:start]) != "" {
		b.WriteString("… ")
	}
	b.WriteString(strings.Join(strings.Fields(rest[:end]), " "))
	if strings.TrimSpace(rest[end:]) != "" {
		b.WriteString(" …")
	}
	return b.String()
}
