package embed

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/connectorhq/connector/internal/openaihttp"
)

// Batching limits of the openai provider. The API takes at most 2048
// inputs and 300,000 tokens per request; a token is at least one byte, so
// maxBatchBytes of text stay under the token limit whatever the language.
const (
	DefaultBatchSize   = 256
	MaxBatchSize       = 2048
	DefaultConcurrency = 4
	maxBatchBytes      = 250_000
)

// openAIHost is the host whose models keep their bare names (see
// OpenAI.Model).
const openAIHost = "api.openai.com"

var _ Embedder = (*OpenAI)(nil)

// OpenAI is the Embedder over the OpenAI embeddings API (POST /embeddings)
// or a compatible server at another base URL.
type OpenAI struct {
	svc         openai.EmbeddingService
	set         openAIConfig
	apiKey      string // to redact from error messages
	batchSize   int
	concurrency int
	logger      *slog.Logger
}

// openAIConfig is what openAISettings resolves from a Config.
type openAIConfig struct {
	model    string
	dims     int
	sendDims bool   // send the dimensions parameter
	baseURL  string // with a trailing slash
	host     string // of baseURL, lower case, for names and messages
	name     string // Model().Name
	timeout  time.Duration
	retries  int
}

// NewOpenAI returns the openai Embedder of cfg (cfg.Provider is not read).
// It makes no request.
func NewOpenAI(cfg Config) (*OpenAI, error) {
	set, err := openAISettings(cfg)
	if err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	opts := []option.RequestOption{
		option.WithHTTPClient(hc),
		option.WithBaseURL(set.baseURL),
		option.WithAPIKey(cfg.APIKey), // "" sends no Authorization header
		option.WithMaxRetries(set.retries),
	}
	if set.timeout > 0 {
		// Not option.WithRequestTimeout, which never retries a hang; see openaihttp.AttemptTimeout.
		opts = append(opts, option.WithMiddleware(openaihttp.AttemptTimeout(set.timeout)))
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &OpenAI{
		// The service, not openai.NewClient, which would also read OPENAI_*
		// variables from the environment.
		svc:         openai.NewEmbeddingService(opts...),
		set:         set,
		apiKey:      cfg.APIKey,
		batchSize:   cmp.Or(cfg.BatchSize, DefaultBatchSize),
		concurrency: cmp.Or(cfg.Concurrency, DefaultConcurrency),
		logger:      logger.With("embedder", set.name),
	}, nil
}

// openAIDims returns the own vector length of the OpenAI models the
// package knows, and whether the model takes the dimensions parameter.
func openAIDims(model string) (dims int, shortens, known bool) {
	switch model {
	case openai.EmbeddingModelTextEmbedding3Small:
		return 1536, true, true
	case openai.EmbeddingModelTextEmbedding3Large:
		return 3072, true, true
	case openai.EmbeddingModelTextEmbeddingAda002:
		return 1536, false, true
	}
	return 0, false, false
}

// openAISettings checks cfg and resolves its defaults. The dimensions
// parameter is sent only to OpenAI's text-embedding-3 models, and only
// when it shortens their vectors: compatible servers differ on it (some
// ignore it, vLLM rejects it for most models), so for their models Dims
// states the length the model returns, which every answer is checked
// against.
func openAISettings(cfg Config) (openAIConfig, error) {
	var errs []error
	s := openAIConfig{model: cmp.Or(cfg.Model, DefaultOpenAIModel), timeout: max(cfg.Timeout, 0), retries: max(cfg.MaxRetries, 0)}
	own, shortens, known := openAIDims(s.model)
	switch {
	case cfg.Dims < 0:
		errs = append(errs, fmt.Errorf("EMBEDDINGS_DIMENSIONS=%d: want 0 (the model's own) or more", cfg.Dims))
	case cfg.Dims == 0 && !known:
		errs = append(errs, fmt.Errorf("EMBEDDINGS_MODEL=%s needs EMBEDDINGS_DIMENSIONS, the length of the model's vectors (e.g. 768 for nomic-embed-text, 1024 for bge-m3)", s.model))
	case cfg.Dims > own && known:
		errs = append(errs, fmt.Errorf("EMBEDDINGS_DIMENSIONS=%d: %s makes vectors of at most %d dimensions", cfg.Dims, s.model, own))
	case cfg.Dims > 0 && cfg.Dims != own && known && !shortens:
		errs = append(errs, fmt.Errorf("EMBEDDINGS_DIMENSIONS=%d: %s makes vectors of %d dimensions only (set 0)", cfg.Dims, s.model, own))
	}
	s.dims = cmp.Or(cfg.Dims, own)
	s.sendDims = known && shortens && s.dims != own

	s.baseURL = cmp.Or(cfg.BaseURL, DefaultBaseURL)
	u, err := url.Parse(s.baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("EMBEDDINGS_BASE_URL=%q is not an absolute http(s) URL, e.g. %s or http://localhost:11434/v1/", s.baseURL, DefaultBaseURL))
	} else {
		s.host = strings.ToLower(u.Host)
		if !strings.HasSuffix(s.baseURL, "/") {
			s.baseURL += "/" // openai-go resolves "embeddings" against it
		}
		if u.Hostname() == openAIHost && cfg.APIKey == "" {
			errs = append(errs, errors.New("EMBEDDINGS=openai needs an API key: set EMBEDDINGS_API_KEY or OPENAI_API_KEY in the environment or .env"))
		}
	}
	s.name = "openai:" + s.model
	if s.host != "" && s.host != openAIHost {
		s.name += "@" + s.host
	}

	if cfg.BatchSize < 0 || cfg.BatchSize > MaxBatchSize {
		errs = append(errs, fmt.Errorf("embedding batch size %d: want 1 to %d (0 for %d)", cfg.BatchSize, MaxBatchSize, DefaultBatchSize))
	}
	if cfg.Concurrency < 0 {
		errs = append(errs, fmt.Errorf("embedding concurrency %d: want 1 or more (0 for %d)", cfg.Concurrency, DefaultConcurrency))
	}
	return s, errors.Join(errs...)
}

// Model implements Embedder. The name is "openai:" and the model, then,
// when the base URL's host is not api.openai.com, "@" and that host (with
// its port): "openai:text-embedding-3-small" for OpenAI,
// "openai:nomic-embed-text@localhost:11434" for a local server. So an
// index notices a switch of server even under the same model name (two
// servers' "same" model may be different weights or quantisations); a
// proxy in front of OpenAI counts as another server, and its index is
// embedded again.
func (o *OpenAI) Model() Model { return Model{Name: o.set.name, Dims: o.set.dims} }

// Embed implements Embedder: it sends texts in batches of at most
// BatchSize texts and maxBatchBytes bytes, Concurrency at a time, and
// returns unit-length vectors in the order of texts. The first failing
// batch cancels the others and its error is returned (an *Error, or the
// context's error when ctx ended).
func (o *OpenAI) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	if len(texts) == 0 {
		return out, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		sem   = make(chan struct{}, o.concurrency)
	)
	fail := func(err error) {
		once.Do(func() { first = err; cancel() })
	}
	for _, b := range batches(texts, o.batchSize, maxBatchBytes) {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := o.embedBatch(ctx, texts[b[0]:b[1]], out[b[0]:b[1]]); err != nil {
				fail(err)
			}
		})
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("embed %d texts: %w", len(texts), err)
	}
	return out, nil
}

// batches cuts texts into [start, end) ranges of at most size texts and,
// unless one text alone is larger, at most maxBytes bytes.
func batches(texts []string, size, maxBytes int) [][2]int {
	var out [][2]int
	start, n := 0, 0 // the current batch's first text and bytes
	for i, t := range texts {
		if i > start && (i-start == size || n+len(t) > maxBytes) {
			out = append(out, [2]int{start, i})
			start, n = i, 0
		}
		n += len(t)
	}
	return append(out, [2]int{start, len(texts)})
}

// embedBatch embeds texts in one request and writes the vectors to out.
func (o *OpenAI) embedBatch(ctx context.Context, texts []string, out [][]float32) error {
	inputs := make([]string, len(texts))
	for i, t := range texts {
		if strings.TrimSpace(t) == "" {
			t = " " // the API rejects empty inputs; a blank text means as little
		}
		inputs[i] = t
	}
	params := openai.EmbeddingNewParams{
		Input:          openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: inputs},
		Model:          o.set.model,
		EncodingFormat: openai.EmbeddingNewParamsEncodingFormatFloat,
	}
	if o.set.sendDims {
		params.Dimensions = openai.Int(int64(o.set.dims))
	}
	start := time.Now()
	res, err := o.svc.New(ctx, params)
	if err != nil {
		return o.apiError(err)
	}
	o.logger.DebugContext(ctx, "embedded a batch", "texts", len(texts), "tokens", res.Usage.TotalTokens, "duration", time.Since(start))
	if len(res.Data) != len(texts) {
		return o.responseError("returned %d vectors for %d texts", len(res.Data), len(texts))
	}
	// The data may come in any order: each vector goes where its index says.
	seen := make([]bool, len(texts))
	for _, d := range res.Data {
		i := d.Index
		if i < 0 || i >= int64(len(texts)) || seen[i] {
			return o.responseError("returned a vector with index %d, out of range or repeated, for %d texts", i, len(texts))
		}
		seen[i] = true
		if len(d.Embedding) != o.set.dims {
			return o.responseError("returned vectors of %d dimensions, not the %d configured: set EMBEDDINGS_DIMENSIONS=%d, or check that the server honours the dimensions parameter",
				len(d.Embedding), o.set.dims, len(d.Embedding))
		}
		v, ok := unit(d.Embedding)
		if !ok {
			return o.responseError("returned a vector of length zero, or not a number, for text %d", i)
		}
		out[i] = v
	}
	return nil
}

// unit returns v scaled to length 1, as float32; false when v has no
// direction (all zeros) or holds a NaN or infinity.
func unit(v []float64) ([]float32, bool) {
	var sum float64
	for _, x := range v {
		sum += x * x
	}
	norm := math.Sqrt(sum)
	if norm == 0 || math.IsNaN(norm) || math.IsInf(norm, 0) {
		return nil, false
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x / norm)
	}
	return out, true
}

// ErrorKind classifies a failed Embed call, for the caller to decide what
// to do (try again later, or stop and fix the configuration).
type ErrorKind string

const (
	// KindCredentials: the server refused the API key (401, 403).
	KindCredentials ErrorKind = "credentials"
	// KindRateLimited: 429, still after the retries.
	KindRateLimited ErrorKind = "rate_limited"
	// KindUnavailable: 5xx after the retries, or the server could not be reached.
	KindUnavailable ErrorKind = "unavailable"
	// KindTimeout: no answer in time; the error wraps context.DeadlineExceeded.
	KindTimeout ErrorKind = "timeout"
	// KindRequest: the server refused the request (another 4xx): a wrong
	// model name, or an input too long.
	KindRequest ErrorKind = "request"
	// KindResponse: the answer was not usable (wrong dimensions or count).
	KindResponse ErrorKind = "response"
)

// Error is a failed call to the embeddings API. Its message is actionable
// and never holds the API key.
type Error struct {
	Kind   ErrorKind
	Status int // the HTTP status, or 0
	msg    string
	err    error
}

func (e *Error) Error() string { return e.msg }

// Unwrap returns the cause: an *openai.Error, a network error, or
// context.DeadlineExceeded.
func (e *Error) Unwrap() error { return e.err }

// apiError turns a failure of the openai-go call into an *Error, or, when
// the caller's context was cancelled, a wrap of context.Canceled.
func (o *OpenAI) apiError(err error) error {
	at := "the embeddings API at " + o.set.host
	retried := ""
	switch o.set.retries {
	case 0:
	case 1:
		retried = ", still after a retry"
	default:
		retried = fmt.Sprintf(", still after %d retries", o.set.retries)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("embed: %w", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		msg := at + " did not answer in time"
		if o.set.timeout > 0 {
			msg += fmt.Sprintf(" (each attempt may take %s%s)", o.set.timeout, retried)
		}
		return o.newError(KindTimeout, 0, msg+": try again shortly, or raise OPENAI_TIMEOUT", err)
	}
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		return o.newError(KindUnavailable, 0, fmt.Sprintf("could not reach %s: %v", at, err), err)
	}
	code := apiErr.StatusCode
	status := fmt.Sprintf("%d %s", code, http.StatusText(code))
	detail := ""
	if m := strings.TrimSpace(apiErr.Message); m != "" {
		detail = "; the server said: " + m
	}
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return o.newError(KindCredentials, code, fmt.Sprintf("%s rejected the API key (%s): check EMBEDDINGS_API_KEY (unset, OPENAI_API_KEY is used)%s", at, status, detail), err)
	case code == http.StatusTooManyRequests:
		return o.newError(KindRateLimited, code, fmt.Sprintf("%s is rate limiting the connector (%s%s): try again later, or raise the account's limits%s", at, status, retried, detail), err)
	case code >= 500:
		return o.newError(KindUnavailable, code, fmt.Sprintf("%s failed (%s%s): try again shortly%s", at, status, retried, detail), err)
	case code == http.StatusNotFound:
		return o.newError(KindRequest, code, fmt.Sprintf("%s answered %s for model %s: check EMBEDDINGS_MODEL and EMBEDDINGS_BASE_URL%s", at, status, o.set.model, detail), err)
	}
	return o.newError(KindRequest, code, fmt.Sprintf("%s refused the request (%s)%s", at, status, detail), err)
}

// responseError is an answer that cannot be used.
func (o *OpenAI) responseError(format string, args ...any) error {
	msg := fmt.Sprintf("the embeddings API at %s (model %s) ", o.set.host, o.set.model) + fmt.Sprintf(format, args...)
	return o.newError(KindResponse, 0, msg, nil)
}

func (o *OpenAI) newError(kind ErrorKind, status int, msg string, err error) *Error {
	return &Error{Kind: kind, Status: status, msg: openaihttp.RedactKeys(msg, o.apiKey), err: err}
}
