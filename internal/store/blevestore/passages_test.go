package blevestore

import (
	"fmt"
	"strings"
	"testing"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/passage"
	"github.com/connectorhq/connector/internal/store"
)

// TestLongDocumentSection: a long handbook whose answer sits in one
// section ranks first for a question about that section, with the snippet
// taken from it; fetch still returns the whole document.
func TestLongDocumentSection(t *testing.T) {
	filler := func(topic string, n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "This part of the handbook covers %s in general terms, item %d, with routine guidance for staff. ", topic, i)
		}
		return b.String()
	}
	handbook := "Employee handbook\n\n" + filler("office hours", 40) + "\n\n" +
		filler("security badges", 40) + "\n\n" +
		"Expense reimbursement: submit receipts for travel expenses within 30 days of the trip; claims filed later than 30 days are not reimbursed. " +
		"The finance team pays approved reimbursement claims with the next salary. \n\n" +
		filler("holidays and leave", 40) + "\n\n" + filler("laptops and equipment", 40)
	docs := []store.SourceDocument{
		{Document: store.Document{ID: "handbook", Title: "Employee handbook", Text: handbook}, Root: "r", File: "handbook.md"},
		{Document: store.Document{ID: "travel", Title: "Travel booking", Text: "Book travel through the portal. Trips need approval from a manager."}, Root: "r", File: "travel.md"},
		{Document: store.Document{ID: "receipts", Title: "Scanning receipts", Text: "Scan receipts with the phone app; the app keeps them for a year."}, Root: "r", File: "receipts.md"},
	}
	if n := len(passage.Split(handbook)); n < 4 {
		t.Fatalf("the handbook makes %d passages; the test needs a long document", n)
	}
	dir := t.TempDir()
	mustSync(t, dir, SyncOptions{Roots: []string{"r"}}, docs)
	st := mustOpen(t, dir)

	hits, err := st.Search(t.Context(), access.Everyone(), "how many days do I have to claim reimbursement of travel expenses", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || hits[0].ID != "handbook" {
		t.Fatalf("hits %v, want the handbook first", hits)
	}
	if !strings.Contains(hits[0].Snippet, "30 days") || !strings.Contains(strings.ToLower(hits[0].Snippet), "reimburse") {
		t.Errorf("snippet %q is not from the reimbursement section", hits[0].Snippet)
	}
	// The hit names the passage that matched, numbered as passage.Split
	// numbers the text, so that the document view's anchor shows it.
	if spans := passage.Split(handbook); hits[0].Passage < 2 || hits[0].Passage > len(spans) {
		t.Errorf("hit passage %d, want 2..%d", hits[0].Passage, len(spans))
	} else if sp := spans[hits[0].Passage-1]; !strings.Contains(handbook[sp.Start:sp.End], "claims filed later than 30 days") {
		t.Errorf("passage %d does not hold the reimbursement section", hits[0].Passage)
	}
	for _, h := range hits[1:] {
		if h.Passage != 1 {
			t.Errorf("short document %s: passage %d, want 1", h.ID, h.Passage)
		}
	}
	seen := map[string]bool{}
	for _, h := range hits {
		if seen[h.ID] {
			t.Errorf("document %s twice in %v", h.ID, hits)
		}
		seen[h.ID] = true
	}
	d, err := st.Fetch(t.Context(), access.Everyone(), "handbook")
	if err != nil || d.Text != handbook {
		t.Fatalf("fetch: %v, %d of %d characters", err, len(d.Text), len(handbook))
	}
	if _, err := st.Fetch(t.Context(), access.Everyone(), passageID("handbook", 1)); err == nil {
		t.Error("a passage record can be fetched as a document")
	}
	if s, _ := st.Ready(t.Context()); s.Documents != 3 {
		t.Errorf("Ready counts %d documents, want 3 (not passages)", s.Documents)
	}

	// Updating the handbook to a short text removes its extra passages.
	docs[0].Text = "Employee handbook, short edition: expenses within 30 days."
	mustSync(t, dir, SyncOptions{Roots: []string{"r"}}, docs)
	st2 := mustOpen(t, dir)
	if s, _ := st2.Ready(t.Context()); s.Documents != 3 {
		t.Errorf("after update Ready counts %d", s.Documents)
	}
	hits, _ = st2.Search(t.Context(), access.Everyone(), "security badges", 10)
	for _, h := range hits {
		if h.ID == "handbook" {
			t.Errorf("a passage of the old, long version is still searchable: %+v", h)
		}
	}
}

// TestSearchFallbacks: a query with no document matching all its terms still
// returns the best partial matches, and a misspelled term that matches
// nothing is searched with edit distance.
func TestSearchFallbacks(t *testing.T) {
	dir := t.TempDir()
	mustSync(t, dir, SyncOptions{}, []store.SourceDocument{
		doc("a", "the reimbursement policy for travel"),
		doc("b", "quarterly budget planning for the finance team"),
	})
	st := mustOpen(t, dir)
	hits, err := st.Search(t.Context(), access.Everyone(), "travel budget zanzibar", 10)
	if err != nil || len(hits) != 2 {
		t.Fatalf("partial matches: %v %v", hits, err)
	}
	hits, err = st.Search(t.Context(), access.Everyone(), "reimbursment", 10) // misspelled
	if err != nil || len(hits) != 1 || hits[0].ID != "a" {
		t.Fatalf("fuzzy fallback: %v %v", hits, err)
	}
	hits, err = st.Search(t.Context(), access.Everyone(), "the and of", 10) // only stop words
	if err != nil || len(hits) != 0 {
		t.Fatalf("stop words only: %v %v", hits, err)
	}
}
