package ingest

import (
	"bytes"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"

	"github.com/connectorhq/connector/internal/docurl"
)

// parseHTML reads an HTML file in any encoding it declares (UTF-8 when it
// declares none). The title is <title>, else the first <h1>, else one made
// from the file name; the text is what a browser shows, as plain text. It
// fails only for HTML that the parser rejects (nested deeper than 512
// elements).
func parseHTML(data []byte, name string) (parsed, error) {
	pd := parsed{meta: map[string]string{}}
	doc, err := html.Parse(strings.NewReader(decodeHTML(data)))
	if err != nil {
		return pd, err
	}
	var h1, canonical, ogURL string
	walkHTML(doc, func(n *html.Node) bool {
		if n.Type != html.ElementNode || n.Namespace != "" {
			return n.Type != html.ElementNode // foreign content (svg, math) holds no metadata
		}
		switch n.DataAtom {
		case atom.Template:
			return false
		case atom.Html:
			setFirst(pd.meta, "lang", collapse(attr(n, "lang")))
		case atom.Title:
			if pd.title == "" {
				pd.title = collapse(nodeText(n))
			}
		case atom.H1:
			if h1 == "" {
				h1 = collapse(visibleText(n))
			}
		case atom.Link:
			if href := strings.TrimSpace(attr(n, "href")); canonical == "" && hasToken(attr(n, "rel"), "canonical") && docurl.IsCitable(href) {
				canonical = href
			}
		case atom.Meta:
			content := attr(n, "content")
			switch strings.ToLower(strings.TrimSpace(attr(n, "name"))) {
			case "description":
				setFirst(pd.meta, "description", collapse(content))
			case "author":
				setFirst(pd.meta, "author", collapse(content))
			}
			prop := attr(n, "property")
			if prop == "" {
				prop = attr(n, "name")
			}
			if u := strings.TrimSpace(content); ogURL == "" && strings.EqualFold(strings.TrimSpace(prop), "og:url") && docurl.IsCitable(u) {
				ogURL = u
			}
		}
		return true
	}, nil)
	pd.url = canonical
	if pd.url == "" {
		pd.url = ogURL
	}
	if pd.title == "" {
		pd.title = h1
	}
	if pd.title == "" {
		pd.title = titleFromName(name)
	}
	pd.text = visibleText(doc)
	return pd, nil
}

// decodeHTML returns the HTML document as UTF-8: in the encoding given by its
// byte order mark or its <meta charset>; else as UTF-8 when it is valid UTF-8,
// else as Windows-1252 (what browsers assume for undeclared legacy pages).
func decodeHTML(data []byte) string {
	head := data[:min(len(data), 1024)]
	_, name, certain := charset.DetermineEncoding(head, "")
	if !certain && !declaresCharset(head) {
		name = "windows-1252"
		if utf8.Valid(data) {
			name = "utf-8"
		}
	}
	if name != "utf-8" {
		if r, err := charset.NewReaderLabel(name, bytes.NewReader(data)); err == nil {
			if out, err := io.ReadAll(r); err == nil {
				return validUTF8(strings.TrimPrefix(string(out), utf8BOM))
			}
		}
	}
	return validUTF8(strings.TrimPrefix(string(data), utf8BOM))
}

// declaresCharset reports whether the start of an HTML document declares its
// character encoding in a <meta> element.
func declaresCharset(head []byte) bool {
	z := html.NewTokenizer(bytes.NewReader(head))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return false
		case html.StartTagToken, html.SelfClosingTagToken:
			t := z.Token()
			if t.DataAtom != atom.Meta {
				continue
			}
			var httpEquiv, content bool
			for _, a := range t.Attr {
				switch strings.ToLower(a.Key) {
				case "charset":
					return true
				case "http-equiv":
					httpEquiv = strings.EqualFold(strings.TrimSpace(a.Val), "content-type")
				case "content":
					content = strings.Contains(strings.ToLower(a.Val), "charset")
				}
			}
			if httpEquiv && content {
				return true
			}
		}
	}
}

// attr returns the value of n's attribute key, or "".
func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && strings.EqualFold(a.Key, key) {
			return a.Val
		}
	}
	return ""
}

// hasToken reports whether the space-separated list s holds tok, ignoring case.
func hasToken(s, tok string) bool {
	for _, f := range strings.Fields(s) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}

// setFirst sets m[key] to v unless v is empty or key is already set.
func setFirst(m map[string]string, key, v string) {
	if _, ok := m[key]; !ok && v != "" {
		m[key] = v
	}
}

// nodeText returns all the text below n, markup removed.
func nodeText(n *html.Node) string {
	var b strings.Builder
	walkHTML(n, func(c *html.Node) bool {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
		return true
	}, nil)
	return b.String()
}

// walkHTML visits the tree below and including root in document order,
// without recursion (so that any nesting depth is safe). enter is called
// before a node's children and returns whether to visit them; leave, when not
// nil, after them (also for nodes whose children were skipped).
func walkHTML(root *html.Node, enter func(*html.Node) bool, leave func(*html.Node)) {
	n := root
	for {
		if enter(n) && n.FirstChild != nil {
			n = n.FirstChild
			continue
		}
		for {
			if leave != nil {
				leave(n)
			}
			if n == root {
				return
			}
			if n.NextSibling != nil {
				n = n.NextSibling
				break
			}
			n = n.Parent
		}
	}
}

// hiddenHTML reports whether the element's content is not shown as text.
func hiddenHTML(n *html.Node) bool {
	if n.Namespace == "svg" {
		return true
	}
	switch n.DataAtom {
	case atom.Head, atom.Title, atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Svg, atom.Iframe, atom.Object:
		return true
	}
	return false
}

// htmlBreak returns how many line breaks an element puts around its content:
// 2 (a blank line) for paragraphs and the like, 1 for other blocks, 0 for
// inline elements.
func htmlBreak(n *html.Node) int {
	if n.Namespace != "" {
		return 0
	}
	switch n.DataAtom {
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Pre, atom.Blockquote, atom.Hr,
		atom.Figure, atom.Address, atom.Fieldset, atom.Details:
		return 2
	case atom.Div, atom.Li, atom.Tr, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Main, atom.Nav,
		atom.Aside, atom.Ul, atom.Ol, atom.Dl, atom.Dt, atom.Dd, atom.Table, atom.Thead, atom.Tbody, atom.Tfoot,
		atom.Caption, atom.Figcaption, atom.Summary, atom.Legend, atom.Dialog, atom.Center, atom.Menu, atom.Hgroup,
		atom.Body, atom.Html, atom.Form, atom.Option, atom.Search, atom.Br:
		return 1
	}
	return 0
}

// visibleText returns the text a browser shows for the tree below n: blocks
// on lines of their own, inline white space collapsed, <pre> as written, and
// at most one blank line in a row.
func visibleText(n *html.Node) string {
	var w textWriter
	walkHTML(n, func(c *html.Node) bool {
		switch c.Type {
		case html.TextNode:
			w.text(c.Data)
		case html.ElementNode:
			if hiddenHTML(c) {
				return false
			}
			switch c.DataAtom {
			case atom.Br:
				w.lineBreak()
				return false
			case atom.Td, atom.Th:
				w.cell()
			case atom.Pre:
				w.pre++
			}
			w.block(htmlBreak(c))
		case html.DocumentNode:
		default: // comments, doctypes
			return false
		}
		return true
	}, func(c *html.Node) {
		if c.Type != html.ElementNode || hiddenHTML(c) || c.DataAtom == atom.Br {
			return
		}
		if c.DataAtom == atom.Pre && c.Namespace == "" {
			w.pre--
		}
		w.block(htmlBreak(c))
	})
	return w.String()
}

// textWriter assembles plain text from HTML text nodes and block boundaries.
type textWriter struct {
	b       strings.Builder
	breaks  int    // line breaks owed before the next text: 0, 1 or 2
	sep     string // separator owed before the next text on the same line: "", " " or "\t"
	pre     int    // depth of <pre> elements around the current node
	lastNew bool   // the last byte written was a newline
}

// text writes a text node: as written inside <pre>, else with white space
// collapsed.
func (w *textWriter) text(s string) {
	if w.pre > 0 {
		w.write(s)
		return
	}
	words := strings.Fields(s)
	if len(words) == 0 {
		if s != "" && w.sep == "" {
			w.sep = " "
		}
		return
	}
	if isSpace(s[0]) && w.sep == "" {
		w.sep = " "
	}
	w.write(strings.Join(words, " "))
	if isSpace(s[len(s)-1]) {
		w.sep = " "
	}
}

// isSpace reports whether b is ASCII white space.
func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f'
}

func (w *textWriter) write(s string) {
	if s == "" {
		return
	}
	if w.b.Len() > 0 {
		switch {
		case w.breaks > 0:
			w.b.WriteString("\n\n"[:w.breaks])
		case w.sep != "" && !w.lastNew:
			w.b.WriteString(w.sep)
		}
	}
	w.breaks, w.sep = 0, ""
	w.b.WriteString(s)
	w.lastNew = s[len(s)-1] == '\n'
}

// block owes n line breaks before the next text.
func (w *textWriter) block(n int) {
	w.breaks = max(w.breaks, n)
}

// lineBreak owes one more line break, for <br>.
func (w *textWriter) lineBreak() {
	w.breaks = min(w.breaks+1, 2)
}

// cell owes a tab before the next text when a table cell follows another on
// the same line.
func (w *textWriter) cell() {
	if w.breaks == 0 && w.b.Len() > 0 && !w.lastNew {
		w.sep = "\t"
	}
}

// String returns the text, trimmed, with no more than one blank line in a row.
func (w *textWriter) String() string {
	var out strings.Builder
	blank := 0
	for line := range strings.Lines(w.b.String()) {
		line = strings.TrimRight(line, "\r\n")
		if strings.TrimSpace(line) == "" {
			blank++
			continue
		}
		if out.Len() > 0 {
			out.WriteString("\n\n"[:min(blank, 1)+1])
		}
		blank = 0
		out.WriteString(line)
	}
	return strings.TrimRightFunc(out.String(), unicode.IsSpace)
}
