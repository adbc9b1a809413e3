package ingest

import (
	"strings"
	"testing"
)

func TestHTML(t *testing.T) {
	runFormatCases(t, "about-us.html", "html", []formatCase{
		{name: "title element with entities", data: "<html><head><title>\n  Fish &amp; Chips &lt;3 </title></head><body><h1>Menu</h1><p>Hot</p></body></html>",
			title: "Fish & Chips <3", text: "Menu\n\nHot", meta: map[string]string{}},
		{name: "first h1 without title", data: "<body><h2>Sub</h2><h1>  Main <span>Heading</span></h1><h1>Second</h1></body>",
			title: "Main Heading", text: "Sub\n\nMain Heading\n\nSecond"},
		{name: "empty title falls back to h1", data: "<title> </title><h1>H</h1>", title: "H", text: "H"},
		{name: "file name without title or h1", data: "<p>just a paragraph</p>", title: "about us", text: "just a paragraph"},
		{name: "svg title is not the page title", data: "<body><svg><title>icon</title></svg><p>text</p></body>", title: "about us", text: "text"},
		{name: "canonical link", data: `<head><link rel="canonical" href=" https://example.com/about "><meta property="og:url" content="https://og.example.com/"></head><p>x</p>`,
			title: "about us", url: "https://example.com/about", text: "x"},
		{name: "canonical among rel tokens", data: `<link rel="alternate Canonical" href="http://example.com/a"><p>x</p>`,
			title: "about us", url: "http://example.com/a", text: "x"},
		{name: "relative canonical falls back to og:url", data: `<link rel="canonical" href="/about"><meta property="og:url" content="https://example.com/og"><p>x</p>`,
			title: "about us", url: "https://example.com/og", text: "x"},
		{name: "og:url in a name attribute", data: `<meta name="og:url" content="https://example.com/og"><p>x</p>`,
			title: "about us", url: "https://example.com/og", text: "x"},
		{name: "no citable url", data: `<link rel="canonical" href="about.html"><meta property="og:url" content="javascript:alert(1)"><p>x</p>`,
			title: "about us", text: "x"},
		{name: "metadata", data: `<html lang="en-GB"><head><meta name="Description" content=" About   our team "><meta name="author" content="Ann">` +
			`<meta name="keywords" content="k"></head><body><p>x</p></body></html>`,
			title: "about us", text: "x", meta: map[string]string{"description": "About our team", "author": "Ann", "lang": "en-GB"}},
		{name: "hidden elements", data: `<html><head><title>T</title><style>p{}</style><script>var a = "head";</script></head><body>` +
			`<p>shown</p><script>alert("no")</script><style>.x{}</style><noscript>enable js</noscript><template><p>tpl</p></template>` +
			`<svg><text>vector</text></svg><iframe src="x">frame</iframe><object data="x">obj</object><!-- comment --><p>also shown</p></body></html>`,
			title: "T", text: "shown\n\nalso shown"},
		{name: "blocks and inline white space", data: "<div>one\n   two <b>bold</b><i>italic</i></div><div>three</div>" +
			"<section><article>four</article></section><span>five</span> <span>six</span>",
			title: "about us", text: "one two bolditalic\nthree\nfour\nfive six"},
		{name: "lists and paragraphs", data: "<h2>Items</h2><ul><li>a</li><li>b <em>c</em></li></ul><p>after</p>",
			title: "about us", text: "Items\n\na\nb c\n\nafter"},
		{name: "br", data: "<p>line one<br>line two<br><br><br>after gap</p>", title: "about us", text: "line one\nline two\n\nafter gap"},
		{name: "pre keeps white space", data: "<p>code:</p><pre>\nfunc main() {\n\tfmt.Println(\"hi\")\n}\n</pre><p>done</p>",
			title: "about us", text: "code:\n\nfunc main() {\n\tfmt.Println(\"hi\")\n}\n\ndone"},
		{name: "table cells", data: "<table><tr><th>Plan</th><th>Price</th></tr><tr><td>Pro</td><td>$9</td></tr></table>",
			title: "about us", text: "Plan\tPrice\nPro\t$9"},
		{name: "at most one blank line", data: "<p>a</p><p></p><div><p>  </p></div><blockquote><p>b</p></blockquote>",
			title: "about us", text: "a\n\nb"},
		{name: "entities", data: "<p>caf&eacute; &mdash; &#x1F600; &nbsp;x&amp;y</p>", title: "about us", text: "café — 😀 x&y"},
		{name: "meta charset windows-1252", data: "<meta charset=\"windows-1252\"><title>Caf\xe9</title><p>na\xefve \x93quoted\x94</p>",
			title: "Café", text: "naïve “quoted”"},
		{name: "http-equiv charset", data: "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=iso-8859-1\"><p>\xe9t\xe9</p>",
			title: "about us", text: "été"},
		{name: "undeclared UTF-8 after 1 KiB of ASCII", data: "<!-- " + strings.Repeat("x", 1100) + " --><p>héllo</p>", title: "about us", text: "héllo"},
		{name: "undeclared invalid UTF-8 is windows-1252", data: "<p>caf\xe9</p>", title: "about us", text: "café"},
		{name: "UTF-16 with BOM", file: "u16.htm", data: "\xff\xfe<\x00p\x00>\x00h\x00i\x00<\x00/\x00p\x00>\x00", title: "u16", text: "hi"},
		{name: "UTF-8 BOM", file: "bom.xhtml", data: "\uFEFF<p>ok</p>", title: "bom", text: "ok"},
		{name: "xhtml", file: "page.xhtml", data: `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>X</title></head><body><p>x<br/>y</p></body></html>`,
			title: "X", text: "x\ny"},
		{name: "no visible text", data: "<html><head><title>Only title</title></head><body> </body></html>", noDoc: true,
			problems: []string{"W sample/about-us.html: empty document: no text after extraction"}},
	})
}

func TestHTMLDeepNesting(t *testing.T) {
	tests := []struct {
		name, text string
		problems   []string
	}{
		{name: "500 levels", text: "deep"},
		{name: "100000 levels", problems: []string{"W sample/deep.html: cannot parse the HTML (html: open stack of elements exceeds 512 nodes)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			depth := 500
			if tt.text == "" {
				depth = 100000
			}
			data := strings.Repeat("<div>", depth) + "deep" + strings.Repeat("</div>", depth)
			docs, problems := walkFiles(t, map[string]string{"deep.html": data}, Options{})
			if got := problemStrings(problems); strings.Join(got, "\n") != strings.Join(tt.problems, "\n") {
				t.Errorf("got problems %q, want %q", got, tt.problems)
			}
			if tt.text != "" && (len(docs) != 1 || docs[0].Text != tt.text) {
				t.Errorf("got %d documents, want one with text %q", len(docs), tt.text)
			}
		})
	}
}

func FuzzHTML(f *testing.F) {
	for _, seed := range []string{
		"",
		"<title>T</title><p>x</p>",
		"<meta charset=\"shift_jis\"><p>\x82\xa0</p>",
		"<meta charset=\"utf-16\"><p>x</p>",
		"\xfe\xff\x00<\x00p",
		"<pre>\n\n\n a</pre><br><br>",
		"<svg><title>t</title><foreignObject><p>in</p></foreignObject></svg>",
		"<table><td>a<td>b<tr><th>c",
		"<template><template><p>x</template>",
		"<p>\xff\xfe\x00</p>",
		"<link rel=canonical href=https://a.test><meta property=og:url content=http://b.test>",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, problems := walkFiles(t, map[string]string{"a.html": string(data)}, Options{})
		checkUTF8(t, docs, problems)
		for _, d := range docs {
			if strings.Contains(d.Text, "\n\n\n") || strings.HasPrefix(d.Text, "\n") || d.Text != strings.TrimRight(d.Text, " \t\r\n") {
				t.Fatalf("text %q has more than one blank line in a row or is not trimmed", d.Text)
			}
		}
	})
}
