package bm25

import (
	"encoding/binary"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// Similar terms: the fallback for a query term found nowhere, which may be
// a misspelling. Distance is the optimal string alignment distance over
// runes: insertions, deletions, substitutions and transpositions of
// adjacent runes, one edit each (what bleve's fuzzy search counts).
//
// Candidates come from an index of each term's bigrams (pairs of adjacent
// runes, with the word's start and end as a rune each), built the first
// time a field is searched this way. An edit changes at most three of a
// term's bigrams, so a term within k edits shares all but at most 3k of
// the query's distinct bigrams; only the terms that do are compared rune
// by rune. That reads a few posting lists instead of the whole dictionary.

// Near is a term found by Similar.
type Near struct {
	Term    string
	Edits   int
	DocFreq uint32
}

// Similar returns the field's terms within maxEdits edits of term (not term
// itself), fewest edits first, then the most frequent, then in byte order;
// at most limit of them.
func (ix *Index) Similar(fieldNum int, term string, maxEdits, limit int) []Near {
	if fieldNum < 0 || fieldNum >= len(ix.fields) || limit <= 0 || maxEdits < 0 || term == "" {
		return nil
	}
	f := &ix.fields[fieldNum]
	g := ix.grams[fieldNum].get(f)
	query := []rune(term)
	qGrams := distinctGrams(nil, query)

	var found []Near
	consider := func(num uint32) {
		if l := int(g.runes[num]); l-len(query) > maxEdits || len(query)-l > maxEdits {
			return
		}
		t := f.termAt(int(num))
		if t == nil || string(t) == term {
			return
		}
		if d, ok := osaWithin(query, string(t), maxEdits); ok {
			found = append(found, Near{Term: string(t), Edits: d, DocFreq: f.docFreq(int(num))})
		}
	}
	if need := len(qGrams) - 3*maxEdits; need < 1 || len(qGrams) > 255 {
		// Too short for the bigrams to rule anything out (or too long to
		// count them in a byte).
		for num := range uint32(f.terms) {
			consider(num)
		}
	} else {
		counts := g.counts()
		for _, gr := range qGrams {
			for _, num := range g.postings(gr) {
				counts.c[num]++
				if int(counts.c[num]) == need {
					consider(num)
				}
			}
		}
		for _, gr := range qGrams {
			for _, num := range g.postings(gr) {
				counts.c[num] = 0
			}
		}
		g.pool.Put(counts)
	}
	slices.SortFunc(found, func(a, b Near) int {
		if a.Edits != b.Edits {
			return a.Edits - b.Edits
		}
		if a.DocFreq != b.DocFreq {
			if a.DocFreq > b.DocFreq {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Term, b.Term)
	})
	return found[:min(len(found), limit)]
}

func (f *field) docFreq(i int) uint32 {
	return binary.LittleEndian.Uint32(f.table[i*termEntrySize+24:])
}

// gramState builds a field's bigram index once, when first needed.
type gramState struct {
	once sync.Once
	g    *gramIndex
}

func (s *gramState) get(f *field) *gramIndex {
	s.once.Do(func() { s.g = buildGrams(f) })
	return s.g
}

// gramIndex lists, for each bigram, the terms holding it, and each term's
// length in runes.
type gramIndex struct {
	offs  []uint32 // by bigram: where its terms start in nums; one more at the end
	nums  []uint32 // term numbers, ascending within a bigram
	runes []uint8  // each term's length in runes, at most 255
	pool  sync.Pool
}

type gramCounts struct{ c []uint8 }

// counts returns zeroed per-term counters; put them back zeroed.
func (g *gramIndex) counts() *gramCounts {
	if c, ok := g.pool.Get().(*gramCounts); ok {
		return c
	}
	return &gramCounts{c: make([]uint8, len(g.runes))}
}

func (g *gramIndex) postings(gram uint16) []uint32 {
	return g.nums[g.offs[gram]:g.offs[int(gram)+1]]
}

const gramSpace = 1 << 16

func buildGrams(f *field) *gramIndex {
	g := &gramIndex{offs: make([]uint32, gramSpace+1), runes: make([]uint8, f.terms)}
	var buf []uint16
	var rs []rune
	each := func(visit func(num int, grams []uint16)) {
		for num := range f.terms {
			t := f.termAt(num)
			rs = rs[:0]
			for _, r := range string(t) {
				rs = append(rs, r)
			}
			buf = distinctGrams(buf[:0], rs)
			visit(num, buf)
		}
	}
	each(func(num int, grams []uint16) {
		g.runes[num] = uint8(min(len(rs), 255))
		for _, gr := range grams {
			g.offs[int(gr)+1]++
		}
	})
	for i := 1; i <= gramSpace; i++ {
		g.offs[i] += g.offs[i-1]
	}
	g.nums = make([]uint32, g.offs[gramSpace])
	next := slices.Clone(g.offs[:gramSpace])
	each(func(num int, grams []uint16) {
		for _, gr := range grams {
			g.nums[next[gr]] = uint32(num)
			next[gr]++
		}
	})
	return g
}

// distinctGrams appends the distinct bigrams of a word, its start and end
// counting as runes. Runes are folded into a byte; runes that share a byte
// only make more candidates, never fewer.
func distinctGrams(out []uint16, word []rune) []uint16 {
	start := len(out)
	prev := uint16(0) // the word's start
	for _, r := range word {
		c := runeCode(r)
		out = append(out, prev<<8|c)
		prev = c
	}
	out = append(out, prev<<8) // the word's end
	grams := out[start:]
	slices.Sort(grams)
	return out[:start+len(slices.Compact(grams))]
}

func runeCode(r rune) uint16 {
	switch {
	case r == 0:
		return 1 // 0 marks the word's ends
	case r < utf8.RuneSelf:
		return uint16(r)
	default:
		return 128 + uint16(r%127)
	}
}

// osaWithin returns the optimal string alignment distance between a and b
// when it is at most k.
func osaWithin(a []rune, b string, k int) (int, bool) {
	var bBuf [64]rune
	br := bBuf[:0]
	for _, r := range b {
		br = append(br, r)
	}
	n, m := len(a), len(br)
	if n-m > k || m-n > k {
		return 0, false
	}
	var rowsBuf [3 * 65]int
	var prev2, prev, cur []int
	if m+1 <= 65 {
		prev2, prev, cur = rowsBuf[0:m+1], rowsBuf[65:65+m+1], rowsBuf[130:130+m+1]
	} else {
		prev2, prev, cur = make([]int, m+1), make([]int, m+1), make([]int, m+1)
	}
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= n; i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= m; j++ {
			cost := 1
			if a[i-1] == br[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == br[j-2] && a[i-2] == br[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			best = min(best, v)
		}
		if best > k {
			return 0, false
		}
		prev2, prev, cur = prev, cur, prev2
	}
	if prev[m] > k {
		return 0, false
	}
	return prev[m], true
}
