package blevestore

import (
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"
)

// schemaVersion names the index layout this code writes and reads. An index
// generation with another version is rebuilt, not patched, by the next
// `connector index` run.
const schemaVersion = "1"

// internalSchemaKey holds schemaVersion inside each generation.
var internalSchemaKey = []byte("connector.schema")

// Field names of an indexed document.
const (
	fieldTitle = "title" // analysed (English), stored
	fieldText  = "text"  // analysed (English), stored with term vectors for highlighting
	fieldLead  = "lead"  // stored only: the opening of the text, the snippet when only the title matched
	fieldURL   = "url"   // keyword, stored: the document's own URL, for LookupURL
	fieldMeta  = "meta"  // stored only: metadata as a JSON object of strings
)

// leadChars is how much of the text is stored as the fallback snippet.
const leadChars = 320

// newMapping returns the index mapping: English analysis with stemming on
// title and text, BM25 scoring, everything else stored but not analysed.
func newMapping() mapping.IndexMapping {
	analysed := func(termVectors bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = en.AnalyzerName
		f.Store = true
		f.IncludeInAll = false
		f.IncludeTermVectors = termVectors
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
	doc.AddFieldMappingsAt(fieldTitle, analysed(true))
	doc.AddFieldMappingsAt(fieldText, analysed(true))
	doc.AddFieldMappingsAt(fieldURL, url)
	for _, name := range []string{fieldLead, fieldMeta} {
		doc.AddFieldMappingsAt(name, storedOnly())
	}

	m := bleve.NewIndexMapping()
	m.DefaultMapping = doc
	m.DefaultAnalyzer = en.AnalyzerName
	m.ScoringModel = index.BM25Scoring
	m.StoreDynamic = false
	m.IndexDynamic = false
	m.DocValuesDynamic = false
	return m
}
