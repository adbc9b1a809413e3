package blevestore

import (
	"context"
	"errors"
	"slices"

	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/connectorhq/connector/internal/access"
)

// Hybrid retrieval (issue 18). With an embedder and a generation whose
// vectors come from the same model, a search ranks twice: by BM25
// (lexical, as without vectors) and by the cosine similarity of the
// query's vector to each passage's (exact, over every passage the caller
// may read). Each list is collapsed to the best passage per document, and
// the two are fused by reciprocal rank fusion: a document scores
// Σ 1/(rrfK + rank) over the lists that hold it.

const rrfK = 60 // the usual RRF constant: damps the weight of the very top ranks

// DefaultMinSimilarity is the cosine similarity below which a passage does
// not rank by its vector: without it every query, even nonsense, would
// return the nearest passages. Provisional: sentence-embedding models
// typically put unrelated texts below about 0.2; to be tuned on judged
// collections with the real models.
const DefaultMinSimilarity = 0.25

// fusedDoc is a document in the fused ranking.
type fusedDoc struct {
	passage rankedPassage // BM25's passage when the document matched lexically, else the vector's
	score   float64
}

// hybrid ranks by BM25 and by vector similarity to qv, the query's
// vector, and fuses the two; see above. When the query could not be
// embedded (qerr), it ranks by BM25 alone, logged.
func (s *Store) hybrid(ctx context.Context, gen *generation, who access.Caller, q string, qv []float32, qerr error,
	limit int, filter query.Query) ([]rankedPassage, error) {
	depth := max(3*limit, 30)
	lex, own, err := s.lexical(ctx, gen, q, depth, filter)
	if err != nil {
		return nil, err
	}
	var near []rankedPassage
	if qerr != nil {
		s.logger.Warn("semantic search failed; this search ranks by keywords only", "err", qerr)
	} else if near, err = s.nearest(ctx, gen, who, qv, depth); err != nil {
		return nil, err
	}
	best := fuse(lex, near, limit)
	if len(own) == 0 {
		return best, nil
	}
	return best, locate(ctx, gen.idx, best, own)
}

// nearest returns the best passage of each of the documents among the
// depth passages nearest to the query's vector qv that who may read, best
// first, leaving out those below MinSimilarity.
func (s *Store) nearest(ctx context.Context, gen *generation, who access.Caller, qv []float32, depth int) ([]rankedPassage, error) {
	vs := gen.vectors
	if len(qv) != vs.model.Dims {
		return nil, errors.New("the query's vector and the index's differ in length")
	}
	hits, err := vs.search(ctx, qv, depth, s.allowed(vs, who))
	if err != nil {
		return nil, err
	}
	seen := map[int32]bool{}
	var out []rankedPassage
	for _, h := range hits {
		if float64(h.score) < s.minSimilarity {
			break // hits are best first
		}
		if seen[h.doc] {
			continue
		}
		seen[h.doc] = true
		out = append(out, rankedPassage{id: passageID(vs.ids[h.doc], int(h.n)), score: float64(h.score)})
	}
	return out, nil
}

// allowed returns whether who may read the documents of each access set
// of vs, as Store.filter does for BM25; nil when who reads everything.
func (s *Store) allowed(vs *vectorSet, who access.Caller) func(uint32) bool {
	terms, all := who.Terms(s.def)
	if all {
		return nil
	}
	ok := make([]bool, len(vs.acls))
	for i, acl := range vs.acls {
		ok[i] = slices.ContainsFunc(acl, func(t string) bool { return slices.Contains(terms, t) })
	}
	return func(set uint32) bool { return ok[set] }
}

// fuse merges two rankings of documents (each a best passage per document,
// best first) by reciprocal rank fusion, and returns the top limit. Ties
// keep BM25's order, then the vectors'.
func fuse(lex, near []rankedPassage, limit int) []rankedPassage {
	docs := make([]fusedDoc, 0, len(lex)+len(near))
	at := make(map[string]int, len(lex)+len(near))
	for i, p := range lex {
		at[parentID(p.id)] = len(docs)
		docs = append(docs, fusedDoc{passage: p, score: 1.0 / float64(rrfK+i+1)})
	}
	for i, p := range near {
		w := 1.0 / float64(rrfK+i+1)
		if j, ok := at[parentID(p.id)]; ok {
			docs[j].score += w
			continue
		}
		docs = append(docs, fusedDoc{passage: p, score: w})
	}
	slices.SortStableFunc(docs, func(a, b fusedDoc) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	out := make([]rankedPassage, 0, min(limit, len(docs)))
	for _, d := range docs[:min(limit, len(docs))] {
		out = append(out, rankedPassage{id: d.passage.id, score: d.score})
	}
	return out
}
