package blevestore

import (
	"hash/maphash"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
)

// stemFilterName is the analyzer's stemming step: English Snowball
// (Porter2) stems, the same as bleve's own stemmer_en_snowball, remembered
// per word. Words repeat a great deal in any collection, and stemming was
// the largest part of indexing time.
const stemFilterName = "connector_stem_en"

func init() {
	// bleve finds analysis components by name in its registry; the
	// filter owns its memory of stems, one per opened index mapping.
	err := registry.RegisterTokenFilter(stemFilterName, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return stemFilter{stems: &stemmer{}}, nil
	})
	if err != nil {
		panic(err) // a second filter of this name: a build mistake
	}
}

type stemFilter struct{ stems *stemmer }

func (f stemFilter) Filter(input analysis.TokenStream) analysis.TokenStream {
	for _, t := range input {
		t.Term = f.stems.stemBytes(t.Term)
	}
	return input
}

// analyzerStemmer returns the stemmer of an analyzer that has this
// package's stemming step, or a new one.
func analyzerStemmer(a analysis.Analyzer) *stemmer {
	if a, ok := a.(*analysis.DefaultAnalyzer); ok {
		for _, f := range a.TokenFilters {
			if f, ok := f.(stemFilter); ok {
				return f.stems
			}
		}
	}
	return &stemmer{}
}

// stemmer is the analyzer's treatment of one lower-case word: "" for a
// stop word, else its Snowball stem. Snippets use it to find a query's
// words in a passage. It remembers the stems of the words it has seen, up
// to a bound, in shards that concurrent callers rarely share.
type stemmer struct {
	once   sync.Once
	seed   maphash.Seed
	shards [stemShards]stemShard
}

const (
	stemShards   = 32
	maxShardSize = 8192 // remembered stems per shard; past it the shard starts again
)

type stemShard struct {
	mu    sync.RWMutex
	stems map[string]stemmed
}

// stemmed is a stem in both the forms callers need, so neither allocates.
type stemmed struct {
	str   string
	bytes []byte
}

// stemOf is stem for a word in a caller's buffer; it does not allocate for
// a word it has seen.
func (s *stemmer) stemOf(lower []byte) string {
	if len(lower) == 0 || stopWords[string(fold(lower))] {
		return ""
	}
	return s.lookup(lower).str
}

// stemBytes returns the stem of an analysed (lower-case, not stop) term.
// The result is shared: callers must not change it.
func (s *stemmer) stemBytes(term []byte) []byte {
	return s.lookup(term).bytes
}

func (s *stemmer) lookup(word []byte) stemmed {
	s.once.Do(func() { s.seed = maphash.MakeSeed() })
	sh := &s.shards[maphash.Bytes(s.seed, word)%stemShards]
	sh.mu.RLock()
	st, ok := sh.stems[string(word)]
	sh.mu.RUnlock()
	if ok {
		return st
	}
	key := string(word)
	env := snowballstem.NewEnv(string(fold(word)))
	english.Stem(env)
	str := env.Current()
	st = stemmed{str: str, bytes: []byte(str)}
	sh.mu.Lock()
	if sh.stems == nil || len(sh.stems) >= maxShardSize {
		sh.stems = make(map[string]stemmed, 256)
	}
	sh.stems[key] = st
	sh.mu.Unlock()
	return st
}

// fold returns word with its accents removed, as the analyzer's
// asciifolding character filter does to indexed text: "crêpes" becomes
// "crepes". An ASCII word is returned as it is.
func fold(word []byte) []byte {
	for _, c := range word {
		if c >= utf8.RuneSelf {
			return asciifolding.New().Filter(word)
		}
	}
	return word
}

// lowerInto returns word in lower case, in buf when word is ASCII and fits
// (no allocation), else in a new slice.
func lowerInto(buf []byte, word string) []byte {
	if len(word) > cap(buf) {
		return []byte(strings.ToLower(word))
	}
	buf = buf[:len(word)]
	for i := 0; i < len(word); i++ {
		c := word[i]
		if c >= utf8.RuneSelf {
			return []byte(strings.ToLower(word))
		}
		buf[i] = asciiLower[c]
	}
	return buf
}
