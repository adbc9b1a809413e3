package openaitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"unicode"
)

// Chunks are about chunkWords whitespace-separated words, each sharing
// chunkOverlap words with the one before.
const (
	chunkWords   = 200
	chunkOverlap = 50
)

var rankers = []string{"none", "auto", "default-2024-11-15"}

type searchRequest struct {
	Query          json.RawMessage `json:"query"`
	MaxNumResults  *int            `json:"max_num_results"`
	RewriteQuery   *bool           `json:"rewrite_query"`
	Filters        json.RawMessage `json:"filters"`
	RankingOptions *struct {
		Ranker         *string  `json:"ranker"`
		ScoreThreshold *float64 `json:"score_threshold"`
	} `json:"ranking_options"`
}

type searchPageJSON struct {
	Object      string             `json:"object"`
	SearchQuery []string           `json:"search_query"`
	Data        []searchResultJSON `json:"data"`
	HasMore     bool               `json:"has_more"`
	NextPage    *string            `json:"next_page"`
}

type searchResultJSON struct {
	FileID     string            `json:"file_id"`
	Filename   string            `json:"filename"`
	Score      float64           `json:"score"`
	Attributes map[string]any    `json:"attributes"`
	Content    []contentItemJSON `json:"content"`
}

// searchable is a completed file, copied out of the lock for scoring.
type searchable struct {
	id, filename, text string
	createdAt          int64
	attributes         map[string]any
}

// search serves POST /vector_stores/{id}/search. It returns chunks, not
// files: each completed file is cut into overlapping chunks, every chunk
// sharing a word with the query (or, with a filter, every chunk of the
// files it selects) is scored by lexical overlap, and the best
// max_num_results chunks that pass the filters and score_threshold come
// back best first.
func (s *Server) search(w http.ResponseWriter, vectorStoreID string, body []byte) {
	var req searchRequest
	if e := decodeBody(body, &req); e != nil {
		writeError(w, e)
		return
	}
	queries, e := parseQuery(req.Query)
	if e != nil {
		writeError(w, e)
		return
	}
	limit := 10
	if n := req.MaxNumResults; n != nil {
		if *n < 1 || *n > 50 {
			writeError(w, badRequest("max_num_results", "Invalid 'max_num_results': expected an integer between "+
				"1 and 50, but got %d instead.", *n))
			return
		}
		limit = *n
	}
	threshold := 0.0
	if ro := req.RankingOptions; ro != nil {
		if ro.Ranker != nil && !slices.Contains(rankers, *ro.Ranker) {
			writeError(w, badRequest("ranking_options.ranker", "Invalid value for 'ranking_options.ranker': '%s'. "+
				"Supported values are: '%s'.", *ro.Ranker, strings.Join(rankers, "', '")))
			return
		}
		if t := ro.ScoreThreshold; t != nil {
			if *t < 0 || *t > 1 {
				writeError(w, badRequest("ranking_options.score_threshold", "Invalid "+
					"'ranking_options.score_threshold': expected a number between 0 and 1, but got %g instead.", *t))
				return
			}
			threshold = *t
		}
	}
	var filter *filterNode
	if len(req.Filters) > 0 && string(req.Filters) != "null" {
		if filter, e = parseFilter(req.Filters, "filters"); e != nil {
			writeError(w, e)
			return
		}
	}

	s.mu.Lock()
	vs, ok := s.stores[vectorStoreID]
	var files []searchable
	if ok {
		vs.lastActiveAt = s.now()
		for _, a := range vs.sortedFiles() {
			if a.status == statusCompleted {
				files = append(files, searchable{id: a.file.id, filename: a.file.filename, text: a.file.text,
					createdAt: a.createdAt, attributes: copyAttributes(a.attributes)})
			}
		}
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, noSuchVectorStore(vectorStoreID))
		return
	}

	out := searchPageJSON{Object: "vector_store.search_results.page", SearchQuery: queries,
		Data: []searchResultJSON{}}
	if req.RewriteQuery != nil && *req.RewriteQuery {
		out.SearchQuery = rewrite(queries)
	}
	terms := queryTerms(queries)
	type hit struct {
		file  *searchable
		chunk int
		text  string
		score float64
	}
	var hits []hit
	for i := range files {
		f := &files[i]
		if filter != nil && !filter.match(f.attributes) {
			continue
		}
		for n, text := range chunks(f.text) {
			score := scoreChunk(terms, text)
			if score == 0 && filter != nil {
				// Vector search ranks every chunk by similarity: with a
				// filter narrowing the files, even chunks without a query
				// word come back, with the lowest score.
				score = 1e-9
			}
			if score > 0 && score >= threshold {
				hits = append(hits, hit{file: f, chunk: n, text: text, score: score})
			}
		}
	}
	sort.SliceStable(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		if a.score != b.score {
			return a.score > b.score
		}
		if a.file.createdAt != b.file.createdAt {
			return a.file.createdAt < b.file.createdAt
		}
		return a.chunk < b.chunk
	})
	for _, h := range hits[:min(limit, len(hits))] {
		out.Data = append(out.Data, searchResultJSON{FileID: h.file.id, Filename: h.file.filename, Score: h.score,
			Attributes: copyAttributes(h.file.attributes), Content: []contentItemJSON{{Type: "text", Text: h.text}}})
	}
	writeJSON(w, http.StatusOK, out)
}

// parseQuery accepts a string or an array of strings, none of them blank.
func parseQuery(raw json.RawMessage) ([]string, *apiError) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, badRequest("query", "Missing required parameter: 'query'.")
	}
	var one string
	var many []string
	if err := json.Unmarshal(raw, &one); err == nil {
		many = []string{one}
	} else if err := json.Unmarshal(raw, &many); err != nil {
		return nil, badRequest("query", "Invalid type for 'query': expected a string or an array of strings.")
	}
	if len(many) == 0 {
		return nil, badRequest("query", "Invalid 'query': empty array. Expected an array with minimum length 1.")
	}
	for _, q := range many {
		if strings.TrimSpace(q) == "" {
			return nil, badRequest("query", "Invalid 'query': empty string. Expected a string with minimum length 1.")
		}
	}
	return many, nil
}

// rewrite is the fake's query rewriting: lower-cased words, punctuation gone.
func rewrite(queries []string) []string {
	out := make([]string, 0, len(queries))
	for _, q := range queries {
		if words := tokens(q); len(words) > 0 {
			out = append(out, strings.Join(words, " "))
		}
	}
	return out
}

// tokens are the lower-cased runs of letters and digits of s.
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// queryTerms are the distinct tokens of all the queries.
func queryTerms(queries []string) []string {
	seen := map[string]bool{}
	var terms []string
	for _, q := range queries {
		for _, t := range tokens(q) {
			if !seen[t] {
				seen[t] = true
				terms = append(terms, t)
			}
		}
	}
	return terms
}

// scoreChunk is a deterministic lexical relevance in (0, 1], or 0 when the
// chunk has none of the terms: the fraction of distinct terms present,
// scaled by 0.75 plus a bonus of up to 0.25 for how dense the terms are.
func scoreChunk(terms []string, chunk string) float64 {
	if len(terms) == 0 {
		return 0
	}
	words := tokens(chunk)
	if len(words) == 0 {
		return 0
	}
	counts := make(map[string]int, len(words))
	for _, w := range words {
		counts[w]++
	}
	matched, hits := 0, 0
	for _, t := range terms {
		if c := counts[t]; c > 0 {
			matched++
			hits += c
		}
	}
	if matched == 0 {
		return 0
	}
	coverage := float64(matched) / float64(len(terms))
	density := math.Min(1, 5*float64(hits)/float64(len(words)))
	score := math.Round(coverage*(0.75+0.25*density)*1e6) / 1e6
	return math.Max(score, 1e-6)
}

// chunks cuts text into spans of chunkWords whitespace-separated words, each
// overlapping the previous by chunkOverlap words. Spans are slices of text,
// so line breaks inside a chunk are kept.
func chunks(text string) []string {
	type span struct{ start, end int }
	var words []span
	start := -1
	for i, r := range text {
		switch {
		case unicode.IsSpace(r) && start >= 0:
			words = append(words, span{start, i})
			start = -1
		case !unicode.IsSpace(r) && start < 0:
			start = i
		}
	}
	if start >= 0 {
		words = append(words, span{start, len(text)})
	}
	var out []string
	for i := 0; i < len(words); i += chunkWords - chunkOverlap {
		end := min(i+chunkWords, len(words))
		out = append(out, text[words[i].start:words[end-1].end])
		if end == len(words) {
			break
		}
	}
	return out
}

// filterNode is a parsed comparison filter (key, value) or compound filter
// (children).
type filterNode struct {
	op       string
	key      string
	value    any // string, float64, bool, or []any of strings and float64s
	children []*filterNode
}

var (
	comparisonOps = []string{"eq", "ne", "gt", "gte", "lt", "lte", "in", "nin"}
	compoundOps   = []string{"and", "or"}
)

// parseFilter checks a filter as the API documents it; param names where it
// sits in the request, for error messages.
func parseFilter(raw json.RawMessage, param string) (*filterNode, *apiError) {
	var req struct {
		Type    *string           `json:"type"`
		Key     *string           `json:"key"`
		Value   json.RawMessage   `json:"value"`
		Filters []json.RawMessage `json:"filters"`
	}
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) || string(raw) == "null" {
		return nil, badRequest(param, "Invalid type for '%s': expected an object.", param)
	}
	if e := decodeBody(raw, &req); e != nil {
		e.Param = param
		e.Message = fmt.Sprintf("Invalid '%s': %s", param, e.Message)
		return nil, e
	}
	if req.Type == nil {
		return nil, badRequest(param+".type", "Missing required parameter: '%s.type'.", param)
	}
	op := *req.Type
	switch {
	case slices.Contains(compoundOps, op):
		if req.Key != nil || req.Value != nil {
			return nil, badRequest(param, "Invalid '%s': a compound filter has only 'type' and 'filters'.", param)
		}
		if len(req.Filters) == 0 {
			return nil, badRequest(param+".filters", "Invalid '%s.filters': expected a non-empty array of filters.", param)
		}
		n := &filterNode{op: op}
		for i, sub := range req.Filters {
			child, e := parseFilter(sub, fmt.Sprintf("%s.filters[%d]", param, i))
			if e != nil {
				return nil, e
			}
			n.children = append(n.children, child)
		}
		return n, nil
	case slices.Contains(comparisonOps, op):
		if req.Filters != nil {
			return nil, badRequest(param, "Invalid '%s': a comparison filter has only 'type', 'key' and 'value'.", param)
		}
		if req.Key == nil || *req.Key == "" {
			return nil, badRequest(param+".key", "Missing required parameter: '%s.key'.", param)
		}
		if len(req.Value) == 0 {
			return nil, badRequest(param+".value", "Missing required parameter: '%s.value'.", param)
		}
		var v any
		if err := json.Unmarshal(req.Value, &v); err != nil {
			return nil, badRequest(param+".value", "Invalid '%s.value': %v.", param, err)
		}
		if !validFilterValue(op, v) {
			want := "a string, a number or a boolean"
			if op == "in" || op == "nin" {
				want = "an array of strings and numbers"
			}
			return nil, badRequest(param+".value", "Invalid type for '%s.value': expected %s for '%s'.", param, want, op)
		}
		return &filterNode{op: op, key: *req.Key, value: v}, nil
	}
	return nil, badRequest(param+".type", "Invalid value for '%s.type': '%s'. Supported values are: '%s'.",
		param, op, strings.Join(append(slices.Clone(comparisonOps), compoundOps...), "', '"))
}

func validFilterValue(op string, v any) bool {
	if op != "in" && op != "nin" {
		switch v.(type) {
		case string, float64, bool:
			return true
		}
		return false
	}
	list, ok := v.([]any)
	if !ok {
		return false
	}
	for _, item := range list {
		switch item.(type) {
		case string, float64:
		default:
			return false
		}
	}
	return true
}

// match evaluates the filter against a file's attributes. A comparison on a
// missing key holds only for "ne" and "nin". Ordering compares numbers with
// numbers and strings with strings; other pairs never hold.
func (n *filterNode) match(attrs map[string]any) bool {
	switch n.op {
	case "and":
		for _, c := range n.children {
			if !c.match(attrs) {
				return false
			}
		}
		return true
	case "or":
		for _, c := range n.children {
			if c.match(attrs) {
				return true
			}
		}
		return false
	}
	got, ok := attrs[n.key]
	if !ok {
		return n.op == "ne" || n.op == "nin"
	}
	switch n.op {
	case "eq":
		return got == n.value
	case "ne":
		return got != n.value
	case "in", "nin":
		in := slices.Contains(n.value.([]any), got)
		return in == (n.op == "in")
	}
	c, comparable := compare(got, n.value)
	if !comparable {
		return false
	}
	switch n.op {
	case "gt":
		return c > 0
	case "gte":
		return c >= 0
	case "lt":
		return c < 0
	default: // lte
		return c <= 0
	}
}

func compare(a, b any) (int, bool) {
	switch a := a.(type) {
	case float64:
		if b, ok := b.(float64); ok {
			switch {
			case a < b:
				return -1, true
			case a > b:
				return 1, true
			}
			return 0, true
		}
	case string:
		if b, ok := b.(string); ok {
			return strings.Compare(a, b), true
		}
	}
	return 0, false
}
