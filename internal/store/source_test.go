package store

import (
	"fmt"
	"testing"
)

// TestContentHashPinned pins ContentHash's byte layout (values checked
// independently): a change would make every existing index re-index or
// re-upload all its documents.
func TestContentHashPinned(t *testing.T) {
	for _, c := range []struct {
		d    SourceDocument
		want string
	}{
		{SourceDocument{}, "17b0761f87b081d5cf10757ccc89f12be355c70e2e29df288b65b30710dcbcd1"},
		{SourceDocument{
			Document: Document{ID: "docs/a.md", Title: "Ä title", URL: "https://example.com/a", Text: "alpha\nbravo",
				Metadata: map[string]string{"source": "docs/a.md", "format": "markdown", "": "empty key"}},
			Root: "/home/u/docs", File: "a.md",
		}, "1cb3368f7579cebe99d11fee7c2794e7979f46b3d3b66492e2c2b48da0fda448"},
	} {
		if got := fmt.Sprintf("%x", c.d.ContentHash()); got != c.want {
			t.Errorf("ContentHash(%+v) = %s, want %s", c.d, got, c.want)
		}
	}
}
