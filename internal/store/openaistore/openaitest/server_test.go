package openaitest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/connectorhq/connector/internal/store/openaistore/openaitest"
)

const testKey = "sk-test-0123456789abcdef"

// clients are the real openai-go services pointed at a fake server.
type clients struct {
	stores openai.VectorStoreService
	files  openai.FileService
}

// newClients never reads OPENAI_* variables (no openai.NewClient) and does
// not retry unless opts say so.
func newClients(srv *openaitest.Server, opts ...option.RequestOption) clients {
	all := append([]option.RequestOption{option.WithBaseURL(srv.URL()), option.WithAPIKey(testKey),
		option.WithMaxRetries(0)}, opts...)
	return clients{stores: openai.NewVectorStoreService(all...), files: openai.NewFileService(all...)}
}

// apiError asserts err is an *openai.Error with the status, code and a
// message containing msg.
func apiError(t *testing.T, err error, status int, code, msg string) *openai.Error {
	t.Helper()
	var e *openai.Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v (%T), want *openai.Error", err, err)
	}
	if e.StatusCode != status || e.Code != code || !strings.Contains(e.Message, msg) {
		t.Fatalf("got %d code=%q message=%q, want %d code=%q message containing %q",
			e.StatusCode, e.Code, e.Message, status, code, msg)
	}
	return e
}

// rawResponse is an answer to a hand-built request.
type rawResponse struct {
	status int
	header http.Header
	body   map[string]any
}

// do sends a request the SDK would not build (bad keys, bad bodies).
func do(t *testing.T, method, url, auth, contentType, body string) rawResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := rawResponse{status: res.StatusCode, header: res.Header}
	if err := json.Unmarshal(b, &out.body); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", method, url, b, err)
	}
	return out
}

// errorFields returns the fields of {"error": {...}}, checking all four are present.
func errorFields(t *testing.T, r rawResponse) map[string]any {
	t.Helper()
	e, ok := r.body["error"].(map[string]any)
	if !ok {
		t.Fatalf("body %v has no error object", r.body)
	}
	for _, k := range []string{"message", "type", "param", "code"} {
		if _, ok := e[k]; !ok {
			t.Errorf("error object %v lacks %q", e, k)
		}
	}
	return e
}

func TestAuthentication(t *testing.T) {
	srv := openaitest.NewServer(t, testKey)
	id := srv.AddVectorStore("docs")
	tests := []struct {
		name, auth string
		wantStatus int
		wantCode   any // nil for JSON null
		wantMsg    string
	}{
		{name: "right key", auth: "Bearer " + testKey, wantStatus: 200},
		{name: "wrong key", auth: "Bearer sk-wrong-key-987654321", wantStatus: 401, wantCode: "invalid_api_key",
			wantMsg: "Incorrect API key provided: sk-***************4321."},
		{name: "missing key", wantStatus: 401, wantMsg: "You didn't provide an API key"},
		{name: "not bearer", auth: "Basic " + testKey, wantStatus: 401, wantCode: "invalid_api_key",
			wantMsg: "Incorrect API key provided"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, http.MethodGet, srv.URL()+"/vector_stores/"+id, tt.auth, "", "")
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d (body %v)", r.status, tt.wantStatus, r.body)
			}
			if tt.wantStatus == 200 {
				return
			}
			e := errorFields(t, r)
			if e["code"] != tt.wantCode || e["type"] != "invalid_request_error" || e["param"] != nil ||
				!strings.Contains(e["message"].(string), tt.wantMsg) {
				t.Errorf("error %v, want code %v and message containing %q", e, tt.wantCode, tt.wantMsg)
			}
			if strings.Contains(e["message"].(string), testKey) {
				t.Errorf("error message %q echoes the key", e["message"])
			}
		})
	}

	t.Run("SDK with wrong key", func(t *testing.T) {
		c := newClients(srv, option.WithAPIKey("sk-not-the-right-one"))
		_, err := c.stores.Get(t.Context(), id)
		apiError(t, err, http.StatusUnauthorized, "invalid_api_key", "Incorrect API key provided")
	})
}

func TestResponseHeadersAndPaths(t *testing.T) {
	srv := openaitest.NewServer(t, testKey)
	id := srv.AddVectorStore("docs")
	auth := "Bearer " + testKey
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantMsg            string
	}{
		{name: "root path", method: http.MethodGet, path: "/vector_stores/" + id, wantStatus: 200},
		{name: "v1 path", method: http.MethodGet, path: "/v1/vector_stores/" + id, wantStatus: 200},
		{name: "unknown path", method: http.MethodGet, path: "/v1/models", wantStatus: 404,
			wantMsg: "Invalid URL (GET /v1/models)"},
		{name: "unknown method", method: http.MethodPut, path: "/vector_stores/" + id, wantStatus: 404,
			wantMsg: "Invalid URL (PUT /vector_stores/" + id + ")"},
		{name: "unknown vector store", method: http.MethodGet, path: "/vector_stores/vs_nope", wantStatus: 404,
			wantMsg: "No vector store found with id 'vs_nope'."},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, tt.method, srv.URL()+tt.path, auth, "", "")
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d (body %v)", r.status, tt.wantStatus, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			rid := r.header.Get("x-request-id")
			if rid == "" || seen[rid] {
				t.Errorf("x-request-id %q is empty or repeated", rid)
			}
			seen[rid] = true
			if tt.wantMsg != "" {
				if e := errorFields(t, r); e["message"] != tt.wantMsg || e["type"] != "invalid_request_error" {
					t.Errorf("error %v, want message %q", e, tt.wantMsg)
				}
			}
		})
	}
	// Requests are recorded without the /v1 prefix.
	if got := len(srv.Requests("GET /vector_stores/" + id)); got != 2 {
		t.Errorf("Requests(GET /vector_stores/%s) has %d entries, want 2", id, got)
	}
}

func TestRequestsRecordsHeadersAndBodies(t *testing.T) {
	srv := openaitest.NewServer(t, testKey)
	c := newClients(srv, option.WithOrganization("org-123"), option.WithProject("proj_456"))
	vs, err := c.stores.New(t.Context(), openai.VectorStoreNewParams{Name: openai.String("docs")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.stores.Files.List(t.Context(), vs.ID, openai.VectorStoreFileListParams{Limit: openai.Int(5)}); err != nil {
		t.Fatal(err)
	}

	all := srv.Requests("*")
	if len(all) != 2 || all[0].Method != "POST" || all[0].Path != "/vector_stores" ||
		all[1].Method != "GET" || all[1].Path != "/vector_stores/"+vs.ID+"/files" {
		t.Fatalf("Requests(*) = %+v, want POST /vector_stores then GET its files", all)
	}
	for _, r := range all {
		if r.Header.Get("OpenAI-Organization") != "org-123" || r.Header.Get("OpenAI-Project") != "proj_456" {
			t.Errorf("%s %s: organization %q project %q", r.Method, r.Path,
				r.Header.Get("OpenAI-Organization"), r.Header.Get("OpenAI-Project"))
		}
	}
	var body map[string]any
	if err := json.Unmarshal(all[0].Body, &body); err != nil || body["name"] != "docs" {
		t.Errorf("create body %s (%v), want name docs", all[0].Body, err)
	}
	if got := all[1].Query.Get("limit"); got != "5" {
		t.Errorf("list query limit=%q, want 5", got)
	}

	// Returned requests are copies.
	all[0].Header.Set("OpenAI-Project", "changed")
	if got := srv.Requests("POST /vector_stores")[0].Header.Get("OpenAI-Project"); got != "proj_456" {
		t.Errorf("mutating a returned Request changed the record: %q", got)
	}

	for pattern, want := range map[string]int{
		"*": 2, "GET *": 1, "* /vector_stores": 1, "/vector_stores/*/files": 1,
		"POST /vector_stores/*/files": 0, "delete *": 0, "/vector_stores/vs_*": 0,
	} {
		if got := len(srv.Requests(pattern)); got != want {
			t.Errorf("Requests(%q) has %d entries, want %d", pattern, got, want)
		}
	}
}

func TestFail(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		headers map[string]string
		code    string
		errType string
		msg     string
	}{
		{name: "bad request", status: 400, errType: "invalid_request_error", msg: "Bad Request"},
		{name: "unauthorized", status: 401, code: "invalid_api_key", errType: "invalid_request_error",
			msg: "Incorrect API key provided"},
		{name: "not found", status: 404, errType: "invalid_request_error", msg: "Not found"},
		{name: "rate limited", status: 429, headers: map[string]string{"Retry-After": "2", "retry-after-ms": "2000"},
			code: "rate_limit_exceeded", errType: "requests", msg: "Rate limit reached"},
		{name: "server error", status: 500, errType: "server_error", msg: "The server had an error"},
		{name: "unavailable", status: 503, errType: "server_error", msg: "The server had an error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := openaitest.NewServer(t, testKey)
			id := srv.AddVectorStore("docs")
			srv.Fail("POST /vector_stores/*/search", 2, tt.status, tt.headers)
			c := newClients(srv)
			search := func() error {
				_, err := c.stores.Search(t.Context(), id, openai.VectorStoreSearchParams{
					Query: openai.VectorStoreSearchParamsQueryUnion{OfString: openai.String("anything")}})
				return err
			}
			// Other endpoints are not affected.
			if _, err := c.stores.Get(t.Context(), id); err != nil {
				t.Fatalf("Get: %v", err)
			}
			for range 2 {
				e := apiError(t, search(), tt.status, tt.code, tt.msg)
				if e.Type != tt.errType {
					t.Errorf("type %q, want %q", e.Type, tt.errType)
				}
				for k, v := range tt.headers {
					if got := e.Response.Header.Get(k); got != v {
						t.Errorf("header %s = %q, want %q", k, got, v)
					}
				}
				if e.Response.Header.Get("Content-Type") != "application/json" || e.Response.Header.Get("x-request-id") == "" {
					t.Errorf("headers %v lack Content-Type or x-request-id", e.Response.Header)
				}
			}
			if err := search(); err != nil {
				t.Fatalf("third search: %v, want the faults used up", err)
			}
		})
	}
}

func TestFailIsRetriedBySDK(t *testing.T) {
	srv := openaitest.NewServer(t, testKey)
	srv.Fail("*", 2, http.StatusTooManyRequests, map[string]string{"retry-after-ms": "5"})
	c := newClients(srv, option.WithMaxRetries(2))
	if _, err := c.stores.New(t.Context(), openai.VectorStoreNewParams{Name: openai.String("docs")}); err != nil {
		t.Fatalf("New with 2 retries over 2 faults: %v", err)
	}
	if got := len(srv.Requests("POST /vector_stores")); got != 3 {
		t.Errorf("%d requests, want 3", got)
	}
}

func TestDelay(t *testing.T) {
	srv := openaitest.NewServer(t, testKey)
	id := srv.AddVectorStore("docs")
	c := newClients(srv)

	srv.Delay("GET /vector_stores/*", 150*time.Millisecond)
	start := time.Now()
	if _, err := c.stores.Get(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 150*time.Millisecond {
		t.Errorf("delayed Get took %v, want at least 150ms", took)
	}

	t.Run("cancelled context stops the request", func(t *testing.T) {
		srv := openaitest.NewServer(t, testKey)
		c := newClients(srv)
		srv.Delay("POST /vector_stores", time.Minute)
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.stores.New(ctx, openai.VectorStoreNewParams{Name: openai.String("never")})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v, want context.DeadlineExceeded", err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("cancelled New took %v", took)
		}
		// The abandoned request was never handled: the next store is the first.
		srv.Delay("POST /vector_stores", 0)
		vs, err := c.stores.New(t.Context(), openai.VectorStoreNewParams{Name: openai.String("first")})
		if err != nil || vs.ID != "vs_000001" {
			t.Errorf("New after the cancelled one = %v, %v; want vs_000001", vs, err)
		}
		if got := len(srv.Requests("POST /vector_stores")); got != 2 {
			t.Errorf("%d requests recorded, want 2 (delayed ones included)", got)
		}
	})

	// Removing a delay takes effect at once.
	srv.Delay("GET /vector_stores/*", time.Hour)
	srv.Delay("GET /vector_stores/*", 0)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := c.stores.Get(ctx, id); err != nil {
		t.Fatalf("Get after removing the delay: %v", err)
	}
}

func TestHold(t *testing.T) {
	srv := openaitest.NewServer(t, testKey)
	id := srv.AddVectorStore("docs")
	c := newClients(srv)

	// A held request whose client gives up is dropped; the next one is held
	// until released; the one after passes.
	h := srv.Hold("GET /vector_stores/*", 2)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := c.stores.Get(ctx, id)
		errc <- err
	}()
	if r := <-h.Arrived(); r.Path != "/vector_stores/"+id {
		t.Fatalf("held %s %s", r.Method, r.Path)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned held request: %v, want context.Canceled", err)
	}
	go func() {
		_, err := c.stores.Get(t.Context(), id)
		errc <- err
	}()
	<-h.Arrived()
	select {
	case err := <-errc:
		t.Fatalf("held request answered before Release: %v", err)
	default:
	}
	h.Release()
	h.Release() // harmless
	if err := <-errc; err != nil {
		t.Fatalf("released request: %v", err)
	}
	if _, err := c.stores.Get(t.Context(), id); err != nil {
		t.Fatalf("request after the hold: %v", err)
	}
	if n := len(srv.Requests("GET /vector_stores/*")); n != 3 {
		t.Errorf("%d requests recorded, want 3", n)
	}
}

func TestConcurrentUse(t *testing.T) {
	srv := openaitest.NewServer(t, testKey)
	id := srv.AddVectorStore("docs")
	srv.SetProcessing(0, "")
	c := newClients(srv)
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := range workers {
		wg.Go(func() {
			ctx := t.Context()
			f, err := c.files.New(ctx, openai.FileNewParams{Purpose: openai.FilePurposeAssistants,
				File: openai.File(strings.NewReader("parallel worker text"), "w.txt", "text/plain")})
			if err == nil {
				_, err = c.stores.Files.New(ctx, id, openai.VectorStoreFileNewParams{FileID: f.ID,
					Attributes: map[string]openai.VectorStoreFileNewParamsAttributeUnion{
						"worker": {OfFloat: openai.Float(float64(i))}}})
			}
			if err == nil {
				_, err = c.stores.Search(ctx, id, openai.VectorStoreSearchParams{
					Query: openai.VectorStoreSearchParamsQueryUnion{OfString: openai.String("worker")}})
			}
			if err == nil {
				_, err = c.stores.Files.List(ctx, id, openai.VectorStoreFileListParams{})
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := len(srv.Files(id)); got != workers {
		t.Errorf("%d files attached, want %d", got, workers)
	}
	if got := srv.FileObjects(); got != workers {
		t.Errorf("FileObjects() = %d, want %d", got, workers)
	}
}
