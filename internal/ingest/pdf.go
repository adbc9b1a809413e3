package ingest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"
	"golang.org/x/text/unicode/norm"
)

// Bounds on the work a PDF can ask for, so that a damaged or hostile file
// ends in a warning rather than a hang.
const (
	maxPDFTreeDepth = 64      // levels of the page tree followed
	maxPDFTreeNodes = 1 << 17 // page tree nodes visited
	maxPDFFormDepth = 8       // nesting of form XObjects followed
	maxPDFForms     = 1000    // form XObjects run for one page
	maxPDFSaved     = 64      // graphics states saved (q) at once; the PDF spec allows 28
	maxPDFXMPBytes  = 1 << 20 // of the XMP metadata read
	pdfCheckEvery   = 1024    // content stream operators between checks of the context
)

// pdfSpaceGap is the gap between two pieces of text on a line, as a
// fraction of the font size, from which they are separate words.
const pdfSpaceGap = 0.15

// Reasons for skipping a PDF.
const (
	pdfNoTextReason   = "the PDF has no text layer (scanned images?); run OCR first to index it"
	pdfPasswordReason = "the PDF is encrypted (password-protected); save a copy without a password to index it"
)

// parsePDF reads the text layer of a PDF: the text of each page in the
// order the page draws it, one line per line of text, pages separated by
// blank lines. The title is the metadata title (Info, else XMP) unless it
// says nothing (see metadataTitle), else the first line of the first page
// when it reads as a title (see firstLineTitle), else one made from the file
// name. Metadata: "author" when the PDF names one, and "pages".
//
// A PDF that cannot be read (encrypted, damaged, no text) is a parse error,
// reported as a warning; panics in the PDF library become such errors too.
// Pages that cannot be read are left out with a warning. The extraction
// stops when ctx is cancelled or the text grows past maxText bytes.
func parsePDF(ctx context.Context, data []byte, name string, maxText int64) (pd parsed, warnings []string, perr *parseError) {
	defer func() {
		if v := recover(); v != nil {
			pd, warnings, perr = parsed{}, nil, pdfPanicError(v, maxText)
		}
	}()
	if i := bytes.Index(data[:min(len(data), 1024)], []byte("%PDF-")); i > 0 {
		data = data[i:] // bytes before the header (tolerated by viewers); offsets count from it
	}
	r, err := pdf.NewReader(pdfHeaderFix{bytes.NewReader(data), bytes.HasPrefix(data, []byte("%PDF-2."))}, int64(len(data)))
	if err != nil {
		return pd, nil, &parseError{reason: pdfOpenReason(err, data)}
	}
	if pdfWeakRC4(r) {
		return pd, nil, &parseError{reason: pdfEncryptionReason("40-bit RC4")}
	}
	pages := pdfPages(r.Trailer().Key("Root").Key("Pages"))
	if len(pages) == 0 {
		return pd, nil, &parseError{reason: "the PDF has no pages"}
	}
	x := pdfExtractor{ctx: ctx, max: maxText}
	var texts []string
	var firstPage, firstFailure string
	failed := 0
	for i, p := range pages {
		if err := ctx.Err(); err != nil {
			return pd, nil, &parseError{reason: err.Error()}
		}
		text, err := x.page(p)
		if err != nil {
			if failed++; failed == 1 {
				firstFailure = fmt.Sprintf("page %d: %s", i+1, briefError(err))
			}
		}
		if i == 0 {
			firstPage = text
		}
		if text != "" {
			texts = append(texts, text)
		}
	}
	pd.text = strings.Join(texts, "\n\n")
	switch {
	case pd.text == "" && failed > 0:
		return parsed{}, nil, &parseError{reason: fmt.Sprintf("cannot parse the PDF (%s); the file may be damaged", firstFailure)}
	case pd.text == "":
		return parsed{}, nil, &parseError{reason: pdfNoTextReason}
	case failed == 1:
		warnings = append(warnings, fmt.Sprintf("cannot read all of the PDF (%s); the rest of that page is missing", firstFailure))
	case failed > 1:
		warnings = append(warnings, fmt.Sprintf("cannot read all of %d pages of the PDF (first %s); the rest of those pages is missing",
			failed, firstFailure))
	}
	infoTitle, xmpTitle, author := pdfMetadata(r)
	pd.meta = map[string]string{"pages": strconv.Itoa(len(pages))}
	if author != "" {
		pd.meta["author"] = author
	}
	pd.title = cmp.Or(metadataTitle(infoTitle, name), metadataTitle(xmpTitle, name))
	if pd.title == "" {
		pd.title = firstLineTitle(firstPage)
	}
	if pd.title == "" {
		pd.title = titleFromName(name)
	}
	return pd, warnings, nil
}

// pdfHeaderFix shows the header of a PDF 2.0 file as "%PDF-1.7", the last
// version the PDF library accepts: what it reads did not change in 2.0.
type pdfHeaderFix struct {
	r  *bytes.Reader
	v2 bool
}

func (h pdfHeaderFix) ReadAt(p []byte, off int64) (int, error) {
	n, err := h.r.ReadAt(p, off)
	const header = "%PDF-1.7"
	if h.v2 && off >= 0 && off < int64(len(header)) {
		copy(p[:n], header[off:])
	}
	return n, err
}

// pdfOpenReason says why the PDF library could not open a file.
func pdfOpenReason(err error, data []byte) string {
	switch {
	case errors.Is(err, pdf.ErrInvalidPassword):
		return pdfPasswordReason
	case strings.Contains(strings.ToLower(err.Error()), "encrypt"), bytes.Contains(data, []byte("/Encrypt")):
		return pdfEncryptionReason("such as AES-256")
	}
	return fmt.Sprintf("cannot parse the PDF (%s); the file may be damaged or incomplete", briefError(err))
}

// pdfEncryptionReason says that the PDF is encrypted with a method (how)
// that the PDF library cannot decrypt.
func pdfEncryptionReason(how string) string {
	return fmt.Sprintf("the PDF is encrypted with a method not supported here (%s); save a copy without encryption to index it", how)
}

// pdfWeakRC4 reports whether the PDF is encrypted with RC4 and a key under
// 128 bits, which the PDF library decrypts wrongly (it always uses a
// 128-bit key), making the text garbage.
func pdfWeakRC4(r *pdf.Reader) bool {
	enc := r.Trailer().Key("Encrypt")
	if enc.Kind() != pdf.Dict {
		return false
	}
	v, bits := enc.Key("V").Int64(), enc.Key("Length").Int64()
	return (v == 1 || v == 2) && bits < 128
}

// pdfAbort is the panic that ends the extraction early: the context was
// cancelled or the text grew too large.
type pdfAbort struct{ err error }

// errTextTooLarge ends an extraction whose text is over the limit.
var errTextTooLarge = errors.New("text over the limit")

// pdfPanicError turns a panic while reading a PDF into a parse error.
func pdfPanicError(v any, maxText int64) *parseError {
	a, ok := v.(pdfAbort)
	switch {
	case ok && errors.Is(a.err, errTextTooLarge):
		return &parseError{reason: fmt.Sprintf(
			"the text of the PDF is over the limit of %s; set MAX_FILE_BYTES to a larger number of bytes to index it", formatBytes(maxText))}
	case ok:
		return &parseError{reason: a.err.Error()} // cancelled: the walk ends
	}
	return &parseError{reason: fmt.Sprintf("cannot parse the PDF (%s); the file may be damaged", briefError(fmt.Errorf("%v", v)))}
}

// briefError returns the first line of err's message, cut to 120 bytes.
func briefError(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	if len(s) > 120 {
		cut := 120
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// pdfPages returns the page objects of a page tree in order. Walking the
// tree itself, rather than by page number with the library, ends on a
// cyclic tree: a node seen before (the same entries, references
// unresolved) is not walked again, and the depth and size are bounded.
func pdfPages(root pdf.Value) []pdf.Value {
	var pages []pdf.Value
	nodes := 0
	seen := map[string]bool{}
	var walk func(n pdf.Value, depth int)
	walk = func(n pdf.Value, depth int) {
		if nodes++; nodes > maxPDFTreeNodes || depth > maxPDFTreeDepth || n.Kind() != pdf.Dict {
			return
		}
		kids := n.Key("Kids")
		if t := n.Key("Type").Name(); t == "Pages" || t != "Page" && kids.Kind() == pdf.Array {
			key := n.String()
			if seen[key] {
				return
			}
			seen[key] = true
			for i := range kids.Len() {
				walk(kids.Index(i), depth+1)
			}
			return
		}
		pages = append(pages, n)
	}
	walk(root, 0)
	return pages
}

// pdfInherited returns the value of key in the page or the nearest of its
// ancestors that has it (Resources may be inherited).
func pdfInherited(page pdf.Value, key string) pdf.Value {
	for n, depth := page, 0; n.Kind() == pdf.Dict && depth <= maxPDFTreeDepth; n, depth = n.Key("Parent"), depth+1 {
		if v := n.Key(key); !v.IsNull() {
			return v
		}
	}
	return pdf.Value{}
}

// pdfMetadata returns the titles of the PDF in its Info dictionary and its
// XMP metadata, and its author (Info, else XMP). A damaged entry counts as
// missing.
func pdfMetadata(r *pdf.Reader) (infoTitle, xmpTitle, author string) {
	defer func() { _ = recover() }() // metadata is optional: keep what was read
	info := r.Trailer().Key("Info")
	infoTitle, author = pdfText(info.Key("Title")), collapse(pdfText(info.Key("Author")))
	xmp := r.Trailer().Key("Root").Key("Metadata")
	if xmp.Kind() != pdf.Stream {
		return infoTitle, "", author
	}
	data, _ := io.ReadAll(io.LimitReader(xmp.Reader(), maxPDFXMPBytes))
	xmpTitle, xmpAuthor := parseXMP(data)
	return infoTitle, xmpTitle, cmp.Or(author, xmpAuthor)
}

// pdfText decodes a PDF text string: PDFDocEncoding, UTF-16BE with a byte
// order mark, or (PDF 2.0) UTF-8 with one.
func pdfText(v pdf.Value) string {
	if raw := v.RawString(); strings.HasPrefix(raw, utf8BOM) {
		return validUTF8(raw[len(utf8BOM):])
	}
	return validUTF8(v.Text())
}

// XML namespaces of the XMP properties read.
const (
	nsDC  = "http://purl.org/dc/elements/1.1/"
	nsRDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
)

// parseXMP returns dc:title (its first alternative) and dc:creator (all
// names, joined by ", ") from XMP metadata, or "" for what it lacks.
func parseXMP(data []byte) (title, author string) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var prop string // "title" or "creator" while inside one
	var text strings.Builder
	var creators []string
	inItem := false
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case t.Name.Space == nsDC && (t.Name.Local == "title" || t.Name.Local == "creator"):
				prop = t.Name.Local
			case prop != "" && t.Name.Space == nsRDF && t.Name.Local == "li":
				inItem = true
				text.Reset()
			}
		case xml.EndElement:
			switch {
			case t.Name.Space == nsDC && t.Name.Local == prop:
				prop = ""
			case inItem && t.Name.Space == nsRDF && t.Name.Local == "li":
				inItem = false
				v := collapse(text.String())
				if prop == "title" && title == "" {
					title = v
				} else if prop == "creator" && v != "" {
					creators = append(creators, v)
				}
			}
		case xml.CharData:
			if inItem {
				text.Write(t)
			}
		}
	}
	return title, strings.Join(creators, ", ")
}

// pdfExtractor collects the text of pages, line by line.
type pdfExtractor struct {
	ctx   context.Context
	max   int64 // bytes of text at most
	size  int64 // bytes of text so far
	ops   int   // operators run since the context was checked
	lines []string
	line  strings.Builder
	last  pdfRun // the last text put on line
	space bool   // a word space is owed before the next text on line
	forms int    // form XObjects run for the current page
}

// pdfRun is where a piece of text was drawn: in device space turned so
// that its baseline runs along x, by the angle of the baseline (rounded to
// whole degrees: text drawn at a slant or upright is read along its line).
type pdfRun struct {
	x, y, endX, size float64
	angle            int
}

// pdfState is the part of the graphics state that places text.
type pdfState struct {
	ctm                                           pdfMatrix
	font                                          *pdfFont
	size, charSpace, wordSpace, scale, lead, rise float64
}

// page returns the text of a page, with its lines separated by newlines.
// A panic in the PDF library becomes the error; the text read before it is
// returned with it.
func (x *pdfExtractor) page(p pdf.Value) (text string, err error) {
	defer func() {
		if v := recover(); v != nil {
			if a, ok := v.(pdfAbort); ok {
				panic(a)
			}
			err = fmt.Errorf("%v", v)
		}
		x.endLine()
		text = strings.Join(joinHyphenated(x.lines), "\n")
		x.lines, x.forms = x.lines[:0], 0
	}()
	x.content(p.Key("Contents"), pdfInherited(p, "Resources"), pdfState{ctm: pdfIdentity, scale: 1}, 0)
	return "", nil // set by the deferred function
}

// content runs a content stream (of a page or a form XObject) with its
// resources, from the graphics state g.
func (x *pdfExtractor) content(strm, res pdf.Value, g pdfState, depth int) {
	if strm.IsNull() {
		return
	}
	fonts := map[string]*pdfFont{}
	var saved []pdfState
	unsaved := 0 // q operators past maxPDFSaved, whose Q restore nothing
	tm, tlm := pdfIdentity, pdfIdentity
	nextLine := func() {
		tlm = pdfMatrix{1, 0, 0, 1, 0, -g.lead}.mul(tlm)
		tm = tlm
	}
	pdf.Interpret(strm, func(stk *pdf.Stack, op string) {
		args := make([]pdf.Value, stk.Len())
		for i := len(args) - 1; i >= 0; i-- {
			args[i] = stk.Pop()
		}
		if x.ops++; x.ops >= pdfCheckEvery {
			x.ops = 0
			if err := x.ctx.Err(); err != nil {
				panic(pdfAbort{err})
			}
		}
		switch op {
		case "q":
			if len(saved) < maxPDFSaved {
				saved = append(saved, g)
			} else {
				unsaved++
			}
		case "Q":
			if n := len(saved); unsaved > 0 {
				unsaved--
			} else if n > 0 {
				g, saved = saved[n-1], saved[:n-1]
			}
		case "cm":
			if m, ok := pdfMatrixOf(args); ok {
				g.ctm = m.mul(g.ctm)
			}
		case "BT":
			tm, tlm = pdfIdentity, pdfIdentity
		case "Tc", "Tw", "Tz", "TL", "Ts":
			if len(args) != 1 {
				return
			}
			v := args[0].Float64()
			switch op {
			case "Tc":
				g.charSpace = v
			case "Tw":
				g.wordSpace = v
			case "Tz":
				g.scale = v / 100
			case "TL":
				g.lead = v
			case "Ts":
				g.rise = v
			}
		case "Tf":
			if len(args) == 2 {
				g.font, g.size = x.font(fonts, res, args[0].Name()), args[1].Float64()
			}
		case "Td", "TD":
			if len(args) == 2 {
				tx, ty := args[0].Float64(), args[1].Float64()
				if op == "TD" {
					g.lead = -ty
				}
				tlm = pdfMatrix{1, 0, 0, 1, tx, ty}.mul(tlm)
				tm = tlm
			}
		case "Tm":
			if m, ok := pdfMatrixOf(args); ok {
				tm, tlm = m, m
			}
		case "T*":
			nextLine()
		case "Tj", "'", "\"":
			if len(args) == 0 {
				return
			}
			if op == "\"" && len(args) == 3 {
				g.wordSpace, g.charSpace = args[0].Float64(), args[1].Float64()
			}
			if op != "Tj" {
				nextLine()
			}
			x.show(&g, &tm, args[len(args)-1].RawString())
		case "TJ":
			if len(args) != 1 {
				return
			}
			for i := range args[0].Len() {
				v := args[0].Index(i)
				if v.Kind() == pdf.String {
					x.show(&g, &tm, v.RawString())
					continue
				}
				adjust := -v.Float64() / 1000 // in text space units, from thousandths of an em
				if adjust >= pdfSpaceGap {
					x.space = true // a gap put in to separate words
				}
				tm = pdfMatrix{1, 0, 0, 1, adjust * g.size * g.scale, 0}.mul(tm)
			}
		case "Do":
			if len(args) != 1 || depth >= maxPDFFormDepth || x.forms >= maxPDFForms {
				return
			}
			form := res.Key("XObject").Key(args[0].Name())
			if form.Kind() != pdf.Stream || form.Key("Subtype").Name() != "Form" {
				return // an image: no text
			}
			formRes := form.Key("Resources")
			if formRes.Kind() != pdf.Dict {
				formRes = res
			}
			x.forms++
			fg := g
			if m, ok := pdfMatrixOf(pdfArray(form.Key("Matrix"))); ok {
				fg.ctm = m.mul(g.ctm)
			}
			x.content(form, formRes, fg, depth+1)
		}
	})
}

// pdfArray returns the elements of an array value.
func pdfArray(v pdf.Value) []pdf.Value {
	out := make([]pdf.Value, v.Len())
	for i := range out {
		out[i] = v.Index(i)
	}
	return out
}

// font returns the font resource called name, loading it on first use.
func (x *pdfExtractor) font(fonts map[string]*pdfFont, res pdf.Value, name string) *pdfFont {
	if f, ok := fonts[name]; ok {
		return f
	}
	f := newPDFFont(res.Key("Font").Key(name))
	fonts[name] = f
	return f
}

// show draws the string s (font codes) at the text matrix tm and moves tm
// past it.
func (x *pdfExtractor) show(g *pdfState, tm *pdfMatrix, s string) {
	f := g.font
	if f == nil {
		f = newPDFFont(pdf.Value{})
		g.font = f
	}
	placed := func() pdfMatrix {
		return pdfMatrix{g.size * g.scale, 0, 0, g.size, 0, g.rise}.mul(*tm).mul(g.ctm)
	}
	start := placed()
	// Character spacing of pdfSpaceGap or more spreads the letters into
	// words of one letter (as when it is used to justify a line).
	spread := g.charSpace >= pdfSpaceGap*g.size
	var b strings.Builder
	for len(s) > 0 {
		n := 1
		if f.wide && len(s) >= 2 {
			n = 2
		}
		code := s[:n]
		s = s[n:]
		if spread && b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f.decode(code))
		advance := f.width(code)/1000*g.size + g.charSpace
		if code == " " {
			advance += g.wordSpace
		}
		*tm = pdfMatrix{1, 0, 0, 1, advance * g.scale, 0}.mul(*tm)
	}
	end := placed()
	size := math.Hypot(start[2], start[3]) // the font size as drawn
	run := pdfRun{x: start[4], y: start[5], endX: end[4], size: max(size, 1)}
	if dx, dy := start[0], start[1]; dy != 0 { // a turned baseline: turn it back
		angle := math.Atan2(dy, dx)
		sin, cos := math.Sincos(-angle)
		run.x, run.y = start[4]*cos-start[5]*sin, start[4]*sin+start[5]*cos
		run.endX = end[4]*cos - end[5]*sin
		run.angle = int(math.Round(angle * 180 / math.Pi))
	}
	x.add(run, b.String())
}

// add puts text drawn at run on the current line, or on a new line when it
// is not on the same baseline; a gap of pdfSpaceGap or more separates words.
func (x *pdfExtractor) add(run pdfRun, text string) {
	onLine := x.line.Len() > 0 && run.angle == x.last.angle && math.Abs(run.y-x.last.y) <= 0.5*max(run.size, x.last.size)
	if strings.TrimFunc(text, unicode.IsSpace) == "" {
		if onLine && text != "" {
			x.space = true
			x.last.endX = run.endX
		}
		return
	}
	switch {
	case x.line.Len() > 0 && !onLine:
		x.endLine()
	case onLine:
		if gap := run.x - x.last.endX; gap >= pdfSpaceGap*run.size || gap < -run.size {
			x.space = true
		}
	}
	if x.space && x.line.Len() > 0 {
		x.line.WriteByte(' ')
	}
	x.line.WriteString(text)
	x.space, x.last = false, run
	if x.size += int64(len(text)) + 1; x.size > x.max {
		panic(pdfAbort{errTextTooLarge})
	}
}

// endLine finishes the current line.
func (x *pdfExtractor) endLine() {
	if line := pdfLine(x.line.String()); line != "" {
		x.lines = append(x.lines, line)
	}
	x.line.Reset()
	x.space, x.last = false, pdfRun{}
}

// pdfLigatures spells out the ligature characters fonts map glyphs to, so
// that "ﬁnd" is found by "find".
var pdfLigatures = strings.NewReplacer("ﬀ", "ff", "ﬁ", "fi", "ﬂ", "fl", "ﬃ", "ffi", "ﬄ", "ffl", "ﬅ", "st", "ﬆ", "st")

// pdfAccents maps the spacing accents that TeX draws before a letter (as
// in "caf´e") to the combining marks that put them on it ("café").
var pdfAccents = map[rune]rune{
	'\u00A8': '\u0308', '\u00B4': '\u0301', '\u02C6': '\u0302', '\u02DC': '\u0303', '\u02C7': '\u030C',
	'\u02DA': '\u030A', '\u00AF': '\u0304', '\u02D8': '\u0306', '\u02D9': '\u0307', '\u02DD': '\u030B',
}

// pdfLine normalises a line of text: ligatures spelled out, accents drawn
// apart put on their letters, Unicode in composed form (NFC), control and
// private-use characters (unknown symbols) dropped, white space collapsed.
func pdfLine(s string) string {
	rs := []rune(pdfLigatures.Replace(s))
	out := make([]rune, 0, len(rs))
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			r = ' '
		case unicode.IsControl(r) || unicode.Is(unicode.Co, r):
			continue
		}
		if mark, ok := pdfAccents[r]; ok && i+1 < len(rs) && unicode.IsLetter(rs[i+1]) {
			base := rs[i+1]
			if base == 'ı' { // dotless i, which TeX accents
				base = 'i'
			}
			out = append(out, base, mark)
			i++
			continue
		}
		out = append(out, r)
	}
	return collapse(norm.NFC.String(string(out)))
}

// joinHyphenated mends the words hyphenated at the ends of lines: when a
// line ends in a letter and a hyphen and the next starts with a lower-case
// letter, the rest of the word moves up to the line before, without the
// hyphen ("dif-" "ficult to" becomes "difficult" "to"), so that the word can
// be found.
func joinHyphenated(lines []string) []string {
	for i := 0; i+1 < len(lines); i++ {
		line, next := lines[i], lines[i+1]
		r, n := utf8.DecodeLastRuneInString(line)
		if r != '-' && r != '\u00AD' && r != '\u2010' {
			continue
		}
		if before, _ := utf8.DecodeLastRuneInString(line[:len(line)-n]); !unicode.IsLetter(before) {
			continue
		}
		if first, _ := utf8.DecodeRuneInString(next); !unicode.IsLower(first) {
			continue
		}
		word, rest, _ := strings.Cut(next, " ")
		lines[i] = line[:len(line)-n] + word
		if rest == "" {
			lines = append(lines[:i+1], lines[i+2:]...)
			i-- // the mended line may end in a hyphen again
			continue
		}
		lines[i+1] = rest
	}
	return lines
}

// pdfMatrix is a PDF transformation matrix [a b c d e f].
type pdfMatrix [6]float64

var pdfIdentity = pdfMatrix{1, 0, 0, 1, 0, 0}

// mul returns m×n: the transformation m, then n.
func (m pdfMatrix) mul(n pdfMatrix) pdfMatrix {
	return pdfMatrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

// pdfMatrixOf reads six numbers as a matrix.
func pdfMatrixOf(args []pdf.Value) (pdfMatrix, bool) {
	var m pdfMatrix
	if len(args) != 6 {
		return m, false
	}
	for i, a := range args {
		if k := a.Kind(); k != pdf.Integer && k != pdf.Real {
			return m, false
		}
		m[i] = a.Float64()
	}
	return m, true
}
