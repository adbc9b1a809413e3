package blevestore

import (
	"encoding/binary"
	"hash/maphash"
	"slices"
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
//
// words is the body's word list (wordLister.appendWordList), when the
// ranking file keeps one: the query's words are then looked up in it
// instead of in the text.
func snippet(m *termMatcher, body, words string) string {
	var store [32]termHit
	hits, ok := m.findListed(body, words, store[:0])
	if !ok {
		hits = m.find(body, store[:0])
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

// termHit is a word of a text that matches a query term.
type termHit struct {
	start, end int
	term       int // index into the matcher's terms
}

// find appends to hits the words of body that match m's terms, in order.
//
// It looks at each byte once, through m.class, and branches only where a
// word may match (an ASCII word whose first letter begins a term, or any
// non-ASCII character): in between, the loop does the same few operations
// whatever the byte, so that the processor does not mispredict a branch at
// every word boundary as a word-by-word scan does.
func (m *termMatcher) find(body string, hits []termHit) []termHit {
	var buf [64]byte
	prevWord := uint8(0) // 1 when body[i-1] ends a letter or digit
	for i := 0; i < len(body); i++ {
		c := m.class[body[i]]
		if (c>>1)&^prevWord|c&classHigh == 0 {
			prevWord = c & classWord
			continue
		}
		// A word may start here: an ASCII one beginning like a term, or
		// one starting with (or a character that is) non-ASCII.
		start, end := i, i+1
		if c&classHigh != 0 {
			r, size := utf8.DecodeRuneInString(body[i:])
			if !isWordRune(r) {
				prevWord = 0
				i += size - 1
				continue
			}
			if prevWord != 0 { // inside a word already
				i += size - 1
				continue
			}
			_, end = nextWord(body, i)
		} else {
			for end < len(body) && body[end] < utf8.RuneSelf && asciiWord[body[end]] {
				end++
			}
			if end < len(body) && body[end] >= utf8.RuneSelf { // it may go on in other letters
				_, end = nextWord(body, start)
			}
		}
		if word := body[start:end]; c&classHigh != 0 || m.opens(word) {
			if id, ok := m.match(lowerInto(buf[:0], word)); ok {
				hits = append(hits, termHit{start, end, id})
			}
		}
		i, prevWord = end-1, classWord
	}
	return hits
}

// A word list says where a passage's words are and, in 8 bits, what they
// stem to, so that a search finds its words in a passage by comparing
// numbers instead of reading, lowering and stemming the text. It is the
// format byte, then for each word that is not a stop word, in order, its
// start's distance from the previous one's (a uvarint) and stemHash of its
// stem (one byte). The words are nextWord's, stemmed as termMatcher.match
// stems them, so the list holds every word find could match; a hash is
// only a hint, and each word it points to is matched from the text as find
// would. (Format 1, in one commit of the development history, kept two
// bytes of the hash: its lists are not read.)
const wordListFormat = 2

// wordLister makes word lists. It remembers the hashes of the words it
// has seen, in a table where a word's place is fixed by its (maphash)
// hash and the last word there keeps it: a collection repeats its words,
// and looking up their stems was most of the time a list took.
type wordLister struct {
	stems *stemmer
	seed  maphash.Seed
	seen  []seenWord
}

// seenWord is a word's maphash, with the low bit set (0 is a free place),
// and its stemHash or -1 for a stop word.
type seenWord struct {
	key  uint64
	hash int16
}

// listerWords is the size of a wordLister's table (a power of 2).
const listerWords = 1 << 16

func newWordLister(stems *stemmer) *wordLister {
	return &wordLister{stems: stems, seed: maphash.MakeSeed(), seen: make([]seenWord, listerWords)}
}

// appendWordList appends body's word list to dst.
func (l *wordLister) appendWordList(dst []byte, body string) []byte {
	dst = append(dst, wordListFormat)
	var buf [64]byte
	prev := 0
	for i := 0; ; {
		start, end := nextWord(body, i)
		if start == end {
			return dst
		}
		i = end
		lower := lowerInto(buf[:0], body[start:end])
		key := maphash.Bytes(l.seed, lower) | 1
		w := &l.seen[key&(listerWords-1)]
		if w.key != key {
			w.key, w.hash = key, -1
			if stem := l.stems.stemOf(lower); stem != "" {
				w.hash = int16(stemHash(stem))
			}
		}
		if w.hash < 0 {
			continue
		}
		dst = binary.AppendUvarint(dst, uint64(start-prev))
		dst = append(dst, byte(w.hash))
		prev = start
	}
}

// stemHash is 8 bits of the FNV-1a hash of a stem. It is part of the
// ranking file's format: it must not change.
func stemHash(stem string) uint8 {
	h := uint32(2166136261)
	for i := 0; i < len(stem); i++ {
		h ^= uint32(stem[i])
		h *= 16777619
	}
	return uint8(h ^ h>>8 ^ h>>16 ^ h>>24)
}

// findListed is find for a body with a word list: it matches only the
// words whose stem hash is one of the terms' (and a few in a hundred others
// with it). It returns false, and hits as they were, when words is not a
// list of this format. A damaged list costs matches, never a wrong one:
// every word it points to is matched from body.
func (m *termMatcher) findListed(body, words string, hits []termHit) ([]termHit, bool) {
	if len(words) == 0 || words[0] != wordListFormat {
		return hits, false
	}
	var buf [64]byte
	pos := 0
	for i := 1; i < len(words); {
		delta, n := uint64(words[i]), 1
		if delta >= 0x80 {
			delta, n = uvarintString(words[i:])
		}
		if n == 0 || i+n >= len(words) || delta > uint64(len(body)-pos) {
			break
		}
		h := words[i+n]
		i += n + 1
		pos += int(delta)
		if m.hashes[h>>6]&(1<<(h&63)) == 0 {
			continue
		}
		start, end := nextWord(body, pos)
		if start != pos || start == end {
			continue // not a word's start: the list does not fit the text
		}
		if id, ok := m.match(lowerInto(buf[:0], body[start:end])); ok {
			hits = append(hits, termHit{start, end, id})
		}
	}
	return hits, true
}

// uvarintString is binary.Uvarint for a string; n is 0 when s does not
// start with one.
func uvarintString(s string) (x uint64, n int) {
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		b := s[i]
		if b < 0x80 {
			return x | uint64(b)<<(7*i), i + 1
		}
		x |= uint64(b&0x7f) << (7 * i)
	}
	return 0, 0
}

// Byte classes for termMatcher.find.
const (
	classWord  = 1 << iota // an ASCII letter or digit
	classFirst             // an ASCII byte that begins a term, in either case
	classHigh              // not ASCII
)

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
	out := make([]byte, 0, end+8)
	if start > 0 && strings.TrimSpace(s[:start]) != "" {
		out = append(out, "… "...)
	}
	out = appendCollapsed(out, rest[:end])
	if end < len(rest) {
		out = append(out, " …"...)
	}
	return string(out)
}

// appendCollapsed appends s with its runs of white space made one space
// and none at either end, as strings.Join(strings.Fields(s), " ") does.
// Runs of text between white space are copied whole.
func appendCollapsed(out []byte, s string) []byte {
	if plainText(s) {
		return append(out, s...)
	}
	for i := 0; i < len(s); {
		space := i
		start := skip(s, i, &asciiSpace, unicode.IsSpace, false)
		if start == len(s) {
			break
		}
		i = skip(s, start, &asciiSpace, unicode.IsSpace, true)
		if start > space && len(out) > 0 && out[len(out)-1] != ' ' {
			out = append(out, ' ')
		}
		out = append(out, s[start:i]...)
	}
	return out
}

// plainText reports whether s is ASCII with single spaces between its
// words and none at either end, which appendCollapsed leaves as it is.
func plainText(s string) bool {
	space := true // as if a space came before s
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || asciiSpace[c] && (c != ' ' || space) {
			return false
		}
		space = c == ' '
	}
	return !space || len(s) == 0
}

// skip returns the index of the first character of s at or after i that
// is (in true) or is not (in false) of a class: ascii says which ASCII
// bytes are, isRune which other characters are. It returns len(s) when there
// is none.
func skip(s string, i int, ascii *[utf8.RuneSelf]bool, isRune func(rune) bool, in bool) int {
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if ascii[c] == in {
				return i
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if isRune(r) == in {
			return i
		}
		i += size
	}
	return i
}

// asciiSpace marks the ASCII white space characters.
var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// nextWord returns the byte range of the first run of letters and digits
// in s at or after i; start == end when there is none.
func nextWord(s string, i int) (start, end int) {
	start = skip(s, i, &asciiWord, isWordRune, true)
	return start, skip(s, start, &asciiWord, isWordRune, false)
}

// isWordRune reports whether r is a letter or a digit.
func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// asciiLower maps A-Z to a-z and every other byte to itself.
var asciiLower = func() (t [256]byte) {
	for c := range t {
		t[c] = byte(c)
		if 'A' <= c && c <= 'Z' {
			t[c] += 'a' - 'A'
		}
	}
	return t
}()

// asciiWord marks the ASCII letters and digits.
var asciiWord = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	}
	return t
}()

// termMatcher finds the words whose stems are among a query's terms. It
// stems only words that could match: a word begins with its stem but for
// the stem's last letter ("possibility" stems to "possibl", "hoping" to
// "hope", "happy" to "happi"), or its last two when the stem ends in "ie"
// ("dying" stems to "die"), so a word that does not begin like one of the
// terms is passed over (TestStemKeepsOpening).
type termMatcher struct {
	stems *stemmer
	ids   map[string]int
	// openings are the terms' openings in byte order; those beginning
	// with byte c are openings[from[c]:from[c+1]].
	openings []string
	from     [257]uint32
	class    [256]uint8 // classWord, classFirst, classHigh
	// hashes is the set of the terms' stemHash, for findListed.
	hashes [4]uint64
	// seen remembers what the words stemmed so far matched (-1: nothing).
	// A search stems about 150 words, 30 of them distinct; without it each
	// went to the shared stemmer, whose locks the CPUs then pass between
	// them. (So a termMatcher serves one search, in one goroutine.)
	seen map[string]int
}

func newTermMatcher(stems *stemmer, terms map[string]bool) *termMatcher {
	m := &termMatcher{stems: stems, ids: make(map[string]int, len(terms))}
	for t := range terms {
		if t == "" {
			continue
		}
		m.ids[t] = len(m.ids)
		h := stemHash(t)
		m.hashes[h>>6] |= 1 << (h & 63)
		open := stemOpening(t)
		m.openings = append(m.openings, open)
	}
	slices.Sort(m.openings)
	m.openings = slices.Compact(m.openings)
	i := 0
	for c := range 256 {
		m.from[c] = uint32(i)
		for i < len(m.openings) && int(m.openings[i][0]) == c {
			i++
		}
	}
	m.from[256] = uint32(i)
	for c := range 256 {
		switch {
		case c >= utf8.RuneSelf:
			m.class[c] = classHigh
		case asciiWord[c]:
			m.class[c] = classWord
			if m.mayMatch(byte(c)) {
				m.class[c] |= classFirst
			}
		}
	}
	return m
}

// stemOpening is the part of a stem every word with that stem begins with.
func stemOpening(stem string) string {
	drop := 1
	if strings.HasSuffix(stem, "ie") {
		drop = 2
	}
	return stem[:max(1, len(stem)-drop)]
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
	c = asciiLower[c]
	return m.from[c] != m.from[int(c)+1]
}

// opens reports whether an ASCII-led word begins, in any case, with one of
// the terms' openings, or has an accent where it could: only then can it
// match, and it is worth lowering and stemming.
func (m *termMatcher) opens(word string) bool {
	c := asciiLower[word[0]]
	for _, open := range m.openings[m.from[c]:m.from[int(c)+1]] {
		if len(word) < len(open) {
			continue
		}
		i := 1
		for i < len(open) && asciiLower[word[i]] == open[i] {
			i++
		}
		if i == len(open) || word[i] >= utf8.RuneSelf { // an accent: folding may make it match
			return true
		}
	}
	return false
}

// match returns the index of the term a lower-case word stems to.
func (m *termMatcher) match(lower []byte) (int, bool) {
	if len(lower) == 0 {
		return 0, false
	}
	lower = fold(lower) // as the index folded it
	c := lower[0]
	for _, open := range m.openings[m.from[c]:m.from[int(c)+1]] {
		if len(lower) >= len(open) && string(lower[:len(open)]) == open {
			if id, ok := m.seen[string(lower)]; ok {
				return id, id >= 0
			}
			id, ok := m.ids[m.stems.stemOf(lower)]
			if !ok {
				id = -1
			}
			if m.seen == nil {
				m.seen = make(map[string]int, 32)
			}
			m.seen[string(lower)] = id
			return id, ok
		}
	}
	return 0, false
}
