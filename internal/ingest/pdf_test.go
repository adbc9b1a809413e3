package ingest

import (
	"bytes"
	"cmp"
	"context"
	"crypto/md5"
	"crypto/rc4"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

// testPDF describes a PDF for writePDF: pages of text in the standard font
// Helvetica (/F1), with an Info dictionary, and the features under test.
type testPDF struct {
	version   string            // of the header; "1.4" when empty
	info      map[string]string // Info dictionary entries, e.g. "Title"
	xmp       string            // XMP metadata stream, or none
	pages     []string          // content stream of each page
	forms     []string          // content streams of form XObjects /X1, /X2... on every page
	composite bool              // add /F2, a composite font with a ToUnicode CMap (see compositeCMap)
	badPage   int               // the 1-based page whose content has a filter the reader lacks
	cyclic    bool              // the page tree lists itself among its kids
	encrypt   int               // encrypt with the standard security handler, RC4 with a key of this many bits (40 or 128)
	userPW    string            // with encrypt: the password to open the file, "" for none
	aes256    bool              // declare AES-256 encryption (V 5), which the reader lacks
}

// compositeCMap maps the codes of /F2: 0001-0002 "Hi", 0003 a space,
// 0004 the ligature "ﬁ", and 0010-0019 the digits.
const compositeCMap = `/CIDInit /ProcSet findresource begin 12 dict begin begincmap
/CMapName /Adobe-Identity-UCS def /CMapType 2 def
1 begincodespacerange <0000> <FFFF> endcodespacerange
4 beginbfchar <0001> <0048> <0002> <0069> <0003> <0020> <0004> <FB01> endbfchar
1 beginbfrange <0010> <0019> <0030> endbfrange
endcmap CMapName currentdict /CMap defineresource pop end end`

// pdfPadding pads passwords in the standard security handler (PDF 32000-1, 7.6.3.3).
var pdfPadding = []byte("\x28\xBF\x4E\x5E\x4E\x75\x8A\x41\x64\x00\x4E\x56\xFF\xFA\x01\x08" +
	"\x2E\x2E\x00\xB6\xD0\x68\x3E\x80\x2F\x0C\xA9\xFE\x64\x53\x69\x7A")

func rc4Crypt(key, data []byte) []byte {
	c, err := rc4.NewCipher(key)
	if err != nil {
		panic(err)
	}
	out := make([]byte, len(data))
	c.XORKeyStream(out, data)
	return out
}

// writePDF writes p as a PDF file with a correct cross-reference table.
func writePDF(p testPDF) []byte {
	var objs []string // bodies of objects 1, 2, ...
	reserve := func() int { objs = append(objs, ""); return len(objs) }
	catalog, pages, font := reserve(), reserve(), reserve()
	id := []byte("0123456789abcdef")
	var key []byte // the file key, when encrypted
	var encrypt string
	if p.encrypt != 0 { // algorithms 2 to 5 of PDF 32000-1, 7.6.3
		pad := func(pw string) []byte { return append([]byte(pw), pdfPadding...)[:32] }
		n, r, v := p.encrypt/8, 2, 1
		if p.encrypt > 40 {
			r, v = 3, 2
		}
		hash := func(data []byte) []byte { // MD5, then 50 more times for revision 3
			h := md5.Sum(data)
			for i := 0; r == 3 && i < 50; i++ {
				h = md5.Sum(h[:n])
			}
			return h[:n]
		}
		rc4Rounds := func(key, data []byte) []byte { // RC4, then 19 more times with the key XOR i for revision 3
			data = rc4Crypt(key, data)
			for i := 1; r == 3 && i <= 19; i++ {
				k := bytes.Clone(key)
				for j := range k {
					k[j] ^= byte(i)
				}
				data = rc4Crypt(k, data)
			}
			return data
		}
		o := rc4Rounds(hash(pad("owner")), pad(p.userPW))
		const perms = -4
		key = hash(bytes.Join([][]byte{pad(p.userPW), o, {perms & 0xff, 0xff, 0xff, 0xff}, id}, nil))
		u := rc4Crypt(key, pdfPadding)
		if r == 3 {
			h := md5.Sum(append(bytes.Clone(pdfPadding), id...))
			u = append(rc4Rounds(key, h[:]), make([]byte, 16)...)
		}
		encrypt = fmt.Sprintf("<< /Filter /Standard /V %d /R %d /Length %d /O <%x> /U <%x> /P %d >>", v, r, p.encrypt, o, u, perms)
	}
	if p.aes256 {
		encrypt = fmt.Sprintf("<< /Filter /Standard /V 5 /R 6 /Length 256 /O <%x> /U <%x> /P -4 >>", bytes.Repeat([]byte{1}, 48), bytes.Repeat([]byte{2}, 48))
	}
	crypt := func(obj int, data string) string { // encrypts a string or stream of object obj
		if key == nil {
			return data
		}
		k := md5.Sum(append(bytes.Clone(key), byte(obj), byte(obj>>8), byte(obj>>16), 0, 0))
		return string(rc4Crypt(k[:min(len(key)+5, 16)], []byte(data)))
	}
	stream := func(obj int, dict, data string) string {
		data = crypt(obj, data)
		return fmt.Sprintf("<< /Length %d %s >>\nstream\n%s\nendstream", len(data), dict, data)
	}
	objs[font-1] = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
	fonts := fmt.Sprintf("/F1 %d 0 R", font)
	if p.composite {
		f2, cid, cmap := reserve(), reserve(), reserve()
		objs[f2-1] = fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /Example /Encoding /Identity-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>", cid, cmap)
		objs[cid-1] = "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Example /DW 1000 /W [1 [700 300 250 550] 16 25 500] >>"
		objs[cmap-1] = stream(cmap, "", compositeCMap)
		fonts += fmt.Sprintf(" /F2 %d 0 R", f2)
	}
	var xobjects string
	for i, form := range p.forms {
		n := reserve()
		objs[n-1] = stream(n, fmt.Sprintf("/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << %s >> >>", fonts), form)
		xobjects += fmt.Sprintf(" /X%d %d 0 R", i+1, n)
	}
	var kids []string
	for i, content := range p.pages {
		page, contents := reserve(), reserve()
		objs[page-1] = fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources << /Font << %s >> /XObject << %s >> >> /Contents %d 0 R >>",
			pages, fonts, xobjects, contents)
		filter := ""
		if i+1 == p.badPage {
			filter = "/Filter /LZWDecode"
		}
		objs[contents-1] = stream(contents, filter, content)
		kids = append(kids, fmt.Sprintf("%d 0 R", page))
	}
	if p.cyclic {
		kids = append(kids, fmt.Sprintf("%d 0 R", pages))
	}
	objs[pages-1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(p.pages))
	objs[catalog-1] = fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pages)
	if p.xmp != "" {
		n := reserve()
		objs[n-1] = stream(n, "/Type /Metadata /Subtype /XML", p.xmp)
		objs[catalog-1] = fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R /Metadata %d 0 R >>", pages, n)
	}
	trailer := fmt.Sprintf("/Root %d 0 R /ID [<%x> <%x>]", catalog, id, id)
	if len(p.info) > 0 {
		n := reserve()
		var entries []string
		for _, k := range []string{"Title", "Author", "Subject", "Producer"} {
			if v, ok := p.info[k]; ok {
				entries = append(entries, fmt.Sprintf("/%s <%x>", k, crypt(n, pdfTextString(v))))
			}
		}
		objs[n-1] = "<< " + strings.Join(entries, " ") + " >>"
		trailer += fmt.Sprintf(" /Info %d 0 R", n)
	}
	if encrypt != "" {
		n := reserve()
		objs[n-1] = encrypt
		trailer += fmt.Sprintf(" /Encrypt %d 0 R", n)
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, "%%PDF-%s\n%%\xe2\xe3\xcf\xd3\n", cmp.Or(p.version, "1.4"))
	offsets := make([]int, len(objs))
	for i, body := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, body)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, trailer, xref)
	return b.Bytes()
}

// pdfTextString encodes a text string: as it is when ASCII, else UTF-16BE
// with a byte order mark.
func pdfTextString(s string) string {
	for _, r := range s {
		if r > 0x7e {
			var b strings.Builder
			b.WriteString("\xfe\xff")
			for _, u := range utf16.Encode([]rune(s)) {
				b.WriteByte(byte(u >> 8))
				b.WriteByte(byte(u))
			}
			return b.String()
		}
	}
	return s
}

// pdfLines returns a content stream that shows each line in /F1 at 12
// points, 14 points apart, from the top left of the page.
func pdfLines(lines ...string) string {
	var b strings.Builder
	b.WriteString("BT /F1 12 Tf 14 TL 72 720 Td\n")
	for i, line := range lines {
		if i > 0 {
			b.WriteString("T*\n")
		}
		fmt.Fprintf(&b, "(%s) Tj\n", strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(line))
	}
	b.WriteString("ET\n")
	return b.String()
}

// noText draws a rectangle, as a page of a scan draws its image.
const noText = "q 0.5 g 72 72 468 648 re f Q\n"

// xmpPacket returns XMP metadata with dc:title and dc:creator.
func xmpPacket(title string, creators ...string) string {
	var names string
	for _, c := range creators {
		names += "<rdf:li>" + c + "</rdf:li>"
	}
	return `<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">` +
		`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">` +
		`<dc:title><rdf:Alt><rdf:li xml:lang="x-default">` + title + `</rdf:li></rdf:Alt></dc:title>` +
		`<dc:creator><rdf:Seq>` + names + `</rdf:Seq></dc:creator>` +
		`</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`
}

func TestPDF(t *testing.T) {
	twoPages := []string{pdfLines("Revenue grew", "in every region."), pdfLines("Costs fell.")}
	const twoPagesText = "Revenue grew\nin every region.\n\nCosts fell."
	long := strings.Repeat("x", 101)
	valid := writePDF(testPDF{pages: twoPages})
	const w = "W sample/annual-report.pdf: "
	runFormatCases(t, "annual-report.pdf", "pdf", []formatCase{
		{name: "title and author from the Info dictionary", data: string(writePDF(testPDF{
			info: map[string]string{"Title": "  Annual Report\n2024 ", "Author": "Ann Smith", "Producer": "Test"}, pages: twoPages})),
			title: "Annual Report 2024", text: twoPagesText, meta: map[string]string{"author": "Ann Smith", "pages": "2"}},
		{name: "title from the first line of the first page", data: string(writePDF(testPDF{pages: []string{pdfLines("Getting Started", "Install it.")}})),
			title: "Getting Started", text: "Getting Started\nInstall it.", meta: map[string]string{"pages": "1"}},
		{name: "first line over 100 characters", data: string(writePDF(testPDF{pages: []string{pdfLines(long, "b")}})),
			title: "annual report", text: long + "\nb"},
		{name: "first line is a sentence", data: string(writePDF(testPDF{pages: []string{pdfLines("We grew.", "b")}})),
			title: "annual report", text: "We grew.\nb"},
		{name: "Untitled is ignored", data: string(writePDF(testPDF{info: map[string]string{"Title": "Untitled"}, pages: twoPages})),
			title: "Revenue grew", text: twoPagesText},
		{name: "Word's print-to-PDF file name is ignored", data: string(writePDF(testPDF{
			info: map[string]string{"Title": "Microsoft Word - q3 final.docx"}, pages: twoPages})), title: "Revenue grew", text: twoPagesText},
		{name: "Word's prefix is removed", data: string(writePDF(testPDF{
			info: map[string]string{"Title": "Microsoft Word - Budget Plan"}, pages: twoPages})), title: "Budget Plan", text: twoPagesText},
		{name: "the file's own name is ignored", data: string(writePDF(testPDF{
			info: map[string]string{"Title": "annual_report"}, pages: twoPages})), title: "Revenue grew", text: twoPagesText},
		{name: "XMP title and creators", data: string(writePDF(testPDF{xmp: xmpPacket("Field &amp; Forest Guide", "Ann", "Bo"), pages: twoPages})),
			title: "Field & Forest Guide", text: twoPagesText, meta: map[string]string{"author": "Ann, Bo", "pages": "2"}},
		{name: "XMP title when the Info title is junk", data: string(writePDF(testPDF{info: map[string]string{"Title": "Document1", "Author": "Cy"},
			xmp: xmpPacket("Real Title"), pages: twoPages})), title: "Real Title", text: twoPagesText, meta: map[string]string{"author": "Cy", "pages": "2"}},
		{name: "UTF-16 title", data: string(writePDF(testPDF{info: map[string]string{"Title": "Café Ω"}, pages: twoPages})),
			title: "Café Ω", text: twoPagesText},
		{name: "page without text between pages", data: string(writePDF(testPDF{pages: []string{pdfLines("One"), noText, pdfLines("Three")}})),
			title: "One", text: "One\n\nThree", meta: map[string]string{"pages": "3"}},
		{name: "word gaps in TJ and between pieces", data: string(writePDF(testPDF{pages: []string{
			"BT /F1 12 Tf 72 720 Td [(Hel) 20 (lo) -300 (world)] TJ 0 -14 Td (Name:) Tj 100 0 Td (Value) Tj ET\n"}})),
			title: "Hello world", text: "Hello world\nName: Value"},
		{name: "character spacing spreads letters", data: string(writePDF(testPDF{pages: []string{"BT /F1 10 Tf 72 720 Td (grof) Tj 4 Tc (fw) Tj 0 Tc (ill) Tj ET\n"}})),
			title: "groff will", text: "groff will"},
		{name: "superscript stays on its line", data: string(writePDF(testPDF{pages: []string{
			"BT /F1 12 Tf 72 720 Td (E = mc) Tj 4 Ts /F1 8 Tf (2) Tj 0 Ts /F1 12 Tf ( holds) Tj ET\n"}})),
			title: "E = mc2 holds", text: "E = mc2 holds"},
		{name: "hyphenated word across lines", data: string(writePDF(testPDF{pages: []string{pdfLines("It was dif-", "ficult to do.", "Pages 10-", "12.")}})),
			title: "It was difficult", text: "It was difficult\nto do.\nPages 10-\n12."},
		{name: "text turned upright", data: string(writePDF(testPDF{pages: []string{
			"BT /F1 12 Tf 0 1 -1 0 300 100 Tm (Side) Tj (ways) Tj 0 1 -1 0 314 100 Tm (next line) Tj ET\n"}})),
			title: "Sideways", text: "Sideways\nnext line"},
		{name: "WinAnsi characters", data: string(writePDF(testPDF{pages: []string{"BT /F1 12 Tf 72 720 Td (caf\\351 \\223quoted\\224 \\200) Tj ET\n"}})),
			title: "café “quoted” €", text: "café “quoted” €"},
		{name: "composite font with a ToUnicode CMap", data: string(writePDF(testPDF{composite: true, pages: []string{
			"BT /F2 12 Tf 72 720 Td <000100020003000400010003> Tj 0 -14 Td [<0012> -10 <00100011>] TJ ET\n"}})),
			title: "Hi fiH", text: "Hi fiH\n201"},
		{name: "text in a form XObject", data: string(writePDF(testPDF{forms: []string{pdfLines("From a form")},
			pages: []string{"q 1 0 0 1 0 -100 cm /X1 Do Q " + pdfLines("On the page")}})),
			title: "From a form", text: "From a form\nOn the page"},
		{name: "PDF 2.0", data: string(writePDF(testPDF{version: "2.0", pages: twoPages})), title: "Revenue grew", text: twoPagesText},
		{name: "bytes before the header", data: "HTTP junk\n" + string(valid), title: "Revenue grew", text: twoPagesText},
		{name: "cyclic page tree", data: string(writePDF(testPDF{cyclic: true, pages: twoPages})),
			title: "Revenue grew", text: twoPagesText, meta: map[string]string{"pages": "2"}},
		{name: "encrypted without a password to open", data: string(writePDF(testPDF{encrypt: 128, info: map[string]string{"Title": "Secret Plan"}, pages: twoPages})),
			title: "Secret Plan", text: twoPagesText},
		{name: "damaged page", data: string(writePDF(testPDF{badPage: 2, pages: []string{pdfLines("One"), pdfLines("Two"), pdfLines("Three")}})),
			title: "One", text: "One\n\nThree", meta: map[string]string{"pages": "3"},
			problems: []string{"I sample/annual-report.pdf: cannot read all of the PDF (page 2: unknown filter LZWDecode); the rest of that page is missing"}},
		{name: "no text layer", data: string(writePDF(testPDF{info: map[string]string{"Title": "Scan"}, pages: []string{noText, noText}})), noDoc: true,
			problems: []string{w + "the PDF has no text layer (scanned images?); run OCR first to index it"}},
		{name: "password-protected", data: string(writePDF(testPDF{encrypt: 128, userPW: "secret", pages: twoPages})), noDoc: true,
			problems: []string{w + "the PDF is encrypted (password-protected); save a copy without a password to index it"}},
		{name: "password-protected, 40-bit", data: string(writePDF(testPDF{encrypt: 40, userPW: "secret", pages: twoPages})), noDoc: true,
			problems: []string{w + "the PDF is encrypted (password-protected); save a copy without a password to index it"}},
		{name: "40-bit RC4 without a password to open", data: string(writePDF(testPDF{encrypt: 40, pages: twoPages})), noDoc: true,
			problems: []string{w + "the PDF is encrypted with a method not supported here (40-bit RC4); save a copy without encryption to index it"}},
		{name: "AES-256", data: string(writePDF(testPDF{aes256: true, pages: twoPages})), noDoc: true,
			problems: []string{w + "the PDF is encrypted with a method not supported here (such as AES-256); save a copy without encryption to index it"}},
		{name: "truncated", data: string(valid[:len(valid)/2]), noDoc: true,
			problems: []string{w + "cannot parse the PDF (not a PDF file: missing %%EOF); the file may be damaged or incomplete"}},
		{name: "not a PDF", data: "<html>not found</html>", noDoc: true,
			problems: []string{w + "cannot parse the PDF (not a PDF file: invalid header); the file may be damaged or incomplete"}},
		{name: "damaged cross-reference table", data: strings.Replace(string(valid), "xref\n0 ", "xref\nX ", 1), noDoc: true,
			problems: []string{w + "cannot parse the PDF (malformed PDF: malformed xref table); the file may be damaged or incomplete"}},
		{name: "empty file", data: "", noDoc: true,
			problems: []string{w + "cannot parse the PDF (not a PDF file: invalid header); the file may be damaged or incomplete"}},
	})
}

func TestJoinHyphenated(t *testing.T) {
	tests := []struct{ name, lines, want string }{
		{name: "word split at the line end", lines: "it was dif-|ficult to do", want: "it was difficult|to do"},
		{name: "last word of the next line", lines: "work-|flows|next", want: "workflows|next"},
		{name: "again at the end of the mended line", lines: "a co-|op-|erative b", want: "a cooperative|b"},
		{name: "soft hyphen", lines: "infor\u00ADmation|x", want: "infor\u00ADmation|x"},
		{name: "soft hyphen at the end", lines: "infor\u00AD|mation x", want: "information|x"},
		{name: "capital after the hyphen", lines: "pre-|Raphaelite art", want: "pre-|Raphaelite art"},
		{name: "a dash, not a hyphen", lines: "wait -|then", want: "wait -|then"},
		{name: "digit before the hyphen", lines: "pages 10-|twelve", want: "pages 10-|twelve"},
		{name: "last line", lines: "ends-", want: "ends-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := strings.Join(joinHyphenated(strings.Split(tt.lines, "|")), "|"); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPDFLimits(t *testing.T) {
	form := pdfLines(strings.Repeat("words ", 20))
	page := strings.Repeat("/X1 Do ", 40) // 40 × 120 bytes of text from a file of about 1.5 KiB
	data := writePDF(testPDF{forms: []string{form}, pages: []string{page}})
	tests := []struct {
		name     string
		max      int64
		wantDoc  bool
		problems []string
	}{
		{name: "text under the limit", max: 8 << 10, wantDoc: true},
		{name: "text over the limit", max: 2 << 10, problems: []string{"W sample/big.pdf: the text of the PDF is over the limit of 2.0 KiB (2048 bytes); " +
			"set MAX_FILE_BYTES to a larger number of bytes to index it"}},
		{name: "file over the limit", max: 1 << 10, problems: []string{fmt.Sprintf("W sample/big.pdf: file is %s, over the limit of 1.0 KiB (1024 bytes); "+
			"set MAX_FILE_BYTES to a larger number of bytes to index it", formatBytes(int64(len(data))))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, problems := walkFiles(t, map[string]string{"big.pdf": string(data)}, Options{MaxFileBytes: tt.max})
			if got := problemStrings(problems); strings.Join(got, "\n") != strings.Join(tt.problems, "\n") {
				t.Errorf("got problems\n%q\nwant\n%q", got, tt.problems)
			}
			if (len(docs) == 1) != tt.wantDoc {
				t.Errorf("got %d documents, want a document: %v", len(docs), tt.wantDoc)
			}
		})
	}
}

func TestPDFCancelled(t *testing.T) {
	data := writePDF(testPDF{forms: []string{pdfLines("x")}, pages: []string{strings.Repeat("/X1 Do ", 1000)}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if _, _, perr := parsePDF(ctx, data, "a.pdf", DefaultMaxFileBytes); perr == nil || perr.reason != context.Canceled.Error() {
		t.Errorf("got %+v, want the context's error", perr)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v after cancel", d)
	}
}

func FuzzPDF(f *testing.F) {
	valid := writePDF(testPDF{info: map[string]string{"Title": "T"}, pages: []string{pdfLines("a", "b"), pdfLines("c")}})
	for _, seed := range [][]byte{
		valid,
		valid[:len(valid)-40],
		writePDF(testPDF{composite: true, pages: []string{"BT /F2 12 Tf 72 720 Td [<00010002> -300 <0010>] TJ ET"}}),
		writePDF(testPDF{forms: []string{pdfLines("f")}, pages: []string{"/X1 Do 1 0 0 1 5 5 cm /X1 Do"}}),
		writePDF(testPDF{encrypt: 128, pages: []string{pdfLines("e")}}),
		writePDF(testPDF{xmp: xmpPacket("x", "y"), cyclic: true, pages: []string{noText}}),
		writePDF(testPDF{pages: []string{"BT /F1 12 Tf ( a ) ' 1 2 (b) \" [(c) -500 (d)] TJ 3 Tz 2 0 0 2 0 0 Tm T* (e) Tj ET"}}),
		[]byte("%PDF-1.4\n%%EOF\n"),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, problems := walkFiles(t, map[string]string{"a.pdf": string(data)}, Options{})
		checkUTF8(t, docs, problems)
		for _, d := range docs {
			if strings.Contains(d.Text, "\n\n\n") || d.Text != strings.TrimSpace(d.Text) {
				t.Fatalf("text %q has more than one blank line in a row or is not trimmed", d.Text)
			}
		}
		for _, p := range problems {
			if p.Error {
				t.Fatalf("error problem %s; PDFs only warn", p)
			}
		}
	})
}
