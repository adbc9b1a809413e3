package blevestore

import (
	"fmt"
	"strings"
	"testing"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/store"
)

func TestSplitPassages(t *testing.T) {
	short := strings.Repeat("word ", maxSingleWords)
	if p := splitPassages(short); len(p) != 1 || p[0] != (span{0, len(short)}) {
		t.Fatalf("a %d-word text must stay one passage, got %v", maxSingleWords, p)
	}
	var b strings.Builder
	b.WriteString("\n  ")
	for i := range 2000 {
		fmt.Fprintf(&b, "w%d ", i)
		if i%17 == 16 {
			b.WriteString("end. ")
		}
	}
	long := b.String()
	spans := splitPassages(long)
	if len(spans) < 6 || len(spans) > 10 {
		t.Fatalf("2000+ words gave %d passages", len(spans))
	}
	ps := make([]string, len(spans))
	at := make([]int, len(spans))
	for i, sp := range spans {
		ps[i], at[i] = long[sp.start:sp.end], sp.start
	}
	for i, p := range ps {
		n := len(strings.Fields(p))
		if n > passageWords+5 || (i < len(ps)-1 && n < passageWords-passageWords/6-5) {
			t.Errorf("passage %d has %d words", i, n)
		}
		if i > 0 {
			prev := strings.Fields(ps[i-1])
			if !strings.Contains(p, strings.Join(prev[len(prev)-10:], " ")) {
				t.Errorf("passage %d does not overlap the previous one", i)
			}
		}
	}
	// The passages hold the whole text, and give it back.
	if got := joinPassages(ps, at); got != long {
		t.Fatalf("joined passages differ from the text (%d bytes, want %d)", len(got), len(long))
	}
}

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
	if n := len(splitPassages(handbook)); n < 4 {
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
