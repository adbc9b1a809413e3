package httpserver

import (
	"bytes"
	"html"
	"html/template"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"

	"github.com/connectorhq/connector/internal/passage"
)

// maxMarkdownBytes bounds the Markdown the view parses: goldmark takes time
// quadratic in the nesting of containers, so a larger text is shown as
// plain text rather than risk a slow page.
const maxMarkdownBytes = 1 << 20

// tocLevels is the deepest heading level the table of contents lists.
const tocLevels = 3

// renderer turns a document's stored text into the view's body: the text
// as sanitised HTML, cut into one section per passage (passage.Split, so
// that a search hit's passage number is the section's anchor), and a table
// of contents from its headings. Safe for concurrent use.
type renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
}

// rendered is a document's body, ready for the view's template.
type rendered struct {
	TOC      []tocEntry
	Sections []passageSection
	Plain    bool // plain text: line breaks kept
}

type tocEntry struct {
	Level    int
	ID, Text string
}

// passageSection is passage N's section: the blocks that start in it
// before passage N+1 does. Passages overlap: Overlap holds the blocks that
// start while the previous passage has not ended, so that the page marks
// all of a linked passage (the previous section's :target marks them too).
type passageSection struct {
	N       int
	ID      string
	Overlap template.HTML // sanitised
	Body    template.HTML // sanitised
}

// block is one rendered top-level block and where it starts in the text.
type block struct {
	start int
	html  string
}

func newRenderer() *renderer {
	return &renderer{
		// GitHub-flavoured Markdown (tables, strikethrough, autolinks, task
		// lists); raw HTML in the source is left out (goldmark's default),
		// and what is rendered passes the policy below anyway.
		md:     goldmark.New(goldmark.WithExtensions(extension.GFM)),
		policy: viewPolicy(),
	}
}

// viewPolicy allows the elements rendered Markdown uses, links to http(s)
// and mailto URLs only, and no images, scripts, styles, forms or frames:
// nothing on the page loads anything (the CSP says so too).
func viewPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "hr", "blockquote", "ul", "ol", "li", "pre", "code", "em", "strong", "del", "s",
		"h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "sup", "sub", "kbd")
	p.AllowAttrs("id").Matching(regexp.MustCompile(`^h-[a-z0-9-]+$`)).OnElements("h1", "h2", "h3", "h4", "h5", "h6")
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[\w+#.-]+$`)).OnElements("code")
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	p.AllowAttrs("align").Matching(regexp.MustCompile(`^(left|right|center)$`)).OnElements("th", "td")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("title").Matching(bluemonday.Paragraph).OnElements("a")
	p.AllowURLSchemes("http", "https", "mailto")
	p.AllowRelativeURLs(true)
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	return p
}

// render renders text of the format named by the document's metadata
// "format" (set by ingest): Markdown as HTML, the text extracted from an
// HTML page as paragraphs, anything else as text with its line breaks.
func (r *renderer) render(text, format string) rendered {
	spans := passage.Split(text)
	var out rendered
	var blocks []block
	switch {
	case format == "markdown" && len(text) <= maxMarkdownBytes:
		blocks, out.TOC = r.markdown(text, spans)
	default:
		out.Plain = format != "html"
		blocks = paragraphs(text, spans)
	}
	overlaps, bodies := make([]strings.Builder, len(spans)), make([]strings.Builder, len(spans))
	n := 0
	for _, b := range blocks {
		for n+1 < len(spans) && spans[n+1].Start <= b.start {
			n++
		}
		if n > 0 && b.start < spans[n-1].End {
			overlaps[n].WriteString(r.policy.Sanitize(b.html))
		} else {
			bodies[n].WriteString(r.policy.Sanitize(b.html))
		}
	}
	out.Sections = make([]passageSection, len(spans))
	for i := range spans {
		out.Sections[i] = passageSection{N: i + 1, ID: passage.Anchor(i + 1),
			Overlap: template.HTML(overlaps[i].String()), Body: template.HTML(bodies[i].String())}
	}
	return out
}

// markdown renders each top-level block of a Markdown text on its own,
// with where it starts, and lists the headings for the table of contents,
// giving each an id ("h-" and its words). A top-level list is cut into
// lists of the items that start in one passage (a long list would
// otherwise sit in one section). Images become links to the image: the
// page loads nothing.
func (r *renderer) markdown(src string, spans []passage.Span) ([]block, []tocEntry) {
	source := []byte(src)
	doc := r.md.Parser().Parse(text.NewReader(source))
	var toc []tocEntry
	var images []*ast.Image
	used := map[string]int{}
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			title := strings.Join(strings.Fields(plainText(n, source)), " ")
			id := headingID(title, used)
			n.SetAttributeString("id", []byte(id))
			if n.Level <= tocLevels && title != "" {
				toc = append(toc, tocEntry{Level: n.Level, ID: id, Text: title})
			}
		case *ast.Image:
			images = append(images, n)
		}
		return ast.WalkContinue, nil
	})
	for _, img := range images {
		link := ast.NewLink()
		link.Destination, link.Title = img.Destination, img.Title
		link.AppendChild(link, ast.NewString([]byte("image: ")))
		for c := img.FirstChild(); c != nil; {
			next := c.NextSibling()
			link.AppendChild(link, c)
			c = next
		}
		img.Parent().ReplaceChild(img.Parent(), img, link)
	}
	if len(toc) < 2 {
		toc = nil // one heading is the title: no contents to list
	}
	var blocks []block
	var buf bytes.Buffer
	at := 0
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		if s, ok := blockStart(n); ok {
			at = s
		}
		if list, ok := n.(*ast.List); ok && list.ChildCount() > 1 {
			blocks = append(blocks, r.listBlocks(source, list, at, spans)...)
			continue
		}
		buf.Reset()
		if err := r.md.Renderer().Render(&buf, source, n); err != nil {
			continue // a writer to memory does not fail
		}
		blocks = append(blocks, block{start: at, html: buf.String()})
	}
	return blocks, toc
}

// listBlocks renders a list as one list per run of items that start in
// the same passage, an ordered list's later runs numbered on.
func (r *renderer) listBlocks(source []byte, list *ast.List, at int, spans []passage.Span) []block {
	section := func(at int) int {
		i, _ := slices.BinarySearchFunc(spans, at, func(sp passage.Span, at int) int {
			if sp.Start <= at {
				return -1
			}
			return 1
		})
		return max(i-1, 0)
	}
	var blocks []block
	var buf bytes.Buffer
	number, first := list.Start, at
	cur, items := -1, 0
	flush := func() {
		if items == 0 {
			return
		}
		tag := "ul"
		open := "<ul>"
		if list.IsOrdered() {
			tag, open = "ol", "<ol>"
			if number != 1 {
				open = `<ol start="` + strconv.Itoa(number) + `">`
			}
		}
		blocks = append(blocks, block{start: first, html: open + buf.String() + "</" + tag + ">"})
		number += items
		buf.Reset()
		items = 0
	}
	for item := list.FirstChild(); item != nil; item = item.NextSibling() {
		if s, ok := blockStart(item); ok {
			at = s
		}
		if sec := section(at); sec != cur {
			flush()
			cur, first = sec, at
		}
		if err := r.md.Renderer().Render(&buf, source, item); err == nil {
			items++
		}
	}
	flush()
	return blocks
}

// blockStart returns where a block's first line starts in the source (for
// a container, its first child's), and false for a block without lines
// (a thematic break), which stays where the previous block was.
func blockStart(n ast.Node) (int, bool) {
	if n.Type() == ast.TypeBlock && n.Lines().Len() > 0 {
		return n.Lines().At(0).Start, true
	}
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		if s, ok := blockStart(c); ok {
			return s, true
		}
	}
	return 0, false
}

// plainText returns the text of a node's inline content, without markup.
func plainText(n ast.Node, src []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Segment.Value(src))
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.CodeSpan:
			for t := c.FirstChild(); t != nil; t = t.NextSibling() {
				if s, ok := t.(*ast.Text); ok {
					b.Write(s.Segment.Value(src))
				}
			}
			return ast.WalkSkipChildren, nil
		case *ast.RawHTML:
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

// headingID makes a heading's id from its title: "h-" and its ASCII words
// in lower case joined by "-", numbered when the same title comes again.
// The prefix keeps heading ids apart from passage anchors ("p-N").
func headingID(title string, used map[string]int) string {
	var words []string
	for _, f := range strings.FieldsFunc(strings.ToLower(title), func(r rune) bool {
		return !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)))
	}) {
		words = append(words, f)
		if len(words) == 8 {
			break
		}
	}
	id := "h-" + strings.Join(words, "-")
	if len(words) == 0 {
		id = "h-section"
	}
	used[id]++
	if n := used[id]; n > 1 {
		id += "-" + strconv.Itoa(n)
	}
	return id
}

// paragraphs renders plain text as paragraphs: one for each run of text
// between blank lines, cut where a passage starts or ends so that each
// passage's section (and its overlap with the previous one) holds its own
// text.
func paragraphs(text string, spans []passage.Span) []block {
	cuts := make([]int, 0, 2*len(spans))
	for i, sp := range spans[1:] {
		cuts = append(cuts, sp.Start, spans[i].End) // the overlap of passages i and i+1
	}
	slices.Sort(cuts)
	var blocks []block
	emit := func(from, to int) {
		for from < to {
			end := to
			for len(cuts) > 0 && cuts[0] <= from {
				cuts = cuts[1:]
			}
			if len(cuts) > 0 && cuts[0] < to {
				end = cuts[0]
			}
			if p := strings.TrimSpace(text[from:end]); p != "" {
				blocks = append(blocks, block{start: from, html: "<p>" + html.EscapeString(p) + "</p>"})
			}
			from = end
		}
	}
	from := 0
	for {
		i := strings.Index(text[from:], "\n\n")
		if i < 0 {
			emit(from, len(text))
			return blocks
		}
		emit(from, from+i)
		from += i + 2
	}
}
