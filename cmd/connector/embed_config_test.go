package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/connectorhq/connector/internal/embed"
)

func TestConfigEmbeddings(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want embed.Model // of the embedder built; zero: none
		errs []string    // in the error; none: valid
	}{
		{env: map[string]string{}},
		{env: map[string]string{"EMBEDDINGS": "openai", "OPENAI_API_KEY": "sk-a"},
			want: embed.Model{Name: "openai:text-embedding-3-small", Dims: 1536}},
		{env: map[string]string{"EMBEDDINGS": "OpenAI", "EMBEDDINGS_API_KEY": "sk-b", "EMBEDDINGS_MODEL": "text-embedding-3-large", "EMBEDDINGS_DIMENSIONS": "1024"},
			want: embed.Model{Name: "openai:text-embedding-3-large", Dims: 1024}},
		{env: map[string]string{"EMBEDDINGS": "openai", "EMBEDDINGS_BASE_URL": "http://localhost:11434/v1/", "EMBEDDINGS_MODEL": "nomic-embed-text", "EMBEDDINGS_DIMENSIONS": "768"},
			want: embed.Model{Name: "openai:nomic-embed-text@localhost:11434", Dims: 768}},
		{env: map[string]string{"EMBEDDINGS": "openai"}, errs: []string{"EMBEDDINGS_API_KEY", "OPENAI_API_KEY"}},
		{env: map[string]string{"EMBEDDINGS": "openai", "OPENAI_API_KEY": "sk-a", "EMBEDDINGS_MODEL": "bge-m3"}, errs: []string{"bge-m3", "EMBEDDINGS_DIMENSIONS"}},
		{env: map[string]string{"EMBEDDINGS": "semantic"}, errs: []string{"EMBEDDINGS", "semantic", `"local"`}},
		{env: map[string]string{"EMBEDDINGS_DIMENSIONS": "-3"}, errs: []string{"EMBEDDINGS_DIMENSIONS", "-3"}},
		{env: map[string]string{"EMBEDDINGS_BASE_URL": "localhost:11434"}, errs: []string{"EMBEDDINGS_BASE_URL", "http"}},
	}
	for _, tt := range tests {
		c, err := loadConfig(func(k string) string { return tt.env[k] }, nil, nil, forAll)
		if len(tt.errs) > 0 {
			if err == nil {
				t.Errorf("%v: no error", tt.env)
				continue
			}
			for _, w := range tt.errs {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v: %q does not mention %s", tt.env, err, w)
				}
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tt.env, err)
			continue
		}
		e, err := embed.New(c.embedConfig(nil))
		if err != nil {
			t.Errorf("%v: embed.New: %v", tt.env, err)
			continue
		}
		if (e == nil) != (tt.want == embed.Model{}) || (e != nil && e.Model() != tt.want) {
			t.Errorf("%v: embedder %v, want model %+v", tt.env, e, tt.want)
		}
	}
}

// TestConfigEmbeddingsKey: EMBEDDINGS_API_KEY falls back to OPENAI_API_KEY,
// is never a flag, and never shows in logs or errors.
func TestConfigEmbeddingsKey(t *testing.T) {
	env := map[string]string{"EMBEDDINGS": "openai", "OPENAI_API_KEY": "sk-openai-secret"}
	c, err := loadConfig(func(k string) string { return env[k] }, nil, nil, forIndex)
	if err != nil {
		t.Fatal(err)
	}
	if ec := c.embedConfig(nil); ec.APIKey != "sk-openai-secret" || ec.Timeout != c.OpenAITimeout || ec.MaxRetries != c.OpenAIRetries {
		t.Errorf("embedConfig = %+v", ec)
	}
	env["EMBEDDINGS_API_KEY"] = "sk-embed-secret"
	if c, _ = loadConfig(func(k string) string { return env[k] }, nil, nil, forIndex); c.EmbeddingsAPIKey != "sk-embed-secret" {
		t.Errorf("EMBEDDINGS_API_KEY not used")
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", c)
	if strings.Contains(buf.String(), "sk-") || !strings.Contains(buf.String(), `"embeddings_key_set":true`) {
		t.Errorf("log line: %s", buf.String())
	}
	for _, s := range settings {
		if s.env == "EMBEDDINGS_API_KEY" && (s.flag != "" || !s.secret) {
			t.Errorf("EMBEDDINGS_API_KEY must be a secret without a flag")
		}
	}
}
