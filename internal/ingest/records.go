package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/docurl"
	"github.com/connectorhq/connector/internal/store"
)

// recordReader streams the records of one JSON Lines or JSON file into
// documents, one record in memory at a time.
type recordReader struct {
	ctx     context.Context
	c       candidate
	max     int64 // limit on the bytes of one record's text
	emit    func(store.SourceDocument) error
	problem func(Problem)
	src     *progressReader
	records int // records read so far, skipped or not
}

// readJSONL reads one record per line; blank lines are ignored. A line that
// is not a JSON object is an error problem with its line number, and the
// reading goes on with the next line.
func (rr *recordReader) readJSONL() error {
	br := bufio.NewReaderSize(rr.src, 64<<10)
	limit := lineLimit(rr.max)
	var buf []byte
	for n := 1; ; n++ {
		if err := rr.ctx.Err(); err != nil {
			return err
		}
		line, over, err := readLine(br, buf[:0], limit)
		buf = line
		if err != nil && err != io.EOF {
			rr.problem(rr.c.problem(n, false, readErrorReason(err, fmt.Sprintf("at line %d", n))))
			return nil
		}
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte(utf8BOM))
		}
		if over {
			rr.records++
			rr.problem(rr.c.problem(n, false, fmt.Sprintf("line is over %s (MAX_FILE_BYTES sets the limit on a record's text)", formatBytes(limit))))
		} else if line = bytes.TrimSpace(line); len(line) > 0 {
			rr.records++
			if err := rr.line(n, line); err != nil {
				return err
			}
		}
		if err == io.EOF {
			break
		}
	}
	if rr.records == 0 {
		rr.problem(rr.c.problem(0, false, "no records: the file has no JSON lines"))
	}
	return nil
}

// lineLimit returns the longest JSON line read for records whose text may be
// up to maxText bytes: JSON escapes may make the line several times longer.
func lineLimit(maxText int64) int64 {
	const slack = 1 << 20
	if maxText > (math.MaxInt64-slack)/4 {
		return math.MaxInt64
	}
	return 4*maxText + slack
}

// readLine appends the next line of br, with its newline, to buf. A line
// longer than limit is read to its end but not kept: over is then true.
func readLine(br *bufio.Reader, buf []byte, limit int64) (line []byte, over bool, err error) {
	for {
		chunk, err := br.ReadSlice('\n')
		if !over {
			if int64(len(buf))+int64(len(chunk)) > limit {
				over, buf = true, buf[:0]
			} else {
				buf = append(buf, chunk...)
			}
		}
		if err != bufio.ErrBufferFull {
			return buf, over, err
		}
	}
}

// line reads the JSON Lines record on line n.
func (rr *recordReader) line(n int, line []byte) error {
	if line[0] != '{' {
		if json.Valid(line) {
			rr.problem(rr.c.problem(n, true, "line is not a JSON object; each line must be one record like {\"id\": ..., \"text\": ...}"))
			return nil
		}
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil {
		rr.problem(rr.c.problem(n, true, fmt.Sprintf("line is not valid JSON (%v); fix or remove the line", jsonReason(err))))
		return nil
	}
	return rr.record(fields, n, "")
}

// readJSON reads a JSON array of records, or a single record object. The
// array streams: one record in memory at a time. A malformed file is one
// error problem; records read before the fault stay emitted.
func (rr *recordReader) readJSON() error {
	br := bufio.NewReaderSize(rr.src, 64<<10)
	if bom, err := br.Peek(len(utf8BOM)); err == nil && string(bom) == utf8BOM {
		_, _ = br.Discard(len(utf8BOM))
	}
	first, err := firstByte(br)
	if err != nil {
		if err == io.EOF {
			rr.problem(rr.c.problem(0, false, "no records: the file is empty"))
		} else {
			rr.problem(rr.c.problem(0, false, readErrorReason(err, "at its start")))
		}
		return nil
	}
	dec := json.NewDecoder(br)
	switch first {
	case '[':
		if _, err := dec.Token(); err != nil {
			return rr.malformed(err)
		}
		for dec.More() {
			if err := rr.ctx.Err(); err != nil {
				return err
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return rr.malformed(err)
			}
			rr.records++
			prefix := fmt.Sprintf("record %d: ", rr.records)
			var fields map[string]json.RawMessage
			if raw[0] != '{' || json.Unmarshal(raw, &fields) != nil {
				rr.problem(rr.c.problem(0, true, prefix+"not a JSON object; the array must hold records like {\"id\": ..., \"text\": ...}"))
				continue
			}
			if err := rr.record(fields, 0, prefix); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // the closing ]
			return rr.malformed(err)
		}
		if rr.records == 0 {
			rr.problem(rr.c.problem(0, false, "no records: the JSON array is empty"))
		}
	case '{':
		var fields map[string]json.RawMessage
		if err := dec.Decode(&fields); err != nil {
			return rr.malformed(err)
		}
		rr.records++
		if !looksLikeRecord(fields) {
			// A configuration file such as package.json in a folder of
			// documents: not for the index, and not an error.
			rr.problem(rr.c.problem(0, false, `a JSON object without "id"/"_id" or text is not a document record`))
			return nil
		}
		if err := rr.record(fields, 0, ""); err != nil {
			return err
		}
	default:
		rr.problem(rr.c.problem(0, true, "not a JSON array of records or a record object; the file must hold [{\"id\": ..., \"text\": ...}, ...] or one such object"))
		return nil
	}
	if _, err := dec.Token(); err != io.EOF {
		return rr.malformed(errors.New("unexpected data after the end of the JSON value"))
	}
	return nil
}

// malformed reports a JSON file that cannot be read on; it returns nil so
// that the walk goes on with the next file.
func (rr *recordReader) malformed(err error) error {
	if rr.src.err != nil {
		rr.problem(rr.c.problem(0, false, readErrorReason(rr.src.err, fmt.Sprintf("after %d records", rr.records))))
		return nil
	}
	rr.problem(rr.c.problem(0, true, fmt.Sprintf("not valid JSON (%v) after %d records; fix the file and index it again", jsonReason(err), rr.records)))
	return nil
}

// jsonReason describes a JSON decoding error.
func jsonReason(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of file"
	}
	return err.Error()
}

// firstByte returns the first byte of br that is not white space, and leaves
// it unread.
func firstByte(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		if !isSpace(b) {
			return b, br.UnreadByte()
		}
	}
}

// looksLikeRecord reports whether a lone JSON object is meant as a record:
// it has an id or a text field.
func looksLikeRecord(fields map[string]json.RawMessage) bool {
	for _, k := range []string{"id", "_id", "text", "content", "body"} {
		if _, ok := fields[k]; ok {
			return true
		}
	}
	return false
}

// recordKey reports whether k is a record field that never becomes Metadata.
func recordKey(k string) bool {
	switch k {
	case "id", "_id", "title", "text", "content", "body", "url", "metadata", "access":
		return true
	}
	return false
}

// record turns one record's fields into a document, or a problem. prefix
// names the record in reasons where there is no line number.
func (rr *recordReader) record(fields map[string]json.RawMessage, line int, prefix string) error {
	report := func(isErr bool, reason string) { rr.problem(rr.c.problem(line, isErr, prefix+reason)) }
	warn := func(reason string) { // the record is indexed all the same
		p := rr.c.problem(line, false, prefix+reason)
		p.Indexed = true
		rr.problem(p)
	}
	id, reason := recordID(fields)
	if reason != "" { // like a record with no text: skipped with a warning
		report(false, reason)
		return nil
	}
	own, err := jsonAccess(fields["access"])
	if err != nil { // not indexed, lest it be readable by callers its list excludes
		report(true, fmt.Sprintf("record %q: access: %v; the record was not indexed and keeps its previous state", id, err))
		return nil
	}
	title := collapse(jsonString(fields["title"]))
	var text string
	for _, k := range []string{"text", "content", "body"} {
		if text = strings.TrimSpace(jsonString(fields[k])); text != "" {
			break
		}
	}
	switch {
	case title == "" && text == "":
		report(false, fmt.Sprintf(`record %q has no "title" and no text ("text", "content" or "body")`, id))
		return nil
	case int64(len(text)) > rr.max:
		report(false, fmt.Sprintf("record %q: %s", id, tooLargeReason("its text", int64(len(text)), rr.max)))
		return nil
	case title == "":
		title = titleFromText(text)
	}
	var url string
	if raw, ok := fields["url"]; ok && !isJSONNull(raw) {
		u := strings.TrimSpace(jsonString(raw))
		switch {
		case docurl.IsCitable(u):
			url = u
		case raw[0] != '"':
			warn(fmt.Sprintf("record %q: url ignored: it is not a string; the record is indexed without one", id))
		case u != "":
			warn(fmt.Sprintf("record %q: url %q ignored: it is not an absolute http(s) URL; the record is indexed without one", id, u))
		}
	}
	meta := map[string]string{}
	var nested map[string]json.RawMessage
	if raw := fields["metadata"]; len(raw) > 0 && raw[0] == '{' && json.Unmarshal(raw, &nested) == nil {
		addMetadata(meta, nested)
	}
	addMetadata(meta, fields)
	doc := store.Document{ID: id, Title: title, URL: url, Text: text, Metadata: meta}
	sd := newDocument(rr.c, doc, own)
	sd.Line = line
	return rr.emit(sd)
}

// jsonAccess parses a record's access list: an array of principals or one
// comma-separated string; absent or null gives nil.
func jsonAccess(raw json.RawMessage) (access.List, error) {
	if len(raw) == 0 || isJSONNull(raw) {
		return nil, nil
	}
	const want = `write an array of principals like ["group:eng", "user:ann@example.com"] or one string like "group:eng, group:ops"`
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return access.ParseList(s)
	case '[':
		var items []string
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, errors.New("the array holds something other than strings; " + want)
		}
		return access.ParseListItems(items)
	}
	return nil, errors.New(want)
}

// addMetadata sets meta from the fields that are not record keys: strings
// as they are, numbers and booleans as written, arrays and objects as
// compact JSON; null fields are left out.
func addMetadata(meta map[string]string, fields map[string]json.RawMessage) {
	for k, raw := range fields {
		if recordKey(k) || len(raw) == 0 || isJSONNull(raw) {
			continue
		}
		switch raw[0] {
		case '"':
			meta[k] = jsonString(raw)
		case '[', '{':
			var b bytes.Buffer
			if json.Compact(&b, raw) == nil {
				meta[k] = b.String()
			}
		default:
			meta[k] = string(raw)
		}
	}
}

// recordID returns the record's id from "id" or else "_id": a string, or an
// integer as its decimal string. Otherwise it returns the reason there is none.
func recordID(fields map[string]json.RawMessage) (id, reason string) {
	key := "id"
	raw, ok := fields[key]
	if !ok || isJSONNull(raw) {
		key = "_id"
		if raw, ok = fields[key]; !ok || isJSONNull(raw) {
			return "", `record has no "id" or "_id"`
		}
	}
	switch {
	case raw[0] == '"':
		if id = jsonString(raw); id == "" {
			return "", fmt.Sprintf("record has an empty %q", key)
		}
		return id, ""
	case isInteger(raw):
		return string(raw), ""
	}
	shown := string(raw)
	if len(shown) > 40 {
		shown = shown[:40] + "…"
	}
	return "", fmt.Sprintf("record %q must be a string or an integer, not %s", key, validUTF8(shown))
}

// isInteger reports whether a JSON number is written as an integer.
func isInteger(raw []byte) bool {
	digits := bytes.TrimPrefix(raw, []byte("-"))
	if len(digits) == 0 {
		return false
	}
	for _, b := range digits {
		if b < '0' || b > '9' {
			return false
		}
	}
	return true
}

// isJSONNull reports whether a raw JSON value is null.
func isJSONNull(raw json.RawMessage) bool { return string(raw) == "null" }

// jsonString returns the raw JSON value as a string when it is one, else "".
func jsonString(raw json.RawMessage) string {
	if len(raw) == 0 || raw[0] != '"' {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}
