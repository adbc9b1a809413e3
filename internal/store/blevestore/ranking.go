package blevestore

import (
	"context"
	"math"
	"slices"
	"strings"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
)

// Ranking. The choices below came from the relevance experiments in
// tuning_test.go, run on two judged collections (SciFact and Cranfield);
// each was kept only because it helped on both.
//
// A query is analysed like the documents. Each distinct term becomes a
// clause on the passage text (title included) and a light clause on the
// title alone; adjacent query terms add a proximity clause that matches them
// in order. Scores are bleve's BM25 times the share of clauses a passage
// matches, so passages matching more of the query rank first.
//
// Before the proximity clauses, pseudo-relevance feedback adds the few
// terms that the two best passages of a first search share (beyond the
// query's own), with a small weight: questions phrased in other words than
// the documents then still find them. The final, full query only ranks the
// candidates of the searches without proximity clauses, which keeps it cheap.
type ranking struct {
	TitleBoost     float64 // boost of the title clauses
	ProximityBoost float64 // boost of the proximity clauses; 0 leaves them out
	Feedback       bool    // pseudo-relevance feedback
	FeedbackTerms  int     // at most this many terms are added
	FeedbackWeight float64 // boost of the strongest added term, relative to a query term
	// FeedbackFromFull takes the feedback passages from a search with
	// proximity clauses (better feedback, slower); else from one without.
	FeedbackFromFull bool
	// LengthScale sets how strongly BM25 normalises for passage length:
	// the average length it divides by is this share of the true average
	// word count (smaller: longer passages are penalised more). 0 keeps
	// bleve's own estimate.
	LengthScale float64
}

// withLengths returns ctx carrying the BM25 statistics of the index, so
// bleve normalises lengths by them rather than by its own estimate.
func (r ranking) withLengths(ctx context.Context, l lengthStats) context.Context {
	if r.LengthScale <= 0 || l.Passages == 0 {
		return ctx
	}
	return context.WithValue(ctx, search.BM25StatsKey, &search.BM25Stats{
		DocCount: float64(l.Passages),
		FieldCardinality: map[string]int{
			fieldContent: int(r.LengthScale * float64(l.Words)),
			fieldTitle:   int(r.LengthScale * float64(l.TitleWords)),
		},
	})
}

// defaultRanking is what the product uses: the best of the experiments
// (tuning_test.go) on both collections.
var defaultRanking = ranking{
	TitleBoost:     0.15,
	ProximityBoost: 0.2,
	LengthScale:    0.2,
	Feedback:       true,
	FeedbackTerms:  5,
	FeedbackWeight: 0.1,
}

const (
	maxProximityGap = 3 // positions between adjacent query terms; stop words leave gaps

	feedbackDocs     = 2   // passages feedback terms come from
	feedbackMaxShare = 0.1 // terms in more than this share of passages are too common to add
)

// queryTerm is one distinct analysed term of a query.
type queryTerm struct {
	text   string
	weight float64 // occurrences in the query, or the feedback weight
	fuzzy  bool    // matches nothing in the index: search with edit distance instead
}

// analyzedQuery is a query broken into what the ranking uses.
type analyzedQuery struct {
	terms  []queryTerm
	tokens analysis.TokenStream // in order, with positions, for proximity clauses
}

func analyzeQuery(a analysis.Analyzer, q string, df func(string) uint64) analyzedQuery {
	var aq analyzedQuery
	aq.tokens = a.Analyze([]byte(q))
	seen := map[string]int{}
	for _, t := range aq.tokens {
		term := string(t.Term)
		if i, ok := seen[term]; ok {
			aq.terms[i].weight++
			continue
		}
		seen[term] = len(aq.terms)
		aq.terms = append(aq.terms, queryTerm{text: term, weight: 1, fuzzy: df(term) == 0})
	}
	return aq
}

// termClauses matches the terms in the passage text and, lightly, the title.
func termClauses(terms []queryTerm, titleBoost float64) []query.Query {
	qs := make([]query.Query, 0, 2*len(terms))
	for _, t := range terms {
		for _, f := range []struct {
			field string
			boost float64
		}{{fieldContent, 1}, {fieldTitle, titleBoost}} {
			if f.boost == 0 {
				continue
			}
			var q query.Query
			if t.fuzzy {
				fq := bleve.NewFuzzyQuery(t.text)
				fq.SetField(f.field)
				fq.SetFuzziness(fuzziness(t.text))
				fq.SetBoost(t.weight * f.boost)
				q = fq
			} else {
				tq := bleve.NewTermQuery(t.text)
				tq.SetField(f.field)
				tq.SetBoost(t.weight * f.boost)
				q = tq
			}
			qs = append(qs, q)
		}
	}
	return qs
}

// fuzziness allows one edit in a misspelled term, two in a long one.
func fuzziness(term string) int {
	if len([]rune(term)) >= 8 {
		return 2
	}
	return 1
}

// proximityClauses match adjacent query terms in order, with the gaps stop
// words left between them.
func proximityClauses(tokens analysis.TokenStream, boost float64) []query.Query {
	var qs []query.Query
	if boost == 0 {
		return nil
	}
	for i := 0; i+1 < len(tokens); i++ {
		a, b := tokens[i], tokens[i+1]
		gap := b.Position - a.Position
		if gap < 1 || gap > maxProximityGap {
			continue
		}
		terms := []string{string(a.Term)}
		for range gap - 1 {
			terms = append(terms, "") // any term
		}
		terms = append(terms, string(b.Term))
		p := bleve.NewPhraseQuery(terms, fieldContent)
		p.SetBoost(boost)
		qs = append(qs, p)
	}
	return qs
}

// feedback returns the terms the best passages share, beyond the query's,
// weighted by how much they say about those passages (frequency times
// inverse document frequency, the best passage counting most).
func (r ranking) feedback(bodies []string, query []queryTerm, df func(string) uint64, passages uint64) []queryTerm {
	if len(bodies) < feedbackDocs || passages == 0 {
		return nil
	}
	inQuery := map[string]bool{}
	for _, t := range query {
		inQuery[t.text] = true
	}
	weight := map[string]float64{}
	docs := map[string]int{}
	for rank, body := range bodies[:feedbackDocs] {
		tf := map[string]float64{}
		n := 0
		for _, w := range words(body) {
			if term := stemWord(strings.ToLower(w)); term != "" {
				tf[term]++
				n++
			}
		}
		for term, f := range tf {
			if inQuery[term] {
				continue
			}
			docs[term]++
			weight[term] += f / float64(n) * math.Exp(-0.2*float64(rank))
		}
	}
	var out []queryTerm
	for term, w := range weight {
		if docs[term] < feedbackDocs {
			continue
		}
		n := df(term)
		share := float64(n) / float64(passages)
		if n < 2 || share > feedbackMaxShare {
			continue
		}
		out = append(out, queryTerm{text: term, weight: w * math.Log(1/share)})
	}
	slices.SortFunc(out, func(x, y queryTerm) int {
		if x.weight != y.weight {
			if x.weight > y.weight {
				return -1
			}
			return 1
		}
		return compareStrings(x.text, y.text)
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

// words splits text into runs of letters and digits.
func words(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// docFreq returns a function counting the passages that contain a term.
func docFreq(ctx context.Context, r index.IndexReader) func(string) uint64 {
	cache := map[string]uint64{}
	return func(term string) uint64 {
		if n, ok := cache[term]; ok {
			return n
		}
		tfr, err := r.TermFieldReader(ctx, []byte(term), fieldContent, false, false, false)
		if err != nil {
			return 0
		}
		n := tfr.Count()
		_ = tfr.Close()
		cache[term] = n
		return n
	}
}

// searchPassages runs q and returns its hits.
func searchPassages(ctx context.Context, idx bleve.Index, q query.Query, size int, fields ...string) (search.DocumentMatchCollection, error) {
	req := bleve.NewSearchRequestOptions(q, size, 0, false)
	req.Fields = fields
	res, err := idx.SearchInContext(ctx, req)
	if err != nil {
		return nil, err
	}
	return res.Hits, nil
}

// stemWord is the analyzer's treatment of one lower-case word, without its
// cost: "" for a stop word, else its Snowball stem. Search uses it where it
// must analyse whole passages (feedback, snippets).
func stemWord(word string) string {
	if word == "" || stopWords[word] {
		return ""
	}
	env := snowballstem.NewEnv(word)
	english.Stem(env)
	return env.Current()
}
