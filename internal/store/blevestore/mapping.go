package blevestore

import (
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"
)

// schemaVersion names the index layout this code writes and reads. An index
// generation with another version is rebuilt, not patched, by the next
// `connector index` run.
const schemaVersion = "6"

// Internal keys stored in each generation.
var (
	internalSchemaKey    = []byte("connector.schema")
	internalDocumentsKey = []byte("connector.documents") // number of documents (not passages)
)

// analyzerName is the English analysis of searchable text: accents folded
// ("crêpes" matches "crepes"), Unicode word tokens, possessives dropped,
// lower case, English stop words removed, and
// Snowball (Porter2) stemming. The relevance experiments in
// tuning_test.go chose it.
const analyzerName = "connector_en"

// A document is stored as one document record, which fetch reads, and one
// or more passage records, which search matches: short documents have one
// passage, long ones overlapping passages of about passageWords words.
//
// Document record fields:
const (
	fieldURL      = "url"    // keyword, stored: the document's own URL, for LookupURL
	fieldDocTitle = "dtitle" // stored only
	fieldText     = "text"   // stored only; absent when the single passage holds the whole text
	fieldMeta     = "meta"   // stored only: metadata as a JSON object of strings
	fieldPassages = "np"     // stored only: the number of passages
)

// Passage record fields:
const (
	fieldContent = "content" // analysed, with positions: title and passage text, what search matches
	fieldTitle   = "title"   // analysed: the title alone, for the title clauses of a query
	fieldBody    = "body"    // stored only: the passage text, for snippets (and fetch, for one-passage documents)
	fieldPTitle  = "ptitle"  // stored only: the document's title
	fieldPURL    = "purl"    // stored only: the document's own URL
	fieldPMeta   = "pmeta"   // stored only, in a document's only passage: its metadata as fieldMeta, or noMetadata
)

// noMetadata is fieldPMeta of a document without metadata. A passage
// without the field was written before it existed (a generation cloned from
// an older one keeps such records), and fetch then reads the document
// record, which is the only one to know its metadata.
const noMetadata = "{}"

// tokenFilters is the analysis chain after the Unicode tokenizer.
var tokenFilters = []string{en.PossessiveName, lowercase.Name, en.StopName, stemFilterName}

// newMapping returns the index mapping; filters replace tokenFilters, and
// termVectors keeps the analysed fields' term positions, in the relevance
// experiments.
func newMapping(filters []string, termVectors bool) (mapping.IndexMapping, error) {
	if filters == nil {
		filters = tokenFilters
	}
	chain := make([]any, len(filters))
	for i, f := range filters {
		chain[i] = f
	}
	m := bleve.NewIndexMapping()
	if err := m.AddCustomAnalyzer(analyzerName, map[string]any{
		"type":          custom.Name,
		"char_filters":  []any{asciifolding.Name},
		"tokenizer":     unicode.Name,
		"token_filters": chain,
	}); err != nil {
		return nil, err
	}
	analysed := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzerName
		f.Store = false
		f.IncludeInAll = false
		f.IncludeTermVectors = termVectors // the ranking file keeps frequencies and lengths; search reads no positions
		f.DocValues = false
		return f
	}
	storedOnly := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Index = false
		f.Store = true
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		f.DocValues = false
		return f
	}
	url := bleve.NewTextFieldMapping()
	url.Analyzer = keyword.Name
	url.Store = true
	url.IncludeInAll = false
	url.IncludeTermVectors = false
	url.DocValues = false

	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt(fieldContent, analysed())
	doc.AddFieldMappingsAt(fieldTitle, analysed())
	doc.AddFieldMappingsAt(fieldURL, url)
	for _, name := range []string{fieldDocTitle, fieldText, fieldMeta, fieldPassages, fieldBody, fieldPTitle, fieldPURL, fieldPMeta} {
		doc.AddFieldMappingsAt(name, storedOnly())
	}
	m.DefaultMapping = doc
	m.DefaultAnalyzer = analyzerName
	m.ScoringModel = index.BM25Scoring
	m.StoreDynamic = false
	m.IndexDynamic = false
	m.DocValuesDynamic = false
	return m, nil
}

// stopWords are the analyzer's stop words, for stemmer.
var stopWords = func() analysis.TokenMap {
	m := analysis.NewTokenMap()
	_ = m.LoadBytes(en.EnglishStopWords) // a fixed list that parses
	return m
}()
