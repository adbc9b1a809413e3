package openaitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"unicode/utf8"
)

// vectorStore is one vector store and the files attached to it.
type vectorStore struct {
	id, name     string
	metadata     map[string]string
	createdAt    int64
	lastActiveAt int64
	expiresAfter *expiresAfterJSON
	files        map[string]*attachment // by file id
	// cursors maps every file id ever attached to the created_at of its
	// latest attachment, so a list cursor stays valid after a detach.
	cursors map[string]int64
}

type expiresAfterJSON struct {
	Anchor string `json:"anchor"`
	Days   int64  `json:"days"`
}

// vectorStoreJSON is the API's "vector_store" object.
type vectorStoreJSON struct {
	ID           string            `json:"id"`
	Object       string            `json:"object"`
	CreatedAt    int64             `json:"created_at"`
	Name         string            `json:"name"`
	UsageBytes   int               `json:"usage_bytes"`
	FileCounts   fileCountsJSON    `json:"file_counts"`
	Status       string            `json:"status"`
	ExpiresAfter *expiresAfterJSON `json:"expires_after"`
	ExpiresAt    *int64            `json:"expires_at"`
	LastActiveAt int64             `json:"last_active_at"`
	Metadata     map[string]string `json:"metadata"`
}

type fileCountsJSON struct {
	InProgress int `json:"in_progress"`
	Completed  int `json:"completed"`
	Failed     int `json:"failed"`
	Cancelled  int `json:"cancelled"`
	Total      int `json:"total"`
}

// json renders the store; status and counts follow its files. s.mu is held.
func (vs *vectorStore) json() vectorStoreJSON {
	out := vectorStoreJSON{ID: vs.id, Object: "vector_store", CreatedAt: vs.createdAt, Name: vs.name,
		Status: "completed", ExpiresAfter: vs.expiresAfter, LastActiveAt: vs.lastActiveAt,
		Metadata: make(map[string]string, len(vs.metadata))}
	for k, v := range vs.metadata {
		out.Metadata[k] = v
	}
	if vs.expiresAfter != nil {
		at := vs.lastActiveAt + vs.expiresAfter.Days*86400
		out.ExpiresAt = &at
	}
	for _, a := range vs.files {
		out.FileCounts.Total++
		switch a.status {
		case statusInProgress:
			out.FileCounts.InProgress++
			out.Status = "in_progress"
		case statusCompleted:
			out.FileCounts.Completed++
			out.UsageBytes += a.usageBytes()
		case statusFailed:
			out.FileCounts.Failed++
		case statusCancelled:
			out.FileCounts.Cancelled++
		}
	}
	return out
}

// sortedFiles returns the attachments oldest first. s.mu is held.
func (vs *vectorStore) sortedFiles() []*attachment {
	out := make([]*attachment, 0, len(vs.files))
	for _, a := range vs.files {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].createdAt < out[j].createdAt })
	return out
}

// observe counts one observation of every file in the store. s.mu is held.
func (vs *vectorStore) observe() {
	for _, a := range vs.files {
		a.observe()
	}
}

func (vs *vectorStore) detach(fileID string) bool {
	if _, ok := vs.files[fileID]; !ok {
		return false
	}
	delete(vs.files, fileID)
	return true
}

// AddVectorStore creates a vector store as POST /vector_stores would and
// returns its id.
func (s *Server) AddVectorStore(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addVectorStore(name, nil).id
}

// addVectorStore stores a new, empty vector store. s.mu is held.
func (s *Server) addVectorStore(name string, metadata map[string]string) *vectorStore {
	s.lastStore++
	vs := &vectorStore{id: fmt.Sprintf("vs_%06d", s.lastStore), name: name, metadata: metadata,
		createdAt: s.now(), files: map[string]*attachment{}, cursors: map[string]int64{}}
	vs.lastActiveAt = vs.createdAt
	s.stores[vs.id] = vs
	return vs
}

type createVectorStoreRequest struct {
	Name             *string           `json:"name"`
	Description      *string           `json:"description"`
	Metadata         map[string]string `json:"metadata"`
	FileIDs          []string          `json:"file_ids"`
	ChunkingStrategy json.RawMessage   `json:"chunking_strategy"`
	ExpiresAfter     *expiresAfterJSON `json:"expires_after"`
}

// createVectorStore serves POST /vector_stores.
func (s *Server) createVectorStore(w http.ResponseWriter, body []byte) {
	var req createVectorStoreRequest
	if e := decodeBody(body, &req); e != nil {
		writeError(w, e)
		return
	}
	if e := validateMetadata(req.Metadata); e != nil {
		writeError(w, e)
		return
	}
	chunking, e := parseChunking(req.ChunkingStrategy)
	if e != nil {
		writeError(w, e)
		return
	}
	if ea := req.ExpiresAfter; ea != nil && (ea.Anchor != "last_active_at" || ea.Days < 1 || ea.Days > 365) {
		writeError(w, badRequest("expires_after",
			"Invalid 'expires_after': expected anchor 'last_active_at' and days between 1 and 365."))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range req.FileIDs {
		if _, ok := s.files[id]; !ok {
			writeError(w, notFound("file_ids", "No file found with id '%s'.", id))
			return
		}
	}
	vs := s.addVectorStore(deref(req.Name), req.Metadata)
	vs.expiresAfter = req.ExpiresAfter
	for _, id := range req.FileIDs {
		s.attach(vs, s.files[id], nil, chunking)
	}
	writeJSON(w, http.StatusOK, vs.json())
}

// getVectorStore serves GET /vector_stores/{id}; it counts as an
// observation of each of its files.
func (s *Server) getVectorStore(w http.ResponseWriter, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	vs, ok := s.stores[id]
	if !ok {
		writeError(w, noSuchVectorStore(id))
		return
	}
	vs.observe()
	writeJSON(w, http.StatusOK, vs.json())
}

// deleteVectorStore serves DELETE /vector_stores/{id}; the file objects stay.
func (s *Server) deleteVectorStore(w http.ResponseWriter, id string) {
	s.mu.Lock()
	_, ok := s.stores[id]
	delete(s.stores, id)
	s.mu.Unlock()
	if !ok {
		writeError(w, noSuchVectorStore(id))
		return
	}
	writeJSON(w, http.StatusOK, deletedJSON{ID: id, Object: "vector_store.deleted", Deleted: true})
}

func noSuchVectorStore(id string) *apiError {
	return notFound("", "No vector store found with id '%s'.", id)
}

// validateMetadata applies the documented limits: at most 16 keys, keys of at
// most 64 characters, values of at most 512 characters.
func validateMetadata(m map[string]string) *apiError {
	if len(m) > maxAttributes {
		return badRequest("metadata", "Invalid 'metadata': too many properties. Expected an object with at most %d "+
			"properties, but got an object with %d properties instead.", maxAttributes, len(m))
	}
	for _, k := range sortedKeys(m) {
		if n := utf8.RuneCountInString(k); n > maxKeyChars {
			return badRequest("metadata", "Invalid 'metadata': key too long. Expected a key with maximum length %d, "+
				"but got a key with length %d instead.", maxKeyChars, n)
		}
		if n := utf8.RuneCountInString(m[k]); n > maxStringChars {
			return badRequest("metadata."+k, "Invalid 'metadata.%s': string too long. Expected a string with maximum "+
				"length %d, but got a string with length %d instead.", k, maxStringChars, n)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
