// Package bench measures the connector as its clients see it: retrieval
// quality on judged queries (BEIR collections), and latency, throughput and
// memory of search and fetch through the MCP tools of a real server.
package bench

import (
	"math"
	"slices"
)

// Qrels holds relevance judgements: query id → document id → grade (> 0
// is relevant; higher is more relevant).
type Qrels map[string]map[string]int

// Quality is the mean of each measure over the judged queries.
type Quality struct {
	Queries   int     `json:"queries"`
	NDCG10    float64 `json:"ndcg_at_10"`
	Recall10  float64 `json:"recall_at_10"`
	Recall100 float64 `json:"recall_at_100"`
	MRR10     float64 `json:"mrr_at_10"`
}

// dedupe keeps the first occurrence of each id: a ranking that names a
// document twice gets credit once.
func dedupe(ranked []string) []string {
	seen := make(map[string]bool, len(ranked))
	out := make([]string, 0, len(ranked))
	for _, id := range ranked {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// NDCG returns nDCG@k as trec_eval and BEIR compute it: gain is the
// relevance grade, discount log2(rank+1), normalised by the ideal ranking of
// the judged documents.
func NDCG(ranked []string, rel map[string]int, k int) float64 {
	ranked = dedupe(ranked)
	var dcg float64
	for i, id := range ranked[:min(k, len(ranked))] {
		if g := rel[id]; g > 0 {
			dcg += float64(g) / math.Log2(float64(i+2))
		}
	}
	var grades []int
	for _, g := range rel {
		if g > 0 {
			grades = append(grades, g)
		}
	}
	slices.SortFunc(grades, func(a, b int) int { return b - a })
	var idcg float64
	for i, g := range grades[:min(k, len(grades))] {
		idcg += float64(g) / math.Log2(float64(i+2))
	}
	if idcg == 0 {
		return 0
	}
	return dcg / idcg
}

// Recall returns the share of relevant documents found in the top k.
func Recall(ranked []string, rel map[string]int, k int) float64 {
	relevant := 0
	for _, g := range rel {
		if g > 0 {
			relevant++
		}
	}
	if relevant == 0 {
		return 0
	}
	found := 0
	ranked = dedupe(ranked)
	for _, id := range ranked[:min(k, len(ranked))] {
		if rel[id] > 0 {
			found++
		}
	}
	return float64(found) / float64(relevant)
}

// MRR returns the reciprocal rank of the first relevant document in the
// top k, or 0 when there is none.
func MRR(ranked []string, rel map[string]int, k int) float64 {
	ranked = dedupe(ranked)
	for i, id := range ranked[:min(k, len(ranked))] {
		if rel[id] > 0 {
			return 1 / float64(i+1)
		}
	}
	return 0
}

// Evaluate averages the measures over every query that has at least one
// relevant judgement (BEIR's convention); rankings holds each query's
// ranked document ids (missing means nothing retrieved).
func Evaluate(rankings map[string][]string, qrels Qrels) Quality {
	var q Quality
	for qid, rel := range qrels {
		if !slices.ContainsFunc(mapsValues(rel), func(g int) bool { return g > 0 }) {
			continue
		}
		ranked := rankings[qid]
		q.Queries++
		q.NDCG10 += NDCG(ranked, rel, 10)
		q.Recall10 += Recall(ranked, rel, 10)
		q.Recall100 += Recall(ranked, rel, 100)
		q.MRR10 += MRR(ranked, rel, 10)
	}
	if q.Queries > 0 {
		n := float64(q.Queries)
		q.NDCG10 /= n
		q.Recall10 /= n
		q.Recall100 /= n
		q.MRR10 /= n
	}
	return q
}

func mapsValues(m map[string]int) []int {
	out := make([]int, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
