package ingest

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
)

// parseMarkdown reads a markdown file (valid UTF-8) with optional YAML front
// matter. The title is the front matter's "title", else the first heading of
// the body, else one made from the file name. It returns, besides the
// document, warnings about front matter it ignored, and an error when the
// front matter's access list cannot be read.
func parseMarkdown(data []byte, name string) (parsed, []string, error) {
	src := strings.TrimPrefix(string(data), utf8BOM)
	pd := parsed{meta: map[string]string{}}
	var warnings []string
	fmSrc, body, found := splitFrontMatter(src)
	if found {
		fm, ws, err := parseFrontMatter(fmSrc)
		if err != nil {
			return pd, nil, err
		}
		pd.title, pd.url, pd.meta, pd.access = fm.title, fm.url, fm.meta, fm.access
		warnings = ws
	}
	pd.text = trimMarkdown(body)
	if pd.title == "" && pd.text != "" {
		pd.title = markdownHeading(headingSource(pd.text))
	}
	if pd.title == "" {
		pd.title = titleFromName(name)
	}
	return pd, warnings, nil
}

// trimMarkdown removes leading blank lines and trailing white space from a
// markdown body, keeping the indentation of its first line (which may make
// it a code block).
func trimMarkdown(body string) string {
	body = strings.TrimRightFunc(body, unicode.IsSpace)
	for {
		line, rest, ok := strings.Cut(body, "\n")
		if !ok || strings.TrimSpace(line) != "" {
			return body
		}
		body = rest
	}
}

// splitFrontMatter splits src into the YAML between a first line "---" and
// the next line "---", and the body after it. Without both lines, the whole
// of src is the body.
func splitFrontMatter(src string) (frontMatter, body string, found bool) {
	first, rest, ok := strings.Cut(src, "\n")
	if !ok || strings.TrimRight(first, " \t\r") != "---" {
		return "", src, false
	}
	for off := 0; off < len(rest); {
		line, _, _ := strings.Cut(rest[off:], "\n")
		next := off + len(line) + 1
		if strings.TrimRight(line, " \t\r") == "---" {
			return rest[:off], rest[min(next, len(rest)):], true
		}
		off = next
	}
	return "", src, false
}

// Bounds on the markdown parsed to find the first heading. Goldmark takes
// time quadratic in the nesting of containers (such as "> > > ..." or
// "- - - ..."), so a hostile or broken file could otherwise stall a walk for
// minutes; a heading further down than this is no title anyway.
const (
	headingScanBytes = 64 << 10 // parse at most this much of the body
	headingLineBytes = 1 << 10  // of each line, parse at most this much
)

// headingSource returns the start of a markdown body to search for its
// first heading: whole lines up to headingScanBytes, each cut to
// headingLineBytes. Cutting lines keeps the block structure that their
// starts decide (containers, fences, headings).
func headingSource(body string) []byte {
	var b []byte
	for line := range strings.Lines(body) {
		content := strings.TrimRight(line, "\n")
		if len(content) > headingLineBytes {
			cut := headingLineBytes
			for cut > 0 && !utf8.RuneStart(content[cut]) {
				cut--
			}
			content = content[:cut]
		}
		if len(b)+len(content)+1 > headingScanBytes {
			break
		}
		b = append(append(b, content...), '\n')
	}
	return b
}

// markdownHeading returns the text of the first non-empty heading (ATX or
// setext) of a markdown document, or "". Lines that only look like headings,
// such as "# comments" in code blocks, do not count.
func markdownHeading(src []byte) string {
	doc := goldmark.New().Parser().Parse(text.NewReader(src))
	title := ""
	// ast.Walk only fails when the callback does.
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		h, ok := n.(*ast.Heading)
		if !entering || !ok {
			return ast.WalkContinue, nil
		}
		var b strings.Builder
		inlineText(&b, h, src)
		if title = collapse(b.String()); title != "" {
			return ast.WalkStop, nil
		}
		return ast.WalkSkipChildren, nil
	})
	return title
}

// inlineText writes the plain text of n's inline children to b, without
// markup.
func inlineText(b *strings.Builder, n ast.Node, src []byte) {
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			b.Write(c.Value(src))
			if c.SoftLineBreak() || c.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(c.Value)
		case *ast.AutoLink:
			b.Write(c.Label(src))
		case *ast.RawHTML:
			// markup, not text
		default:
			inlineText(b, c, src)
		}
	}
}
