package blevestore

import "github.com/blevesearch/bleve/v2"

// openForTest opens a generation read-write, for tests that tamper with it.
func openForTest(path string) (bleve.Index, error) { return bleve.Open(path) }

// Ranking exposes the ranking choices to the relevance experiments.
type Ranking = ranking

// DefaultRanking is what the product uses.
var DefaultRanking = defaultRanking

// SetRanking changes how s ranks, for the relevance experiments.
func (s *Store) SetRanking(r Ranking) { s.ranking = r }

// WithTokenFilters returns opts building an index with another analysis
// chain after the tokenizer, for the relevance experiments.
func WithTokenFilters(opts SyncOptions, filters []string) SyncOptions {
	opts.tokenFilters = filters
	return opts
}
