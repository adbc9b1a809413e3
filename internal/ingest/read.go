package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/store"
)

// format is the kind of a file, decided by its extension.
type format int

const (
	formatMarkdown format = iota + 1
	formatText
	formatHTML
	formatJSONL
	formatJSON
	formatPDF
	formatDOCX
)

// supportedExtensions lists the extensions formatOf accepts, for messages.
const supportedExtensions = ".md, .markdown, .txt, .text, .html, .htm, .xhtml, .pdf, .docx, .json, .jsonl, .ndjson"

// formatOf returns the format of a file name by its extension, case-insensitively.
func formatOf(name string) (format, bool) {
	switch strings.ToLower(path.Ext(name)) {
	case ".md", ".markdown":
		return formatMarkdown, true
	case ".txt", ".text":
		return formatText, true
	case ".html", ".htm", ".xhtml":
		return formatHTML, true
	case ".jsonl", ".ndjson":
		return formatJSONL, true
	case ".json":
		return formatJSON, true
	case ".pdf":
		return formatPDF, true
	case ".docx":
		return formatDOCX, true
	}
	return 0, false
}

// String returns the format's name, as Metadata "format" holds it.
func (f format) String() string {
	switch f {
	case formatMarkdown:
		return "markdown"
	case formatText:
		return "text"
	case formatHTML:
		return "html"
	case formatJSONL:
		return "jsonl"
	case formatJSON:
		return "json"
	case formatPDF:
		return "pdf"
	case formatDOCX:
		return "docx"
	}
	return "unknown"
}

// records reports whether files of the format hold records, which stream
// and so are exempt from the file size limit.
func (f format) records() bool { return f == formatJSONL || f == formatJSON }

// binary reports whether files of the format are not text but a container
// that a parser extracts the text from.
func (f format) binary() bool { return f == formatPDF || f == formatDOCX }

// parsed is what a file parser extracts from one file document.
type parsed struct {
	title, url, text string
	meta             map[string]string
	access           access.List // the document's own access list, if any
}

// reader reads candidate files into documents for Walk.
type reader struct {
	ctx      context.Context
	max      int64
	progress *Progress
	emit     func(store.SourceDocument) error
	problem  func(Problem)
}

// read reads one candidate file. It returns only errors that end the walk:
// the context's or emit's.
func (r *reader) read(c candidate) error {
	pr := &progressReader{progress: r.progress, size: c.size}
	defer pr.finish()
	f, err := c.root.FS.Open(c.fsPath)
	if err != nil {
		r.problem(c.problem(0, false, "cannot read file: "+osReason(err).Error()))
		return nil
	}
	defer f.Close()
	pr.r = f
	if c.format.records() {
		rr := recordReader{ctx: r.ctx, c: c, max: r.max, emit: r.emit, problem: r.problem, src: pr}
		if c.format == formatJSONL {
			return rr.readJSONL()
		}
		return rr.readJSON()
	}
	data, err := io.ReadAll(io.LimitReader(pr, r.max+1))
	if err != nil {
		r.problem(c.problem(0, false, "cannot read file: "+osReason(err).Error()))
		return nil
	}
	if int64(len(data)) > r.max { // the file grew since it was listed
		r.problem(c.problem(0, false, fmt.Sprintf(
			"file grew past the limit of %s while it was read; set MAX_FILE_BYTES to a larger number of bytes to index it", formatBytes(r.max))))
		return nil
	}
	if c.format != formatHTML && !c.format.binary() {
		if reason := notText(data); reason != "" {
			r.problem(c.problem(0, false, reason))
			return nil
		}
	}
	pd, warnings, perr := parseFile(r.ctx, c.format, data, path.Base(c.file), r.max)
	if err := r.ctx.Err(); err != nil && c.format.binary() { // a PDF or DOCX parse stops when cancelled
		return err
	}
	if perr != nil {
		r.problem(c.problem(0, perr.isErr, perr.reason))
		return nil
	}
	if pd.text == "" {
		r.problem(c.problem(0, false, "empty document: no text after extraction"))
		return nil
	}
	for _, w := range warnings {
		p := c.problem(0, false, w)
		p.Indexed = true
		r.problem(p)
	}
	id := c.root.Name // a single-file root
	switch {
	case id == "":
		id = c.file
	case !c.single:
		id += "/" + c.file
	}
	doc := store.Document{ID: id, Title: pd.title, URL: pd.url, Text: pd.text, Metadata: pd.meta}
	return r.emit(newDocument(c, doc, pd.access))
}

// parseError says why a file could not be parsed.
type parseError struct {
	reason string
	isErr  bool
}

// parseFile parses a markdown, text, HTML, PDF or DOCX file; maxText
// limits the text extracted from a PDF or DOCX, which stop early when ctx
// is cancelled. A panic in a parser becomes an error problem, so that no
// input can crash a walk (the PDF and DOCX parsers turn panics in their
// libraries into warnings themselves).
func parseFile(ctx context.Context, f format, data []byte, name string, maxText int64) (pd parsed, warnings []string, perr *parseError) {
	defer func() {
		if v := recover(); v != nil {
			perr = &parseError{reason: fmt.Sprintf("cannot parse the file (internal error: %v); please report this", v), isErr: true}
		}
	}()
	switch f {
	case formatMarkdown:
		var err error
		if pd, warnings, err = parseMarkdown(data, name); err != nil {
			return pd, nil, &parseError{reason: err.Error() + "; the document was not indexed and keeps its previous state", isErr: true}
		}
	case formatText:
		pd = parseText(data, name)
	case formatHTML:
		var err error
		if pd, err = parseHTML(data, name); err != nil {
			return pd, nil, &parseError{reason: fmt.Sprintf("cannot parse the HTML (%v)", err)}
		}
	case formatPDF:
		return parsePDF(ctx, data, name, maxText)
	case formatDOCX:
		return parseDOCX(ctx, data, name, maxText)
	}
	return pd, warnings, nil
}

// newDocument completes a document read from the candidate's file: the
// source and format metadata, valid UTF-8 in every field, and its access
// list: own when given, else the one its folder or the run gives.
func newDocument(c candidate, doc store.Document, own access.List) store.SourceDocument {
	meta := make(map[string]string, len(doc.Metadata)+2)
	for k, v := range doc.Metadata {
		meta[validUTF8(k)] = validUTF8(v)
	}
	meta["source"] = validUTF8(source(c))
	meta["format"] = c.format.String()
	doc.ID = validUTF8(doc.ID)
	doc.Title = validUTF8(doc.Title)
	doc.URL = validUTF8(doc.URL)
	doc.Text = validUTF8(doc.Text)
	doc.Metadata = meta
	l := own
	if len(l) == 0 {
		l = c.access
	}
	return store.SourceDocument{Document: doc, Root: c.root.Key, File: c.file, Access: l}
}

// source returns the Metadata "source" of the candidate's documents.
func source(c candidate) string {
	if c.single || c.root.Name == "" {
		return c.file
	}
	return c.root.Name + "/" + c.file
}

// notText returns why data cannot be read as UTF-8 text, or "".
func notText(data []byte) string {
	if bytes.IndexByte(data[:min(len(data), 8<<10)], 0) >= 0 {
		return "binary file (NUL byte in the first 8 KiB); only text files are indexed"
	}
	if !utf8.Valid(data) {
		return "not valid UTF-8 text; convert the file to UTF-8 to index it"
	}
	return ""
}

// utf8BOM is the byte order mark some editors put at the start of UTF-8 files.
const utf8BOM = "\uFEFF"

// validUTF8 replaces invalid UTF-8 in s with U+FFFD.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// progressReader counts the bytes of one file into a Progress as they are
// read, and the file itself when finished, so that the totals match what
// Size reported.
type progressReader struct {
	r        io.Reader
	progress *Progress
	size     int64 // bytes the file is counted for
	read     int64 // bytes read so far
	credited int64 // bytes added to progress so far
	err      error // the first read error other than io.EOF
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.read += int64(n)
	if p.progress != nil {
		if c := min(p.read, p.size) - p.credited; c > 0 {
			p.progress.Bytes.Add(c)
			p.credited += c
		}
	}
	if err != nil && err != io.EOF && p.err == nil {
		p.err = err
	}
	return n, err
}

// finish counts the file as read, with all its bytes.
func (p *progressReader) finish() {
	if p.progress == nil {
		return
	}
	if c := p.size - p.credited; c > 0 {
		p.progress.Bytes.Add(c)
		p.credited += c
	}
	p.progress.Files.Add(1)
}

// readErrorReason describes a read error met in the middle of a file.
func readErrorReason(err error, where string) string {
	return fmt.Sprintf("cannot read file %s: %v; the rest of the file was skipped", where, osReason(err))
}
