package embed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const testKey = "sk-test-0123456789abcdefSECRET"

// embeddingsAPI is a stand-in for POST /v1/embeddings. It answers with the
// API reference's shapes; the vector of a text "tK" (K a number) is
// [K+1, 1, 0, ...] before normalisation, so a test can tell which text a
// vector belongs to. fault, when set, may answer a request instead (n counts
// requests from 1).
type embeddingsAPI struct {
	dims    int  // length of the vectors returned
	reverse bool // return data in reverse order, as the API may
	fault   func(w http.ResponseWriter, r *http.Request, n int) bool

	mu       sync.Mutex
	requests []embeddingsRequest
}

type embeddingsRequest struct {
	Auth           string
	Path           string
	Input          []string `json:"input"`
	Model          string   `json:"model"`
	Dimensions     *int     `json:"dimensions"`
	EncodingFormat string   `json:"encoding_format"`
}

func (a *embeddingsAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req embeddingsRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req.Auth, req.Path = r.Header.Get("Authorization"), r.URL.Path
	a.mu.Lock()
	a.requests = append(a.requests, req)
	n := len(a.requests)
	a.mu.Unlock()
	if a.fault != nil && a.fault(w, r, n) {
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" {
		apiError(w, http.StatusNotFound, "Invalid URL")
		return
	}
	type item struct {
		Object    string    `json:"object"`
		Index     int       `json:"index"`
		Embedding []float64 `json:"embedding"`
	}
	var data []item
	for i, in := range req.Input {
		if in == "" {
			apiError(w, http.StatusBadRequest, "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.")
			return
		}
		var k int
		fmt.Sscanf(in, "t%d", &k)
		v := make([]float64, a.dims)
		v[0], v[1] = float64(k+1), 1
		data = append(data, item{Object: "embedding", Index: i, Embedding: v})
	}
	if a.reverse {
		slices.Reverse(data)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"object": "list", "data": data, "model": req.Model,
		"usage": map[string]int{"prompt_tokens": len(req.Input), "total_tokens": len(req.Input)},
	})
}

func (a *embeddingsAPI) Requests() []embeddingsRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.requests)
}

// apiError writes the API's error shape; the message may echo a key, as a
// careless proxy's might.
func apiError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": msg, "type": "invalid_request_error", "param": nil, "code": nil}})
}

// newTestEmbedder starts api and returns an embedder for it with the test
// model "t-model" of 4 dimensions unless cfg says otherwise.
func newTestEmbedder(t *testing.T, api *embeddingsAPI, cfg Config) (*OpenAI, *httptest.Server) {
	t.Helper()
	if api.dims == 0 {
		api.dims = 4
	}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	cfg.BaseURL = srv.URL + "/v1"
	cfg.APIKey = testKey
	if cfg.Model == "" {
		cfg.Model, cfg.Dims = "t-model", orInt(cfg.Dims, 4)
	}
	e, err := NewOpenAI(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e, srv
}

func orInt(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

func texts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("t%d", i)
	}
	return out
}

// checkVectors checks that vectors are unit length and belong to texts
// "t0", "t1", ... in order.
func checkVectors(t *testing.T, vecs [][]float32, n, dims int) {
	t.Helper()
	if len(vecs) != n {
		t.Fatalf("%d vectors for %d texts", len(vecs), n)
	}
	for i, v := range vecs {
		if len(v) != dims {
			t.Fatalf("vector %d has %d dimensions, want %d", i, len(v), dims)
		}
		var sum float64
		for _, x := range v {
			sum += float64(x) * float64(x)
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Errorf("vector %d has squared length %g, want 1", i, sum)
		}
		if k := math.Round(float64(v[0] / v[1])); k != float64(i+1) {
			t.Errorf("vector %d belongs to text t%v", i, k-1)
		}
	}
}

func TestEmbedOpenAIRequest(t *testing.T) {
	api := &embeddingsAPI{reverse: true}
	e, _ := newTestEmbedder(t, api, Config{})
	vecs, err := e.Embed(t.Context(), texts(5))
	if err != nil {
		t.Fatal(err)
	}
	checkVectors(t, vecs, 5, 4)
	reqs := api.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Path != "/v1/embeddings" || r.Auth != "Bearer "+testKey || r.Model != "t-model" ||
		r.EncodingFormat != "float" || r.Dimensions != nil || !slices.Equal(r.Input, texts(5)) {
		t.Errorf("request = %+v", r)
	}
	if vecs, err := e.Embed(t.Context(), nil); err != nil || len(vecs) != 0 || len(api.Requests()) != 1 {
		t.Errorf("no texts: %v, %v, %d requests", vecs, err, len(api.Requests()))
	}
}

func TestEmbedOpenAIBlankTexts(t *testing.T) {
	api := &embeddingsAPI{}
	e, _ := newTestEmbedder(t, api, Config{})
	vecs, err := e.Embed(t.Context(), []string{"t0", "", " \n"})
	if err != nil {
		t.Fatal(err)
	}
	if len(vecs) != 3 {
		t.Fatalf("%d vectors", len(vecs))
	}
	if in := api.Requests()[0].Input; !slices.Equal(in, []string{"t0", " ", " "}) {
		t.Errorf("sent %q, want blank texts as a single space", in)
	}
}

func TestEmbedOpenAIBatches(t *testing.T) {
	api := &embeddingsAPI{reverse: true}
	e, _ := newTestEmbedder(t, api, Config{BatchSize: 3, Concurrency: 2})
	vecs, err := e.Embed(t.Context(), texts(10))
	if err != nil {
		t.Fatal(err)
	}
	checkVectors(t, vecs, 10, 4)
	var sizes []int
	for _, r := range api.Requests() {
		sizes = append(sizes, len(r.Input))
	}
	slices.Sort(sizes)
	if !slices.Equal(sizes, []int{1, 3, 3, 3}) {
		t.Errorf("batch sizes %v, want 3, 3, 3 and 1", sizes)
	}
}

func TestEmbedBatchesBoundBytes(t *testing.T) {
	in := []string{"aaaa", "bb", "cc", "dddddddddd", "e", "f"}
	got := batches(in, 3, 6)
	want := [][2]int{{0, 2}, {2, 3}, {3, 4}, {4, 6}} // a text over the bound goes alone
	if !slices.Equal(got, want) {
		t.Errorf("batches = %v, want %v", got, want)
	}
	if got := batches(texts(5), 2, 1000); !slices.Equal(got, [][2]int{{0, 2}, {2, 4}, {4, 5}}) {
		t.Errorf("batches by count = %v", got)
	}
}

func TestEmbedOpenAIDimensions(t *testing.T) {
	// text-embedding-3-small shortened to 512: the parameter is sent, and
	// a server that ignores it is caught.
	api := &embeddingsAPI{dims: 1536}
	e, _ := newTestEmbedder(t, api, Config{Model: "text-embedding-3-small", Dims: 512})
	if m := e.Model(); m.Dims != 512 {
		t.Errorf("Model() = %+v", m)
	}
	_, err := e.Embed(t.Context(), texts(2))
	var ee *Error
	if !errors.As(err, &ee) || ee.Kind != KindResponse || !strings.Contains(err.Error(), "1536") || !strings.Contains(err.Error(), "EMBEDDINGS_DIMENSIONS") {
		t.Errorf("wrong dimensions: %v", err)
	}
	if r := api.Requests()[0]; r.Dimensions == nil || *r.Dimensions != 512 {
		t.Errorf("dimensions sent = %v, want 512", r.Dimensions)
	}

	// The model's own size: no parameter.
	api = &embeddingsAPI{dims: 1536}
	e, _ = newTestEmbedder(t, api, Config{Model: "text-embedding-3-small"})
	vecs, err := e.Embed(t.Context(), texts(2))
	if err != nil {
		t.Fatal(err)
	}
	checkVectors(t, vecs, 2, 1536)
	if r := api.Requests()[0]; r.Dimensions != nil {
		t.Errorf("dimensions sent = %d for the model's own size", *r.Dimensions)
	}

	// A compatible server's model: Dims is checked, never sent.
	api = &embeddingsAPI{dims: 768}
	e, _ = newTestEmbedder(t, api, Config{Model: "nomic-embed-text", Dims: 1024})
	if _, err := e.Embed(t.Context(), texts(1)); err == nil || !strings.Contains(err.Error(), "EMBEDDINGS_DIMENSIONS=768") {
		t.Errorf("wrong dimensions: %v", err)
	}
	if r := api.Requests()[0]; r.Dimensions != nil {
		t.Errorf("dimensions sent to a compatible server's model")
	}
}

func TestEmbedOpenAIBadAnswers(t *testing.T) {
	for name, body := range map[string]string{
		"too few":     `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[1,0]}],"model":"t","usage":{}}`,
		"bad index":   `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[1,0]},{"object":"embedding","index":0,"embedding":[1,0]}],"model":"t","usage":{}}`,
		"zero vector": `{"object":"list","data":[{"object":"embedding","index":0,"embedding":[1,0]},{"object":"embedding","index":1,"embedding":[0,0]}],"model":"t","usage":{}}`,
	} {
		api := &embeddingsAPI{fault: func(w http.ResponseWriter, _ *http.Request, _ int) bool {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, body)
			return true
		}}
		e, _ := newTestEmbedder(t, api, Config{Model: "t", Dims: 2})
		_, err := e.Embed(t.Context(), texts(2))
		if ee := (*Error)(nil); !errors.As(err, &ee) || ee.Kind != KindResponse {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestEmbedOpenAIErrors(t *testing.T) {
	tests := []struct {
		status   int
		kind     ErrorKind
		attempts int // with MaxRetries 2
		want     []string
	}{
		{http.StatusUnauthorized, KindCredentials, 1, []string{"rejected the API key", "EMBEDDINGS_API_KEY", "401"}},
		{http.StatusForbidden, KindCredentials, 1, []string{"EMBEDDINGS_API_KEY", "403"}},
		{http.StatusBadRequest, KindRequest, 1, []string{"refused the request", "400", "input is invalid"}},
		{http.StatusNotFound, KindRequest, 1, []string{"EMBEDDINGS_MODEL", "t-model", "404"}},
		{http.StatusInternalServerError, KindUnavailable, 3, []string{"500", "try again", "after 2 retries"}},
		{http.StatusTooManyRequests, KindRateLimited, 3, []string{"rate limiting", "429", "after 2 retries"}},
	}
	for _, tt := range tests {
		api := &embeddingsAPI{fault: func(w http.ResponseWriter, r *http.Request, _ int) bool {
			w.Header().Set("Retry-After-Ms", "1") // retry at once
			// Echo the key, as a careless server might.
			apiError(w, tt.status, "input is invalid; key "+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
			return true
		}}
		e, _ := newTestEmbedder(t, api, Config{MaxRetries: 2})
		_, err := e.Embed(t.Context(), texts(2))
		var ee *Error
		if !errors.As(err, &ee) || ee.Kind != tt.kind || ee.Status != tt.status {
			t.Errorf("%d: %#v", tt.status, err)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%d: %q does not say %q", tt.status, err, w)
			}
		}
		if s := fmt.Sprintf("%v %+v %s", err, err, err); strings.Contains(s, testKey) || strings.Contains(s, "SECRET") {
			t.Errorf("%d: the error shows the API key: %s", tt.status, s)
		}
		t.Logf("%d: %v", tt.status, err)
		if n := len(api.Requests()); n != tt.attempts {
			t.Errorf("%d: %d attempts, want %d", tt.status, n, tt.attempts)
		}
	}
}

func TestEmbedOpenAIRetryAfter(t *testing.T) {
	api := &embeddingsAPI{fault: func(w http.ResponseWriter, _ *http.Request, n int) bool {
		if n > 1 {
			return false
		}
		w.Header().Set("Retry-After", "1")
		apiError(w, http.StatusTooManyRequests, "Rate limit reached for text-embedding-3-small")
		return true
	}}
	e, _ := newTestEmbedder(t, api, Config{MaxRetries: 2})
	start := time.Now()
	vecs, err := e.Embed(t.Context(), texts(3))
	if err != nil {
		t.Fatal(err)
	}
	checkVectors(t, vecs, 3, 4)
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("retried after %s, want Retry-After's 1s", d)
	}
	if n := len(api.Requests()); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
}

func TestEmbedOpenAITimeout(t *testing.T) {
	api := &embeddingsAPI{fault: func(w http.ResponseWriter, r *http.Request, _ int) bool {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return true
	}}
	e, _ := newTestEmbedder(t, api, Config{Timeout: 100 * time.Millisecond, MaxRetries: 1})
	start := time.Now()
	_, err := e.Embed(t.Context(), texts(1))
	var ee *Error
	if !errors.As(err, &ee) || ee.Kind != KindTimeout || !errors.Is(err, context.DeadlineExceeded) ||
		!strings.Contains(err.Error(), "did not answer in time") || !strings.Contains(err.Error(), "100ms") {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
	if n := len(api.Requests()); n != 2 {
		t.Errorf("%d attempts, want 2 (one retry)", n)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestEmbedOpenAICancel(t *testing.T) {
	started := make(chan struct{}, 8)
	api := &embeddingsAPI{fault: func(w http.ResponseWriter, r *http.Request, _ int) bool {
		started <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return true
	}}
	e, _ := newTestEmbedder(t, api, Config{MaxRetries: 2, BatchSize: 1, Concurrency: 2})
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-started; cancel() }()
	start := time.Now()
	_, err := e.Embed(ctx, texts(6))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s after the cancellation", d)
	}
	if n := len(api.Requests()); n > 2 {
		t.Errorf("%d requests after the cancellation, want at most the 2 in flight", n)
	}
}

func TestEmbedOpenAIUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	e, err := NewOpenAI(Config{BaseURL: url + "/v1/", APIKey: testKey, Model: "t", Dims: 2})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Embed(t.Context(), texts(1))
	var ee *Error
	if !errors.As(err, &ee) || ee.Kind != KindUnavailable || !strings.Contains(err.Error(), "could not reach") || strings.Contains(err.Error(), testKey) {
		t.Errorf("err = %v", err)
	}
}

func TestOpenAIModelName(t *testing.T) {
	tests := []struct {
		cfg  Config
		want Model
	}{
		{Config{APIKey: "k"}, Model{"openai:text-embedding-3-small", 1536}},
		{Config{APIKey: "k", Model: "text-embedding-3-large", BaseURL: "https://API.openai.com/v1"}, Model{"openai:text-embedding-3-large", 3072}},
		{Config{APIKey: "k", Model: "text-embedding-3-large", Dims: 256}, Model{"openai:text-embedding-3-large", 256}},
		{Config{APIKey: "k", Model: "text-embedding-ada-002"}, Model{"openai:text-embedding-ada-002", 1536}},
		{Config{Model: "nomic-embed-text", Dims: 768, BaseURL: "http://localhost:11434/v1/"}, Model{"openai:nomic-embed-text@localhost:11434", 768}},
		{Config{BaseURL: "https://gateway.example.com/openai/v1"}, Model{"openai:text-embedding-3-small@gateway.example.com", 1536}},
	}
	for _, tt := range tests {
		e, err := NewOpenAI(tt.cfg)
		if err != nil {
			t.Errorf("%+v: %v", tt.cfg, err)
			continue
		}
		if got := e.Model(); got != tt.want {
			t.Errorf("%+v: Model() = %+v, want %+v", tt.cfg, got, tt.want)
		}
	}
}
