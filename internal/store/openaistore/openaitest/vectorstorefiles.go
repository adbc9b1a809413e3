package openaitest

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The documented limits of vector store file attributes (and of metadata).
const (
	maxAttributes  = 16
	maxKeyChars    = 64
	maxStringChars = 512
)

const (
	statusInProgress = "in_progress"
	statusCompleted  = "completed"
	statusFailed     = "failed"
	statusCancelled  = "cancelled"
)

// maxContentItem bounds the text of one item of a file content page.
const maxContentItem = 400

// File is a file attached to a vector store, as Files reports it.
type File struct {
	ID       string
	Filename string
	Text     string
	// Attributes holds strings, float64 numbers and bools.
	Attributes map[string]any
	// Status is "in_progress", "completed", "failed" or "cancelled".
	Status string
}

// attachment is a file attached to a vector store.
type attachment struct {
	file          *fileObject
	vectorStoreID string
	createdAt     int64
	attributes    map[string]any
	chunking      chunkingJSON
	status        string
	lastError     *lastErrorJSON
	gets          int    // observations so far
	getsUntilDone int    // observations that end processing
	failWith      string // end in failed with this message
}

type lastErrorJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type chunkingJSON struct {
	Type   string             `json:"type"`
	Static staticChunkingJSON `json:"static"`
}

type staticChunkingJSON struct {
	MaxChunkSizeTokens int64 `json:"max_chunk_size_tokens"`
	ChunkOverlapTokens int64 `json:"chunk_overlap_tokens"`
}

// defaultChunking is what the documented "auto" strategy resolves to.
var defaultChunking = chunkingJSON{Type: "static",
	Static: staticChunkingJSON{MaxChunkSizeTokens: 800, ChunkOverlapTokens: 400}}

// vectorStoreFileJSON is the API's "vector_store.file" object.
type vectorStoreFileJSON struct {
	ID               string         `json:"id"`
	Object           string         `json:"object"`
	UsageBytes       int            `json:"usage_bytes"`
	CreatedAt        int64          `json:"created_at"`
	VectorStoreID    string         `json:"vector_store_id"`
	Status           string         `json:"status"`
	LastError        *lastErrorJSON `json:"last_error"`
	ChunkingStrategy chunkingJSON   `json:"chunking_strategy"`
	Attributes       map[string]any `json:"attributes"`
}

// json renders the attachment with copies of its maps. s.mu is held.
func (a *attachment) json() vectorStoreFileJSON {
	out := vectorStoreFileJSON{ID: a.file.id, Object: "vector_store.file", UsageBytes: a.usageBytes(),
		CreatedAt: a.createdAt, VectorStoreID: a.vectorStoreID, Status: a.status,
		ChunkingStrategy: a.chunking, Attributes: copyAttributes(a.attributes)}
	if a.lastError != nil {
		e := *a.lastError
		out.LastError = &e
	}
	return out
}

func (a *attachment) usageBytes() int {
	if a.status != statusCompleted {
		return 0
	}
	return len(a.file.text)
}

// observe counts one observation and ends processing on the last. s.mu is held.
func (a *attachment) observe() {
	if a.status != statusInProgress {
		return
	}
	a.gets++
	if a.gets >= a.getsUntilDone {
		a.finish()
	}
}

func (a *attachment) finish() {
	if a.failWith == "" {
		a.status = statusCompleted
		return
	}
	a.status = statusFailed
	a.lastError = &lastErrorJSON{Code: "server_error", Message: a.failWith}
}

// attach attaches f to vs with the current processing settings, replacing
// an earlier attachment of the same file. s.mu is held.
func (s *Server) attach(vs *vectorStore, f *fileObject, attrs map[string]any, chunking chunkingJSON) *attachment {
	a := &attachment{file: f, vectorStoreID: vs.id, createdAt: s.now(), attributes: attrs, chunking: chunking,
		status: statusInProgress, getsUntilDone: s.processing.getsUntilDone, failWith: s.processing.failWith}
	if a.getsUntilDone == 0 {
		a.finish()
	}
	vs.files[f.id] = a
	vs.cursors[f.id] = a.createdAt
	vs.lastActiveAt = a.createdAt
	return a
}

// AddFile uploads a file and attaches it to the vector store, already
// processed ("completed"), and returns the file id. attributes may hold
// strings, bools and any Go numbers, within the API's limits.
func (s *Server) AddFile(vectorStoreID, filename, text string, attributes map[string]any) string {
	s.t.Helper()
	attrs, e := validateAttributes(attributes)
	if e != nil {
		s.t.Fatalf("openaitest: AddFile(%q, %q): %s", vectorStoreID, filename, e.Message)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	vs, ok := s.stores[vectorStoreID]
	if !ok {
		s.t.Fatalf("openaitest: AddFile: no vector store %q", vectorStoreID)
	}
	f := s.addFileObject(filename, "assistants", text)
	a := s.attach(vs, f, attrs, defaultChunking)
	a.status, a.lastError = statusCompleted, nil
	return f.id
}

// Files returns the files attached to the vector store, oldest attachment
// first, or nil when there is no such vector store.
func (s *Server) Files(vectorStoreID string) []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	vs, ok := s.stores[vectorStoreID]
	if !ok {
		return nil
	}
	out := []File{}
	for _, a := range vs.sortedFiles() {
		out = append(out, File{ID: a.file.id, Filename: a.file.filename, Text: a.file.text,
			Attributes: copyAttributes(a.attributes), Status: a.status})
	}
	return out
}

type attachRequest struct {
	FileID           *string         `json:"file_id"`
	Attributes       map[string]any  `json:"attributes"`
	ChunkingStrategy json.RawMessage `json:"chunking_strategy"`
}

// attachFile serves POST /vector_stores/{id}/files.
func (s *Server) attachFile(w http.ResponseWriter, vectorStoreID string, body []byte) {
	var req attachRequest
	if e := decodeBody(body, &req); e != nil {
		writeError(w, e)
		return
	}
	if req.FileID == nil || *req.FileID == "" {
		writeError(w, badRequest("file_id", "Missing required parameter: 'file_id'."))
		return
	}
	attrs, e := validateAttributes(req.Attributes)
	if e != nil {
		writeError(w, e)
		return
	}
	chunking, e := parseChunking(req.ChunkingStrategy)
	if e != nil {
		writeError(w, e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	vs, ok := s.stores[vectorStoreID]
	if !ok {
		writeError(w, noSuchVectorStore(vectorStoreID))
		return
	}
	f, ok := s.files[*req.FileID]
	if !ok {
		writeError(w, notFound("file_id", "No file found with id '%s'.", *req.FileID))
		return
	}
	writeJSON(w, http.StatusOK, s.attach(vs, f, attrs, chunking).json())
}

// lookup finds an attachment, or the 404 to send. s.mu is held.
func (s *Server) lookup(vectorStoreID, fileID string) (*vectorStore, *attachment, *apiError) {
	vs, ok := s.stores[vectorStoreID]
	if !ok {
		return nil, nil, noSuchVectorStore(vectorStoreID)
	}
	a, ok := vs.files[fileID]
	if !ok {
		return vs, nil, notFound("", "No file found with id '%s' in vector store '%s'.", fileID, vectorStoreID)
	}
	return vs, a, nil
}

// getVectorStoreFile serves GET /vector_stores/{id}/files/{file_id}; it
// counts as an observation of the file.
func (s *Server) getVectorStoreFile(w http.ResponseWriter, vectorStoreID, fileID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, a, e := s.lookup(vectorStoreID, fileID)
	if e != nil {
		writeError(w, e)
		return
	}
	a.observe()
	writeJSON(w, http.StatusOK, a.json())
}

// updateVectorStoreFile serves POST /vector_stores/{id}/files/{file_id},
// which replaces the attributes.
func (s *Server) updateVectorStoreFile(w http.ResponseWriter, vectorStoreID, fileID string, body []byte) {
	var req struct {
		Attributes *map[string]any `json:"attributes"`
	}
	if e := decodeBody(body, &req); e != nil {
		writeError(w, e)
		return
	}
	if req.Attributes == nil {
		writeError(w, badRequest("attributes", "Missing required parameter: 'attributes'."))
		return
	}
	attrs, e := validateAttributes(*req.Attributes)
	if e != nil {
		writeError(w, e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, a, e := s.lookup(vectorStoreID, fileID)
	if e != nil {
		writeError(w, e)
		return
	}
	a.attributes = attrs
	writeJSON(w, http.StatusOK, a.json())
}

// detachFile serves DELETE /vector_stores/{id}/files/{file_id}; the file
// object stays until DELETE /files/{id}.
func (s *Server) detachFile(w http.ResponseWriter, vectorStoreID, fileID string) {
	s.mu.Lock()
	vs, _, e := s.lookup(vectorStoreID, fileID)
	if e == nil {
		vs.detach(fileID)
	}
	s.mu.Unlock()
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, deletedJSON{ID: fileID, Object: "vector_store.file.deleted", Deleted: true})
}

type listJSON struct {
	Object  string                `json:"object"`
	Data    []vectorStoreFileJSON `json:"data"`
	FirstID *string               `json:"first_id"`
	LastID  *string               `json:"last_id"`
	HasMore bool                  `json:"has_more"`
}

// listQuery is a parsed list request; after and before are the created_at
// of the cursor files, or nil.
type listQuery struct {
	limit         int
	order, filter string
	after, before *int64
}

// listFiles serves GET /vector_stores/{id}/files with cursor pagination
// (limit, order, after, before) and a status filter. The list counts as an
// observation of every file in the store.
func (s *Server) listFiles(w http.ResponseWriter, vectorStoreID string, q url.Values) {
	lq := listQuery{limit: 20, order: "desc", filter: q.Get("filter")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeError(w, badRequest("limit", "Invalid 'limit': expected an integer between 1 and 100, "+
				"but got '%s' instead.", v))
			return
		}
		lq.limit = n
	}
	if v := q.Get("order"); v != "" {
		if v != "asc" && v != "desc" {
			writeError(w, badRequest("order", "Invalid value for 'order': '%s'. Supported values are: "+
				"'asc' and 'desc'.", v))
			return
		}
		lq.order = v
	}
	statuses := []string{statusInProgress, statusCompleted, statusFailed, statusCancelled}
	if lq.filter != "" && !slices.Contains(statuses, lq.filter) {
		writeError(w, badRequest("filter", "Invalid value for 'filter': '%s'. Supported values are: "+
			"'in_progress', 'completed', 'failed' and 'cancelled'.", lq.filter))
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	vs, ok := s.stores[vectorStoreID]
	if !ok {
		writeError(w, noSuchVectorStore(vectorStoreID))
		return
	}
	cursors := []struct {
		param string
		dst   **int64
	}{{"after", &lq.after}, {"before", &lq.before}}
	for _, c := range cursors {
		param, dst := c.param, c.dst
		id := q.Get(param)
		if id == "" {
			continue
		}
		at, ok := vs.cursors[id]
		if !ok {
			writeError(w, badRequest(param, "Invalid '%s': no vector store file with id '%s' in vector store '%s'.",
				param, id, vectorStoreID))
			return
		}
		*dst = &at
	}
	vs.observe()
	writeJSON(w, http.StatusOK, vs.page(lq))
}

// page selects one page of the store's files. "after" and "before" are
// positions in the requested order. s.mu is held.
func (vs *vectorStore) page(q listQuery) listJSON {
	files := vs.sortedFiles()
	if q.order == "desc" {
		slices.Reverse(files)
	}
	// follows reports whether a file created at x comes after one created
	// at y in the requested order.
	follows := func(x, y int64) bool {
		if q.order == "desc" {
			return x < y
		}
		return x > y
	}
	var window []*attachment
	for _, a := range files {
		switch {
		case q.filter != "" && a.status != q.filter:
		case q.after != nil && !follows(a.createdAt, *q.after):
		case q.before != nil && !follows(*q.before, a.createdAt):
		default:
			window = append(window, a)
		}
	}
	out := listJSON{Object: "list", Data: []vectorStoreFileJSON{}, HasMore: len(window) > q.limit}
	if len(window) > q.limit {
		if q.before != nil && q.after == nil {
			window = window[len(window)-q.limit:] // the page just before the cursor
		} else {
			window = window[:q.limit]
		}
	}
	for _, a := range window {
		out.Data = append(out.Data, a.json())
	}
	if n := len(out.Data); n > 0 {
		first, last := out.Data[0].ID, out.Data[n-1].ID
		out.FirstID, out.LastID = &first, &last
	}
	return out
}

type contentPageJSON struct {
	Object   string            `json:"object"`
	Data     []contentItemJSON `json:"data"`
	HasMore  bool              `json:"has_more"`
	NextPage *string           `json:"next_page"`
}

type contentItemJSON struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// fileContent serves GET /vector_stores/{id}/files/{file_id}/content. The
// text of a completed file comes as several items that, joined in order
// with no separator, give back the uploaded text exactly; a file still in
// progress, or failed, has no parsed content yet.
func (s *Server) fileContent(w http.ResponseWriter, vectorStoreID, fileID string) {
	s.mu.Lock()
	_, a, e := s.lookup(vectorStoreID, fileID)
	var text string
	if e == nil && a.status == statusCompleted {
		text = a.file.text
	}
	s.mu.Unlock()
	if e != nil {
		writeError(w, e)
		return
	}
	out := contentPageJSON{Object: "vector_store.file_content.page", Data: []contentItemJSON{}}
	for _, item := range contentItems(text) {
		out.Data = append(out.Data, contentItemJSON{Type: "text", Text: item})
	}
	writeJSON(w, http.StatusOK, out)
}

// contentItems splits text after each run of blank lines (a paragraph with
// its separator), then splits paragraphs longer than maxContentItem bytes at
// a space. The items concatenate to text.
func contentItems(text string) []string {
	var paragraphs []string
	for rest := text; rest != ""; {
		i := strings.Index(rest, "\n\n")
		if i < 0 {
			paragraphs = append(paragraphs, rest)
			break
		}
		end := i
		for end < len(rest) && (rest[end] == '\n' || rest[end] == '\r') {
			end++
		}
		paragraphs = append(paragraphs, rest[:end])
		rest = rest[end:]
	}
	var items []string
	for _, p := range paragraphs {
		for len(p) > maxContentItem {
			cut := strings.LastIndexFunc(p[:maxContentItem], unicode.IsSpace) + 1
			if cut <= 0 {
				cut = maxContentItem
				for cut > 0 && !utf8.RuneStart(p[cut]) {
					cut--
				}
				if cut == 0 { // not UTF-8: cut anywhere
					cut = maxContentItem
				}
			}
			items = append(items, p[:cut])
			p = p[cut:]
		}
		if p != "" {
			items = append(items, p)
		}
	}
	return items
}

// validateAttributes applies the documented limits (at most 16 keys, keys of
// at most 64 characters, values that are strings of at most 512 characters,
// numbers or booleans) and returns a copy with every number as float64, as
// it would come back from JSON.
func validateAttributes(attrs map[string]any) (map[string]any, *apiError) {
	if len(attrs) > maxAttributes {
		return nil, badRequest("attributes", "Invalid 'attributes': too many properties. Expected an object with at "+
			"most %d properties, but got an object with %d properties instead.", maxAttributes, len(attrs))
	}
	out := make(map[string]any, len(attrs))
	for _, k := range sortedKeys(attrs) {
		if n := utf8.RuneCountInString(k); n > maxKeyChars {
			return nil, badRequest("attributes", "Invalid 'attributes': key too long. Expected a key with maximum "+
				"length %d, but got a key with length %d instead.", maxKeyChars, n)
		}
		v, ok := attributeValue(attrs[k])
		if !ok {
			return nil, badRequest("attributes."+k, "Invalid type for 'attributes.%s': expected one of a string, "+
				"a number or a boolean, but got %T instead.", k, attrs[k])
		}
		if str, isString := v.(string); isString {
			if n := utf8.RuneCountInString(str); n > maxStringChars {
				return nil, badRequest("attributes."+k, "Invalid 'attributes.%s': string too long. Expected a string "+
					"with maximum length %d, but got a string with length %d instead.", k, maxStringChars, n)
			}
		}
		out[k] = v
	}
	return out, nil
}

// attributeValue normalises an attribute value to string, float64 or bool.
func attributeValue(v any) (any, bool) {
	switch v := v.(type) {
	case string, bool:
		return v, true
	case float64:
		return v, !math.IsNaN(v) && !math.IsInf(v, 0)
	case float32:
		return attributeValue(float64(v))
	case int:
		return float64(v), true
	case int8:
		return float64(v), true
	case int16:
		return float64(v), true
	case int32:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint:
		return float64(v), true
	case uint8:
		return float64(v), true
	case uint16:
		return float64(v), true
	case uint32:
		return float64(v), true
	case uint64:
		return float64(v), true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	return nil, false
}

func copyAttributes(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// parseChunking checks a chunking_strategy and returns what the file
// object reports: "auto" (or none) is the static 800/400 default.
func parseChunking(raw json.RawMessage) (chunkingJSON, *apiError) {
	if len(raw) == 0 || string(raw) == "null" {
		return defaultChunking, nil
	}
	var req struct {
		Type   string `json:"type"`
		Static *struct {
			MaxChunkSizeTokens *int64 `json:"max_chunk_size_tokens"`
			ChunkOverlapTokens *int64 `json:"chunk_overlap_tokens"`
		} `json:"static"`
	}
	if e := decodeBody(raw, &req); e != nil {
		e.Param = "chunking_strategy"
		return chunkingJSON{}, e
	}
	switch {
	case req.Type == "auto" && req.Static == nil:
		return defaultChunking, nil
	case req.Type != "static" || req.Static == nil || req.Static.MaxChunkSizeTokens == nil ||
		req.Static.ChunkOverlapTokens == nil:
		return chunkingJSON{}, badRequest("chunking_strategy", "Invalid 'chunking_strategy': expected "+
			"{\"type\": \"auto\"} or {\"type\": \"static\", \"static\": {\"max_chunk_size_tokens\", \"chunk_overlap_tokens\"}}.")
	}
	size, overlap := *req.Static.MaxChunkSizeTokens, *req.Static.ChunkOverlapTokens
	if size < 100 || size > 4096 || overlap < 0 || overlap > size/2 {
		return chunkingJSON{}, badRequest("chunking_strategy", "Invalid 'chunking_strategy': "+
			"max_chunk_size_tokens must be between 100 and 4096 and chunk_overlap_tokens between 0 and half of it, "+
			"but got %d and %d.", size, overlap)
	}
	return chunkingJSON{Type: "static", Static: staticChunkingJSON{MaxChunkSizeTokens: size, ChunkOverlapTokens: overlap}}, nil
}
