package ingest

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"regexp"
	"strconv"
	"strings"
)

// A .docx file is a zip package of XML parts (Office Open XML, ECMA-376):
// _rels/.rels names the main document part (word/document.xml) and the
// core properties (docProps/core.xml); the main part's own relationships
// name its styles, footnotes and endnotes. It is read here with archive/zip
// and encoding/xml: the Go libraries for Word documents either drop text
// inside hyperlinks, content controls and tracked changes, or are not
// under a permissive license.

// XML namespaces read in a DOCX, in their transitional and strict forms.
const (
	nsWordML       = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
	nsWordMLStrict = "http://purl.oclc.org/ooxml/wordprocessingml/main"
	nsMath         = "http://schemas.openxmlformats.org/officeDocument/2006/math"
	nsMathStrict   = "http://purl.oclc.org/ooxml/officeDocument/math"
	nsMarkupCompat = "http://schemas.openxmlformats.org/markup-compatibility/2006"
)

// docxCheckEvery is how many XML tokens are read between checks of the
// context.
const docxCheckEvery = 1024

// oleMagic starts an OLE compound file: what Word saves a password-protected
// document as (and the format of old binary .doc files).
const oleMagic = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"

// Reasons for skipping a DOCX.
const (
	docxEncryptedReason = "the DOCX is password-protected (encrypted), or is an old binary Word file named .docx; " +
		"save it as a .docx without a password to index it"
	docxNoTextReason = "the DOCX has no text"
)

// errPartTooLarge ends the reading of a part that uncompresses to more than
// its limit.
var errPartTooLarge = errors.New("part too large")

// parseDOCX reads a Word document: the text of the body's paragraphs, then
// of the footnotes and endnotes, in document order, paragraphs separated by
// blank lines, a table's rows on lines of their own with tabs between the
// cells; tabs and line breaks are kept. The title is the core properties'
// title unless it says nothing (see metadataTitle), else the first
// paragraph styled as a title or a heading, else one made from the file
// name. Metadata: "author" (the creator) when the document has one.
//
// A DOCX that cannot be read (not a zip, encrypted, no text) is a parse
// error, reported as a warning, and so are panics. The reading stops when
// ctx is cancelled or the text grows past maxText bytes.
func parseDOCX(ctx context.Context, data []byte, name string, maxText int64) (pd parsed, warnings []string, perr *parseError) {
	defer func() {
		if v := recover(); v != nil {
			pd, warnings, perr = parsed{}, nil, &parseError{reason: fmt.Sprintf("cannot parse the DOCX (%s); the file may be damaged",
				briefError(fmt.Errorf("%v", v)))}
		}
	}()
	if bytes.HasPrefix(data, []byte(oleMagic)) {
		return pd, nil, &parseError{reason: docxEncryptedReason}
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return pd, nil, &parseError{reason: fmt.Sprintf("cannot parse the DOCX (%v); the file may be damaged, or not a Word document", err)}
	}
	pkg := docxPackage{files: map[string]*zip.File{}, maxText: maxText, maxXML: max(min(maxText, math.MaxInt64/8)*8, 1<<20)}
	for _, f := range zr.File {
		pkg.files[partKey(f.Name)] = f
	}
	rels := pkg.rels("")
	main := cmp.Or(rels["officeDocument"], "word/document.xml")
	if _, ok := pkg.files[partKey(main)]; !ok {
		return pd, nil, &parseError{reason: fmt.Sprintf("cannot parse the DOCX (the zip has no %s); is it a Word document?", main)}
	}
	docRels := pkg.rels(main)
	t := docxText{ctx: ctx, max: maxText, styles: pkg.styles(cmp.Or(docRels["styles"], path.Join(path.Dir(main), "styles.xml")))}
	if err := pkg.read(main, t.read); err != nil {
		return pd, nil, pkg.parseError(ctx, main, err)
	}
	for _, notes := range []string{"footnotes", "endnotes"} {
		part := docRels[notes]
		if _, ok := pkg.files[partKey(part)]; part == "" || !ok {
			continue
		}
		t.w.block(2)
		switch err := pkg.read(part, t.read); {
		case err == nil:
		case ctx.Err() != nil, errors.Is(err, errTextTooLarge):
			return parsed{}, nil, pkg.parseError(ctx, part, err)
		default:
			warnings = append(warnings, fmt.Sprintf("cannot read the %s of the DOCX (%s: %s); some may be missing", notes, part, briefError(err)))
		}
	}
	pd.text = t.w.String()
	if pd.text == "" {
		return parsed{}, nil, &parseError{reason: docxNoTextReason}
	}
	title, author := pkg.core(cmp.Or(rels["core-properties"], "docProps/core.xml"))
	pd.meta = map[string]string{}
	if author != "" {
		pd.meta["author"] = author
	}
	pd.title = cmp.Or(metadataTitle(title, name), t.heading, titleFromName(name))
	return pd, warnings, nil
}

// partKey returns the key of a part name in docxPackage.files: part names
// are case-insensitive, and some writers put backslashes in zip names.
func partKey(name string) string {
	return strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(name, `\`, "/"), "/"))
}

// docxPackage reads the parts of a DOCX.
type docxPackage struct {
	files   map[string]*zip.File // by partKey
	maxText int64                // bytes of text at most
	maxXML  int64                // bytes one part may uncompress to
}

// read calls fn with the uncompressed content of a part, failing reads past
// maxXML bytes with errPartTooLarge.
func (p docxPackage) read(part string, fn func(io.Reader) error) error {
	f, ok := p.files[partKey(part)]
	if !ok {
		return fmt.Errorf("the zip has no %s", part)
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return fn(&limitedPart{r: rc, left: p.maxXML})
}

// limitedPart fails reads past left bytes with errPartTooLarge.
type limitedPart struct {
	r    io.Reader
	left int64
}

func (l *limitedPart) Read(b []byte) (int, error) {
	if l.left <= 0 {
		return 0, errPartTooLarge
	}
	n, err := l.r.Read(b[:min(int64(len(b)), l.left)])
	l.left -= int64(n)
	return n, err
}

// rels returns the targets of the relationships of a part ("" for the
// package) by the last element of their type ("officeDocument", "styles",
// "core-properties"...), as part names. A missing or damaged relationships
// part has none.
func (p docxPackage) rels(part string) map[string]string {
	relsPart := path.Join(path.Dir(part), "_rels", path.Base(part)+".rels")
	if part == "" {
		relsPart = "_rels/.rels"
	}
	var doc struct {
		Rels []struct {
			Type   string `xml:"Type,attr"`
			Target string `xml:"Target,attr"`
			Mode   string `xml:"TargetMode,attr"`
		} `xml:"Relationship"`
	}
	if p.read(relsPart, func(r io.Reader) error { return xml.NewDecoder(r).Decode(&doc) }) != nil {
		return nil
	}
	targets := map[string]string{}
	for _, r := range doc.Rels {
		if r.Mode == "External" || r.Target == "" {
			continue
		}
		target := r.Target
		if !strings.HasPrefix(target, "/") {
			target = path.Join(path.Dir(part), target)
		}
		kind := path.Base(r.Type)
		if _, ok := targets[kind]; !ok {
			targets[kind] = strings.TrimPrefix(target, "/")
		}
	}
	return targets
}

// core returns the title and author (creator) in the core properties.
func (p docxPackage) core(part string) (title, author string) {
	var doc struct {
		Title   string `xml:"http://purl.org/dc/elements/1.1/ title"`
		Creator string `xml:"http://purl.org/dc/elements/1.1/ creator"`
	}
	if p.read(part, func(r io.Reader) error { return xml.NewDecoder(r).Decode(&doc) }) != nil {
		return "", ""
	}
	return doc.Title, collapse(doc.Creator)
}

// docxStyle is what decides whether a paragraph style is a heading.
type docxStyle struct {
	name, basedOn string
	outline       int // outline level 0-8 (a heading), 9 (body text), or -1 when not set
}

// headingStyleName matches the names of Word's built-in title and heading
// styles, lower case; styles.xml keeps these English names in every
// language, while style ids are translated ("berschrift1").
var headingStyleName = regexp.MustCompile(`^(title|heading ?[1-9])$`)

// docxStyles are the paragraph styles of a document by id.
type docxStyles map[string]docxStyle

// styles reads the paragraph styles; a missing or damaged part has none.
func (p docxPackage) styles(part string) docxStyles {
	var doc struct {
		Styles []struct {
			Type    string  `xml:"type,attr"`
			ID      string  `xml:"styleId,attr"`
			Name    docxVal `xml:"name"`
			BasedOn docxVal `xml:"basedOn"`
			Outline docxVal `xml:"pPr>outlineLvl"`
		} `xml:"style"`
	}
	styles := docxStyles{}
	if p.read(part, func(r io.Reader) error { return xml.NewDecoder(r).Decode(&doc) }) != nil {
		return styles
	}
	for _, s := range doc.Styles {
		if s.Type != "paragraph" && s.Type != "" {
			continue
		}
		outline := -1
		if n, err := strconv.Atoi(s.Outline.Val); err == nil {
			outline = n
		}
		styles[s.ID] = docxStyle{name: strings.ToLower(s.Name.Val), basedOn: s.BasedOn.Val, outline: outline}
	}
	return styles
}

// docxVal is an element whose w:val attribute holds its value.
type docxVal struct {
	Val string `xml:"val,attr"`
}

// heading reports whether the paragraph style id is a title or a heading:
// by its outline level, its name or the style it is based on; by the id
// itself ("Title", "Heading1") when the document does not define it.
func (s docxStyles) heading(id string) bool {
	for range 16 { // a bound on basedOn chains, which could loop
		st, ok := s[id]
		switch {
		case !ok:
			return headingStyleName.MatchString(strings.ToLower(id))
		case st.outline >= 0:
			return st.outline < 9
		case headingStyleName.MatchString(st.name):
			return true
		case st.basedOn == "":
			return false
		}
		id = st.basedOn
	}
	return false
}

// docxText collects the text of WordprocessingML parts.
type docxText struct {
	ctx     context.Context
	max     int64 // bytes of text at most
	styles  docxStyles
	w       textWriter
	tables  int         // depth of tables around the current element
	paras   []*docxPara // paragraphs open, innermost last (text boxes nest them)
	inText  bool        // inside w:t or m:t
	heading string      // text of the first title or heading paragraph
	tokens  int         // XML tokens read
}

// docxPara is a paragraph being read.
type docxPara struct {
	heading bool
	text    strings.Builder // while no heading is found
}

// read reads one part of WordprocessingML.
func (t *docxText) read(r io.Reader) error {
	t.tables, t.paras, t.inText = 0, nil, false
	d := xml.NewDecoder(r)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if t.tokens++; t.tokens%docxCheckEvery == 0 {
			if err := t.ctx.Err(); err != nil {
				return err
			}
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if err := t.start(d, el); err != nil {
				return err
			}
		case xml.EndElement:
			t.end(el)
		case xml.CharData:
			if t.inText {
				if err := t.text(string(el)); err != nil {
					return err
				}
			}
		}
	}
}

// isWordML reports whether an XML namespace is WordprocessingML's.
func isWordML(ns string) bool { return ns == nsWordML || ns == nsWordMLStrict }

// start handles an element's start tag.
func (t *docxText) start(d *xml.Decoder, el xml.StartElement) error {
	switch {
	case el.Name.Space == nsMarkupCompat && el.Name.Local == "Fallback":
		return d.Skip() // the same content as the mc:Choice before it, in an older form
	case (el.Name.Space == nsMath || el.Name.Space == nsMathStrict) && el.Name.Local == "t":
		t.inText = true
		return nil
	case !isWordML(el.Name.Space):
		return nil
	}
	switch el.Name.Local {
	case "p":
		t.paras = append(t.paras, &docxPara{})
		t.paragraphBreak()
	case "pPr":
		return t.paragraphProps(d)
	case "rPr", "sectPr", "tblPr", "tblGrid", "trPr", "tcPr", "del", "delText", "moveFrom", "instrText", "fldData":
		return d.Skip() // formatting, deleted text, field codes: no text to show
	case "t":
		t.inText = true
	case "tab", "ptab":
		t.separate(t.w.cell) // a tab, like the one between cells
		t.headingSpace()
	case "br", "cr":
		t.separate(t.w.lineBreak)
		t.headingSpace()
	case "noBreakHyphen":
		return t.text("-")
	case "tbl":
		if t.tables++; t.tables > 1 { // a table in a cell is run into the cell
			t.space()
		} else {
			t.w.block(2)
		}
	case "tr":
		if t.tables > 1 {
			t.space()
		} else {
			t.w.block(1)
		}
	case "tc":
		if t.tables > 1 {
			t.space()
		} else {
			t.w.cell()
		}
	}
	return nil
}

// end handles an element's end tag.
func (t *docxText) end(el xml.EndElement) {
	if el.Name.Local == "t" && (isWordML(el.Name.Space) || el.Name.Space == nsMath || el.Name.Space == nsMathStrict) {
		t.inText = false
		return
	}
	if !isWordML(el.Name.Space) {
		return
	}
	switch el.Name.Local {
	case "p":
		if len(t.paras) == 0 {
			return
		}
		p := t.paras[len(t.paras)-1]
		t.paras = t.paras[:len(t.paras)-1]
		if t.heading == "" && p.heading {
			t.heading = collapse(p.text.String())
		}
		t.paragraphBreak()
	case "tbl":
		if t.tables = max(t.tables-1, 0); t.tables > 0 {
			t.space()
		} else {
			t.w.block(2)
		}
	}
}

// paragraphBreak separates paragraphs: by a blank line, or by a space
// inside a table cell.
func (t *docxText) paragraphBreak() {
	t.separate(func() { t.w.block(2) })
}

// separate calls brk outside tables; inside a table cell, where a line
// break would break the row, it owes a space instead.
func (t *docxText) separate(brk func()) {
	if t.tables == 0 {
		brk()
		return
	}
	t.space()
}

// space owes a space before the next text, unless a tab is owed.
func (t *docxText) space() {
	if t.w.sep == "" {
		t.w.sep = " "
	}
}

// text writes the content of a w:t element.
func (t *docxText) text(s string) error {
	t.w.text(s)
	if t.heading == "" && len(t.paras) > 0 {
		t.paras[len(t.paras)-1].text.WriteString(s)
	}
	if int64(t.w.b.Len()) > t.max {
		return errTextTooLarge
	}
	return nil
}

// headingSpace separates words in the text kept for the heading.
func (t *docxText) headingSpace() {
	if t.heading == "" && len(t.paras) > 0 {
		t.paras[len(t.paras)-1].text.WriteByte(' ')
	}
}

// paragraphProps reads a w:pPr element: whether the paragraph is a title
// or heading, by its style or outline level.
func (t *docxText) paragraphProps(d *xml.Decoder) error {
	for depth := 1; depth > 0; {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch el := tok.(type) {
		case xml.StartElement:
			depth++
			if depth != 2 || !isWordML(el.Name.Space) || len(t.paras) == 0 {
				continue
			}
			p := t.paras[len(t.paras)-1]
			switch val := wordAttr(el, "val"); el.Name.Local {
			case "pStyle":
				p.heading = p.heading || t.styles.heading(val)
			case "outlineLvl":
				if n, err := strconv.Atoi(val); err == nil {
					p.heading = n >= 0 && n < 9
				}
			}
		case xml.EndElement:
			depth--
		}
	}
	return nil
}

// wordAttr returns the value of an element's attribute by local name.
func wordAttr(el xml.StartElement, local string) string {
	for _, a := range el.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// parseError turns an error reading part into a parse error.
func (p docxPackage) parseError(ctx context.Context, part string, err error) *parseError {
	switch {
	case ctx.Err() != nil:
		return &parseError{reason: ctx.Err().Error()} // cancelled: the walk ends
	case errors.Is(err, errTextTooLarge):
		return &parseError{reason: fmt.Sprintf(
			"the text of the DOCX is over the limit of %s; set MAX_FILE_BYTES to a larger number of bytes to index it", formatBytes(p.maxText))}
	case errors.Is(err, errPartTooLarge):
		return &parseError{reason: fmt.Sprintf(
			"%s in the DOCX uncompresses to more than %s; set MAX_FILE_BYTES to a larger number of bytes to index it",
			part, formatBytes(p.maxXML))}
	}
	return &parseError{reason: fmt.Sprintf("cannot parse the DOCX (%s: %s); the file may be damaged", part, briefError(err))}
}
