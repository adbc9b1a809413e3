// Package openaitest is an in-process stand-in for the parts of the OpenAI
// API that openaistore uses: files, vector stores, vector store files and
// vector store search. It answers with the JSON shapes of the API reference,
// so tests drive the real openai-go client against it through
// option.WithBaseURL(srv.URL()).
//
// Beyond the API, a Server lets a test seed data (AddVectorStore, AddFile),
// script faults (Fail), add latency (Delay), shape file processing
// (SetProcessing), hold requests until a test lets them go (Hold) and
// inspect what was asked of it (Requests, Files, FileObjects). It is safe
// for concurrent use.
//
// Everything is deterministic: files are "file-000001", "file-000002", ...,
// vector stores "vs_000001", ..., x-request-id headers "req_000001", ...,
// and created_at starts at 1700000001 and moves one second per object, so
// lists and ties order by creation. Search is lexical, not semantic: each
// completed file is cut into chunks of 200 words overlapping by 50, and a
// chunk scores by the share of distinct query words it holds plus a small
// bonus for their density. The text items of a file's content page join,
// with no separator, into exactly the uploaded text.
//
// Not served (answered with the API's "Invalid URL" 404): listing files or
// vector stores, file batches, and downloading file content.
package openaitest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// epoch is the created_at of the first object; the fake clock then moves one
// second per object, so timestamps are deterministic and strictly increasing.
const epoch = 1_700_000_000

// maxBodyBytes bounds a request body, as the API bounds uploads.
const maxBodyBytes = 64 << 20

// Request is one request the server received, recorded before it was
// answered (so faulted, delayed and unauthorised requests are included).
type Request struct {
	Method string
	// Path is the URL path without the optional "/v1" prefix,
	// e.g. "/vector_stores/vs_000001/search".
	Path   string
	Query  url.Values
	Body   []byte
	Header http.Header
}

// Server is a fake OpenAI API. Create it with NewServer.
type Server struct {
	t       testing.TB
	apiKey  string
	http    *httptest.Server
	closing chan struct{} // closed on cleanup so delayed handlers give up

	mu         sync.Mutex
	clock      int64 // seconds after epoch; see now
	lastFile   int
	lastStore  int
	lastReq    int
	files      map[string]*fileObject
	stores     map[string]*vectorStore
	faults     []*fault
	delays     []delay
	holds      []*Hold
	processing processing
	requests   []Request
}

// fault is a scripted failure: the next left requests matching pattern get
// status with headers and the documented error body for that status.
type fault struct {
	pattern pattern
	left    int
	status  int
	headers map[string]string
}

type delay struct {
	pattern pattern
	d       time.Duration
}

// Hold is a set of requests kept waiting until Release; see Server.Hold.
type Hold struct {
	srv     *Server
	pattern pattern
	left    int // requests still to hold; s.mu guards it
	arrived chan Request
	release chan struct{}
	once    sync.Once
}

// Arrived delivers each held request as it starts waiting (the first n;
// the channel is buffered for all of them).
func (h *Hold) Arrived() <-chan Request { return h.arrived }

// Release lets the held requests go on to be answered, and ends the hold:
// it takes no more requests. It is safe to call more than once.
func (h *Hold) Release() {
	h.once.Do(func() {
		h.srv.mu.Lock()
		h.srv.holds = slices.DeleteFunc(h.srv.holds, func(x *Hold) bool { return x == h })
		h.srv.mu.Unlock()
		close(h.release)
	})
}

// processing says how new attachments move from in_progress to their end.
type processing struct {
	getsUntilDone int    // observations before the end state; 0 = at once
	failWith      string // when set, the end state is failed with this message
}

// NewServer starts a fake API that accepts only apiKey as bearer token, and
// closes it when the test ends.
func NewServer(t testing.TB, apiKey string) *Server {
	t.Helper()
	s := &Server{
		t:          t,
		apiKey:     apiKey,
		closing:    make(chan struct{}),
		files:      map[string]*fileObject{},
		stores:     map[string]*vectorStore{},
		processing: processing{getsUntilDone: 1},
	}
	s.http = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(func() {
		close(s.closing)
		s.http.Close()
	})
	return s
}

// URL is the base URL to pass to option.WithBaseURL. Paths are served both
// at the root and under /v1/.
func (s *Server) URL() string { return s.http.URL }

// Fail makes the next n requests matching pattern fail with status, the
// given response headers (e.g. "Retry-After", "retry-after-ms",
// "x-should-retry") and the API's documented error body for that status.
//
// A pattern is "*" for any request, or an optional method ("GET", "POST",
// "DELETE" or "*") and a path in path.Match syntax without the /v1 prefix:
// "POST /vector_stores/*/search", "/files/*", "GET *". Faults are consumed in
// the order they were added; a request takes at most one. A fault is
// answered before the API key is checked.
func (s *Server) Fail(pattern string, n int, status int, headers map[string]string) {
	s.t.Helper()
	p := s.mustPattern(pattern)
	if n <= 0 {
		s.t.Fatalf("openaitest: Fail(%q, %d, ...): n must be positive", pattern, n)
	}
	if status < 400 || status > 599 {
		s.t.Fatalf("openaitest: Fail(%q, ..., %d, ...): status must be 4xx or 5xx", pattern, status)
	}
	h := make(map[string]string, len(headers))
	for k, v := range headers {
		h[k] = v
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{pattern: p, left: n, status: status, headers: h})
}

// Delay makes every request matching pattern (see Fail) wait d before it is
// handled; d <= 0 removes the delay for that pattern. When several delays
// match, the longest applies. A request whose client goes away while it
// waits is dropped without an answer.
func (s *Server) Delay(pattern string, d time.Duration) {
	s.t.Helper()
	p := s.mustPattern(pattern)
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.delays[:0]
	for _, dl := range s.delays {
		if dl.pattern.raw != pattern {
			kept = append(kept, dl)
		}
	}
	s.delays = kept
	if d > 0 {
		s.delays = append(s.delays, delay{pattern: p, d: d})
	}
}

// Hold makes the next n requests matching pattern (see Fail) wait, after
// any Delay and before faults and the key check, until h.Release is called
// or their client gives up (a held request whose client goes away is
// dropped without an answer, like a hung upstream). Later requests pass.
// Holds are consumed in the order they were added; a request takes at most
// one. Requests still held when the test ends are dropped.
func (s *Server) Hold(pattern string, n int) *Hold {
	s.t.Helper()
	p := s.mustPattern(pattern)
	if n <= 0 {
		s.t.Fatalf("openaitest: Hold(%q, %d): n must be positive", pattern, n)
	}
	h := &Hold{srv: s, pattern: p, left: n, arrived: make(chan Request, n), release: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holds = append(s.holds, h)
	return h
}

// takeHold consumes one hold matching the request. s.mu is held.
func (s *Server) takeHold(method, p string) *Hold {
	for i, h := range s.holds {
		if !h.pattern.match(method, p) {
			continue
		}
		h.left--
		if h.left == 0 {
			s.holds = append(s.holds[:i:i], s.holds[i+1:]...)
		}
		return h
	}
	return nil
}

// SetProcessing shapes files attached from now on through
// POST /vector_stores/{id}/files. They start "in_progress" and reach their
// end state on the getsUntilDone-th observation, or at once when
// getsUntilDone is 0. An observation is a GET of the file, of its vector
// store's file list, or of its vector store. The end state is "completed",
// or, when failWith is not empty, "failed" with last_error
// {"code": "server_error", "message": failWith}.
// The default is SetProcessing(1, "").
func (s *Server) SetProcessing(getsUntilDone int, failWith string) {
	s.t.Helper()
	if getsUntilDone < 0 {
		s.t.Fatalf("openaitest: SetProcessing(%d, ...): getsUntilDone must not be negative", getsUntilDone)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.processing = processing{getsUntilDone: getsUntilDone, failWith: failWith}
}

// Requests returns the recorded requests matching pattern (see Fail), in the
// order they arrived.
func (s *Server) Requests(pattern string) []Request {
	s.t.Helper()
	p := s.mustPattern(pattern)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if p.match(r.Method, r.Path) {
			out = append(out, cloneRequest(r))
		}
	}
	return out
}

func cloneRequest(r Request) Request {
	r.Query = url.Values(http.Header(r.Query).Clone())
	r.Header = r.Header.Clone()
	r.Body = append([]byte(nil), r.Body...)
	return r
}

// serveHTTP records the request, applies delays and faults, checks the API
// key and routes it.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	canonical := strings.TrimPrefix(r.URL.Path, "/v1")
	if canonical == "" || !strings.HasPrefix(canonical, "/") {
		canonical = r.URL.Path // "/v1x" is not the /v1 prefix
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))

	s.mu.Lock()
	s.lastReq++
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-request-id", fmt.Sprintf("req_%06d", s.lastReq))
	req := Request{
		Method: r.Method, Path: canonical, Query: r.URL.Query(),
		Body: append([]byte(nil), body...), Header: r.Header.Clone(),
	}
	s.requests = append(s.requests, req)
	wait := s.delayFor(r.Method, canonical)
	s.mu.Unlock()

	if wait > 0 {
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
			return // the client gave up: answer nothing
		case <-s.closing:
			return
		}
	}

	s.mu.Lock()
	hold := s.takeHold(r.Method, canonical)
	s.mu.Unlock()
	if hold != nil {
		hold.arrived <- cloneRequest(req) // buffered for every request the hold takes
		select {
		case <-hold.release:
		case <-r.Context().Done():
			return // the client gave up: answer nothing
		case <-s.closing:
			return
		}
	}

	s.mu.Lock()
	f := s.takeFault(r.Method, canonical)
	s.mu.Unlock()
	if f != nil {
		for k, v := range f.headers {
			w.Header().Set(k, v)
		}
		writeError(w, faultError(f.status, r))
		return
	}
	if e := s.authenticate(r); e != nil {
		writeError(w, e)
		return
	}
	if err != nil {
		writeError(w, &apiError{status: http.StatusRequestEntityTooLarge, Type: "invalid_request_error",
			Message: fmt.Sprintf("The request body is larger than %d bytes.", maxBodyBytes)})
		return
	}
	s.route(w, r, canonical, body)
}

// delayFor returns the longest delay matching the request. s.mu is held.
func (s *Server) delayFor(method, p string) time.Duration {
	var longest time.Duration
	for _, d := range s.delays {
		if d.pattern.match(method, p) && d.d > longest {
			longest = d.d
		}
	}
	return longest
}

// takeFault consumes one scripted fault matching the request. s.mu is held.
func (s *Server) takeFault(method, p string) *fault {
	for i, f := range s.faults {
		if !f.pattern.match(method, p) {
			continue
		}
		f.left--
		if f.left == 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		return f
	}
	return nil
}

// authenticate checks the bearer token as the API does: a missing key and a
// wrong key are both 401, with different messages.
func (s *Server) authenticate(r *http.Request) *apiError {
	auth := r.Header.Get("Authorization")
	key, ok := strings.CutPrefix(auth, "Bearer ")
	switch {
	case auth == "" || (ok && strings.TrimSpace(key) == ""):
		return &apiError{status: http.StatusUnauthorized, Type: "invalid_request_error",
			Message: "You didn't provide an API key. You need to provide your API key in an Authorization header " +
				"using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."}
	case !ok || key != s.apiKey:
		return invalidAPIKey(key)
	}
	return nil
}

func invalidAPIKey(key string) *apiError {
	return &apiError{status: http.StatusUnauthorized, Type: "invalid_request_error", Code: "invalid_api_key",
		Message: fmt.Sprintf("Incorrect API key provided: %s. You can find your API key at "+
			"https://platform.openai.com/account/api-keys.", redact(key))}
}

// redact keeps at most the first three and last four characters of a key.
func redact(key string) string {
	if len(key) <= 8 {
		return strings.Repeat("*", len(key))
	}
	return key[:3] + strings.Repeat("*", len(key)-7) + key[len(key)-4:]
}

// route dispatches on the canonical path. Unknown routes and methods get the
// API's "Invalid URL" 404.
func (s *Server) route(w http.ResponseWriter, r *http.Request, p string, body []byte) {
	seg := strings.Split(strings.Trim(p, "/"), "/")
	m := r.Method
	switch {
	case len(seg) == 1 && seg[0] == "files" && m == http.MethodPost:
		s.createFile(w, r, body)
	case len(seg) == 2 && seg[0] == "files" && m == http.MethodGet:
		s.getFile(w, seg[1])
	case len(seg) == 2 && seg[0] == "files" && m == http.MethodDelete:
		s.deleteFile(w, seg[1])
	case len(seg) == 1 && seg[0] == "vector_stores" && m == http.MethodPost:
		s.createVectorStore(w, body)
	case len(seg) == 2 && seg[0] == "vector_stores" && m == http.MethodGet:
		s.getVectorStore(w, seg[1])
	case len(seg) == 2 && seg[0] == "vector_stores" && m == http.MethodDelete:
		s.deleteVectorStore(w, seg[1])
	case len(seg) == 3 && seg[0] == "vector_stores" && seg[2] == "search" && m == http.MethodPost:
		s.search(w, seg[1], body)
	case len(seg) == 3 && seg[0] == "vector_stores" && seg[2] == "files" && m == http.MethodPost:
		s.attachFile(w, seg[1], body)
	case len(seg) == 3 && seg[0] == "vector_stores" && seg[2] == "files" && m == http.MethodGet:
		s.listFiles(w, seg[1], r.URL.Query())
	case len(seg) == 4 && seg[0] == "vector_stores" && seg[2] == "files" && m == http.MethodGet:
		s.getVectorStoreFile(w, seg[1], seg[3])
	case len(seg) == 4 && seg[0] == "vector_stores" && seg[2] == "files" && m == http.MethodPost:
		s.updateVectorStoreFile(w, seg[1], seg[3], body)
	case len(seg) == 4 && seg[0] == "vector_stores" && seg[2] == "files" && m == http.MethodDelete:
		s.detachFile(w, seg[1], seg[3])
	case len(seg) == 5 && seg[0] == "vector_stores" && seg[2] == "files" && seg[4] == "content" && m == http.MethodGet:
		s.fileContent(w, seg[1], seg[3])
	default:
		writeError(w, &apiError{status: http.StatusNotFound, Type: "invalid_request_error",
			Message: fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path)})
	}
}

// now advances the fake clock by one second and returns it. s.mu is held.
func (s *Server) now() int64 {
	s.clock++
	return epoch + s.clock
}

// pattern matches requests by method and canonical path; see Fail.
type pattern struct {
	raw, method, path string // method "" or "*" = any; path "*" = any
}

func parsePattern(raw string) (pattern, error) {
	p := pattern{raw: raw, path: strings.TrimSpace(raw)}
	if method, rest, ok := strings.Cut(p.path, " "); ok {
		p.method, p.path = method, strings.TrimSpace(rest)
	}
	if p.path != "*" {
		if !strings.HasPrefix(p.path, "/") {
			return p, fmt.Errorf("path %q must be \"*\" or start with /", p.path)
		}
		if _, err := path.Match(p.path, ""); err != nil {
			return p, err
		}
	}
	return p, nil
}

func (s *Server) mustPattern(raw string) pattern {
	s.t.Helper()
	p, err := parsePattern(raw)
	if err != nil {
		s.t.Fatalf("openaitest: pattern %q: %v", raw, err)
	}
	return p
}

func (p pattern) match(method, reqPath string) bool {
	if p.method != "" && p.method != "*" && !strings.EqualFold(p.method, method) {
		return false
	}
	if p.path == "*" {
		return true
	}
	ok, _ := path.Match(p.path, reqPath)
	return ok
}

// apiError is the API's error object; it is sent as {"error": {...}}.
type apiError struct {
	status  int
	Message string
	Type    string
	Param   string // "" is sent as null
	Code    string // "" is sent as null
}

func (e *apiError) MarshalJSON() ([]byte, error) {
	nullable := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return json.Marshal(struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	}{e.Message, e.Type, nullable(e.Param), nullable(e.Code)})
}

func badRequest(param, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, Type: "invalid_request_error", Param: param,
		Message: fmt.Sprintf(format, args...)}
}

func notFound(param, format string, args ...any) *apiError {
	return &apiError{status: http.StatusNotFound, Type: "invalid_request_error", Param: param,
		Message: fmt.Sprintf(format, args...)}
}

// faultError is the documented error body for a scripted status.
func faultError(status int, r *http.Request) *apiError {
	switch {
	case status == http.StatusUnauthorized:
		key, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		return invalidAPIKey(key)
	case status == http.StatusTooManyRequests:
		return &apiError{status: status, Type: "requests", Code: "rate_limit_exceeded",
			Message: "Rate limit reached for requests. Please try again later."}
	case status == http.StatusNotFound:
		return &apiError{status: status, Type: "invalid_request_error", Message: "Not found"}
	case status >= 500:
		return &apiError{status: status, Type: "server_error",
			Message: "The server had an error while processing your request. Sorry about that!"}
	default:
		return &apiError{status: status, Type: "invalid_request_error", Message: http.StatusText(status)}
	}
}

func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, map[string]*apiError{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"message":"openaitest: encode response","type":"server_error","param":null,"code":null}}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// decodeBody decodes a JSON request body into v, rejecting unknown fields
// and bad types with the API's 400 errors.
func decodeBody(body []byte, v any) *apiError {
	if len(strings.TrimSpace(string(body))) == 0 {
		return badRequest("", "We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr):
		return badRequest(typeErr.Field, "Invalid type for '%s': expected %s, but got %s instead.",
			typeErr.Field, typeErr.Type, typeErr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return badRequest(field, "Unrecognized request argument supplied: %s", field)
	default:
		return badRequest("", "We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.")
	}
}
