package bench

import (
	"math"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestNDCG(t *testing.T) {
	l2 := math.Log2
	tests := []struct {
		name   string
		ranked []string
		rel    map[string]int
		k      int
		want   float64
	}{
		{"perfect binary", []string{"a", "b", "x"}, map[string]int{"a": 1, "b": 1}, 10, 1},
		{"relevant second", []string{"x", "a"}, map[string]int{"a": 1}, 10, (1 / l2(3)) / 1},
		{"graded, wrong order", []string{"b", "a"}, map[string]int{"a": 2, "b": 1},
			10, (1/l2(2) + 2/l2(3)) / (2/l2(2) + 1/l2(3))},
		{"ties in grades: either order is ideal", []string{"b", "a"}, map[string]int{"a": 3, "b": 3}, 10, 1},
		{"relevant beyond k", []string{"x", "y", "a"}, map[string]int{"a": 1}, 2, 0},
		{"nothing relevant retrieved", []string{"x", "y"}, map[string]int{"a": 2}, 10, 0},
		{"nothing retrieved", nil, map[string]int{"a": 1}, 10, 0},
		{"duplicates count once", []string{"x", "x", "a"}, map[string]int{"x": 1, "a": 1}, 2,
			(1/l2(2) + 1/l2(3)) / (1/l2(2) + 1/l2(3))},
		{"grade 0 judged non-relevant", []string{"z", "a"}, map[string]int{"z": 0, "a": 1}, 10, 1 / l2(3)},
		{"ideal limited to k", []string{"a"}, map[string]int{"a": 1, "b": 1, "c": 1}, 1, 1},
	}
	for _, tt := range tests {
		if got := NDCG(tt.ranked, tt.rel, tt.k); !near(got, tt.want) {
			t.Errorf("%s: NDCG = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRecallAndMRR(t *testing.T) {
	rel := map[string]int{"a": 1, "b": 2, "c": 1, "d": 0}
	ranked := []string{"x", "b", "d", "a", "y"}
	if got := Recall(ranked, rel, 10); !near(got, 2.0/3) {
		t.Errorf("Recall@10 = %v, want 2/3", got)
	}
	if got := Recall(ranked, rel, 2); !near(got, 1.0/3) {
		t.Errorf("Recall@2 = %v, want 1/3", got)
	}
	if got := MRR(ranked, rel, 10); !near(got, 0.5) {
		t.Errorf("MRR = %v, want 1/2", got)
	}
	if got := MRR([]string{"x", "y"}, rel, 10); got != 0 {
		t.Errorf("MRR without a relevant hit = %v", got)
	}
	if got := MRR([]string{"x", "a"}, rel, 1); got != 0 {
		t.Errorf("MRR@1 with the hit at rank 2 = %v", got)
	}
}

func TestEvaluate(t *testing.T) {
	qrels := Qrels{
		"q1": {"a": 1},
		"q2": {"b": 2, "c": 1},
		"q3": {"z": 0}, // no relevant document: not evaluated
	}
	rankings := map[string][]string{"q1": {"a"}, "q2": {"x"}}
	q := Evaluate(rankings, qrels)
	if q.Queries != 2 || !near(q.NDCG10, 0.5) || !near(q.MRR10, 0.5) || !near(q.Recall100, 0.5) {
		t.Errorf("Evaluate = %+v, want 2 queries, nDCG 0.5, MRR 0.5, Recall 0.5", q)
	}
}
