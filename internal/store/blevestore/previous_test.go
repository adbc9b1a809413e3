package blevestore

import (
	"testing"

	"github.com/connectorhq/connector/internal/store"
)

// TestPrevious: a run reads the metadata the index it starts from holds
// for an id, until it adds that id itself.
func TestPrevious(t *testing.T) {
	dir := t.TempDir()
	d := doc("page", "text of page")
	d.Metadata = map[string]string{"etag": `"v1"`, "source": "https://example.com/page"}
	mustSync(t, dir, SyncOptions{Roots: []string{"r"}}, []store.SourceDocument{d})

	s, err := NewSyncer(t.Context(), dir, SyncOptions{Roots: []string{"r"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	if m, ok := s.Previous("page"); !ok || m["etag"] != `"v1"` || m["source"] != "https://example.com/page" {
		t.Errorf("Previous(page) = %v, %v", m, ok)
	}
	if _, ok := s.Previous("other"); ok {
		t.Error("Previous(other) found a document")
	}
	if _, err := s.Add(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Previous("page"); ok {
		t.Error("Previous(page) after Add found a document")
	}
}
