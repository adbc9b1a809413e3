// Package embed turns text into vectors for semantic search (issue 18):
// one small interface with two implementations, an in-process sentence
// embedding model (local) and the OpenAI embeddings API (openai).
package embed

import "context"

// Model names an embedding model and its vectors' length. An index keeps
// the Model its vectors came from: vectors of different models never mix.
type Model struct {
	Name string `json:"name"` // e.g. "all-MiniLM-L6-v2" or "openai:text-embedding-3-small"
	Dims int    `json:"dims"`
}

// Embedder turns texts into vectors of Model().Dims dimensions, normalised
// to unit length, one per text and in order. Implementations are safe for
// concurrent use and honour ctx.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	Model() Model
}
