package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/connectorhq/connector/internal/embed/embedtest"
)

// TestSemanticSearch indexes and searches with EMBEDDINGS=openai against an
// embeddings API double (a deterministic fake model whose vectors put
// "money back" next to "reimbursement"): a question that shares no word
// with the document finds it, which keywords alone do not.
func TestSemanticSearch(t *testing.T) {
	fake := embedtest.New("fake-model", 64)
	api := embedtest.NewServer(t, fake, "sk-embed-e2e")

	work := t.TempDir()
	writeFiles(t, work, map[string]string{
		"docs/claims.md":  "# Claims\n\nReimbursement of purchases happens within thirty days of the request.",
		"docs/parking.md": "# Parking\n\nVisitors park on level two of the garage.",
		"docs/ports.md":   "# Ports\n\nThe server listens on port 8000 unless ADDR says otherwise.",
	})
	keywords := []string{"INDEX_DIR=" + filepath.Join(work, "index")}
	semantic := append(keywords, "EMBEDDINGS=openai", "EMBEDDINGS_BASE_URL="+api.URL+"/v1/", "EMBEDDINGS_MODEL=fake-model",
		"EMBEDDINGS_DIMENSIONS=64", "EMBEDDINGS_API_KEY=sk-embed-e2e")
	if out, stderr, code := runCLI(t, work, semantic, "index", "docs"); code != 0 {
		t.Fatalf("index: exit %d\n%s\n%s", code, out, stderr)
	}
	search := func(env []string) searchOut {
		t.Helper()
		out, stderr, code := runCLI(t, work, env, "search", "how do I get my money back")
		var found searchOut
		if code != 0 || json.Unmarshal([]byte(out), &found) != nil {
			t.Fatalf("search: exit %d\n%s\n%s", code, out, stderr)
		}
		return found
	}
	if found := search(semantic); len(found.Results) == 0 || found.Results[0].ID != "docs/claims.md" {
		t.Errorf("with embeddings: %+v, want docs/claims.md first", found.Results)
	}
	for _, r := range search(keywords).Results {
		if r.ID == "docs/claims.md" {
			t.Errorf("keywords alone found the claims page: %+v", r)
		}
	}
	// Another model's vectors are never mixed in: the search says so and
	// ranks by keywords.
	other := append(keywords, "EMBEDDINGS=openai", "EMBEDDINGS_BASE_URL="+api.URL+"/v1/", "EMBEDDINGS_MODEL=other-model",
		"EMBEDDINGS_DIMENSIONS=64", "EMBEDDINGS_API_KEY=sk-embed-e2e", "LOG_LEVEL=warn")
	_, stderr, _ := runCLI(t, work, other, "search", "how do I get my money back")
	if !strings.Contains(stderr, "other-model") || !strings.Contains(stderr, "connector index") {
		t.Errorf("a model mismatch is not reported:\n%s", stderr)
	}
}
