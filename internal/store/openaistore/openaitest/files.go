package openaitest

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
)

// purposes are the values POST /files accepts for "purpose".
var purposes = []string{"assistants", "batch", "fine-tune", "vision", "user_data", "evals"}

// fileObject is an uploaded file, kept until DELETE /files/{id}.
type fileObject struct {
	id, filename, purpose string
	text                  string
	createdAt             int64
}

// fileJSON is the API's "file" object.
type fileJSON struct {
	ID            string  `json:"id"`
	Object        string  `json:"object"`
	Bytes         int     `json:"bytes"`
	CreatedAt     int64   `json:"created_at"`
	ExpiresAt     *int64  `json:"expires_at"`
	Filename      string  `json:"filename"`
	Purpose       string  `json:"purpose"`
	Status        string  `json:"status"`
	StatusDetails *string `json:"status_details"`
}

func (f *fileObject) json() fileJSON {
	return fileJSON{ID: f.id, Object: "file", Bytes: len(f.text), CreatedAt: f.createdAt,
		Filename: f.filename, Purpose: f.purpose, Status: "processed"}
}

// deletedJSON is the API's answer to a DELETE.
type deletedJSON struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Deleted bool   `json:"deleted"`
}

// FileObjects is the number of files uploaded (or seeded) and not yet
// deleted, whether attached to a vector store or not; tests use it to check
// that nothing leaks.
func (s *Server) FileObjects() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.files)
}

// addFileObject stores a new file object. s.mu is held.
func (s *Server) addFileObject(filename, purpose, text string) *fileObject {
	s.lastFile++
	f := &fileObject{id: fmt.Sprintf("file-%06d", s.lastFile), filename: filename, purpose: purpose,
		text: text, createdAt: s.now()}
	s.files[f.id] = f
	return f
}

// createFile serves POST /files: multipart/form-data with "file" (a file
// part with a filename) and "purpose".
func (s *Server) createFile(w http.ResponseWriter, r *http.Request, body []byte) {
	filename, text, purpose, e := parseUpload(r.Header.Get("Content-Type"), body)
	if e != nil {
		writeError(w, e)
		return
	}
	s.mu.Lock()
	f := s.addFileObject(filename, purpose, text)
	out := f.json()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

func parseUpload(contentType string, body []byte) (filename, text, purpose string, e *apiError) {
	mr, err := multipartReader(contentType, body)
	if err != nil {
		return "", "", "", badRequest("", "Invalid request: expected multipart/form-data with 'file' and 'purpose'.")
	}
	var haveFile, havePurpose bool
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", "", "", badRequest("", "Invalid multipart/form-data body: %v.", err)
		}
		data, err := io.ReadAll(part)
		if err != nil {
			return "", "", "", badRequest("", "Invalid multipart/form-data body: %v.", err)
		}
		switch part.FormName() {
		case "file":
			if part.FileName() == "" {
				return "", "", "", badRequest("file", "Invalid 'file': expected a file upload with a filename.")
			}
			filename, text, haveFile = part.FileName(), string(data), true
		case "purpose":
			purpose, havePurpose = string(data), true
		case "expires_after[anchor]", "expires_after[seconds]":
			// Accepted and ignored: files here never expire.
		default:
			return "", "", "", badRequest(part.FormName(), "Unrecognized request argument supplied: %s", part.FormName())
		}
	}
	switch {
	case !haveFile:
		return "", "", "", badRequest("file", "Missing required parameter: 'file'.")
	case !havePurpose || purpose == "":
		return "", "", "", badRequest("purpose", "Missing required parameter: 'purpose'.")
	case !slices.Contains(purposes, purpose):
		return "", "", "", badRequest("purpose", "Invalid value for 'purpose': '%s'. Supported values are: '%s'.",
			purpose, strings.Join(purposes, "', '"))
	}
	return filename, text, purpose, nil
}

func multipartReader(contentType string, body []byte) (*multipart.Reader, error) {
	r := &http.Request{Header: http.Header{"Content-Type": {contentType}},
		Body: io.NopCloser(strings.NewReader(string(body)))}
	return r.MultipartReader()
}

// getFile serves GET /files/{id}.
func (s *Server) getFile(w http.ResponseWriter, id string) {
	s.mu.Lock()
	f, ok := s.files[id]
	var out fileJSON
	if ok {
		out = f.json()
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, noSuchFile(id))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// deleteFile serves DELETE /files/{id}. As documented, deleting a file also
// removes it from every vector store.
func (s *Server) deleteFile(w http.ResponseWriter, id string) {
	s.mu.Lock()
	_, ok := s.files[id]
	if ok {
		delete(s.files, id)
		for _, vs := range s.stores {
			vs.detach(id)
		}
	}
	s.mu.Unlock()
	if !ok {
		writeError(w, noSuchFile(id))
		return
	}
	writeJSON(w, http.StatusOK, deletedJSON{ID: id, Object: "file", Deleted: true})
}

func noSuchFile(id string) *apiError {
	return notFound("id", "No such File object: %s", id)
}
