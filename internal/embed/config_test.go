package embed

import (
	"strings"
	"testing"
)

func TestEmbedNewNone(t *testing.T) {
	for _, p := range []string{"", "none", "NONE"} {
		e, err := New(Config{Provider: p})
		if e != nil || err != nil {
			t.Errorf("%q: %v, %v; want no embedder and no error", p, e, err)
		}
	}
}

func TestEmbedNewOpenAI(t *testing.T) {
	e, err := New(Config{Provider: "openai", APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	if m := e.Model(); m != (Model{Name: "openai:text-embedding-3-small", Dims: 1536}) {
		t.Errorf("Model() = %+v", m)
	}
}

func TestEmbedConfigCheck(t *testing.T) {
	tests := []struct {
		cfg  Config
		want []string // in the error; none: valid
	}{
		{cfg: Config{}},
		{cfg: Config{Provider: "local", ModelDir: "/models/minilm"}},
		{cfg: Config{Provider: "local"}, want: []string{"EMBEDDINGS_MODEL_DIR", "huggingface.co"}},
		{cfg: Config{Provider: "local", ModelDir: "m", Model: "bge-small"}, want: []string{"EMBEDDINGS_MODEL", "all-MiniLM-L6-v2 only"}},
		{cfg: Config{Provider: "openai", APIKey: "k"}},
		{cfg: Config{Provider: "openai", BaseURL: "http://localhost:11434/v1", Model: "nomic-embed-text", Dims: 768}}, // no key needed
		{cfg: Config{Provider: "cohere"}, want: []string{"EMBEDDINGS", "cohere", "openai"}},
		{cfg: Config{Provider: "local", ModelDir: "m", Dims: -1}, want: []string{"EMBEDDINGS_DIMENSIONS"}},
		{cfg: Config{Provider: "openai"}, want: []string{"EMBEDDINGS_API_KEY", "OPENAI_API_KEY"}},
		{cfg: Config{Provider: "openai", APIKey: "k", Model: "nomic-embed-text"}, want: []string{"nomic-embed-text", "EMBEDDINGS_DIMENSIONS"}},
		{cfg: Config{Provider: "openai", APIKey: "k", Dims: 2000}, want: []string{"EMBEDDINGS_DIMENSIONS=2000", "at most 1536"}},
		{cfg: Config{Provider: "openai", APIKey: "k", Model: "text-embedding-ada-002", Dims: 512}, want: []string{"EMBEDDINGS_DIMENSIONS=512", "ada-002"}},
		{cfg: Config{Provider: "openai", APIKey: "k", BaseURL: "localhost:11434"}, want: []string{"EMBEDDINGS_BASE_URL", "http"}},
		{cfg: Config{Provider: "openai", APIKey: "k", BatchSize: 5000, Concurrency: -1}, want: []string{"batch size 5000", "concurrency -1"}},
	}
	for _, tt := range tests {
		err := tt.cfg.Check()
		_, newErr := New(tt.cfg)
		if len(tt.want) == 0 {
			if err != nil {
				t.Errorf("%+v: %v", tt.cfg, err)
			}
			if tt.cfg.Provider != "local" && newErr != nil {
				t.Errorf("%+v: New: %v", tt.cfg, newErr)
			}
			continue
		}
		if err == nil || newErr == nil {
			t.Errorf("%+v: Check %v, New %v; want errors", tt.cfg, err, newErr)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: %q does not mention %s", tt.cfg, err, w)
			}
		}
	}
}
