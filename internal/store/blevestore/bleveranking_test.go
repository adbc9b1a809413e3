package blevestore_test

import (
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"

	"github.com/connectorhq/connector/internal/bench"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/store/blevestore"
)

// bleveRanking is a way of ranking passages with bleve's own queries and
// BM25 scoring, in place of the ranking file (issue 14: one engine).
type bleveRanking struct {
	name string
	// titleBoost weighs a clause per query term on the title field.
	// titleInCoord puts those clauses in the one disjunction with the text
	// clauses, so that bleve's coordination factor (the share of clauses a
	// passage matches) counts them; otherwise they only add to the score
	// of a passage that matches the text clauses (a boolean query: must
	// the text disjunction, should the title disjunction).
	titleBoost   float64
	titleInCoord bool
	fuzzy        bool                             // a fuzzy clause for a term found nowhere (4 runes or more)
	phraseBoost  float64                          // a phrase clause per pair of adjacent query terms (should)
	feedback     int                              // pseudo-relevance feedback: at most this many terms added
	feedbackW    float64                          // boost of the strongest added term
	feedbackDocs int                              // passages the feedback terms come from
	idf          func(field, term string) float64 // set by search when oneIDF
	// b replaces bleve's BM25 length normalisation (search.BM25_b, a
	// package variable, 0.75) during the ranking's queries; 0 keeps it.
	b float64
	// oneIDF divides each term clause's boost by the term's inverse
	// document frequency: bleve multiplies a term query's score by a query
	// weight that holds the idf again, so BM25's idf would count twice.
	oneIDF bool
}

// TestBleveRankingExperiments measures rankings made of bleve queries on
// every judged collection in ../shared/data, over an index that keeps term
// positions (as snippets from bleve's term locations will need): nDCG@10,
// Recall@100 and the mean time of a query (all of it in bleve). It is the
// groundwork for ranking with bleve alone; re-run it with:
//
//	go test ./internal/store/blevestore/ -run BleveRankingExperiments -v -timeout 30m -args -tuning
func TestBleveRankingExperiments(t *testing.T) {
	colls := judgedCollections(t)
	rankings := []bleveRanking{
		{name: "text clauses only"},
		{name: "+ title clauses 0.25 in the coordination", titleBoost: 0.25, titleInCoord: true},
		{name: "+ fuzzy fallback", titleBoost: 0.25, titleInCoord: true, fuzzy: true},
		{name: "+ feedback 5 terms, 0.2", titleBoost: 0.25, titleInCoord: true, fuzzy: true, feedback: 5, feedbackW: 0.2, feedbackDocs: 2},
		{name: "  instead: title 0.1 in the coordination", titleBoost: 0.1, titleInCoord: true, fuzzy: true, feedback: 5, feedbackW: 0.2, feedbackDocs: 2},
		{name: "title 0.25 should, not in the coordination", titleBoost: 0.25, fuzzy: true},
		{name: "+ feedback 5 terms, 0.35", titleBoost: 0.25, fuzzy: true, feedback: 5, feedbackW: 0.35, feedbackDocs: 2},
		{name: "+ phrase clauses 0.5", titleBoost: 0.25, fuzzy: true, phraseBoost: 0.5, feedback: 5, feedbackW: 0.35, feedbackDocs: 2},
		{name: "  instead: title 0.1", titleBoost: 0.1, fuzzy: true, phraseBoost: 0.5, feedback: 5, feedbackW: 0.35, feedbackDocs: 2},
		{name: "  instead: title 0.35", titleBoost: 0.35, fuzzy: true, phraseBoost: 0.5, feedback: 5, feedbackW: 0.35, feedbackDocs: 2},
		{name: "  instead: feedback from 3 passages", titleBoost: 0.25, fuzzy: true, phraseBoost: 0.5, feedback: 5, feedbackW: 0.35, feedbackDocs: 3},
		{name: "idf once: text clauses only", oneIDF: true},
		{name: "b 0.9: title should, feedback, phrases", b: 0.9, titleBoost: 0.25, fuzzy: true, phraseBoost: 0.5, feedback: 5, feedbackW: 0.35, feedbackDocs: 2},
		{name: "b 0.5: title should, feedback, phrases", b: 0.5, titleBoost: 0.25, fuzzy: true, phraseBoost: 0.5, feedback: 5, feedbackW: 0.35, feedbackDocs: 2},
		{name: "  instead: b 0.3", b: 0.3, titleBoost: 0.25, fuzzy: true, phraseBoost: 0.5, feedback: 5, feedbackW: 0.35, feedbackDocs: 2},
		{name: "  instead: b 0.4", b: 0.4, titleBoost: 0.25, fuzzy: true, phraseBoost: 0.5, feedback: 5, feedbackW: 0.35, feedbackDocs: 2},
		{name: "  instead: b 0.6", b: 0.6, titleBoost: 0.25, fuzzy: true, phraseBoost: 0.5, feedback: 5, feedbackW: 0.35, feedbackDocs: 2},
		{name: "  b 0.5 without phrases", b: 0.5, titleBoost: 0.25, fuzzy: true, feedback: 5, feedbackW: 0.35, feedbackDocs: 2},
		{name: "  b 0.5 without feedback", b: 0.5, titleBoost: 0.25, fuzzy: true, phraseBoost: 0.5},
		{name: "  b 0.5, title 0.15", b: 0.5, titleBoost: 0.15, fuzzy: true, phraseBoost: 0.5, feedback: 5, feedbackW: 0.35, feedbackDocs: 2},
		{name: "  b 0.5, feedback 0.2", b: 0.5, titleBoost: 0.25, fuzzy: true, phraseBoost: 0.5, feedback: 5, feedbackW: 0.2, feedbackDocs: 2},
		{name: "idf once: title should, feedback 0.35", oneIDF: true, titleBoost: 0.25, fuzzy: true, feedback: 5, feedbackW: 0.35, feedbackDocs: 2},
	}
	for _, c := range colls {
		idx := indexWithPositions(t, c)
		for _, r := range rankings {
			start := time.Now()
			ranked := map[string][]string{}
			saved := search.BM25_b
			if r.b != 0 {
				search.BM25_b = r.b
			}
			for _, q := range c.Queries {
				ranked[q.ID] = r.search(t, idx, q.Text, 100)
			}
			search.BM25_b = saved
			qual := bench.Evaluate(ranked, c.Qrels)
			t.Logf("%-10s %-44s nDCG@10 %.4f R@100 %.4f  %.2f ms", c.Name, r.name, qual.NDCG10, qual.Recall100,
				float64(time.Since(start).Microseconds())/1000/float64(len(c.Queries)))
		}
	}
}

// indexWithPositions indexes c with the product's index run, keeping term
// positions, and opens the generation with bleve.
func indexWithPositions(t *testing.T, c *bench.Collection) bleve.Index {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := blevestore.NewSyncer(ctx, dir, blevestore.WithTermVectors(blevestore.SyncOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Docs(ctx, func(d store.SourceDocument) error { _, err := s.Add(ctx, d); return err }); err != nil {
		t.Fatal(err)
	}
	sum, err := s.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := bleve.OpenUsing(filepath.Join(dir, sum.Generation), map[string]any{"read_only": true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	return idx
}

type weightedTerm struct {
	text   string
	weight float64
}

// search returns the ids of the top k documents for q: passages ranked by
// bleve, each document at the rank of its best passage.
func (r bleveRanking) search(t *testing.T, idx bleve.Index, q string, k int) []string {
	an := idx.Mapping().AnalyzerNamed("connector_en")
	tokens := an.Analyze([]byte(q))
	var terms []weightedTerm
	seen := map[string]int{}
	for _, tk := range tokens {
		if i, ok := seen[string(tk.Term)]; ok {
			terms[i].weight++
			continue
		}
		seen[string(tk.Term)] = len(terms)
		terms = append(terms, weightedTerm{string(tk.Term), 1})
	}
	if len(terms) == 0 {
		return nil
	}
	adv, err := idx.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	reader, err := adv.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	fieldDF := func(field, term string) uint64 {
		tfr, err := reader.TermFieldReader(context.Background(), []byte(term), field, false, false, false)
		if err != nil {
			return 0
		}
		defer tfr.Close()
		return tfr.Count()
	}
	df := func(term string) uint64 { return fieldDF("content", term) }
	total, _ := reader.DocCount()
	if r.oneIDF {
		r.idf = func(field, term string) float64 {
			n := float64(fieldDF(field, term))
			return math.Log(1 + (float64(total)-n+0.5)/(n+0.5))
		}
	}
	text, title := r.clauses(terms, func(s string) bool { return r.fuzzy && len([]rune(s)) >= 4 && df(s) == 0 })
	title = append(title, r.phrases(tokens)...)
	if r.feedback > 0 {
		best := r.run(t, idx, text, title, r.feedbackDocs, true)
		more := r.feedbackTerms(an, best, terms, df, reader)
		t2, ti2 := bleveRanking{titleBoost: r.titleBoost, idf: r.idf}.clauses(more, func(string) bool { return false })
		text, title = append(text, t2...), append(title, ti2...)
	}
	var out []string
	done := map[string]bool{}
	for _, h := range r.run(t, idx, text, title, 3*k, false).Hits {
		doc, _, _ := strings.Cut(h.ID, "\x1f")
		if !done[doc] {
			done[doc] = true
			out = append(out, doc)
		}
		if len(out) == k {
			break
		}
	}
	return out
}

// clauses returns a text clause and a title clause for each term.
func (r bleveRanking) clauses(terms []weightedTerm, fuzzy func(string) bool) (text, title []query.Query) {
	for _, t := range terms {
		for _, f := range []struct {
			field string
			boost float64
			out   *[]query.Query
		}{{"content", 1, &text}, {"title", r.titleBoost, &title}} {
			if f.boost == 0 {
				continue
			}
			var q query.Query
			if fuzzy(t.text) {
				fq := bleve.NewFuzzyQuery(t.text)
				fq.SetField(f.field)
				fq.SetFuzziness(min(2, 1+len([]rune(t.text))/8))
				fq.SetBoost(t.weight * f.boost)
				q = fq
			} else {
				tq := bleve.NewTermQuery(t.text)
				tq.SetField(f.field)
				boost := t.weight * f.boost
				if r.idf != nil {
					if idf := r.idf(f.field, t.text); idf > 0 {
						boost /= idf
					}
				}
				tq.SetBoost(boost)
				q = tq
			}
			*f.out = append(*f.out, q)
		}
	}
	return text, title
}

// phrases returns a phrase clause for each pair of adjacent query terms,
// across at most two removed stop words.
func (r bleveRanking) phrases(tokens analysis.TokenStream) []query.Query {
	if r.phraseBoost == 0 {
		return nil
	}
	var out []query.Query
	for i := 0; i+1 < len(tokens); i++ {
		gap := tokens[i+1].Position - tokens[i].Position - 1
		if gap < 0 || gap > 2 {
			continue
		}
		terms := []string{string(tokens[i].Term)}
		for range gap {
			terms = append(terms, "") // any word: a stop word the analyser removed
		}
		pq := bleve.NewPhraseQuery(append(terms, string(tokens[i+1].Term)), "content")
		pq.SetBoost(r.phraseBoost)
		out = append(out, pq)
	}
	return out
}

func (r bleveRanking) run(t *testing.T, idx bleve.Index, text, title []query.Query, size int, bodies bool) *bleve.SearchResult {
	var q query.Query = bleve.NewDisjunctionQuery(append(slices.Clone(text), title...)...)
	if !r.titleInCoord && len(title) > 0 {
		b := bleve.NewBooleanQuery()
		b.AddMust(bleve.NewDisjunctionQuery(text...))
		b.AddShould(bleve.NewDisjunctionQuery(title...))
		q = b
	}
	req := bleve.NewSearchRequestOptions(q, size, 0, false)
	if bodies {
		req.Fields = []string{"body"}
	}
	res, err := idx.SearchInContext(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// feedbackTerms returns the terms every one of the best passages holds,
// beyond the query's, weighted as the ranking file's feedback weighs them
// (frequency over length, discounted by rank, times log inverse document
// share), the strongest at feedbackW.
func (r bleveRanking) feedbackTerms(an analysis.Analyzer, best *bleve.SearchResult, query []weightedTerm,
	df func(string) uint64, reader index.IndexReader) []weightedTerm {
	if len(best.Hits) < r.feedbackDocs {
		return nil
	}
	passages, err := reader.DocCount()
	if err != nil || passages == 0 {
		return nil
	}
	var common map[string]float64
	for rank, h := range best.Hits {
		body, _ := h.Fields["body"].(string)
		tokens := an.Analyze([]byte(body))
		if len(tokens) == 0 {
			return nil
		}
		discount := math.Exp(-0.2*float64(rank)) / float64(len(tokens))
		tf := map[string]float64{}
		for _, tk := range tokens {
			tf[string(tk.Term)] += discount
		}
		if common == nil {
			common = tf
			continue
		}
		for s, w := range common {
			if v, ok := tf[s]; ok {
				common[s] = w + v
			} else {
				delete(common, s)
			}
		}
	}
	inQuery := map[string]bool{}
	for _, q := range query {
		inQuery[q.text] = true
	}
	var out []weightedTerm
	for s, w := range common {
		n := df(s)
		share := float64(n) / float64(passages)
		if inQuery[s] || n < 2 || share > 0.1 {
			continue
		}
		out = append(out, weightedTerm{s, w * math.Log(1/share)})
	}
	slices.SortFunc(out, func(a, b weightedTerm) int {
		if a.weight != b.weight {
			if a.weight > b.weight {
				return -1
			}
			return 1
		}
		return strings.Compare(a.text, b.text)
	})
	out = out[:min(len(out), r.feedback)]
	if len(out) > 0 {
		top := out[0].weight
		for i := range out {
			out[i].weight = r.feedbackW * out[i].weight / top
		}
	}
	return out
}
