package blevestore_test

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/porter"
	"github.com/blevesearch/bleve/v2/search"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/bench"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/store/blevestore"
)

var tuning = flag.Bool("tuning", false, "run the relevance experiments on the collections in ../shared/data")

// TestRelevanceExperiments measures ranking choices on every judged
// collection found in ../shared/data (SciFact and Cranfield), through the
// real index and search code: nDCG@10, Recall@100 and the mean time of a
// 10-result store search. It is how the choices in ranking.go and
// mapping.go were made; a choice was kept only when it helped on both
// collections. Re-run it with:
//
//	go test ./internal/store/blevestore/ -run RelevanceExperiments -v -timeout 30m -args -tuning
func TestRelevanceExperiments(t *testing.T) {
	colls := judgedCollections(t)
	d := blevestore.DefaultRanking
	termsOnly := blevestore.Ranking{}
	withTitle := termsOnly
	withTitle.TitleBoost = d.TitleBoost
	withPhrases := withTitle
	withPhrases.PhraseBoost, withPhrases.PhraseMaxShare = d.PhraseBoost, d.PhraseMaxShare
	variant := func(change func(r *blevestore.Ranking)) blevestore.Ranking {
		r := d
		change(&r)
		return r
	}

	porterChain := []string{en.PossessiveName, lowercase.Name, en.StopName, porter.Name}
	pluralChain := []string{en.PossessiveName, lowercase.Name, en.StopName, en.PluralStemmerName}
	noStopChain := []string{en.PossessiveName, lowercase.Name, en.SnowballStemmerName}
	experiments := []struct {
		name    string
		filters []string // nil: the product's analysis
		r       blevestore.Ranking
		b       float64 // BM25 b, when not bleve's 0.75
	}{
		{"analysis: Porter stemmer, terms only", porterChain, termsOnly, 0},
		{"analysis: plural stemmer only, terms only", pluralChain, termsOnly, 0},
		{"analysis: no stop words, terms only", noStopChain, termsOnly, 0},
		{"analysis: Snowball stemmer (kept), terms only", nil, termsOnly, 0},
		{"+ title clauses 0.4", nil, withTitle, 0},
		{"+ phrase clauses 0.5", nil, withPhrases, 0},
		{"+ feedback, 5 terms, weight 0.35 (the product's)", nil, d, 0},
		{"  instead: BM25 b 0.5", nil, d, 0.5},
		{"  instead: BM25 b 0.4", nil, d, 0.4},
		{"  instead: title clauses 0.25", nil, variant(func(r *blevestore.Ranking) { r.TitleBoost = 0.25 }), 0},
		{"  instead: title clauses 0.3", nil, variant(func(r *blevestore.Ranking) { r.TitleBoost = 0.3 }), 0},
		{"  instead: title clauses 0.5", nil, variant(func(r *blevestore.Ranking) { r.TitleBoost = 0.5 }), 0},
		{"  instead: title clauses 0.6", nil, variant(func(r *blevestore.Ranking) { r.TitleBoost = 0.6 }), 0},
		{"  instead: no phrase clauses", nil, variant(func(r *blevestore.Ranking) { r.PhraseBoost = 0 }), 0},
		{"  instead: every phrase clause", nil, variant(func(r *blevestore.Ranking) { r.PhraseMaxShare = 0 }), 0},
		{"  instead: phrase clauses up to share 0.02", nil, variant(func(r *blevestore.Ranking) { r.PhraseMaxShare = 0.02 }), 0},
		{"  instead: phrase clauses up to share 0.1", nil, variant(func(r *blevestore.Ranking) { r.PhraseMaxShare = 0.1 }), 0},
		{"  instead: 10 feedback terms", nil, variant(func(r *blevestore.Ranking) { r.FeedbackTerms = 10 }), 0},
		{"  instead: feedback weight 0.2", nil, variant(func(r *blevestore.Ranking) { r.FeedbackWeight = 0.2 }), 0},
		{"  instead: feedback weight 0.5", nil, variant(func(r *blevestore.Ranking) { r.FeedbackWeight = 0.5 }), 0},
		{"  instead: no feedback", nil, variant(func(r *blevestore.Ranking) { r.Feedback = false }), 0},
		{"  instead: fuzzy fallback of one edit at most", nil, variant(func(r *blevestore.Ranking) { r.FuzzyEdits = 1 }), 0},
		{"  instead: no fuzzy fallback", nil, variant(func(r *blevestore.Ranking) { r.FuzzyEdits = -1 }), 0},
	}
	ctx := context.Background()
	indexes := map[string]map[string]*blevestore.Store{} // analysis → collection → store
	open := func(filters []string, c *bench.Collection) *blevestore.Store {
		key := fmt.Sprint(filters)
		if st := indexes[key][c.Name]; st != nil {
			return st
		}
		dir := t.TempDir()
		s, err := blevestore.NewSyncer(ctx, dir, blevestore.WithTokenFilters(blevestore.SyncOptions{}, filters))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Docs(ctx, func(d store.SourceDocument) error { _, err := s.Add(ctx, d); return err }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		st, err := blevestore.Open(dir, access.DefaultAuthenticated, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if indexes[key] == nil {
			indexes[key] = map[string]*blevestore.Store{}
		}
		indexes[key][c.Name] = st
		return st
	}
	for _, e := range experiments {
		row := fmt.Sprintf("%-48s", e.name)
		for _, c := range colls {
			st := open(e.filters, c)
			st.SetRanking(e.r)
			saved := search.BM25_b // bleve's, a package variable: the experiments run one at a time
			if e.b != 0 {
				search.BM25_b = e.b
			}
			rankings := map[string][]string{}
			for _, q := range c.Queries {
				hits, err := st.Search(ctx, access.Everyone(), q.Text, 100)
				if err != nil {
					t.Fatal(err)
				}
				for _, h := range hits {
					rankings[q.ID] = append(rankings[q.ID], h.ID)
				}
			}
			ev := bench.Evaluate(rankings, c.Qrels)
			start := time.Now()
			for _, q := range c.Queries {
				if _, err := st.Search(ctx, access.Everyone(), q.Text, 10); err != nil {
					t.Fatal(err)
				}
			}
			ms := float64(time.Since(start).Microseconds()) / 1000 / float64(len(c.Queries))
			search.BM25_b = saved
			row += fmt.Sprintf(" | %s nDCG@10 %.4f R@100 %.4f %5.2f ms", c.Name, ev.NDCG10, ev.Recall100, ms)
		}
		t.Log(row)
	}
}

// judgedCollections loads every judged collection in ../shared/data, or
// skips t when the experiments were not asked for (-args -tuning) or there
// are none.
func judgedCollections(t *testing.T) []*bench.Collection {
	if !*tuning {
		t.Skip("relevance experiments run with -args -tuning")
	}
	data, _ := filepath.Abs("../../../../shared/data")
	qrels, _ := filepath.Glob(filepath.Join(data, "*", "qrels.tsv"))
	if len(qrels) == 0 {
		t.Skip("no collections in " + data)
	}
	var colls []*bench.Collection
	for _, q := range qrels {
		c, err := bench.LoadBEIR(filepath.Dir(q))
		if err != nil {
			t.Fatal(err)
		}
		colls = append(colls, c)
	}
	return colls
}
