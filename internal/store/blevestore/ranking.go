package blevestore

import (
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"

	"github.com/connectorhq/connector/internal/bm25"
)

// Ranking. The choices below came from the relevance experiments in
// tuning_test.go, run on two judged collections (SciFact and Cranfield);
// each was kept only because it helped on both.
//
// A query is analysed like the documents. Each distinct term becomes a
// clause on the passage text (title included) and a light clause on the
// title alone. Passages are scored with BM25 from the generation's ranking
// file (package bm25): the sum of the clauses' scores times the share of
// clauses a passage matches, so passages matching more of the query rank
// first.
//
// Pseudo-relevance feedback then adds the few terms that the two best
// passages of that first search share (beyond the query's own), with a
// small weight, and searches again: questions phrased in other words than
// the documents then still find them.
type ranking struct {
	TitleBoost     float64 // boost of the title clauses
	Feedback       bool    // pseudo-relevance feedback
	FeedbackTerms  int     // at most this many terms are added
	FeedbackWeight float64 // boost of the strongest added term, relative to a query term
	// LengthScale sets how strongly BM25 normalises for passage length:
	// the average length it divides by is this share of the true average
	// (smaller: longer passages are penalised more). 0 means 1.
	LengthScale float64
	K1          float64 // BM25 term frequency saturation; 0 means 1.2
	// FuzzyEdits is the most edits the fallback for a term found nowhere
	// allows (in a long term; a shorter one gets one). 0 means 2; -1 turns
	// the fallback off.
	FuzzyEdits int
}

// defaultRanking is what the product uses: the best of the experiments
// (tuning_test.go) on both collections.
var defaultRanking = ranking{
	TitleBoost:     0.25,
	LengthScale:    0.5,
	Feedback:       true,
	FeedbackTerms:  5,
	FeedbackWeight: 0.2,
}

const (
	feedbackDocs     = 2   // passages feedback terms come from
	feedbackMaxShare = 0.1 // terms in more than this share of passages are too common to add
)

// queryTerm is one distinct analysed term of a query.
type queryTerm struct {
	text   string
	weight float64  // occurrences in the query, or the feedback weight
	fuzzy  []string // for a term found nowhere: the indexed terms within a small edit distance
}

// analyzeQuery returns the distinct terms of q, in order of appearance.
func analyzeQuery(a analysis.Analyzer, q string) []queryTerm {
	var terms []queryTerm
	seen := map[string]int{}
	for _, t := range a.Analyze([]byte(q)) {
		term := string(t.Term)
		if i, ok := seen[term]; ok {
			terms[i].weight++
			continue
		}
		seen[term] = len(terms)
		terms = append(terms, queryTerm{text: term, weight: 1})
	}
	return terms
}

// clauses matches the terms in the passage text and, lightly, the title.
func clauses(terms []queryTerm, titleBoost float64) []bm25.Clause {
	cs := make([]bm25.Clause, 0, 2*len(terms))
	for _, t := range terms {
		words := []string{t.text}
		if t.fuzzy != nil {
			words = t.fuzzy
		}
		cs = append(cs, bm25.Clause{Field: rankContent, Terms: words, Boost: t.weight})
		if titleBoost > 0 {
			cs = append(cs, bm25.Clause{Field: rankTitle, Terms: words, Boost: t.weight * titleBoost})
		}
	}
	return cs
}

// misspellable reports whether a term found nowhere may be a misspelling
// worth the fuzzy search: not a short word, which one edit turns into many
// others. Numbers are searched too: leaving them out lowered SciFact's
// recall.
func misspellable(term string) bool {
	return utf8.RuneCountInString(term) >= minFuzzyRunes
}

// minFuzzyRunes is the length of the shortest term the fuzzy search tries.
const minFuzzyRunes = 4

// fuzziness allows one edit in a misspelled term, up to maxEdits in a long
// one.
func fuzziness(term string, maxEdits int) int {
	if maxEdits == 0 {
		maxEdits = 2
	}
	if len([]rune(term)) >= 8 {
		return maxEdits
	}
	return min(1, maxEdits)
}

// maxFuzzyTerms bounds the spellings a misspelled term expands to.
const maxFuzzyTerms = 16

// fuzzyTerms returns the indexed terms within a small edit distance of
// term, closest first, then the most frequent.
func fuzzyTerms(ranks *bm25.Index, term string, maxEdits int) []string {
	near := ranks.Similar(rankContent, term, fuzziness(term, maxEdits), maxFuzzyTerms)
	out := make([]string, len(near))
	for i, n := range near {
		out[i] = n.Term
	}
	return out
}

// feedback returns the terms the best passages share, beyond the query's,
// weighted by how much they say about those passages (frequency times
// inverse document frequency, the best passage counting most). It reads the
// passages' terms from the ranking file's term lists, not their text.
func (r ranking) feedback(ranks *bm25.Index, best []bm25.Match, query []queryTerm) []queryTerm {
	passages := ranks.Passages()
	if len(best) < feedbackDocs || passages == 0 {
		return nil
	}
	// The terms of the best passage, narrowed to those every other one
	// holds too: both lists are in term order, so a merge finds them.
	type shared struct {
		num    uint32
		weight float64 // Σ frequency / length, discounted by rank
	}
	var common, next []shared
	for rank, m := range best[:feedbackDocs] {
		length := float64(ranks.Length(rankContent, m.Passage))
		if length == 0 {
			return nil
		}
		discount := math.Exp(-0.2*float64(rank)) / length
		next = next[:0]
		i := 0
		for num, freq := range ranks.PassageTerms(rankContent, m.Passage) {
			if rank == 0 {
				next = append(next, shared{num, float64(freq) * discount})
				continue
			}
			for i < len(common) && common[i].num < num {
				i++
			}
			if i < len(common) && common[i].num == num {
				next = append(next, shared{num, common[i].weight + float64(freq)*discount})
			}
		}
		common, next = next, common
	}
	inQuery := make(map[string]bool, len(query))
	for _, t := range query {
		inQuery[t.text] = true
	}
	var out []queryTerm
	for _, c := range common {
		term, n := ranks.Term(rankContent, c.num)
		share := float64(n) / float64(passages)
		if term == "" || inQuery[term] || n < 2 || share > feedbackMaxShare {
			continue
		}
		out = append(out, queryTerm{text: term, weight: c.weight * math.Log(1/share)})
	}
	slices.SortFunc(out, func(x, y queryTerm) int {
		if x.weight != y.weight {
			if x.weight > y.weight {
				return -1
			}
			return 1
		}
		return strings.Compare(x.text, y.text)
	})
	if len(out) > r.FeedbackTerms {
		out = out[:r.FeedbackTerms]
	}
	if len(out) > 0 {
		top := out[0].weight
		for i := range out {
			out[i].weight = r.FeedbackWeight * out[i].weight / top
		}
	}
	return out
}
