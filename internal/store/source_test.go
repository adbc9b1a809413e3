package store

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/connectorhq/connector/internal/access"
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

// TestContentHashAccess: an empty access list leaves the hash as it was
// before access lists existed; a non-empty one changes it, follows the
// pinned layout, and cannot be mimicked by a document without one whose
// metadata, root and file hold the same strings.
func TestContentHashAccess(t *testing.T) {
	base := SourceDocument{Document: Document{ID: "a", Text: "alpha"}, Root: "r", File: "f.md"}
	withAccess := func(d SourceDocument, l ...access.Principal) SourceDocument {
		d.Access = l
		return d
	}
	plain := base.ContentHash()
	if withAccess(base).ContentHash() != plain || withAccess(base, []access.Principal{}...).ContentHash() != plain {
		t.Error("an empty access list changes the hash")
	}
	eng := withAccess(base, "group:eng").ContentHash()
	if eng == plain {
		t.Error("an access list does not change the hash")
	}
	if withAccess(base, "group:eng", "group:ops").ContentHash() == eng {
		t.Error("adding a principal does not change the hash")
	}
	if withAccess(base, "group:ops").ContentHash() == eng {
		t.Error("changing the principal does not change the hash")
	}

	// The layout, written out: the strings, the marker, the count, the list.
	h := sha256.New()
	u64 := func(n uint64) { h.Write(binary.LittleEndian.AppendUint64(nil, n)) }
	for _, s := range []string{"a", "", "", "alpha", "r", "f.md"} {
		u64(uint64(len(s)))
		h.Write([]byte(s))
	}
	u64(^uint64(0))
	u64(1)
	u64(uint64(len("group:eng")))
	h.Write([]byte("group:eng"))
	if got, want := fmt.Sprintf("%x", eng), fmt.Sprintf("%x", h.Sum(nil)); got != want {
		t.Errorf("hash with access = %s, want %s", got, want)
	}

	// Were the list written as more strings, say "access" and then each
	// principal, this document would write the same bytes as base with
	// its list.
	mimic := SourceDocument{Document: Document{ID: "a", Text: "alpha", Metadata: map[string]string{"r": "f.md"}},
		Root: "access", File: "group:eng"}
	if mimic.ContentHash() == eng {
		t.Error("a document without an access list hashes like one with")
	}
}

// TestPlaceWeb: a website's pages are named by their URLs.
func TestPlaceWeb(t *testing.T) {
	for _, c := range []struct{ root, file, want string }{
		{"https://example.com/docs/", ".", "https://example.com/docs/"},
		{"https://example.com/docs/", "", "https://example.com/docs/"},
		{"https://example.com/docs/", "guide/install?x=1", "https://example.com/docs/guide/install?x=1"},
		{"https://example.com/docs/", "https://example.com/blog/", "https://example.com/blog/"},
		{"/home/u/docs", "a.md", "docs/a.md"},
	} {
		if got := Place(c.root, c.file, 0); got != c.want {
			t.Errorf("Place(%q, %q) = %q, want %q", c.root, c.file, got, c.want)
		}
	}
}
