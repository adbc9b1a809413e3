package blevestore

import (
	"context"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

// Ranking. bleve scores passages with BM25; a search is bleve queries, and
// the choices below came from the relevance experiments in tuning_test.go
// on two judged collections (SciFact and Cranfield), each measured on both.
//
// A query is analysed like the documents. Each distinct term becomes a
// clause on the passage text (title included); a passage must match one of
// them, and bleve multiplies the sum of their scores by the share of
// them it matches, so passages matching more of the query rank first.
// Optional clauses add a little for the terms in the title and for two
// query words found next to each other (unless both are common words:
// see PhraseMaxShare). A term found nowhere (a
// misspelling, perhaps) is searched with its near spellings instead.
//
// Pseudo-relevance feedback then adds the few terms that the two best
// passages of that first search share (beyond the query's own), with a
// small weight, and searches again: questions phrased in other words than
// the documents then still find them.
type ranking struct {
	TitleBoost     float64 // boost of a title clause, relative to a text clause
	PhraseBoost    float64 // boost of a clause for two adjacent query words
	Feedback       bool    // pseudo-relevance feedback
	FeedbackTerms  int     // at most this many terms are added
	FeedbackWeight float64 // boost of the strongest added term, relative to a query term
	// FuzzyEdits is the most edits the fallback for a term found nowhere
	// allows (in a long term; a shorter one gets one). 0 means 2; -1 turns
	// the fallback off.
	FuzzyEdits int
	// PhraseMaxShare leaves out the phrase clause of two words when the
	// rarer of them is in more than this share of passages: such a clause
	// costs the most (a position check in each passage holding both) and,
	// in the experiments, changed little. 0 keeps every phrase clause.
	PhraseMaxShare float64
}

// defaultRanking is what the product uses: the best of the experiments on
// both collections.
var defaultRanking = ranking{
	TitleBoost:     0.4,
	PhraseBoost:    0.5,
	PhraseMaxShare: 0.05,
	Feedback:       true,
	FeedbackTerms:  5,
	FeedbackWeight: 0.35,
}

const (
	feedbackDocs     = 2   // passages feedback terms come from
	feedbackMaxShare = 0.1 // terms in more than this share of passages are too common to add
	minFuzzyRunes    = 4   // the shortest term the fuzzy fallback tries: one edit turns a short word into many others
	maxPhraseGap     = 2   // stop words a phrase clause skips between two query words
)

// queryTerm is one distinct analysed term of a query.
type queryTerm struct {
	text   string
	weight float64 // occurrences in the query, or the feedback weight
	fuzzy  int     // for a term found nowhere: the edits its near spellings may differ by
}

// analyzeQuery returns the distinct terms of q, in order of appearance, and
// its tokens.
func analyzeQuery(a analysis.Analyzer, q string) ([]queryTerm, analysis.TokenStream) {
	tokens := a.Analyze([]byte(q))
	var terms []queryTerm
	seen := map[string]int{}
	for _, t := range tokens {
		term := string(t.Term)
		if i, ok := seen[term]; ok {
			terms[i].weight++
			continue
		}
		seen[term] = len(terms)
		terms = append(terms, queryTerm{text: term, weight: 1})
	}
	return terms, tokens
}

// fuzziness is the edits the fallback allows in a term: one, and up to
// maxEdits in a long term; 0 when the term is too short to try.
func fuzziness(term string, maxEdits int) int {
	if maxEdits == 0 {
		maxEdits = 2
	}
	n := utf8.RuneCountInString(term)
	switch {
	case maxEdits < 0 || n < minFuzzyRunes:
		return 0
	case n >= 8:
		return min(maxEdits, 2) // bleve's fuzzy query allows at most 2
	default:
		return 1
	}
}

// clauses returns a clause on the passage text and one on the title for
// each term.
func (r ranking) clauses(terms []queryTerm) (text, title []query.Query) {
	clause := func(t queryTerm, field string, boost float64) query.Query {
		if t.fuzzy > 0 {
			q := bleve.NewFuzzyQuery(t.text)
			q.SetField(field)
			q.SetFuzziness(t.fuzzy)
			q.SetBoost(boost)
			return q
		}
		q := bleve.NewTermQuery(t.text)
		q.SetField(field)
		q.SetBoost(boost)
		return q
	}
	for _, t := range terms {
		text = append(text, clause(t, fieldContent, t.weight))
		if r.TitleBoost > 0 {
			title = append(title, clause(t, fieldTitle, t.weight*r.TitleBoost))
		}
	}
	return text, title
}

// phrases returns a clause for each pair of query words next to each
// other, or with at most maxPhraseGap stop words between them, that the
// index holds and PhraseMaxShare allows.
func (r ranking) phrases(tokens analysis.TokenStream, df func(string) uint64, passages uint64) []query.Query {
	if r.PhraseBoost == 0 {
		return nil
	}
	var out []query.Query
	seen := map[string]*query.PhraseQuery{} // a pair the query repeats weighs more, as a repeated term does
	for i := 0; i+1 < len(tokens); i++ {
		gap := tokens[i+1].Position - tokens[i].Position - 1
		if gap < 0 || gap > maxPhraseGap {
			continue
		}
		terms := []string{string(tokens[i].Term)}
		for range gap {
			terms = append(terms, "") // any word: a stop word the analyzer removed
		}
		terms = append(terms, string(tokens[i+1].Term))
		key := strings.Join(terms, " ")
		if q := seen[key]; q != nil {
			q.SetBoost(q.Boost() + r.PhraseBoost)
			continue
		}
		n := min(df(terms[0]), df(terms[len(terms)-1]))
		if n == 0 || r.PhraseMaxShare > 0 && float64(n) > r.PhraseMaxShare*float64(passages) {
			continue
		}
		q := bleve.NewPhraseQuery(terms, fieldContent)
		q.SetBoost(r.PhraseBoost)
		seen[key] = q
		out = append(out, q)
	}
	return out
}

// combine makes the query: a passage must match a text clause and the
// filter (when not nil); the other clauses add to its score.
func combine(text, optional []query.Query, filter query.Query) query.Query {
	must := bleve.NewDisjunctionQuery(text...)
	if len(optional) == 0 {
		return filtered(must, filter)
	}
	q := bleve.NewBooleanQuery()
	q.AddMust(must)
	q.AddShould(bleve.NewDisjunctionQuery(optional...))
	q.AddFilter(filter)
	return q
}

// filtered returns q restricted to the records filter matches, without
// changing their scores; q itself when filter is nil.
func filtered(q, filter query.Query) query.Query {
	if filter == nil {
		return q
	}
	b := bleve.NewBooleanQuery()
	b.AddMust(q)
	b.AddFilter(filter)
	return b
}

// rankedPassage is a passage search ranked.
type rankedPassage struct {
	id        string
	score     float64
	locations search.TermLocationMap // where the query's terms are in its content field
}

// rank returns the best passage of each of the top limit documents among
// the passages filter matches (all when nil), located for snippets.
func (s *Store) rank(ctx context.Context, gen *generation, q string, limit int, filter query.Query) ([]rankedPassage, error) {
	best, own, err := s.lexical(ctx, gen, q, limit, filter)
	if err != nil {
		return nil, err
	}
	return best, locate(ctx, gen.idx, best, own)
}

// lexical ranks by BM25 as rank does, without locating the terms; own is
// the query's own text clauses, for locate.
func (s *Store) lexical(ctx context.Context, gen *generation, q string, limit int, filter query.Query) (best []rankedPassage, own []query.Query, err error) {
	terms, tokens := analyzeQuery(gen.analyzer, q)
	if len(terms) == 0 {
		return nil, nil, ctx.Err() // only stop words: nothing to match
	}
	reader, err := gen.reader()
	if err != nil {
		return nil, nil, err
	}
	defer reader.Close()
	df := func(term string) uint64 { return docFreq(ctx, reader, term) }
	r := s.ranking
	for i, t := range terms {
		if edits := fuzziness(t.text, r.FuzzyEdits); edits > 0 && df(t.text) == 0 {
			terms[i].fuzzy = edits
		}
	}
	text, optional := r.clauses(terms)
	optional = append(optional, r.phrases(tokens, df, gen.passages)...)
	own = text // the query's own text clauses, for snippets
	if r.Feedback {
		req := bleve.NewSearchRequestOptions(combine(text, optional, filter), feedbackDocs, 0, false)
		req.Fields = []string{fieldBody}
		res, err := gen.idx.SearchInContext(ctx, req)
		if err != nil {
			return nil, nil, err
		}
		bodies := make([]string, 0, len(res.Hits))
		for _, h := range res.Hits {
			body, _ := h.Fields[fieldBody].(string)
			bodies = append(bodies, body)
		}
		more, moreTitle := r.clauses(r.feedback(gen.analyzer, bodies, terms, df, gen.passages))
		text, optional = append(slices.Clip(text), more...), append(optional, moreTitle...)
	}
	// Enough passages to fill limit documents.
	res, err := gen.idx.SearchInContext(ctx, bleve.NewSearchRequestOptions(combine(text, optional, filter), max(3*limit, 30), 0, false))
	if err != nil {
		return nil, nil, err
	}
	return collapse(res, limit), own, nil
}

// collapse keeps the best passage of each document, up to limit documents.
func collapse(res *bleve.SearchResult, limit int) []rankedPassage {
	seen := map[string]bool{}
	var best []rankedPassage
	for _, h := range res.Hits {
		doc := parentID(h.ID)
		if seen[doc] {
			continue
		}
		seen[doc] = true
		best = append(best, rankedPassage{id: h.ID, score: h.Score})
		if len(best) == limit {
			break
		}
	}
	return best
}

// locate finds where the query's terms are in the passages ranked, for
// their snippets: the same text clauses, matched against those passages
// alone, with bleve's term locations (reading locations in the ranking
// search itself would decode them for every passage it scores).
func locate(ctx context.Context, idx bleve.Index, best []rankedPassage, text []query.Query) error {
	if len(best) == 0 {
		return nil
	}
	ids := make([]string, len(best))
	at := make(map[string]int, len(best))
	for i, p := range best {
		ids[i], at[p.id] = p.id, i
	}
	q := bleve.NewConjunctionQuery(bleve.NewDocIDQuery(ids), bleve.NewDisjunctionQuery(text...))
	req := bleve.NewSearchRequestOptions(q, len(ids), 0, false)
	req.IncludeLocations = true
	res, err := idx.SearchInContext(ctx, req)
	if err != nil {
		return err
	}
	for _, h := range res.Hits {
		if i, ok := at[h.ID]; ok {
			best[i].locations = h.Locations[fieldContent]
		}
	}
	return nil
}

// docFreq returns the number of passages whose text holds term.
func docFreq(ctx context.Context, reader index.IndexReader, term string) uint64 {
	tfr, err := reader.TermFieldReader(ctx, []byte(term), fieldContent, false, false, false)
	if err != nil {
		return 0
	}
	defer tfr.Close()
	return tfr.Count()
}

// feedback returns the terms the best passages share, beyond the query's,
// weighted by how much they say about those passages (frequency over
// length, the best passage counting most, times log inverse document
// share), the strongest at FeedbackWeight.
func (r ranking) feedback(a analysis.Analyzer, bodies []string, query []queryTerm, df func(string) uint64, passages uint64) []queryTerm {
	if len(bodies) < feedbackDocs || passages == 0 {
		return nil
	}
	var common map[string]float64
	for rank, body := range bodies[:feedbackDocs] {
		tokens := a.Analyze([]byte(body))
		if len(tokens) == 0 {
			return nil
		}
		discount := math.Exp(-0.2*float64(rank)) / float64(len(tokens))
		tf := make(map[string]float64, len(tokens))
		for _, t := range tokens {
			tf[string(t.Term)] += discount
		}
		if common == nil {
			common = tf
			continue
		}
		for term, w := range common {
			if v, ok := tf[term]; ok {
				common[term] = w + v
			} else {
				delete(common, term)
			}
		}
	}
	inQuery := make(map[string]bool, len(query))
	for _, t := range query {
		inQuery[t.text] = true
	}
	var out []queryTerm
	for term, w := range common {
		if inQuery[term] {
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
		return strings.Compare(x.text, y.text)
	})
	out = out[:min(len(out), r.FeedbackTerms)]
	if len(out) > 0 {
		top := out[0].weight
		for i := range out {
			out[i].weight = r.FeedbackWeight * out[i].weight / top
		}
	}
	return out
}
