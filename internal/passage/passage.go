// Package passage cuts a document's text into the overlapping passages that
// the local index ranks and that the document view anchors, so that a
// search hit's passage number and the view's anchor name the same text.
//
// Passages are numbered from 1 in the order Split returns them: Split(text)[n-1]
// is passage n, and its anchor in the document view is Anchor(n), "p-n".
package passage

import (
	"strconv"
	"strings"
	"unicode"
)

// Passage sizes: a text longer than MaxSingleWords words is cut into
// passages of Words words, each overlapping the previous one by Overlap
// words, so that a long document's best section decides its rank.
const (
	Words          = 300
	Overlap        = 50
	MaxSingleWords = 350
)

// Span is a passage: text[Start:End] of its document's text, in bytes.
type Span struct{ Start, End int }

// Anchor returns the id of passage n (from 1) in the document view: "p-n".
func Anchor(n int) string { return "p-" + strconv.Itoa(n) }

// Split cuts text into overlapping passages on word boundaries, preferring
// to end a passage at the end of a sentence or paragraph near its nominal
// end. A short text is one passage. The first passage starts at 0 and the
// last ends at len(text), and each starts before the previous one ends, so
// that the passages hold the whole text (Join).
func Split(text string) []Span {
	starts := wordStarts(text)
	if len(starts) <= MaxSingleWords {
		return []Span{{0, len(text)}}
	}
	var out []Span
	for first := 0; first < len(starts); {
		from := starts[first]
		if first == 0 {
			from = 0
		}
		last := first + Words // word index one past the passage
		if last >= len(starts)-Overlap/2 {
			out = append(out, Span{from, len(text)})
			break
		}
		last = sentenceEnd(text, starts, last)
		out = append(out, Span{from, starts[last]})
		first = last - Overlap
	}
	return out
}

// Join puts a text together again from its passages, given in order with
// where each starts in it.
func Join(bodies []string, at []int) string {
	var b strings.Builder
	for i, body := range bodies {
		if i+1 < len(bodies) {
			body = body[:min(len(body), max(0, at[i+1]-at[i]))]
		}
		b.WriteString(body)
	}
	return b.String()
}

// wordStarts returns the byte offsets where words start.
func wordStarts(text string) []int {
	var starts []int
	inWord := false
	for i, r := range text {
		space := unicode.IsSpace(r)
		if !space && !inWord {
			starts = append(starts, i)
		}
		inWord = !space
	}
	return starts
}

// sentenceEnd moves a passage end (a word index) back, by at most a sixth
// of a passage, to just after a word ending a sentence.
func sentenceEnd(text string, starts []int, end int) int {
	for i := end; i > end-Words/6; i-- {
		prev := strings.TrimRightFunc(text[starts[i-1]:starts[i]], unicode.IsSpace)
		if strings.HasSuffix(prev, ".") || strings.HasSuffix(prev, "?") || strings.HasSuffix(prev, "!") ||
			strings.Contains(text[starts[i-1]:starts[i]], "\n\n") {
			return i
		}
	}
	return end
}
