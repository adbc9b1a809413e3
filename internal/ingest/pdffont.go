package ingest

import (
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/ledongthuc/pdf"
)

// Bounds on the ToUnicode CMap of a font.
const (
	maxPDFCMapBytes   = 4 << 20 // read
	maxPDFCMapEntries = 1 << 16 // codes and ranges kept
)

// pdfFont decodes the codes of one font to text and gives their widths.
type pdfFont struct {
	unicode *pdfCMap         // the font's ToUnicode CMap, which comes first
	enc     pdf.TextEncoding // the font's encoding, as the PDF library reads it
	wide    bool             // two-byte codes: a composite (Type0) font
	ucs2    bool             // a composite font whose codes are UTF-16 ("UniGB-UCS2-H")
	first   int              // code of widths[0]
	widths  []float64        // of a simple font's codes, in thousandths of an em
	cidW    map[int]float64  // of a composite font's codes
	dw      float64          // width of codes with none given, or an estimate
	scale   float64          // from the font's widths to thousandths of an em
	text    map[string]string
}

// newPDFFont reads a font dictionary; a missing one decodes bytes as
// Latin-1 with estimated widths.
func newPDFFont(v pdf.Value) *pdfFont {
	f := &pdfFont{dw: 500, scale: 1, text: map[string]string{}}
	if v.Kind() != pdf.Dict {
		return f
	}
	toUnicode, enc := v.Key("ToUnicode"), v.Key("Encoding")
	if toUnicode.Kind() == pdf.Stream {
		f.unicode = readPDFCMap(toUnicode)
	}
	if v.Key("Subtype").Name() == "Type0" {
		// Without a ToUnicode CMap, the codes of a composite font are glyph
		// numbers with no known text, unless the encoding is Unicode.
		f.wide, f.dw = true, 1000
		f.ucs2 = strings.Contains(enc.Name(), "UCS2") || strings.Contains(enc.Name(), "UTF16")
		d := v.Key("DescendantFonts").Index(0)
		if dw := d.Key("DW"); dw.Kind() == pdf.Integer || dw.Kind() == pdf.Real {
			f.dw = dw.Float64()
		}
		f.cidW = pdfCIDWidths(d.Key("W"))
		return f
	}
	// The library reads the ToUnicode CMap itself when the font has no
	// encoding; it cannot be trusted with a damaged one, and f.unicode has
	// it already.
	if enc.Kind() != pdf.Null || toUnicode.Kind() != pdf.Stream {
		pf := pdf.Font{V: v}
		f.enc = pf.Encoder()
	}
	if v.Key("Subtype").Name() == "Type3" { // widths in the font's own glyph space
		if m := v.Key("FontMatrix"); m.Len() == 6 {
			f.scale = m.Index(0).Float64() * 1000
		}
	}
	f.first = int(v.Key("FirstChar").Int64())
	w := v.Key("Widths")
	for i := range min(w.Len(), 256) {
		f.widths = append(f.widths, w.Index(i).Float64())
	}
	switch mw := v.Key("FontDescriptor").Key("MissingWidth").Float64(); {
	case mw > 0:
		f.dw = mw
	case strings.Contains(v.Key("BaseFont").Name(), "Courier"):
		f.dw = 600 // the standard fonts may have no widths in the file: estimate them
	}
	return f
}

// pdfCIDWidths reads the W array of a CIDFont: "c [w1 w2 ...]" gives the
// widths of c, c+1, ...; "first last w" one width for a range.
func pdfCIDWidths(w pdf.Value) map[int]float64 {
	widths := map[int]float64{}
	for i := 0; i+1 < w.Len() && len(widths) < maxPDFCMapEntries; {
		c := int(w.Index(i).Int64())
		if next := w.Index(i + 1); next.Kind() == pdf.Array {
			for j := range min(next.Len(), maxPDFCMapEntries) {
				widths[c+j] = next.Index(j).Float64()
			}
			i += 2
			continue
		}
		last, width := int(w.Index(i+1).Int64()), w.Index(i+2).Float64()
		for cid := c; cid <= last && len(widths) < maxPDFCMapEntries; cid++ {
			widths[cid] = width
		}
		i += 3
	}
	return widths
}

// decode returns the text of one code.
func (f *pdfFont) decode(code string) string {
	if t, ok := f.text[code]; ok {
		return t
	}
	t, ok := f.unicode.lookup(code)
	switch {
	case ok:
	case f.wide && f.ucs2 && len(code) == 2:
		t = string(utf16.Decode([]uint16{uint16(code[0])<<8 | uint16(code[1])}))
	case f.wide:
	case f.enc != nil:
		t = f.enc.Decode(code)
	}
	if !f.wide && (t == "" || !utf8.ValidString(t)) {
		t = string(rune(code[0])) // Latin-1, close to the usual WinAnsi
	}
	f.text[code] = t
	return t
}

// width returns the width of one code in thousandths of an em.
func (f *pdfFont) width(code string) float64 {
	if f.wide {
		if w, ok := f.cidW[int(pdfCode(code))]; ok {
			return w
		}
		return f.dw
	}
	if i := int(code[0]) - f.first; i >= 0 && i < len(f.widths) {
		return f.widths[i] * f.scale
	}
	return f.dw * f.scale
}

// pdfCode returns the number of a code of 1 to 4 bytes (big-endian).
func pdfCode(code string) uint32 {
	var v uint32
	for i := range min(len(code), 4) {
		v = v<<8 | uint32(code[i])
	}
	return v
}

// pdfCMap maps the codes of a font to text: a ToUnicode CMap. It is read
// here rather than by the PDF library, which counts a range's codes in its
// last byte only and allocates as many entries as a damaged count claims.
type pdfCMap struct {
	chars  map[string]string // by code
	ranges []pdfCMapRange
}

// pdfCMapRange maps the codes lo to hi, of n bytes: to dst with its last
// UTF-16 unit counting up, or to the texts in array.
type pdfCMapRange struct {
	lo, hi uint32
	n      int
	dst    []uint16
	array  []string
}

// lookup returns the text of a code, and whether the CMap has it.
func (m *pdfCMap) lookup(code string) (string, bool) {
	if m == nil {
		return "", false
	}
	if t, ok := m.chars[code]; ok {
		return t, true
	}
	v := pdfCode(code)
	for _, r := range m.ranges {
		if r.n != len(code) || v < r.lo || v > r.hi {
			continue
		}
		off := v - r.lo
		if r.array != nil {
			if int(off) < len(r.array) {
				return r.array[off], true
			}
			return "", false
		}
		u := append([]uint16(nil), r.dst...)
		u[len(u)-1] += uint16(off)
		return string(utf16.Decode(u)), true
	}
	return "", false
}

// readPDFCMap reads the bfchar and bfrange mappings of a CMap stream; a
// damaged one gives what could be read, or nil.
func readPDFCMap(v pdf.Value) (m *pdfCMap) {
	defer func() {
		if recover() != nil { // the stream could not be decoded
			m = nil
		}
	}()
	data, _ := io.ReadAll(io.LimitReader(v.Reader(), maxPDFCMapBytes))
	m = &pdfCMap{chars: map[string]string{}}
	lx := cmapLexer{data: data}
	var operands []cmapToken
	for {
		tok, ok := lx.next()
		if !ok || len(m.chars)+len(m.ranges) >= maxPDFCMapEntries {
			return m
		}
		if !tok.keyword {
			if len(operands) < 3*maxPDFCMapEntries {
				operands = append(operands, tok)
			}
			continue
		}
		switch tok.s {
		case "endbfchar":
			for i := 0; i+1 < len(operands); i += 2 {
				if src := operands[i].s; operands[i].str && operands[i+1].str && len(src) >= 1 && len(src) <= 4 {
					m.chars[src] = utf16Text(operands[i+1].s)
				}
			}
		case "endbfrange":
			for i := 0; i+2 < len(operands); i += 3 {
				m.addRange(operands[i], operands[i+1], operands[i+2])
			}
		}
		operands = operands[:0]
	}
}

// addRange adds a bfrange entry: codes lo to hi mapped to dst.
func (m *pdfCMap) addRange(lo, hi, dst cmapToken) {
	n := len(lo.s)
	if !lo.str || !hi.str || n < 1 || n > 4 || len(hi.s) != n {
		return
	}
	r := pdfCMapRange{lo: pdfCode(lo.s), hi: pdfCode(hi.s), n: n}
	if r.hi < r.lo || r.hi-r.lo >= maxPDFCMapEntries {
		return
	}
	switch {
	case dst.array != nil:
		for _, s := range dst.array {
			r.array = append(r.array, utf16Text(s))
		}
	case dst.str && len(dst.s) >= 2:
		for i := 0; i+1 < len(dst.s); i += 2 {
			r.dst = append(r.dst, uint16(dst.s[i])<<8|uint16(dst.s[i+1]))
		}
	default:
		return
	}
	m.ranges = append(m.ranges, r)
}

// utf16Text decodes a CMap destination string: UTF-16BE, or one byte.
func utf16Text(s string) string {
	if len(s) == 1 {
		return string(rune(s[0]))
	}
	u := make([]uint16, 0, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		u = append(u, uint16(s[i])<<8|uint16(s[i+1]))
	}
	return string(utf16.Decode(u))
}

// cmapToken is a token of a CMap: a string (hex or literal), an array of
// strings, a keyword, or another object (number, name, dictionary mark).
type cmapToken struct {
	s       string   // the string's bytes, or the keyword
	str     bool     // a string
	keyword bool     // a keyword (an operator)
	array   []string // the strings of an array
}

// cmapLexer splits a CMap (PostScript) into tokens.
type cmapLexer struct {
	data []byte
}

// next returns the next token, or false at the end.
func (l *cmapLexer) next() (cmapToken, bool) {
	for {
		l.skipSpace()
		if len(l.data) == 0 {
			return cmapToken{}, false
		}
		c := l.data[0]
		switch {
		case c == '<' && len(l.data) > 1 && l.data[1] == '<', c == '>' && len(l.data) > 1 && l.data[1] == '>':
			l.data = l.data[2:]
			return cmapToken{}, true
		case c == '<':
			return cmapToken{s: l.hex(), str: true}, true
		case c == '(':
			return cmapToken{s: l.literal(), str: true}, true
		case c == '[':
			l.data = l.data[1:]
			t := cmapToken{array: []string{}}
			for {
				l.skipSpace()
				if len(l.data) == 0 {
					return t, true
				}
				if l.data[0] == ']' {
					l.data = l.data[1:]
					return t, true
				}
				tok, _ := l.next()
				if tok.str && len(t.array) < maxPDFCMapEntries {
					t.array = append(t.array, tok.s)
				}
			}
		case strings.IndexByte("])>{}", c) >= 0:
			l.data = l.data[1:]
			return cmapToken{}, true
		}
		word := l.word()
		if word == "" { // a lone delimiter such as "/"
			l.data = l.data[1:]
			continue
		}
		first := word[0]
		return cmapToken{s: word, keyword: first != '/' && first != '-' && first != '+' && first != '.' && (first < '0' || first > '9')}, true
	}
}

// skipSpace skips white space and comments.
func (l *cmapLexer) skipSpace() {
	for len(l.data) > 0 {
		switch c := l.data[0]; {
		case c == '%':
			for len(l.data) > 0 && l.data[0] != '\n' && l.data[0] != '\r' {
				l.data = l.data[1:]
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == 0:
			l.data = l.data[1:]
		default:
			return
		}
	}
}

// word reads a name, number or keyword (a leading "/" included).
func (l *cmapLexer) word() string {
	i := 0
	if len(l.data) > 0 && l.data[0] == '/' {
		i = 1
	}
	for i < len(l.data) && strings.IndexByte(" \t\n\r\f\x00()<>[]{}/%", l.data[i]) < 0 {
		i++
	}
	w := string(l.data[:i])
	l.data = l.data[i:]
	return w
}

// hex reads a hex string "<...>"; an odd last digit counts as followed by 0.
func (l *cmapLexer) hex() string {
	l.data = l.data[1:]
	var b []byte
	var hi byte
	odd := false
	for len(l.data) > 0 {
		c := l.data[0]
		l.data = l.data[1:]
		var v byte
		switch {
		case c == '>':
			if odd {
				b = append(b, hi<<4)
			}
			return string(b)
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			continue // white space
		}
		if odd {
			b = append(b, hi<<4|v)
		} else {
			hi = v
		}
		odd = !odd
	}
	return string(b)
}

// literal reads a literal string "(...)" with its escapes.
func (l *cmapLexer) literal() string {
	l.data = l.data[1:]
	var b []byte
	depth := 1
	for len(l.data) > 0 {
		c := l.data[0]
		l.data = l.data[1:]
		switch c {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return string(b)
			}
		case '\\':
			if len(l.data) == 0 {
				return string(b)
			}
			c = l.data[0]
			l.data = l.data[1:]
			switch c {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '0', '1', '2', '3', '4', '5', '6', '7':
				v := c - '0'
				for i := 0; i < 2 && len(l.data) > 0 && l.data[0] >= '0' && l.data[0] <= '7'; i++ {
					v = v<<3 | (l.data[0] - '0')
					l.data = l.data[1:]
				}
				c = v
			}
		}
		b = append(b, c)
	}
	return string(b)
}
