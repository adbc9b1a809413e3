package web

import (
	"net/url"
	"path"
	"strings"

	readability "github.com/go-shiori/go-readability"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/connectorhq/connector/internal/ingest"
)

// page is what a fetched HTML page gives the crawl.
type page struct {
	title     string
	canonical *url.URL // <link rel="canonical">, resolved; nil when none
	text      string   // the main content as plain text
	links     []*url.URL
	lang      string
	noindex   bool // <meta name="robots" content="noindex">
	nofollow  bool // <meta name="robots" content="nofollow">
}

// parsePage reads an HTML page fetched from u: its title (og:title, else
// <title>, else the first <h1>, else one made from the URL), canonical
// link, links, robots directives, and its main content as text.
// go-readability finds the main content (dropping navigation, headers,
// footers and sidebars); when it finds none, the text is the page's
// without those elements.
func parsePage(data []byte, u *url.URL) (page, error) {
	doc, err := html.Parse(strings.NewReader(ingest.DecodeHTML(data)))
	if err != nil {
		return page{}, err
	}
	var p page
	var ogTitle, title, h1 string
	base := u
	walk(doc, func(n *html.Node) bool {
		if n.Type != html.ElementNode || n.Namespace != "" {
			return n.Type != html.ElementNode
		}
		switch n.DataAtom {
		case atom.Template:
			return false
		case atom.Html:
			p.lang = strings.TrimSpace(ingest.HTMLAttr(n, "lang"))
		case atom.Base:
			if b, err := u.Parse(strings.TrimSpace(ingest.HTMLAttr(n, "href"))); err == nil && ingest.HTMLAttr(n, "href") != "" {
				base = b
			}
		case atom.Title:
			if title == "" {
				title = collapse(text(n))
			}
		case atom.H1:
			if h1 == "" {
				h1 = collapse(text(n))
			}
		case atom.Meta:
			name := strings.ToLower(strings.TrimSpace(ingest.HTMLAttr(n, "name") + ingest.HTMLAttr(n, "property")))
			content := ingest.HTMLAttr(n, "content")
			switch name {
			case "og:title":
				if ogTitle == "" {
					ogTitle = collapse(content)
				}
			case "robots", "connector":
				for _, d := range strings.FieldsFunc(strings.ToLower(content), func(r rune) bool { return r == ',' || r == ' ' }) {
					p.noindex = p.noindex || d == "noindex" || d == "none"
					p.nofollow = p.nofollow || d == "nofollow" || d == "none"
				}
			}
		case atom.Link:
			if p.canonical == nil && ingest.HasToken(ingest.HTMLAttr(n, "rel"), "canonical") {
				if c, err := base.Parse(strings.TrimSpace(ingest.HTMLAttr(n, "href"))); err == nil && ingest.HTMLAttr(n, "href") != "" {
					p.canonical = normalise(c)
				}
			}
		case atom.A, atom.Area:
			href := strings.TrimSpace(ingest.HTMLAttr(n, "href"))
			if href == "" || strings.HasPrefix(href, "#") || ingest.HasToken(ingest.HTMLAttr(n, "rel"), "nofollow") {
				break
			}
			if l, err := base.Parse(href); err == nil && (l.Scheme == "http" || l.Scheme == "https") {
				p.links = append(p.links, normalise(l))
			}
		}
		return true
	})
	p.title = ogTitle
	if p.title == "" {
		p.title = title
	}
	if p.title == "" {
		p.title = h1
	}
	if p.title == "" {
		p.title = titleFromURL(u)
	}
	p.text = mainText(doc, u)
	return p, nil
}

// mainText returns the page's main content as text.
func mainText(doc *html.Node, u *url.URL) string {
	parser := readability.NewParser()
	parser.DisableJSONLD = true // only the content is used, not the metadata
	if a, err := parser.ParseDocument(doc, u); err == nil && a.Node != nil {
		if t := strings.TrimSpace(ingest.HTMLText(a.Node)); t != "" {
			return t
		}
	}
	// No article found: the whole page without its chrome.
	var chrome []*html.Node
	walk(doc, func(n *html.Node) bool {
		switch n.DataAtom {
		case atom.Nav, atom.Header, atom.Footer, atom.Aside:
			chrome = append(chrome, n)
			return false
		}
		return true
	})
	for _, n := range chrome {
		n.Parent.RemoveChild(n)
	}
	return strings.TrimSpace(ingest.HTMLText(doc))
}

// titleFromURL makes a title from a page's URL: "/guide/getting-started"
// becomes "getting started"; the site's front page is its host.
func titleFromURL(u *url.URL) string {
	base := path.Base(strings.TrimSuffix(u.Path, "/"))
	if base == "/" || base == "." || base == "" {
		return u.Host
	}
	base = strings.TrimSuffix(base, path.Ext(base))
	if t := collapse(strings.NewReplacer("-", " ", "_", " ").Replace(base)); t != "" {
		return t
	}
	return u.Host
}

// walk visits the tree below and including root in document order, without
// recursion; enter returns whether to visit a node's children.
func walk(root *html.Node, enter func(*html.Node) bool) {
	stack := []*html.Node{root}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !enter(n) {
			continue
		}
		for c := n.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, c)
		}
	}
}

// text returns all the text below n, markup removed.
func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) bool {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
		return true
	})
	return b.String()
}

// collapse trims s and replaces each run of white space by one space.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }
