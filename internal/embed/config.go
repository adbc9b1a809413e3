package embed

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// The providers Config.Provider names (the EMBEDDINGS setting).
const (
	ProviderNone   = "none"   // no embeddings: keyword search only
	ProviderLocal  = "local"  // an in-process model (needs the onnx build tag)
	ProviderOpenAI = "openai" // the OpenAI embeddings API or a compatible server
)

// Default models of the providers, used when Config.Model is empty.
const (
	DefaultLocalModel  = "all-MiniLM-L6-v2" // the sentence-transformers model the local provider runs
	DefaultOpenAIModel = "text-embedding-3-small"
)

// localDims is the length of DefaultLocalModel's vectors.
const localDims = 384

// DefaultBaseURL is the OpenAI API, the default of Config.BaseURL.
const DefaultBaseURL = "https://api.openai.com/v1/"

// Config chooses and configures an Embedder. Every option is explicit:
// nothing is read from the environment (OPENAI_* included) behind the
// caller's back.
type Config struct {
	// Provider is ProviderNone (or ""), ProviderLocal or ProviderOpenAI.
	Provider string
	// Model names the model; "" means the provider's default model.
	Model string
	// Dims is the vectors' length; 0 means the model's own. For openai it
	// is sent as the API's dimensions parameter when it differs from a
	// known model's own size, and is required for models the package does
	// not know (those of compatible servers).
	Dims int

	// ModelDir (local) is the folder holding the model as Hugging Face lays
	// it out: model.onnx (or onnx/model.onnx) and vocab.txt (or
	// tokenizer.json). LibraryPath (local) is ONNX Runtime's shared library;
	// "" means DefaultLibraryPath in an onnx build.
	ModelDir, LibraryPath string

	// The settings below are those of the openai provider.

	// BaseURL is the API's base URL; "" means DefaultBaseURL.
	BaseURL string
	// APIKey is sent as a bearer token (secret: never logged, never in an
	// error); "" sends none, for compatible servers without keys.
	APIKey string
	// Timeout bounds each request attempt, its response body included (0:
	// no bound); the caller's context bounds the whole call, retries
	// included.
	Timeout time.Duration
	// MaxRetries is how often a request is retried on 408, 409, 429 and 5xx
	// (honouring Retry-After), on a dropped connection and on an attempt
	// past Timeout; 0 disables retries.
	MaxRetries int
	// BatchSize is the most texts sent in one request (0 means
	// DefaultBatchSize, at most MaxBatchSize); a request also carries at
	// most maxBatchBytes of text.
	BatchSize int
	// Concurrency is the most requests in flight for one Embed call (0
	// means DefaultConcurrency).
	Concurrency int
	// HTTPClient sends the requests; nil means a new http.Client.
	HTTPClient *http.Client

	// Logger receives debug lines; nil discards them.
	Logger *slog.Logger
}

// New returns the Embedder cfg describes, or nil and no error when
// cfg.Provider is ProviderNone or "": semantic search is off. It makes no
// request; for ProviderLocal it loads the model, and fails with a clear
// error in a binary built without the onnx tag.
func New(cfg Config) (Embedder, error) {
	switch strings.ToLower(cfg.Provider) {
	case "", ProviderNone:
		return nil, nil
	case ProviderLocal:
		return newLocal(cfg)
	case ProviderOpenAI:
		return NewOpenAI(cfg)
	}
	return nil, fmt.Errorf("EMBEDDINGS=%q: want %q, %q or %q", cfg.Provider, ProviderNone, ProviderLocal, ProviderOpenAI)
}

// Check reports the mistakes in cfg that show without loading a model or
// making a request, so that a command can refuse a bad configuration at
// start. New checks the same.
func (cfg Config) Check() error {
	switch strings.ToLower(cfg.Provider) {
	case "", ProviderNone:
		return nil
	case ProviderLocal:
		switch {
		case cfg.Model != "" && cfg.Model != DefaultLocalModel:
			return fmt.Errorf("EMBEDDINGS_MODEL=%q: EMBEDDINGS=local runs %s only; unset EMBEDDINGS_MODEL", cfg.Model, DefaultLocalModel)
		case cfg.Dims != 0 && cfg.Dims != localDims:
			return fmt.Errorf("EMBEDDINGS_DIMENSIONS=%d: %s makes vectors of %d; unset EMBEDDINGS_DIMENSIONS", cfg.Dims, DefaultLocalModel, localDims)
		case cfg.ModelDir == "":
			return fmt.Errorf("EMBEDDINGS=local needs EMBEDDINGS_MODEL_DIR: a folder with %s's onnx/model.onnx and vocab.txt, as https://huggingface.co/sentence-transformers/%s lays them out", DefaultLocalModel, DefaultLocalModel)
		}
		return nil
	case ProviderOpenAI:
		_, err := openAISettings(cfg)
		return err
	}
	return fmt.Errorf("EMBEDDINGS=%q: want %q, %q or %q", cfg.Provider, ProviderNone, ProviderLocal, ProviderOpenAI)
}
