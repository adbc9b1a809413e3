package httpserver

import (
	"fmt"
	"strings"
	"testing"

	"github.com/connectorhq/connector/internal/passage"
)

// longMarkdown returns a Markdown handbook of many sections, long enough
// for many passages, with a distinctive sentence in section `mark`.
func longMarkdown(sections, mark int, sentence string) string {
	var b strings.Builder
	b.WriteString("# Handbook\n\nIntro paragraph.\n\n")
	for s := range sections {
		fmt.Fprintf(&b, "## Section %d\n\n", s)
		for p := range 3 {
			for w := range 40 {
				fmt.Fprintf(&b, "filler%d word%d ", s, w+p)
			}
			b.WriteString("end.\n\n")
		}
		if s == mark {
			b.WriteString(sentence + "\n\n")
		}
		b.WriteString("- a list item\n- another *item*\n\n")
	}
	return b.String()
}

func TestRenderMarkdownPassages(t *testing.T) {
	const sentence = "Claims filed later than thirty days are not reimbursed."
	text := longMarkdown(30, 21, sentence)
	spans := passage.Split(text)
	if len(spans) < 10 {
		t.Fatalf("%d passages; the test wants a long document", len(spans))
	}
	out := newRenderer().render(text, "markdown")
	if len(out.Sections) != len(spans) {
		t.Fatalf("%d sections for %d passages", len(out.Sections), len(spans))
	}
	// The sentence is in the section whose passage holds its start.
	at := strings.Index(text, sentence)
	want := 0
	for i, sp := range spans {
		if sp.Start <= at {
			want = i
		}
	}
	for i, s := range out.Sections {
		if s.ID != passage.Anchor(i+1) {
			t.Errorf("section %d has id %q", i, s.ID)
		}
		if got := strings.Contains(string(s.Body), sentence); got != (i == want) {
			t.Errorf("section %s holds the sentence: %v, want it in %s", s.ID, got, passage.Anchor(want+1))
		}
	}
	if len(out.TOC) != 31 || out.TOC[3].ID != "h-section-2" || out.TOC[3].Level != 2 {
		t.Errorf("toc: %d entries, %+v", len(out.TOC), out.TOC[:min(4, len(out.TOC))])
	}
	var all strings.Builder
	for _, s := range out.Sections {
		all.WriteString(string(s.Body))
	}
	if !strings.Contains(all.String(), `<h2 id="h-section-21">Section 21</h2>`) || !strings.Contains(all.String(), "<li>another <em>item</em></li>") {
		t.Errorf("markdown not rendered as expected:\n%.600s", all.String())
	}
}

// TestRenderSanitised: nothing in a document's text makes the page run a
// script or load anything.
func TestRenderSanitised(t *testing.T) {
	text := "# Title\n\n<script>alert(1)</script>\n\n<img src=\"https://evil.example/x.png\" onerror=alert(1)>\n\n" +
		"Text with ![a chart](https://evil.example/chart.png) and [a link](javascript:alert(1)) and [ok](https://example.com/a) " +
		"and <b onclick=\"alert(1)\">raw</b>.\n\n<iframe src=\"https://evil.example\"></iframe>\n\n## Same\n\n## Same\n"
	out := newRenderer().render(text, "markdown")
	var b strings.Builder
	for _, s := range out.Sections {
		b.WriteString(string(s.Body))
	}
	body := b.String()
	for _, bad := range []string{"<script", "<img", "onerror", "onclick", "javascript:", "<iframe", "src="} {
		if strings.Contains(body, bad) {
			t.Errorf("rendered body holds %q:\n%s", bad, body)
		}
	}
	for _, want := range []string{`href="https://evil.example/chart.png"`, "image: a chart", `href="https://example.com/a"`, `rel="nofollow noreferrer"`,
		`id="h-same"`, `id="h-same-2"`} {
		if !strings.Contains(body, want) {
			t.Errorf("rendered body lacks %q:\n%s", want, body)
		}
	}
}

func TestRenderPlain(t *testing.T) {
	text := "First line\nsecond line <b>\n\nNext paragraph & more"
	for _, c := range []struct {
		format string
		plain  bool
	}{{"text", true}, {"html", false}, {"pdf", true}, {"", true}} {
		out := newRenderer().render(text, c.format)
		if out.Plain != c.plain || len(out.Sections) != 1 || out.TOC != nil {
			t.Errorf("%q: plain %v, %d sections", c.format, out.Plain, len(out.Sections))
		}
		if got, want := string(out.Sections[0].Body), "<p>First line\nsecond line &lt;b&gt;</p><p>Next paragraph &amp; more</p>"; got != want {
			t.Errorf("%q: %q, want %q", c.format, got, want)
		}
	}
	// A long text without blank lines is cut where each passage starts.
	long := strings.Repeat("word ", 2000)
	out := newRenderer().render(long, "text")
	spans := passage.Split(long)
	if len(out.Sections) != len(spans) {
		t.Fatalf("%d sections, %d passages", len(out.Sections), len(spans))
	}
	for i, s := range out.Sections {
		if n := strings.Count(string(s.Body), "word"); n < 200 || n > 320 {
			t.Errorf("section %d holds %d words", i+1, n)
		}
	}
}

// TestRenderLongList: a long top-level list is cut into lists at passage
// starts, so that a passage deep in it has its own section; an ordered
// list numbers on.
func TestRenderLongList(t *testing.T) {
	var b strings.Builder
	b.WriteString("# Steps\n\n")
	for i := range 300 {
		fmt.Fprintf(&b, "%d. step %d of the long procedure, with words enough to fill passages\n", i+1, i+1)
	}
	text := b.String()
	spans := passage.Split(text)
	out := newRenderer().render(text, "markdown")
	if len(spans) < 5 || len(out.Sections) != len(spans) {
		t.Fatalf("%d sections, %d passages", len(out.Sections), len(spans))
	}
	lists := 0
	for i, s := range out.Sections {
		body := string(s.Overlap) + string(s.Body)
		if !strings.Contains(body, "<li>") {
			t.Errorf("section %d holds no list item", i+1)
		}
		lists += strings.Count(body, "<ol")
	}
	if lists < len(spans) {
		t.Errorf("%d lists for %d passages", lists, len(spans))
	}
	// The item numbers run on across sections.
	at := strings.Index(text, "200. step 200")
	for i := len(spans) - 1; i >= 0; i-- {
		if spans[i].Start <= at {
			body := string(out.Sections[i].Overlap) + string(out.Sections[i].Body)
			if !strings.Contains(body, "step 200 of") || !strings.Contains(body, `<ol start="`) {
				t.Errorf("item 200 is not in section %d with a numbered list:\n%.300s", i+1, body)
			}
			break
		}
	}
}
