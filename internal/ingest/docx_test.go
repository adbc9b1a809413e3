package ingest

import (
	"archive/zip"
	"bytes"
	"sort"
	"strings"
	"testing"
)

// wordNS declares the namespaces of the WordprocessingML written by tests.
const wordNS = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" ` +
	`xmlns:m="http://schemas.openxmlformats.org/officeDocument/2006/math" ` +
	`xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" ` +
	`xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"`

// testDOCX returns a .docx file whose word/document.xml has body inside
// w:body, with the package and document relationships Word writes, and the
// other parts given (a part set to "" is left out).
func testDOCX(body string, parts map[string]string) string {
	files := map[string]string{
		"[Content_Types].xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
			`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="xml" ContentType="application/xml"/></Types>`,
		"_rels/.rels": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
			`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>` +
			`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>` +
			`</Relationships>`,
		"word/_rels/document.xml.rels": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
			`<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>` +
			`<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes" Target="footnotes.xml"/>` +
			`<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://example.com" TargetMode="External"/>` +
			`</Relationships>`,
		"word/document.xml": `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document ` + wordNS + `><w:body>` +
			body + `<w:sectPr><w:pgSz w:w="12240" w:h="15840"/></w:sectPr></w:body></w:document>`,
		"word/styles.xml": testStyles,
	}
	for name, data := range parts {
		if data == "" {
			delete(files, name)
		} else {
			files[name] = data
		}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range names {
		w, err := zw.Create(name)
		if err != nil {
			panic(err)
		}
		w.Write([]byte(files[name]))
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return b.String()
}

// testStyles defines paragraph styles as Word does, with a German style id
// for "heading 1", a style based on a heading and one with an outline level.
const testStyles = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:styles ` + wordNS + `>` +
	`<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/><w:pPr><w:outlineLvl w:val="0"/></w:pPr></w:style>` +
	`<w:style w:type="paragraph" w:styleId="berschrift1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Chapter"><w:name w:val="Chapter"/><w:basedOn w:val="Heading1"/></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Outlined"><w:name w:val="Outlined"/><w:pPr><w:outlineLvl w:val="2"/></w:pPr></w:style>` +
	`<w:style w:type="paragraph" w:styleId="Quote"><w:name w:val="Quote"/><w:basedOn w:val="Normal"/></w:style>` +
	`<w:style w:type="character" w:styleId="Heading1Char"><w:name w:val="Heading 1 Char"/></w:style>` +
	`</w:styles>`

// coreXML returns docProps/core.xml with a title and a creator.
func coreXML(title, creator string) string {
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><cp:coreProperties ` +
		`xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" ` +
		`xmlns:dcterms="http://purl.org/dc/terms/"><dc:title>` + title + `</dc:title><dc:creator>` + creator + `</dc:creator>` +
		`<cp:lastModifiedBy>Someone Else</cp:lastModifiedBy><dcterms:created>2024-01-02T03:04:05Z</dcterms:created></cp:coreProperties>`
}

// para returns a paragraph of one run of text, in a style when not "".
func para(style, text string) string {
	props := ""
	if style != "" {
		props = `<w:pPr><w:pStyle w:val="` + style + `"/></w:pPr>`
	}
	return `<w:p>` + props + `<w:r><w:t>` + text + `</w:t></w:r></w:p>`
}

// table returns a table of rows of cells, each cell one paragraph per text.
func table(rows ...[]string) string {
	var b strings.Builder
	b.WriteString(`<w:tbl><w:tblPr><w:tblW w:w="0" w:type="auto"/></w:tblPr><w:tblGrid><w:gridCol w:w="4000"/></w:tblGrid>`)
	for _, row := range rows {
		b.WriteString(`<w:tr>`)
		for _, cell := range row {
			b.WriteString(`<w:tc><w:tcPr><w:tcW w:w="4000" w:type="dxa"/></w:tcPr>`)
			for _, p := range strings.Split(cell, "|") {
				b.WriteString(para("", p))
			}
			b.WriteString(`</w:tc>`)
		}
		b.WriteString(`</w:tr>`)
	}
	b.WriteString(`</w:tbl>`)
	return b.String()
}

func TestDOCX(t *testing.T) {
	body := para("", "First paragraph.") + para("Heading1", "Budget") + para("", "Second paragraph.")
	const bodyText = "First paragraph.\n\nBudget\n\nSecond paragraph."
	const w = "W sample/meeting-notes.docx: "
	noStyles := map[string]string{"word/styles.xml": ""}
	runFormatCases(t, "meeting-notes.docx", "docx", []formatCase{
		{name: "title and author from the core properties", data: testDOCX(body, map[string]string{"docProps/core.xml": coreXML(" Q3  Planning ", "Bob Jones")}),
			title: "Q3 Planning", text: bodyText, meta: map[string]string{"author": "Bob Jones"}},
		{name: "title from the first heading", data: testDOCX(body, nil), title: "Budget", text: bodyText, meta: map[string]string{}},
		{name: "Title style", data: testDOCX(para("Quote", "Words")+para("Title", "The  Plan")+para("Heading1", "Later"), nil),
			title: "The Plan", text: "Words\n\nThe Plan\n\nLater"},
		{name: "empty heading is skipped", data: testDOCX(`<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr></w:p>`+para("Heading1", "Real"), nil),
			title: "Real", text: "Real"},
		{name: "translated style id", data: testDOCX(para("", "x")+para("berschrift1", "Überblick"), nil), title: "Überblick", text: "x\n\nÜberblick"},
		{name: "style based on a heading", data: testDOCX(para("", "x")+para("Chapter", "One"), nil), title: "One", text: "x\n\nOne"},
		{name: "style with an outline level", data: testDOCX(para("", "x")+para("Outlined", "Deep"), nil), title: "Deep", text: "x\n\nDeep"},
		{name: "outline level on the paragraph", data: testDOCX(para("", "x")+`<w:p><w:pPr><w:outlineLvl w:val="1"/></w:pPr><w:r><w:t>Direct</w:t></w:r></w:p>`, nil),
			title: "Direct", text: "x\n\nDirect"},
		{name: "heading style ids without styles.xml", data: testDOCX(para("", "x")+para("Heading2", "Two"), noStyles), title: "Two", text: "x\n\nTwo"},
		{name: "heading with a tab", data: testDOCX(`<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Part</w:t><w:tab/><w:t>One</w:t></w:r></w:p>`, nil),
			title: "Part One", text: "Part\tOne"},
		{name: "placeholder core title is ignored", data: testDOCX(body, map[string]string{"docProps/core.xml": coreXML("Document1", "")}),
			title: "Budget", text: bodyText, meta: map[string]string{}},
		{name: "file name core title is ignored", data: testDOCX(body, map[string]string{"docProps/core.xml": coreXML("meeting-notes.docx", "")}),
			title: "Budget", text: bodyText},
		{name: "title from the file name", data: testDOCX(para("", "Just text."), map[string]string{"docProps/core.xml": ""}),
			title: "meeting notes", text: "Just text."},
		{name: "runs, tabs and breaks", data: testDOCX(`<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>Hel</w:t></w:r><w:r><w:t>lo</w:t></w:r>`+
			`<w:r><w:tab/><w:t xml:space="preserve">big   world </w:t></w:r><w:r><w:br/><w:t>next</w:t><w:noBreakHyphen/><w:t>line</w:t></w:r></w:p>`, nil),
			title: "meeting notes", text: "Hello\tbig world\nnext-line"},
		{name: "tab stops are not text", data: testDOCX(`<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>a</w:t></w:r></w:p>`, nil),
			title: "meeting notes", text: "a"},
		{name: "table", data: testDOCX(para("", "Before")+table([]string{"Plan", "Price"}, []string{"Pro|annual", "$9"}, []string{"", "free"})+para("", "After"), nil),
			title: "meeting notes", text: "Before\n\nPlan\tPrice\nPro annual\t$9\nfree\n\nAfter"},
		{name: "table in a cell", data: testDOCX(`<w:tbl><w:tr><w:tc>`+para("", "a")+
			table([]string{"b", "c"}, []string{"d"})+`</w:tc><w:tc>`+para("", "e")+`</w:tc></w:tr></w:tbl>`, nil),
			title: "meeting notes", text: "a b c d\te"},
		{name: "links, content controls and tracked changes", data: testDOCX(`<w:p><w:hyperlink r:id="rId3"><w:r><w:t>link</w:t></w:r></w:hyperlink>`+
			`<w:ins w:id="1"><w:r><w:t xml:space="preserve"> added</w:t></w:r></w:ins><w:del w:id="2"><w:r><w:delText> removed</w:delText></w:r></w:del>`+
			`<w:moveFrom w:id="3"><w:r><w:t> moved away</w:t></w:r></w:moveFrom>`+
			`<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r>`+
			`<w:r><w:t xml:space="preserve"> 7</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>`+
			`<w:sdt><w:sdtPr><w:alias w:val="Abstract"/></w:sdtPr><w:sdtContent>`+para("", "In a control.")+`</w:sdtContent></w:sdt>`, nil),
			title: "meeting notes", text: "link added 7\n\nIn a control."},
		{name: "text box once, not its fallback", data: testDOCX(`<w:p><w:r><w:t>Body</w:t></w:r><w:r><mc:AlternateContent><mc:Choice Requires="wps">`+
			`<w:drawing><w:txbxContent>`+para("", "Boxed")+`</w:txbxContent></w:drawing></mc:Choice>`+
			`<mc:Fallback><w:pict><w:txbxContent>`+para("", "Boxed")+`</w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>`, nil),
			title: "meeting notes", text: "Body\n\nBoxed"},
		{name: "equation", data: testDOCX(`<w:p><w:r><w:t xml:space="preserve">So </w:t></w:r><m:oMath><m:r><m:t>x=1</m:t></m:r></m:oMath></w:p>`, nil),
			title: "meeting notes", text: "So x=1"},
		{name: "footnotes after the body", data: testDOCX(`<w:p><w:r><w:t>Claim</w:t></w:r><w:r><w:footnoteReference w:id="1"/></w:r></w:p>`,
			map[string]string{"word/footnotes.xml": `<w:footnotes ` + wordNS + `><w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>` +
				`<w:footnote w:id="1">` + para("FootnoteText", "Source: survey.") + `</w:footnote></w:footnotes>`}),
			title: "meeting notes", text: "Claim\n\nSource: survey."},
		{name: "damaged footnotes", data: testDOCX(para("", "Claim"), map[string]string{"word/footnotes.xml": `<w:footnotes ` + wordNS + `><w:footnote>`}),
			title: "meeting notes", text: "Claim",
			problems: []string{"I sample/meeting-notes.docx: cannot read the footnotes of the DOCX (word/footnotes.xml: XML syntax error on line 1: unexpected EOF); some may be missing"}},
		{name: "strict Office Open XML", data: testDOCX("", map[string]string{"word/document.xml": `<w:document xmlns:w="http://purl.oclc.org/ooxml/wordprocessingml/main"><w:body>` +
			`<w:p><w:pPr><w:pStyle w:val="Title"/></w:pPr><w:r><w:t>Strict</w:t></w:r></w:p></w:body></w:document>`}), title: "Strict", text: "Strict"},
		{name: "main part named by the relationships", data: testDOCX("", map[string]string{
			"_rels/.rels": `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="r" ` +
				`Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="/word/document2.xml"/></Relationships>`,
			"word/document2.xml": `<w:document ` + wordNS + `><w:body>` + para("", "Elsewhere") + `</w:body></w:document>`}),
			title: "meeting notes", text: "Elsewhere"},
		{name: "no text", data: testDOCX(`<w:p/><w:p><w:r><w:t xml:space="preserve">  </w:t></w:r></w:p>`, map[string]string{"docProps/core.xml": coreXML("Empty", "")}),
			noDoc: true, problems: []string{w + "the DOCX has no text"}},
		{name: "not a zip", data: "This is plain text.", noDoc: true,
			problems: []string{w + "cannot parse the DOCX (zip: not a valid zip file); the file may be damaged, or not a Word document"}},
		{name: "zip that is not a DOCX", data: testDOCX("", map[string]string{"word/document.xml": "", "_rels/.rels": "", "readme.txt": "hi"}), noDoc: true,
			problems: []string{w + "cannot parse the DOCX (the zip has no word/document.xml); is it a Word document?"}},
		{name: "truncated", data: testDOCX(body, nil)[:900], noDoc: true,
			problems: []string{w + "cannot parse the DOCX (zip: not a valid zip file); the file may be damaged, or not a Word document"}},
		{name: "damaged XML", data: testDOCX("", map[string]string{"word/document.xml": `<w:document ` + wordNS + `><w:body><w:p><w:r><w:t>cut`}), noDoc: true,
			problems: []string{w + "cannot parse the DOCX (word/document.xml: XML syntax error on line 1: unexpected EOF); the file may be damaged"}},
		{name: "password-protected", data: oleMagic + strings.Repeat("\x00", 504), noDoc: true,
			problems: []string{w + "the DOCX is password-protected (encrypted), or is an old binary Word file named .docx; " +
				"save it as a .docx without a password to index it"}},
	})
}

func TestDOCXLimits(t *testing.T) {
	words := strings.Repeat("word ", 400) // 2000 bytes of text, compressed to far less
	data := testDOCX(para("", words)+para("", words), nil)
	tests := []struct {
		name     string
		max      int64
		wantDoc  bool
		problems []string
	}{
		{name: "text under the limit", max: 8 << 10, wantDoc: true},
		{name: "text over the limit", max: 3 << 10, problems: []string{"W sample/big.docx: the text of the DOCX is over the limit of 3.0 KiB (3072 bytes); " +
			"set MAX_FILE_BYTES to a larger number of bytes to index it"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if int64(len(data)) > tt.max {
				t.Fatalf("the file is %d bytes, over the limit %d under test", len(data), tt.max)
			}
			docs, problems := walkFiles(t, map[string]string{"big.docx": data}, Options{MaxFileBytes: tt.max})
			if got := problemStrings(problems); strings.Join(got, "\n") != strings.Join(tt.problems, "\n") {
				t.Errorf("got problems\n%q\nwant\n%q", got, tt.problems)
			}
			if (len(docs) == 1) != tt.wantDoc {
				t.Errorf("got %d documents, want a document: %v", len(docs), tt.wantDoc)
			}
		})
	}
}

func TestDOCXPartTooLarge(t *testing.T) {
	markup := strings.Repeat(`<w:p w:rsidR="`+strings.Repeat("A", 100<<10)+`"/>`, 12) // 1.2 MiB of markup without text
	_, _, perr := parseDOCX(t.Context(), []byte(testDOCX(markup+para("", "end"), nil)), "a.docx", 64<<10)
	want := "word/document.xml in the DOCX uncompresses to more than 1.0 MiB (1048576 bytes); set MAX_FILE_BYTES to a larger number of bytes to index it"
	if perr == nil || perr.reason != want {
		t.Errorf("got %+v, want %q", perr, want)
	}
}

func FuzzDOCX(f *testing.F) {
	for _, seed := range []string{
		testDOCX(para("Title", "T")+para("", "a"), map[string]string{"docProps/core.xml": coreXML("x", "y")}),
		testDOCX(table([]string{"a|b", "c"}, []string{"d"}), nil),
		testDOCX(`<w:p><w:r><w:tab/><w:br/><w:t>x</w:t></w:r></w:p><mc:AlternateContent><mc:Fallback>`+para("", "f")+`</mc:Fallback></mc:AlternateContent>`, nil),
		testDOCX("", map[string]string{"word/document.xml": "<w:document"}),
		oleMagic,
		"PK\x03\x04",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, problems := walkFiles(t, map[string]string{"a.docx": string(data)}, Options{})
		checkUTF8(t, docs, problems)
		for _, d := range docs {
			if strings.Contains(d.Text, "\n\n\n") || d.Text != strings.TrimSpace(d.Text) {
				t.Fatalf("text %q has more than one blank line in a row or is not trimmed", d.Text)
			}
		}
		for _, p := range problems {
			if p.Error {
				t.Fatalf("error problem %s; DOCX files only warn", p)
			}
		}
	})
}
