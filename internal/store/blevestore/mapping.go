package blevestore

import (
	"github.com/blevesearch/bleve/v2"
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
const schemaVersion = "8"

// Internal keys stored in each generation.
var (
	internalSchemaKey    = []byte("connector.schema")
	internalDocumentsKey = []byte("connector.documents") // number of documents (not passages)
)

// analyzerName is the English analysis of searchable text, built from
// bleve's own parts: accents folded ("crêpes" matches "crepes"), Unicode
// word tokens, possessives dropped, lower case, English stop words removed,
// and Snowball (Porter2) stemming.
const analyzerName = "connector_en"

// A document is stored as one document record, which says what the
// document is, and one or more passage records, which search matches:
// short documents have one passage, long ones overlapping passages of about
// passage.Words words. The text is stored once, in the passages, and fetch
// puts it together again.
//
// Document record fields:
const (
	fieldURL      = "url"    // keyword, stored: the document's own URL, for LookupURL
	fieldDocTitle = "dtitle" // stored only
	fieldMeta     = "meta"   // stored only: metadata as a JSON object of strings
	fieldPassages = "np"     // stored only: the number of passages
	fieldDocACL   = "acl"    // stored only: the access terms (access.List.Terms), for Fetch
	// fieldText held the whole text of a document of several passages
	// before schema 7; read only to rebuild such an index.
	fieldText = "text"
)

// Passage record fields:
const (
	fieldContent = "content" // analysed, with term vectors: title and passage text, what search matches
	fieldTitle   = "title"   // analysed: the title alone, for the title clauses of a query
	fieldBody    = "body"    // stored only: the passage's text, for snippets and fetch
	fieldAt      = "at"      // stored only: where the passage starts in its document's text, when not at 0
)

// fieldAccess is on both kinds of record: keyword, indexed, the access
// terms of the document (access.List.Terms), which searches and LookupURL
// filter on.
const fieldAccess = "access"

// tokenFilters is the analysis chain after the Unicode tokenizer.
var tokenFilters = []string{en.PossessiveName, lowercase.Name, en.StopName, en.SnowballStemmerName}

// newMapping returns the index mapping; filters replace tokenFilters in
// the relevance experiments.
func newMapping(filters []string) (mapping.IndexMapping, error) {
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
	analysed := func(termVectors bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzerName
		f.Store = false
		f.IncludeInAll = false
		f.IncludeTermVectors = termVectors // positions for phrase clauses, offsets for snippets
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
	keywords := func(store bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = keyword.Name
		f.Store = store
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		f.DocValues = false
		return f
	}

	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt(fieldContent, analysed(true))
	doc.AddFieldMappingsAt(fieldTitle, analysed(false))
	doc.AddFieldMappingsAt(fieldURL, keywords(true))
	doc.AddFieldMappingsAt(fieldAccess, keywords(false))
	for _, name := range []string{fieldDocTitle, fieldMeta, fieldPassages, fieldDocACL, fieldBody, fieldAt} {
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
