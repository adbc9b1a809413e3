package bm25_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/connectorhq/connector/internal/bm25"
)

// ---------------------------------------------------------------------------
// Test corpus

// termPostings is one AddTerm call.
type termPostings struct {
	field    int
	term     string
	postings []bm25.Posting
}

// corpus is everything a Writer is given, so tests can both write a file and
// compute what the file should answer from the same description.
type corpus struct {
	fields []string
	ids    []string
	terms  []termPostings // ascending by term within each field
	listed []int          // fields that keep their passages' term lists
	stored [][]string     // each passage's stored values, or none
}

const (
	title = 0
	body  = 1
)

// fruit is a small corpus: five passages, two fields.
//
//	passage  id       title length  body length
//	0        doc/a    2             10
//	1        doc/b    3             20
//	2        doc/c    4             5
//	3        doc/d    1             40
//	4        doc/e    5             25
//
// Title mean length 15/5 = 3, body mean length 100/5 = 20.
var fruit = corpus{
	fields: []string{"title", "body"},
	ids:    []string{"doc/a", "doc/b", "doc/c", "doc/d", "doc/e"},
	listed: []int{body},
	stored: [][]string{{"Apple", "a body"}, {"", "b"}, {"Cherry ☺", strings.Repeat("long ", 100)}, {"d", ""}, {"e", "é"}},
	terms: []termPostings{
		{title, "apple", []bm25.Posting{{Passage: 1, Freq: 1, Length: 3}}},
		{title, "fruit", []bm25.Posting{
			{Passage: 0, Freq: 1, Length: 2},
			{Passage: 1, Freq: 1, Length: 3},
			{Passage: 2, Freq: 2, Length: 4},
			{Passage: 3, Freq: 1, Length: 1},
			{Passage: 4, Freq: 1, Length: 5},
		}},
		{title, "grape", []bm25.Posting{{Passage: 4, Freq: 1, Length: 5}}},
		{body, "apple", []bm25.Posting{
			{Passage: 0, Freq: 2, Length: 10},
			{Passage: 2, Freq: 1, Length: 5},
			{Passage: 3, Freq: 4, Length: 40},
		}},
		{body, "banana", []bm25.Posting{
			{Passage: 1, Freq: 1, Length: 20},
			{Passage: 3, Freq: 1, Length: 40},
		}},
		{body, "cherry", []bm25.Posting{{Passage: 4, Freq: 3, Length: 25}}},
		{body, "zeta", []bm25.Posting{
			{Passage: 0, Freq: 1, Length: 10},
			{Passage: 1, Freq: 1, Length: 20},
			{Passage: 2, Freq: 1, Length: 5},
			{Passage: 3, Freq: 1, Length: 40},
			{Passage: 4, Freq: 1, Length: 25},
		}},
	},
}

// write writes c to path and fails the test on any error.
func (c corpus) write(t testing.TB, path string) {
	t.Helper()
	w, err := bm25.NewWriter(path, c.fields)
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	c.fill(t, w)
	if err := w.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// fill adds c's passages and terms to w.
func (c corpus) fill(t testing.TB, w *bm25.Writer) {
	t.Helper()
	for i, id := range c.ids {
		if got := w.AddPassage(id); got != uint32(i) {
			t.Fatalf("AddPassage(%q) = %d, want %d", id, got, i)
		}
	}
	for _, f := range c.listed {
		if err := w.ListTerms(f); err != nil {
			t.Fatalf("ListTerms(%d): %v", f, err)
		}
	}
	for _, tp := range c.terms {
		if err := w.AddTerm(tp.field, tp.term, tp.postings); err != nil {
			t.Fatalf("AddTerm(%d, %q): %v", tp.field, tp.term, err)
		}
	}
	for _, values := range c.stored {
		if err := w.Store(values...); err != nil {
			t.Fatalf("Store(%q): %v", values, err)
		}
	}
}

// open writes c to a fresh file and opens it; the index is closed when the
// test ends.
func (c corpus) open(t testing.TB) *bm25.Index {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rank.bm25")
	c.write(t, path)
	return openFile(t, path)
}

func openFile(t testing.TB, path string) *bm25.Index {
	t.Helper()
	ix, err := bm25.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := ix.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return ix
}

// posting returns the posting of term in field for passage, if any.
func (c corpus) posting(field int, term string, passage uint32) (bm25.Posting, int, bool) {
	for _, tp := range c.terms {
		if tp.field != field || tp.term != term {
			continue
		}
		for _, p := range tp.postings {
			if p.Passage == passage {
				return p, len(tp.postings), true
			}
		}
		return bm25.Posting{}, len(tp.postings), false
	}
	return bm25.Posting{}, 0, false
}

// lengths returns each passage's length in field, as the postings state it.
func (c corpus) lengths(field int) []float64 {
	ls := make([]float64, len(c.ids))
	for _, tp := range c.terms {
		if tp.field == field {
			for _, p := range tp.postings {
				ls[p.Passage] = float64(p.Length)
			}
		}
	}
	return ls
}

func (c corpus) avg(field int) float64 {
	var sum float64
	for _, l := range c.lengths(field) {
		sum += l
	}
	return sum / float64(len(c.ids))
}

// ---------------------------------------------------------------------------
// Reference scoring, written out from the definition rather than from the
// package code.

// ref computes expected scores over a corpus for given parameters.
type ref struct {
	c                  corpus
	k1, b, lengthScale float64
}

func defaultRef(c corpus) ref { return ref{c: c, k1: 1.2, b: 0.75, lengthScale: 1} }

// term is the contribution of term in field to passage, before the
// multi-term share and the coordination factor:
//
//	boost · idf² · √f · k1 / (√f + k1·(1 − b + b·len/(avg·lengthScale)))
//	idf = ln(1 + (N − df + 0.5)/(df + 0.5))
//
// It is 0 when the passage does not hold the term.
func (r ref) term(boost float64, field int, term string, passage uint32) float64 {
	p, df, ok := r.c.posting(field, term, passage)
	if !ok {
		return 0
	}
	n := float64(len(r.c.ids))
	idf := math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5))
	sqrtF := math.Sqrt(float64(p.Freq))
	avg := r.c.avg(field) * r.lengthScale
	norm := r.k1 * (1 - r.b + r.b*float64(p.Length)/avg)
	return boost * idf * idf * sqrtF * r.k1 / (sqrtF + norm)
}

// sortMatches orders matches best first, ties by lower passage.
func sortMatches(ms []bm25.Match) {
	slices.SortFunc(ms, func(x, y bm25.Match) int {
		switch {
		case x.Score > y.Score:
			return -1
		case x.Score < y.Score:
			return 1
		}
		return int(x.Passage) - int(y.Passage)
	})
}

const tolerance = 1e-9

func matchesClose(got, want []bm25.Match) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].Passage != want[i].Passage {
			return false
		}
		if math.Abs(got[i].Score-want[i].Score) > tolerance*math.Max(1, math.Abs(want[i].Score)) {
			return false
		}
	}
	return true
}

func formatMatches(ms []bm25.Match) string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i, m := range ms {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "%d:%.12g", m.Passage, m.Score)
	}
	sb.WriteByte(']')
	return sb.String()
}

func passages(ms []bm25.Match) []uint32 {
	out := make([]uint32, len(ms))
	for i, m := range ms {
		out[i] = m.Passage
	}
	return out
}

// clause is shorthand for a clause of one or more terms.
func clause(field int, boost float64, terms ...string) bm25.Clause {
	return bm25.Clause{Field: field, Terms: terms, Boost: boost}
}

// ---------------------------------------------------------------------------
// 1. Round trip

func TestRoundTrip(t *testing.T) {
	ix := fruit.open(t)

	if got, want := ix.Passages(), len(fruit.ids); got != want {
		t.Errorf("Passages() = %d, want %d", got, want)
	}

	t.Run("ID", func(t *testing.T) {
		tests := []struct {
			ord  uint32
			want string
		}{
			{0, "doc/a"},
			{1, "doc/b"},
			{2, "doc/c"},
			{3, "doc/d"},
			{4, "doc/e"},
			{5, ""}, // one past the end
			{1000, ""},
			{math.MaxUint32, ""},
		}
		for _, tt := range tests {
			if got := ix.ID(tt.ord); got != tt.want {
				t.Errorf("ID(%d) = %q, want %q", tt.ord, got, tt.want)
			}
		}
	})

	t.Run("Field", func(t *testing.T) {
		tests := []struct {
			name string
			want int
		}{
			{"title", title},
			{"body", body},
			{"Body", -1}, // names are case-sensitive
			{"", -1},
			{"summary", -1},
		}
		for _, tt := range tests {
			if got := ix.Field(tt.name); got != tt.want {
				t.Errorf("Field(%q) = %d, want %d", tt.name, got, tt.want)
			}
		}
	})

	t.Run("DocFreq", func(t *testing.T) {
		tests := []struct {
			field int
			term  string
			want  uint32
		}{
			{title, "apple", 1},
			{title, "fruit", 5},
			{title, "grape", 1},
			{body, "apple", 3},
			{body, "banana", 2},
			{body, "cherry", 1},
			{body, "zeta", 5},
			{body, "grape", 0},  // present only in the other field
			{title, "zeta", 0},  // present only in the other field
			{body, "appl", 0},   // prefix of a term
			{body, "apples", 0}, // extension of a term
			{body, "", 0},
			{body, "aardvark", 0}, // before the first term
			{body, "zzz", 0},      // after the last term
			{-1, "apple", 0},      // field out of range
			{2, "apple", 0},       // field out of range
		}
		for _, tt := range tests {
			if got := ix.DocFreq(tt.field, tt.term); got != tt.want {
				t.Errorf("DocFreq(%d, %q) = %d, want %d", tt.field, tt.term, got, tt.want)
			}
		}
	})

	t.Run("AverageLength", func(t *testing.T) {
		tests := []struct {
			field int
			want  float64
		}{
			{title, 3}, // (2+3+4+1+5)/5
			{body, 20}, // (10+20+5+40+25)/5
			{-1, 0},    // out of range
			{2, 0},     // out of range
		}
		for _, tt := range tests {
			if got := ix.AverageLength(tt.field); math.Abs(got-tt.want) > tolerance {
				t.Errorf("AverageLength(%d) = %g, want %g", tt.field, got, tt.want)
			}
		}
	})
}

// A passage that no posting mentions has length 0 in every field and still
// counts toward N and the average.
func TestRoundTripPassageWithoutTerms(t *testing.T) {
	c := corpus{
		fields: []string{"body"},
		ids:    []string{"x", "empty", "y", ""},
		terms: []termPostings{
			{0, "t", []bm25.Posting{{Passage: 0, Freq: 1, Length: 6}, {Passage: 2, Freq: 1, Length: 2}}},
		},
	}
	ix := c.open(t)
	if got := ix.Passages(); got != 4 {
		t.Errorf("Passages() = %d, want 4", got)
	}
	for ord, want := range c.ids {
		if got := ix.ID(uint32(ord)); got != want {
			t.Errorf("ID(%d) = %q, want %q", ord, got, want)
		}
	}
	if got, want := ix.AverageLength(0), 8.0/4; got != want {
		t.Errorf("AverageLength(0) = %g, want %g", got, want)
	}
}

func TestEmptyIndex(t *testing.T) {
	ix := corpus{fields: []string{"title", "body"}}.open(t)

	if got := ix.Passages(); got != 0 {
		t.Errorf("Passages() = %d, want 0", got)
	}
	if got := ix.ID(0); got != "" {
		t.Errorf("ID(0) = %q, want empty", got)
	}
	if got := ix.Field("body"); got != body {
		t.Errorf("Field(body) = %d, want %d", got, body)
	}
	if got := ix.AverageLength(body); got != 0 {
		t.Errorf("AverageLength(body) = %g, want 0", got)
	}
	if got := ix.DocFreq(body, "apple"); got != 0 {
		t.Errorf("DocFreq(body, apple) = %d, want 0", got)
	}
	got, err := ix.Search(context.Background(), []bm25.Clause{clause(body, 1, "apple")}, 10, bm25.Params{})
	if err != nil || len(got) != 0 {
		t.Errorf("Search on an empty index = %v, %v; want no matches, nil", formatMatches(got), err)
	}
}

// ---------------------------------------------------------------------------
// 2. Scores against hand-computed values

// A single value worked out by hand (outside Go) pins the formula itself:
// cherry in body of passage 4: N=5, df=1, f=3, len=25, avg=20.
//
//	idf   = ln(1 + 4.5/1.5) = ln 4
//	score = ln²4 · √3 · 1.2 / (√3 + 1.2·(0.25 + 0.75·25/20)) ≈ 1.265235053567087
func TestScoreWorkedExample(t *testing.T) {
	ix := fruit.open(t)
	got, err := ix.Search(context.Background(), []bm25.Clause{clause(body, 1, "cherry")}, 10, bm25.Params{})
	if err != nil {
		t.Fatal(err)
	}
	want := []bm25.Match{{Passage: 4, Score: 1.265235053567087}}
	if !matchesClose(got, want) {
		t.Errorf("got %s, want %s", formatMatches(got), formatMatches(want))
	}
}

func TestScores(t *testing.T) {
	ix := fruit.open(t)

	tests := []struct {
		name    string
		clauses []bm25.Clause
		params  bm25.Params
		ref     ref
		// want returns the expected matches, in any order.
		want func(r ref) []bm25.Match
	}{
		{
			name:    "one term, default params",
			clauses: []bm25.Clause{clause(body, 1, "apple")},
			ref:     defaultRef(fruit),
			want: func(r ref) []bm25.Match {
				return []bm25.Match{
					{Passage: 0, Score: r.term(1, body, "apple", 0)},
					{Passage: 2, Score: r.term(1, body, "apple", 2)},
					{Passage: 3, Score: r.term(1, body, "apple", 3)},
				}
			},
		},
		{
			// Passage 1 matches both clauses (coord 2/2); passage 3 matches
			// only banana (coord 1/2).
			name:    "two terms, coord and boost",
			clauses: []bm25.Clause{clause(body, 1, "banana"), clause(title, 2, "apple")},
			ref:     defaultRef(fruit),
			want: func(r ref) []bm25.Match {
				return []bm25.Match{
					{Passage: 1, Score: (r.term(1, body, "banana", 1) + r.term(2, title, "apple", 1)) * 2 / 2},
					{Passage: 3, Score: r.term(1, body, "banana", 3) * 1 / 2},
				}
			},
		},
		{
			name:    "two terms in the same field, each passage matching one",
			clauses: []bm25.Clause{clause(body, 1, "apple"), clause(body, 1, "cherry")},
			ref:     defaultRef(fruit),
			want: func(r ref) []bm25.Match {
				return []bm25.Match{
					{Passage: 0, Score: r.term(1, body, "apple", 0) / 2},
					{Passage: 2, Score: r.term(1, body, "apple", 2) / 2},
					{Passage: 3, Score: r.term(1, body, "apple", 3) / 2},
					{Passage: 4, Score: r.term(1, body, "cherry", 4) / 2},
				}
			},
		},
		{
			name:    "fractional boost",
			clauses: []bm25.Clause{clause(body, 0.25, "banana"), clause(title, 3.5, "fruit")},
			ref:     defaultRef(fruit),
			want: func(r ref) []bm25.Match {
				ms := make([]bm25.Match, 0, 5)
				for p := range uint32(5) {
					banana := r.term(0.25, body, "banana", p)
					matched := 1.0 // every passage has fruit in its title
					if banana != 0 {
						matched++
					}
					ms = append(ms, bm25.Match{Passage: p, Score: (banana + r.term(3.5, title, "fruit", p)) * matched / 2})
				}
				return ms
			},
		},
		{
			name:    "custom K1 and B",
			clauses: []bm25.Clause{clause(body, 1, "apple"), clause(title, 1, "fruit")},
			params:  bm25.Params{K1: 2, B: 0.3},
			ref:     ref{c: fruit, k1: 2, b: 0.3, lengthScale: 1},
			want: func(r ref) []bm25.Match {
				ms := make([]bm25.Match, 0, 5)
				for p := range uint32(5) {
					apple := r.term(1, body, "apple", p)
					matched := 1.0
					if apple != 0 {
						matched++
					}
					ms = append(ms, bm25.Match{Passage: p, Score: (apple + r.term(1, title, "fruit", p)) * matched / 2})
				}
				return ms
			},
		},
		{
			// LengthScale 0.5 halves the mean length: body avg 20 → 10.
			name:    "length scale",
			clauses: []bm25.Clause{clause(body, 1, "apple")},
			params:  bm25.Params{LengthScale: 0.5},
			ref:     ref{c: fruit, k1: 1.2, b: 0.75, lengthScale: 0.5},
			want: func(r ref) []bm25.Match {
				return []bm25.Match{
					{Passage: 0, Score: r.term(1, body, "apple", 0)},
					{Passage: 2, Score: r.term(1, body, "apple", 2)},
					{Passage: 3, Score: r.term(1, body, "apple", 3)},
				}
			},
		},
		{
			name:    "length scale above 1",
			clauses: []bm25.Clause{clause(body, 1, "zeta")},
			params:  bm25.Params{K1: 1.5, B: 1, LengthScale: 2},
			ref:     ref{c: fruit, k1: 1.5, b: 1, lengthScale: 2},
			want: func(r ref) []bm25.Match {
				ms := make([]bm25.Match, 0, 5)
				for p := range uint32(5) {
					ms = append(ms, bm25.Match{Passage: p, Score: r.term(1, body, "zeta", p)})
				}
				return ms
			},
		},
		{
			// A clause of candidate spellings: each term scores with share
			// 1/2, and passage 3, which holds both, counts the clause once.
			name:    "multi-term clause",
			clauses: []bm25.Clause{clause(body, 1, "apple", "banana"), clause(title, 1, "fruit")},
			ref:     defaultRef(fruit),
			want: func(r ref) []bm25.Match {
				ms := make([]bm25.Match, 0, 5)
				for p := range uint32(5) {
					cand := (r.term(1, body, "apple", p) + r.term(1, body, "banana", p)) / 2
					matched := 1.0
					if cand != 0 {
						matched++
					}
					ms = append(ms, bm25.Match{Passage: p, Score: (cand + r.term(1, title, "fruit", p)) * matched / 2})
				}
				return ms
			},
		},
		{
			// The share is 1/len(Terms) even when a candidate is unknown.
			name:    "multi-term clause with an unknown candidate",
			clauses: []bm25.Clause{clause(body, 2, "aple", "apple", "appel")},
			ref:     defaultRef(fruit),
			want: func(r ref) []bm25.Match {
				return []bm25.Match{
					{Passage: 0, Score: r.term(2, body, "apple", 0) / 3},
					{Passage: 2, Score: r.term(2, body, "apple", 2) / 3},
					{Passage: 3, Score: r.term(2, body, "apple", 3) / 3},
				}
			},
		},
		{
			// A clause that cannot match still counts toward the total.
			name:    "unknown term and unknown field count as clauses",
			clauses: []bm25.Clause{clause(body, 1, "cherry"), clause(body, 1, "durian"), clause(7, 1, "cherry")},
			ref:     defaultRef(fruit),
			want: func(r ref) []bm25.Match {
				return []bm25.Match{{Passage: 4, Score: r.term(1, body, "cherry", 4) / 3}}
			},
		},
		{
			name:    "same term in two fields",
			clauses: []bm25.Clause{clause(title, 1.5, "apple"), clause(body, 1, "apple")},
			ref:     defaultRef(fruit),
			want: func(r ref) []bm25.Match {
				return []bm25.Match{
					{Passage: 0, Score: r.term(1, body, "apple", 0) / 2},
					{Passage: 1, Score: r.term(1.5, title, "apple", 1) / 2},
					{Passage: 2, Score: r.term(1, body, "apple", 2) / 2},
					{Passage: 3, Score: r.term(1, body, "apple", 3) / 2},
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want(tt.ref)
			sortMatches(want)
			got, err := ix.Search(context.Background(), tt.clauses, 10, tt.params)
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			if !matchesClose(got, want) {
				t.Errorf("Search\n got %s\nwant %s", formatMatches(got), formatMatches(want))
			}
		})
	}
}

// ---------------------------------------------------------------------------
// 3. Ranking order, ties and limits

// ties is a corpus built for equal scores: in field 0, "x" gives passages
// 1, 3 and 5 identical postings and passage 0 a higher frequency; "solo1"
// and "solo4" each occur once, identically, in passages 1 and 4.
var ties = corpus{
	fields: []string{"body"},
	ids:    []string{"p0", "p1", "p2", "p3", "p4", "p5"},
	terms: []termPostings{
		{0, "filler", []bm25.Posting{
			{Passage: 0, Freq: 1, Length: 4},
			{Passage: 1, Freq: 1, Length: 4},
			{Passage: 2, Freq: 1, Length: 4},
			{Passage: 3, Freq: 1, Length: 4},
			{Passage: 4, Freq: 1, Length: 4},
			{Passage: 5, Freq: 1, Length: 4},
		}},
		{0, "solo1", []bm25.Posting{{Passage: 1, Freq: 1, Length: 4}}},
		{0, "solo4", []bm25.Posting{{Passage: 4, Freq: 1, Length: 4}}},
		{0, "x", []bm25.Posting{
			{Passage: 0, Freq: 5, Length: 4},
			{Passage: 1, Freq: 1, Length: 4},
			{Passage: 3, Freq: 1, Length: 4},
			{Passage: 5, Freq: 1, Length: 4},
		}},
	},
}

func TestRanking(t *testing.T) {
	ix := ties.open(t)
	fx := fruit.open(t)

	x := []bm25.Clause{clause(0, 1, "x")}
	// Listed in the order solo4, solo1 so passage 4 is scored first.
	solos := []bm25.Clause{clause(0, 1, "solo4"), clause(0, 1, "solo1")}

	tests := []struct {
		name    string
		ix      *bm25.Index
		clauses []bm25.Clause
		k       int
		want    []uint32 // passages, best first; nil for no matches
	}{
		{"ties by ordinal", ix, x, 10, []uint32{0, 1, 3, 5}},
		{"k equal to matches", ix, x, 4, []uint32{0, 1, 3, 5}},
		{"k cuts inside a tie", ix, x, 2, []uint32{0, 1}},
		{"k cuts inside a tie, 3", ix, x, 3, []uint32{0, 1, 3}},
		{"k of 1", ix, x, 1, []uint32{0}},
		{"k far larger than matches", ix, x, 1 << 20, []uint32{0, 1, 3, 5}},
		{"tie scored higher ordinal first", ix, solos, 10, []uint32{1, 4}},
		{"tie scored higher ordinal first, k=1", ix, solos, 1, []uint32{1}},
		{"k zero", ix, x, 0, nil},
		{"k negative", ix, x, -3, nil},
		{"no clauses", ix, nil, 10, nil},
		{"empty clause list", ix, []bm25.Clause{}, 10, nil},
		{"unknown term", ix, []bm25.Clause{clause(0, 1, "nope")}, 10, nil},
		{"clause without terms", ix, []bm25.Clause{clause(0, 1)}, 10, nil},
		{"negative field", ix, []bm25.Clause{clause(-1, 1, "x")}, 10, nil},
		{"field out of range", ix, []bm25.Clause{clause(1, 1, "x")}, 10, nil},
		// On fruit, apple in body: length normalisation puts the short
		// passage 2 (f=1, len 5) just ahead of passage 0 (f=2, len 10) and
		// both well ahead of passage 3 (f=4, len 40).
		{"fruit apple", fx, []bm25.Clause{clause(body, 1, "apple")}, 10, []uint32{2, 0, 3}},
		// Passage 1 matches both clauses and beats passage 3's half score.
		{"fruit coord", fx, []bm25.Clause{clause(body, 1, "banana"), clause(title, 1, "apple")}, 10, []uint32{1, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.ix.Search(context.Background(), tt.clauses, tt.k, bm25.Params{})
			if err != nil {
				t.Fatalf("Search: %v", err)
			}
			if !slices.Equal(passages(got), tt.want) {
				t.Errorf("Search passages = %v, want %v (%s)", passages(got), tt.want, formatMatches(got))
			}
			if !slices.IsSortedFunc(got, func(a, b bm25.Match) int {
				if a.Score != b.Score {
					if a.Score > b.Score {
						return -1
					}
					return 1
				}
				return int(a.Passage) - int(b.Passage)
			}) {
				t.Errorf("results not best first: %s", formatMatches(got))
			}
		})
	}
}

// The tied passages really do have equal scores, so the ranking test above
// is testing the tie-break and not a rounding difference.
func TestTiesAreExact(t *testing.T) {
	ix := ties.open(t)
	got, err := ix.Search(context.Background(), []bm25.Clause{clause(0, 1, "x")}, 10, bm25.Params{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[1].Score != got[2].Score || got[2].Score != got[3].Score || got[0].Score <= got[1].Score {
		t.Errorf("want one top score and three exact ties, got %s", formatMatches(got))
	}
}

// Searches reuse scratch state; a search must not see what an earlier one
// left behind, whether it finished, was limited by k, or was cancelled.
func TestSearchesIndependent(t *testing.T) {
	ix := fruit.open(t)
	bg := context.Background()
	a := []bm25.Clause{clause(body, 1, "apple"), clause(title, 1, "fruit")}
	b := []bm25.Clause{clause(body, 1, "banana")}

	fresh := fruit.open(t)
	wantB, err := fresh.Search(bg, b, 10, bm25.Params{})
	if err != nil {
		t.Fatal(err)
	}

	cancelled, cancel := context.WithCancel(bg)
	cancel()
	for i := range 5 {
		if _, err := ix.Search(bg, a, 10, bm25.Params{}); err != nil {
			t.Fatal(err)
		}
		if _, err := ix.Search(bg, a, 1, bm25.Params{}); err != nil {
			t.Fatal(err)
		}
		if _, err := ix.Search(cancelled, a, 10, bm25.Params{}); err == nil {
			t.Fatal("cancelled search succeeded")
		}
		got, err := ix.Search(bg, b, 10, bm25.Params{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, wantB) {
			t.Fatalf("round %d: Search(banana) = %s, want %s", i, formatMatches(got), formatMatches(wantB))
		}
	}
}

// ---------------------------------------------------------------------------
// 4. Writer errors

// dirEntries lists the names in dir.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestWriterErrors(t *testing.T) {
	p := func(passage, freq, length uint32) bm25.Posting {
		return bm25.Posting{Passage: passage, Freq: freq, Length: length}
	}
	type call struct {
		field    int
		term     string
		postings []bm25.Posting
	}
	tests := []struct {
		name string
		// calls before the failing one; they must succeed
		before []call
		bad    call
		// the error must mention each of these
		mention []string
	}{
		{
			name:    "term before the previous term",
			before:  []call{{0, "mango", []bm25.Posting{p(0, 1, 1)}}},
			bad:     call{0, "kiwi", []bm25.Posting{p(1, 1, 1)}},
			mention: []string{`"kiwi"`},
		},
		{
			name:    "term repeated",
			before:  []call{{0, "mango", []bm25.Posting{p(0, 1, 1)}}},
			bad:     call{0, "mango", []bm25.Posting{p(1, 1, 1)}},
			mention: []string{`"mango"`},
		},
		{
			name:    "upper case sorts before lower case",
			before:  []call{{1, "b", []bm25.Posting{p(0, 1, 1)}}},
			bad:     call{1, "B", []bm25.Posting{p(0, 1, 1)}},
			mention: []string{`"B"`},
		},
		{
			name:    "postings out of order",
			bad:     call{0, "kiwi", []bm25.Posting{p(0, 1, 1), p(2, 1, 1), p(1, 1, 1)}},
			mention: []string{"kiwi"},
		},
		{
			name:    "posting repeated",
			bad:     call{0, "kiwi", []bm25.Posting{p(1, 1, 1), p(1, 1, 1)}},
			mention: []string{"kiwi"},
		},
		{
			name:    "posting of an unknown passage",
			bad:     call{0, "kiwi", []bm25.Posting{p(0, 1, 1), p(3, 1, 1)}},
			mention: []string{"kiwi", "3"},
		},
		{
			name:    "first posting of an unknown passage",
			bad:     call{1, "kiwi", []bm25.Posting{p(99, 1, 1)}},
			mention: []string{"kiwi", "99"},
		},
		{
			name: "field out of range",
			bad:  call{2, "kiwi", []bm25.Posting{p(0, 1, 1)}},
		},
		{
			name: "negative field",
			bad:  call{-1, "kiwi", []bm25.Posting{p(0, 1, 1)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "rank.bm25")
			w, err := bm25.NewWriter(path, []string{"title", "body"})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Abort()
			for _, id := range []string{"a", "b", "c"} {
				w.AddPassage(id)
			}
			for _, c := range tt.before {
				if err := w.AddTerm(c.field, c.term, c.postings); err != nil {
					t.Fatalf("AddTerm(%d, %q): %v", c.field, c.term, err)
				}
			}
			err = w.AddTerm(tt.bad.field, tt.bad.term, tt.bad.postings)
			if err == nil {
				t.Fatalf("AddTerm(%d, %q, %v) succeeded, want an error", tt.bad.field, tt.bad.term, tt.bad.postings)
			}
			for _, m := range tt.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %s", err, m)
				}
			}

			// The writer is now broken: Commit must fail and nothing may be
			// left at the path or beside it.
			if err := w.Commit(); err == nil {
				t.Errorf("Commit after a failed AddTerm succeeded, want an error")
			}
			if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("after a failed write, stat %s: %v, want not exist", path, err)
			}
			w.Abort()
			if names := dirEntries(t, dir); len(names) != 0 {
				t.Errorf("directory holds %v after a failed write, want nothing", names)
			}
		})
	}
}

// Terms are ordered per field, so a field may start again from "a".
func TestWriterTermOrderIsPerField(t *testing.T) {
	c := corpus{
		fields: []string{"title", "body"},
		ids:    []string{"a"},
		terms: []termPostings{
			{title, "zebra", []bm25.Posting{{Passage: 0, Freq: 1, Length: 1}}},
			{body, "aardvark", []bm25.Posting{{Passage: 0, Freq: 1, Length: 1}}},
		},
	}
	ix := c.open(t)
	if ix.DocFreq(title, "zebra") != 1 || ix.DocFreq(body, "aardvark") != 1 {
		t.Errorf("DocFreq = %d, %d; want 1, 1", ix.DocFreq(title, "zebra"), ix.DocFreq(body, "aardvark"))
	}
}

func TestWriterAbort(t *testing.T) {
	tests := []struct {
		name string
		fill func(w *bm25.Writer)
	}{
		{"nothing added", func(*bm25.Writer) {}},
		{"passages and terms added", func(w *bm25.Writer) {
			w.AddPassage("a")
			w.AddPassage("b")
			if err := w.AddTerm(0, "t", []bm25.Posting{{Passage: 1, Freq: 2, Length: 3}}); err != nil {
				panic(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "rank.bm25")
			w, err := bm25.NewWriter(path, []string{"body"})
			if err != nil {
				t.Fatal(err)
			}
			tt.fill(w)
			w.Abort()
			w.Abort() // a second Abort is harmless
			if names := dirEntries(t, dir); len(names) != 0 {
				t.Errorf("directory holds %v after Abort, want nothing", names)
			}
			if err := w.Commit(); err == nil {
				t.Errorf("Commit after Abort succeeded")
			}
			if names := dirEntries(t, dir); len(names) != 0 {
				t.Errorf("directory holds %v after Abort and Commit, want nothing", names)
			}
		})
	}
}

func TestWriterCommitTwice(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rank.bm25")
	w, err := bm25.NewWriter(path, []string{"body"})
	if err != nil {
		t.Fatal(err)
	}
	w.AddPassage("a")
	if err := w.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if err := w.Commit(); err == nil {
		t.Errorf("second Commit succeeded")
	}
	w.Abort() // after Commit, Abort must not remove the committed file
	if names := dirEntries(t, dir); !slices.Equal(names, []string{"rank.bm25"}) {
		t.Errorf("directory holds %v, want just rank.bm25", names)
	}
	openFile(t, path)
}

// Commit replaces an existing file atomically.
func TestWriterReplacesFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rank.bm25")
	fruit.write(t, path)
	ties.write(t, path)
	ix := openFile(t, path)
	if got := ix.Passages(); got != len(ties.ids) {
		t.Errorf("Passages() = %d, want %d", got, len(ties.ids))
	}
	if names := dirEntries(t, dir); !slices.Equal(names, []string{"rank.bm25"}) {
		t.Errorf("directory holds %v, want just rank.bm25", names)
	}
}

func TestWriterCommitFails(t *testing.T) {
	// The path is a directory, so the final rename fails.
	dir := t.TempDir()
	path := filepath.Join(dir, "rank.bm25")
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := bm25.NewWriter(path, []string{"body"})
	if err != nil {
		t.Fatal(err)
	}
	w.AddPassage("a")
	if err := w.Commit(); err == nil {
		t.Fatalf("Commit onto a directory succeeded")
	}
	if names := dirEntries(t, dir); !slices.Equal(names, []string{"rank.bm25"}) {
		t.Errorf("directory holds %v after a failed Commit, want just the rank.bm25 directory", names)
	}
}

func TestNewWriterMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing", "rank.bm25")
	if w, err := bm25.NewWriter(path, []string{"body"}); err == nil {
		w.Abort()
		t.Errorf("NewWriter in a missing directory succeeded")
	}
}

// ---------------------------------------------------------------------------
// 5. Corrupt files

// validFile returns the bytes of a committed fruit file.
func validFile(t testing.TB) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rank.bm25")
	fruit.write(t, path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// exercise opens data as a ranking file and, if it opens, uses every
// accessor. It reports a panic as an error, returns Open's error, and checks
// that such an error wraps ErrCorrupt when the file is long enough to hold
// a header and trailer.
func exercise(t *testing.T, data []byte) (openErr error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rank.bm25")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return exerciseOpened(t, len(data), func() (*bm25.Index, error) { return bm25.Open(path) })
}

// exerciseOpened is exercise with the file of size bytes opened by open.
func exerciseOpened(t *testing.T, size int, open func() (*bm25.Index, error)) (openErr error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("panic on a %d-byte file: %v", size, r)
		}
	}()
	ix, err := open()
	if err != nil {
		return err
	}
	defer ix.Close()
	for ord := range uint32(ix.Passages() + 2) {
		ix.ID(ord)
	}
	ix.ID(math.MaxUint32)
	for _, id := range fruit.ids {
		ix.Ordinal(id)
	}
	for f := -1; f <= 2; f++ {
		ix.AverageLength(f)
		for _, tp := range fruit.terms {
			ix.DocFreq(f, tp.term)
		}
		var clauses []bm25.Clause
		for _, tp := range fruit.terms {
			clauses = append(clauses, clause(f, 1, tp.term))
		}
		if _, err := ix.Search(context.Background(), clauses, 10, bm25.Params{}); err != nil {
			t.Errorf("Search: %v", err)
		}
		for ord := range uint32(ix.Passages() + 2) {
			ix.Length(f, ord)
			for term := range ix.PassageTerms(f, ord) {
				ix.Term(f, term)
			}
		}
		for num := range uint32(len(fruit.terms) + 2) {
			ix.Term(f, num)
		}
		for ord := range uint32(ix.Passages() + 2) {
			ix.Stored(ord)
		}
		ix.Term(f, math.MaxUint32)
	}
	return nil
}

// headerTrailer is the shortest file Open can read as a ranking file: an
// 8-byte magic, an 8-byte directory length and the closing magic.
const headerTrailer = 24

func TestOpenMissing(t *testing.T) {
	_, err := bm25.Open(filepath.Join(t.TempDir(), "nope.bm25"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a missing file: %v, want fs.ErrNotExist", err)
	}
}

func TestOpenDirectory(t *testing.T) {
	ix, err := bm25.Open(t.TempDir())
	if err == nil {
		ix.Close()
		t.Errorf("Open of a directory succeeded")
	}
}

func TestOpenTruncated(t *testing.T) {
	data := validFile(t)
	// Every length short of the whole file.
	for n := range len(data) {
		err := exercise(t, data[:n])
		switch {
		case err == nil:
			t.Errorf("Open of the file truncated to %d of %d bytes succeeded", n, len(data))
		case n >= headerTrailer && !errors.Is(err, bm25.ErrCorrupt):
			t.Errorf("Open of the file truncated to %d bytes: %v, want ErrCorrupt", n, err)
		}
	}
}

// garbage returns n deterministic pseudo-random bytes.
func garbage(n int, seed uint64) []byte {
	b := make([]byte, n)
	x := seed | 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x)
	}
	return b
}

func TestOpenCorrupt(t *testing.T) {
	valid := validFile(t)
	const magic = "CNBM25\x00\x01"
	framed := func(middle []byte) []byte { // garbage between two good magics
		return slices.Concat([]byte(magic), middle, []byte(magic))
	}
	withDirLen := func(middle []byte, dirLen uint64) []byte {
		return framed(binary.LittleEndian.AppendUint64(slices.Clone(middle), dirLen))
	}
	flip := func(i int) []byte {
		b := slices.Clone(valid)
		if i < 0 {
			i += len(b)
		}
		b[i] ^= 0x20
		return b
	}

	tests := []struct {
		name string
		data []byte
		// mayBeOS allows an error that is not ErrCorrupt (too short to read)
		mayBeOS bool
	}{
		{"empty", nil, true},
		{"one byte", []byte{0}, true},
		{"magic only", []byte(magic), true},
		{"two magics", []byte(magic + magic), true},
		{"garbage 23 bytes", garbage(23, 1), true},
		{"garbage 24 bytes", garbage(24, 2), false},
		{"garbage 100 bytes", garbage(100, 3), false},
		{"garbage 4096 bytes", garbage(4096, 4), false},
		{"garbage the size of a valid file", garbage(len(valid), 5), false},
		{"zeros", make([]byte, 512), false},
		{"first magic byte flipped", flip(0), false},
		{"last magic byte of the header flipped", flip(7), false},
		{"first trailing magic byte flipped", flip(-8), false},
		{"last byte flipped", flip(-1), false},
		{"text file", []byte(strings.Repeat("not a ranking file\n", 20)), false},
		{"good magics, zero directory", withDirLen(nil, 0), false},
		{"good magics, directory length past the start", withDirLen(nil, 1), false},
		{"good magics, huge directory length", withDirLen(garbage(64, 6), math.MaxUint64), false},
		{"good magics, garbage directory", withDirLen(garbage(64, 7), 64), false},
		{"good magics, empty JSON directory", withDirLen([]byte("{}"), 2), false},
		{"good magics, JSON null directory", withDirLen([]byte("null"), 4), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := exercise(t, tt.data)
			switch {
			case err == nil:
				t.Errorf("Open succeeded, want an error")
			case !tt.mayBeOS && !errors.Is(err, bm25.ErrCorrupt):
				t.Errorf("Open: %v, want an error wrapping ErrCorrupt", err)
			}
		})
	}
}

// rewriteDirectory returns valid with its JSON directory changed by edit.
func rewriteDirectory(t *testing.T, valid []byte, edit func(d map[string]any)) []byte {
	t.Helper()
	size := len(valid)
	dirLen := int(binary.LittleEndian.Uint64(valid[size-16:]))
	end := size - 16
	var d map[string]any
	dec := json.NewDecoder(bytes.NewReader(valid[end-dirLen : end]))
	dec.UseNumber()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("decode directory: %v", err)
	}
	edit(d)
	dir, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	out := slices.Concat(valid[:end-dirLen], dir)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(dir)))
	return append(out, valid[size-8:]...)
}

// A directory that parses but points outside the file, or states sizes that
// do not fit it, must be rejected (or at least never make a later call
// panic).
func TestOpenBadDirectory(t *testing.T) {
	valid := validFile(t)
	setField := func(key string, v any) func(d map[string]any) {
		return func(d map[string]any) {
			for _, f := range d["fields"].([]any) {
				f.(map[string]any)[key] = v
			}
		}
	}
	set := func(key string, v any) func(d map[string]any) {
		return func(d map[string]any) { d[key] = v }
	}
	big := uint64(len(valid)) * 4

	tests := []struct {
		name string
		edit func(d map[string]any)
		// opens is true when Open may succeed (the damage is not something
		// Open can see); calls on the index must still not panic.
		opens bool
	}{
		{name: "unchanged", edit: func(map[string]any) {}, opens: true},
		{name: "older version", edit: set("version", 2)},
		{name: "newer version", edit: set("version", 4)},
		{name: "no version", edit: func(d map[string]any) { delete(d, "version") }},
		{name: "passages past the file", edit: set("passages", 1<<20)},
		{name: "max passages", edit: set("passages", uint64(math.MaxUint32))},
		{name: "ids offset past the file", edit: set("ids_off", big)},
		{name: "id offsets past the file", edit: set("id_offsets_off", big)},
		{name: "lengths past the file", edit: setField("lengths_off", big)},
		{name: "term bytes past the file", edit: setField("term_bytes_off", big)},
		{name: "term bytes too long", edit: setField("term_bytes_len", big)},
		{name: "table past the file", edit: setField("table_off", big)},
		{name: "too many terms", edit: setField("terms", big)},
		// 32·2^59 wraps to 0 in uint64 arithmetic.
		{name: "term count that overflows the table size", edit: setField("terms", uint64(1)<<59)},
		{name: "term count that overflows the table size plus one", edit: setField("terms", uint64(1)<<59+1)},
		{name: "max term count", edit: setField("terms", uint64(math.MaxUint64))},
		{name: "stored values past the file", edit: set("stored_off", big)},
		{name: "stored values too long", edit: set("stored_len", big)},
		{name: "stored offsets past the file", edit: set("stored_offsets_off", big)},
		{name: "no stored values a passage", edit: set("values", 0)},
		{name: "too many stored values a passage", edit: set("values", 1<<20)},
		{name: "stored offsets elsewhere", edit: set("stored_offsets_off", 8), opens: true},
		{name: "more stored values a passage than kept", edit: set("values", 7), opens: true},
		{name: "term lists past the file", edit: setField("lists_off", big)},
		{name: "term lists too long", edit: setField("lists_len", big)},
		{name: "term list offsets past the file", edit: setField("lists_offsets_off", big)},
		// Offsets read from the wrong place are nonsense, but bounded.
		{name: "term list offsets elsewhere", edit: setField("lists_offsets_off", 8), opens: true},
		{name: "directory is an array", edit: func(d map[string]any) { clear(d); d["fields"] = "x" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := exercise(t, rewriteDirectory(t, valid, tt.edit))
			switch {
			case err == nil && !tt.opens:
				t.Errorf("Open accepted the damaged directory, want an error wrapping ErrCorrupt")
			case err != nil && !errors.Is(err, bm25.ErrCorrupt):
				t.Errorf("Open: %v, want an error wrapping ErrCorrupt", err)
			}
		})
	}
}

// Flipping any one bit of a valid file may go unnoticed (there is no
// checksum), but must never make Open or a later call panic, and an error
// must wrap ErrCorrupt.
func TestOpenBitFlips(t *testing.T) {
	valid := validFile(t)
	for i := range valid {
		for _, bit := range []byte{0x01, 0x80} {
			b := slices.Clone(valid)
			b[i] ^= bit
			if err := exercise(t, b); err != nil && !errors.Is(err, bm25.ErrCorrupt) {
				t.Errorf("byte %d ^ %#x: Open: %v, want an error wrapping ErrCorrupt", i, bit, err)
			}
		}
	}
}

// FuzzOpen runs its seeds with go test; go test -fuzz=FuzzOpen explores more.
// It opens each input in memory: writing a file and a folder for each made an
// input cost milliseconds, and the fuzzer spent its time minimising (60 s an
// interesting input, by default) at a few hundred executions a second.
func FuzzOpen(f *testing.F) {
	valid := validFile(f)
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(garbage(64, 9))
	f.Fuzz(func(t *testing.T, data []byte) {
		open := func() (*bm25.Index, error) { return bm25.OpenBytes(data) }
		if err := exerciseOpened(t, len(data), open); err != nil && len(data) >= headerTrailer && !errors.Is(err, bm25.ErrCorrupt) {
			t.Errorf("Open: %v, want an error wrapping ErrCorrupt", err)
		}
	})
}

// ---------------------------------------------------------------------------
// 6. Concurrency

func TestConcurrentSearch(t *testing.T) {
	ix := fruit.open(t)
	queries := []struct {
		clauses []bm25.Clause
		k       int
		params  bm25.Params
	}{
		{[]bm25.Clause{clause(body, 1, "apple")}, 10, bm25.Params{}},
		{[]bm25.Clause{clause(body, 1, "banana"), clause(title, 2, "apple")}, 10, bm25.Params{}},
		{[]bm25.Clause{clause(body, 1, "apple", "banana"), clause(title, 1, "fruit")}, 3, bm25.Params{LengthScale: 0.5}},
		{[]bm25.Clause{clause(body, 1, "zeta"), clause(title, 1, "grape")}, 2, bm25.Params{K1: 2, B: 0.5}},
		{[]bm25.Clause{clause(body, 1, "nothing")}, 10, bm25.Params{}},
	}
	want := make([][]bm25.Match, len(queries))
	for i, q := range queries {
		var err error
		if want[i], err = ix.Search(context.Background(), q.clauses, q.k, q.params); err != nil {
			t.Fatal(err)
		}
	}

	const goroutines, rounds = 16, 200
	var wg sync.WaitGroup
	errs := make(chan string, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for r := range rounds {
				i := (g + r) % len(queries)
				q := queries[i]
				got, err := ix.Search(context.Background(), q.clauses, q.k, q.params)
				if err != nil || !slices.Equal(got, want[i]) {
					errs <- fmt.Sprintf("goroutine %d round %d query %d: got %s, %v; want %s",
						g, r, i, formatMatches(got), err, formatMatches(want[i]))
					return
				}
				if r%20 == 0 {
					ix.DocFreq(body, "apple")
					ix.ID(uint32(r % 5))
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// ---------------------------------------------------------------------------
// 7. Context

func TestSearchContext(t *testing.T) {
	ix := fruit.open(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()

	clauses := []bm25.Clause{clause(body, 1, "apple"), clause(title, 1, "fruit")}
	tests := []struct {
		name    string
		ctx     context.Context
		clauses []bm25.Clause
		want    error
	}{
		{"cancelled", cancelled, clauses, context.Canceled},
		{"deadline passed", expired, clauses, context.DeadlineExceeded},
		{"cancelled, clauses that match nothing", cancelled, []bm25.Clause{clause(body, 1, "nothing")}, context.Canceled},
		{"cancelled, clause in an unknown field", cancelled, []bm25.Clause{clause(9, 1, "apple")}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ix.Search(tt.ctx, tt.clauses, 10, bm25.Params{})
			if !errors.Is(err, tt.want) {
				t.Errorf("Search error = %v, want %v", err, tt.want)
			}
			if len(got) != 0 {
				t.Errorf("Search returned %s with an error, want no matches", formatMatches(got))
			}
		})
	}

	// The index still works after cancelled searches.
	got, err := ix.Search(context.Background(), clauses, 10, bm25.Params{})
	if err != nil || len(got) != 5 {
		t.Errorf("Search after cancellation = %s, %v; want 5 matches", formatMatches(got), err)
	}
}

// TestQueryRounds checks that a query built in rounds ranks as one Search
// with all its clauses, after each round, and that the first round's
// results are those of a Search with its clauses alone.
func TestQueryRounds(t *testing.T) {
	fx := fruit.open(t)
	ctx := context.Background()
	p := bm25.Params{LengthScale: 0.5}
	first := []bm25.Clause{clause(body, 1, "apple"), clause(title, 0.25, "apple")}
	second := []bm25.Clause{clause(body, 0.2, "banana"), clause(body, 0.1, "nope", "cherry")}

	q, err := fx.NewQuery(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if got := q.Top(10); got != nil {
		t.Errorf("Top before any clause = %s, want none", formatMatches(got))
	}
	if err := q.Add(ctx, first); err != nil {
		t.Fatal(err)
	}
	want, err := fx.Search(ctx, first, 2, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := q.Top(2); !slices.Equal(got, want) {
		t.Errorf("round 1: %s, want %s", formatMatches(got), formatMatches(want))
	}
	if err := q.Add(ctx, second); err != nil {
		t.Fatal(err)
	}
	want, err = fx.Search(ctx, append(slices.Clone(first), second...), 10, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := q.Top(10); !slices.Equal(got, want) {
		t.Errorf("round 2: %s, want %s", formatMatches(got), formatMatches(want))
	}

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	q2, err := fx.NewQuery(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	defer q2.Close()
	if err := q2.Add(canceled, first); err == nil {
		t.Error("Add with a cancelled context: no error")
	}
}

// TestQueriesWaitTheirTurn: a few queries per CPU score at once; another
// waits until one closes, or until its context ends.
func TestQueriesWaitTheirTurn(t *testing.T) {
	fx := fruit.open(t)
	ctx := context.Background()
	var open []*bm25.Query
	for {
		short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		q, err := fx.NewQuery(short, bm25.Params{})
		cancel()
		if err != nil {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("waiting query: %v, want the context's error", err)
			}
			break
		}
		open = append(open, q)
		if len(open) > 1024 {
			t.Fatal("no bound on the queries scoring at once")
		}
	}
	if len(open) < 4 {
		t.Errorf("only %d queries at once, want at least 4", len(open))
	}
	done := make(chan *bm25.Query)
	go func() {
		q, err := fx.NewQuery(ctx, bm25.Params{})
		if err != nil {
			t.Error(err)
		}
		done <- q
	}()
	open[0].Close()
	q := <-done
	if err := q.Add(ctx, []bm25.Clause{clause(body, 1, "apple")}); err != nil || len(q.Top(10)) == 0 {
		t.Errorf("the query that waited: %v, %d matches", err, len(q.Top(10)))
	}
	q.Close()
	for _, q := range open[1:] {
		q.Close()
	}
}

// ---------------------------------------------------------------------------
// Term lists

// wantLists returns, from c's postings, each passage's (term number,
// frequency) pairs in field, in term order.
func (c corpus) wantLists(field int) [][][2]uint32 {
	out := make([][][2]uint32, len(c.ids))
	num := uint32(0)
	for _, tp := range c.terms {
		if tp.field != field || len(tp.postings) == 0 {
			continue
		}
		for _, p := range tp.postings {
			out[p.Passage] = append(out[p.Passage], [2]uint32{num, p.Freq})
		}
		num++
	}
	return out
}

func gotLists(ix *bm25.Index, field int) [][][2]uint32 {
	out := make([][][2]uint32, ix.Passages())
	for ord := range out {
		for term, freq := range ix.PassageTerms(field, uint32(ord)) {
			out[ord] = append(out[ord], [2]uint32{term, freq})
		}
	}
	return out
}

// sprawl is a collection of 50 passages where passage p holds the terms
// t00..t29 whose number divides p+1 (or is 0), with frequency p%3+1, so
// passages hold from one term to many and some ranges hold no terms at all.
func sprawl() corpus {
	c := corpus{fields: []string{"body"}, listed: []int{0}}
	for p := range 50 {
		c.ids = append(c.ids, fmt.Sprintf("p%02d", p))
	}
	for n := range 30 {
		var ps []bm25.Posting
		for p := range 50 {
			if n == 0 || (p+1)%(n+1) == 0 {
				ps = append(ps, bm25.Posting{Passage: uint32(p), Freq: uint32(p%3 + 1), Length: 7})
			}
		}
		c.terms = append(c.terms, termPostings{0, fmt.Sprintf("t%02d", n), ps})
	}
	return c
}

func TestTermLists(t *testing.T) {
	t.Run("fruit", func(t *testing.T) {
		ix := fruit.open(t)
		if !ix.HasTermLists(body) || ix.HasTermLists(title) {
			t.Fatalf("HasTermLists(body, title) = %v, %v; want true, false", ix.HasTermLists(body), ix.HasTermLists(title))
		}
		if got, want := gotLists(ix, body), fruit.wantLists(body); !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("body lists = %v, want %v", got, want)
		}
		for ord := range uint32(len(fruit.ids)) {
			for range ix.PassageTerms(title, ord) {
				t.Errorf("passage %d: a title term, but the title keeps no lists", ord)
			}
		}
		for range ix.PassageTerms(body, uint32(len(fruit.ids))) {
			t.Errorf("a term for a passage past the end")
		}
	})
	c := sprawl()
	want := c.wantLists(0)
	// Spans that put the passages in one spill file, in many, and in
	// files of one passage each; span 7 leaves a short last range.
	for _, span := range []uint32{1, 7, 16, 50, 1 << 20} {
		t.Run(fmt.Sprintf("span %d", span), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "rank.bm25")
			w, err := bm25.NewWriter(path, c.fields)
			if err != nil {
				t.Fatal(err)
			}
			bm25.SetListSpan(w, span)
			c.fill(t, w)
			if err := w.Commit(); err != nil {
				t.Fatal(err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("folder holds %d files after Commit, want only the ranking file (spill files left behind)", len(entries))
			}
			ix := openFile(t, path)
			if got := gotLists(ix, 0); !slices.EqualFunc(got, want, slices.Equal) {
				t.Errorf("lists = %v\nwant    %v", got, want)
			}
		})
	}
}

func TestTermAndLength(t *testing.T) {
	ix := fruit.open(t)
	var num uint32
	for _, tp := range fruit.terms {
		if tp.field != body {
			continue
		}
		term, df := ix.Term(body, num)
		if term != tp.term || df != uint32(len(tp.postings)) {
			t.Errorf("Term(body, %d) = %q, %d; want %q, %d", num, term, df, tp.term, len(tp.postings))
		}
		num++
	}
	if term, df := ix.Term(body, num); term != "" || df != 0 {
		t.Errorf("Term past the last = %q, %d; want \"\", 0", term, df)
	}
	if term, _ := ix.Term(5, 0); term != "" {
		t.Errorf("Term of a field out of range = %q", term)
	}
	for ord, l := range fruit.lengths(body) {
		if got := ix.Length(body, uint32(ord)); float64(got) != l {
			t.Errorf("Length(body, %d) = %d, want %g", ord, got, l)
		}
	}
	if got := ix.Length(body, 99); got != 0 {
		t.Errorf("Length past the end = %d", got)
	}
}

func TestListTermsErrors(t *testing.T) {
	dir := t.TempDir()
	w, err := bm25.NewWriter(filepath.Join(dir, "rank.bm25"), []string{"body"})
	if err != nil {
		t.Fatal(err)
	}
	w.AddPassage("a")
	if err := w.ListTerms(1); err == nil {
		t.Error("ListTerms of a field out of range: no error")
	}
	if err := w.ListTerms(0); err != nil {
		t.Fatal(err)
	}
	if err := w.AddTerm(0, "x", []bm25.Posting{{Passage: 0, Freq: 1, Length: 1}}); err != nil {
		t.Fatal(err)
	}
	if err := w.ListTerms(0); err == nil {
		t.Error("ListTerms after the field's terms: no error")
	}
	w.Abort()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("folder holds %d files after Abort, want none (spill files left behind)", len(entries))
	}
}

// ---------------------------------------------------------------------------
// Similar terms

// osa is the optimal string alignment distance, from its definition: a full
// table over runes.
func osa(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

// lexicon is a one-field collection whose terms are words, some close to
// one another, each in as many passages as its place in the list modulo 4,
// plus one.
func lexicon(words []string) corpus {
	words = slices.Clone(words)
	slices.Sort(words)
	words = slices.Compact(words)
	c := corpus{fields: []string{"body"}}
	for p := range 4 {
		c.ids = append(c.ids, fmt.Sprintf("p%d", p))
	}
	for i, w := range words {
		var ps []bm25.Posting
		for p := range i%4 + 1 {
			ps = append(ps, bm25.Posting{Passage: uint32(p), Freq: 1, Length: 3})
		}
		c.terms = append(c.terms, termPostings{0, w, ps})
	}
	return c
}

func TestSimilar(t *testing.T) {
	words := strings.Fields(`receive recieve reciever receiver deceive relieve believe
		transcription transcript transcriptase translation transfection transaction
		protein proteins protien protean proteome prot proto
		cell cells cello cellular cel ce c
		naïve naive naïvety café cafe caffe cafés straße strasse
		abcdefgh bacdefgh abcdefhg abdcefgh abcdefghij abcdefg acbdefgh
		il10 il1 il6 il12 cd4 cd8 cd44 2009 2019 2090 1999
		mitochondria mitochondrial mitochondrion mitochondira
		x xy yx xyz zyx`)
	for i := range 300 { // a larger dictionary, so the bigrams have to rule things out
		words = append(words, fmt.Sprintf("w%03dq%c", i, 'a'+rune(i%26)))
	}
	c := lexicon(words)
	ix := c.open(t)
	dfs := map[string]uint32{}
	for _, tp := range c.terms {
		dfs[tp.term] = uint32(len(tp.postings))
	}
	queries := []string{"recieve", "receive", "reciev", "transcripton", "protien", "protein", "cell",
		"celll", "naive", "naïve", "cafe", "strase", "abcdefgh", "badcfehg", "il10", "il-10", "cd4",
		"2009", "mitocondria", "mitochondira", "x", "yx", "w100qw", "w1ooqw", "zzzzzzzz", "日本語"}
	for _, q := range queries {
		for k := range 3 {
			var want []bm25.Near
			for term, df := range dfs {
				if d := osa(q, term); d <= k && term != q {
					want = append(want, bm25.Near{Term: term, Edits: d, DocFreq: df})
				}
			}
			slices.SortFunc(want, func(a, b bm25.Near) int {
				if a.Edits != b.Edits {
					return a.Edits - b.Edits
				}
				if a.DocFreq != b.DocFreq {
					return int(b.DocFreq) - int(a.DocFreq)
				}
				return strings.Compare(a.Term, b.Term)
			})
			got := ix.Similar(0, q, k, 1000)
			if !slices.Equal(got, want) {
				t.Errorf("Similar(%q, %d) = %v\nwant %v", q, k, got, want)
			}
			if len(want) > 2 {
				if got := ix.Similar(0, q, k, 2); !slices.Equal(got, want[:2]) {
					t.Errorf("Similar(%q, %d, limit 2) = %v, want %v", q, k, got, want[:2])
				}
			}
		}
	}
	for _, bad := range []struct {
		field, edits, limit int
		term                string
	}{{-1, 1, 5, "cell"}, {1, 1, 5, "cell"}, {0, -1, 5, "cell"}, {0, 1, 0, "cell"}, {0, 1, 5, ""}} {
		if got := ix.Similar(bad.field, bad.term, bad.edits, bad.limit); got != nil {
			t.Errorf("Similar(%d, %q, %d, %d) = %v, want nil", bad.field, bad.term, bad.edits, bad.limit, got)
		}
	}
}

func TestSimilarConcurrent(t *testing.T) {
	ix := lexicon(strings.Fields("alpha alpah alphas beta betta gamma gama")).open(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if got := ix.Similar(0, "alpa", 1, 10); len(got) != 2 {
					t.Errorf("Similar(alpa) = %v, want alpha and alpah", got)
					return
				}
			}
		})
	}
	wg.Wait()
}

// ---------------------------------------------------------------------------
// Stored values

func TestStored(t *testing.T) {
	ix := fruit.open(t)
	for ord, want := range fruit.stored {
		if got := ix.Stored(uint32(ord)); !slices.Equal(got, want) {
			t.Errorf("Stored(%d) = %q, want %q", ord, got, want)
		}
	}
	if got := ix.Stored(uint32(len(fruit.ids))); got != nil {
		t.Errorf("Stored past the end = %q", got)
	}
	plain := fruit
	plain.stored = nil
	if got := plain.open(t).Stored(0); got != nil {
		t.Errorf("Stored of a file that keeps none = %q", got)
	}
}

func TestStoreErrors(t *testing.T) {
	newWriter := func(t *testing.T, passages int) (*bm25.Writer, string) {
		dir := t.TempDir()
		w, err := bm25.NewWriter(filepath.Join(dir, "rank.bm25"), []string{"body"})
		if err != nil {
			t.Fatal(err)
		}
		for i := range passages {
			w.AddPassage(fmt.Sprint(i))
		}
		return w, dir
	}
	t.Run("values differ in number", func(t *testing.T) {
		w, _ := newWriter(t, 2)
		w.Store("a", "b")
		if err := w.Store("c"); err == nil {
			t.Error("no error")
		}
		if err := w.Commit(); err == nil {
			t.Error("Commit after a failed Store: no error")
		}
	})
	t.Run("more passages than added", func(t *testing.T) {
		w, _ := newWriter(t, 1)
		w.Store("a")
		if err := w.Store("b"); err == nil {
			t.Error("no error")
		}
		w.Abort()
	})
	t.Run("some passages without", func(t *testing.T) {
		w, dir := newWriter(t, 2)
		w.Store("a")
		if err := w.Commit(); err == nil {
			t.Error("Commit with values for 1 of 2 passages: no error")
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%d files left behind", len(entries))
		}
	})
}

// TestLookupManyTerms finds every term of a vocabulary of thousands, each
// in its own field only, and no near spelling of one.
func TestLookupManyTerms(t *testing.T) {
	const n = 5000
	c := corpus{fields: []string{"title", "body"}, ids: []string{"a", "b", "c"}}
	var terms []string
	for i := range n {
		terms = append(terms, fmt.Sprintf("t%05d", i))
	}
	for i, term := range terms {
		var ps []bm25.Posting
		for p := range i%3 + 1 {
			ps = append(ps, bm25.Posting{Passage: uint32(p), Freq: 1, Length: 1})
		}
		c.terms = append(c.terms, termPostings{body, term, ps})
	}
	ix := c.open(t)
	for i, term := range terms {
		if got := ix.DocFreq(body, term); got != uint32(i%3+1) {
			t.Fatalf("DocFreq(body, %q) = %d, want %d", term, got, i%3+1)
		}
		if got := ix.DocFreq(title, term); got != 0 {
			t.Fatalf("DocFreq(title, %q) = %d, want 0", term, got)
		}
		for _, absent := range []string{term + "x", term[:len(term)-1], ""} {
			if got := ix.DocFreq(body, absent); got != 0 {
				t.Fatalf("DocFreq(body, %q) = %d, want 0", absent, got)
			}
		}
	}
}

// TestOrdinal finds every passage by its id, and no passage by an id the
// file does not hold.
func TestOrdinal(t *testing.T) {
	const n = 3000
	c := corpus{fields: []string{"title", "body"}}
	for i := range n {
		c.ids = append(c.ids, fmt.Sprintf("doc-%d#%d", i/3, i%3))
	}
	c.terms = []termPostings{{body, "word", []bm25.Posting{{Passage: 0, Freq: 1, Length: 1}}}}
	ix := c.open(t)
	for ord, id := range c.ids {
		if got, ok := ix.Ordinal(id); !ok || got != uint32(ord) {
			t.Fatalf("Ordinal(%q) = %d, %v; want %d, true", id, got, ok, ord)
		}
	}
	for _, id := range []string{"", "doc-0", "doc-0#3", "doc-1000#0", "DOC-0#0"} {
		if got, ok := ix.Ordinal(id); ok {
			t.Errorf("Ordinal(%q) = %d, true; want false", id, got)
		}
	}
}
