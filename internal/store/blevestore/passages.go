package blevestore

import (
	"strconv"
	"strings"
	"unicode"
)

// Passage sizes: a document longer than maxSingleWords is indexed as
// passages of passageWords words, each overlapping the previous one by
// overlapWords, so that a long document's best section decides its rank.
const (
	passageWords   = 300
	overlapWords   = 50
	maxSingleWords = 350
)

// passageSep joins a document id and a passage number in a passage record's id.
const passageSep = "\x1f"

func passageID(docID string, n int) string { return docID + passageSep + strconv.Itoa(n) }

// parentID returns the document id of a passage record id.
func parentID(id string) string {
	if i := strings.LastIndex(id, passageSep); i >= 0 {
		return id[:i]
	}
	return id
}

// span is a passage: text[start:end] of its document's text.
type span struct{ start, end int }

// splitPassages cuts text into overlapping passages on word boundaries,
// preferring to end a passage at the end of a sentence or paragraph near
// its nominal end. A short text is one passage. The first passage starts
// at 0 and the last ends at len(text), and each starts before the previous
// one ends, so that the passages hold the whole text (joinPassages).
func splitPassages(text string) []span {
	starts := wordStarts(text)
	if len(starts) <= maxSingleWords {
		return []span{{0, len(text)}}
	}
	var out []span
	for first := 0; first < len(starts); {
		from := starts[first]
		if first == 0 {
			from = 0
		}
		last := first + passageWords // word index one past the passage
		if last >= len(starts)-overlapWords/2 {
			out = append(out, span{from, len(text)})
			break
		}
		last = sentenceEnd(text, starts, last)
		out = append(out, span{from, starts[last]})
		first = last - overlapWords
	}
	return out
}

// joinPassages puts a text together again from its passages, given in
// order with where each starts in it.
func joinPassages(bodies []string, at []int) string {
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
	for i := end; i > end-passageWords/6; i-- {
		prev := strings.TrimRightFunc(text[starts[i-1]:starts[i]], unicode.IsSpace)
		if strings.HasSuffix(prev, ".") || strings.HasSuffix(prev, "?") || strings.HasSuffix(prev, "!") ||
			strings.Contains(text[starts[i-1]:starts[i]], "\n\n") {
			return i
		}
	}
	return end
}
