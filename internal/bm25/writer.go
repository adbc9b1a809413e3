// Package bm25 holds the passage ranking file: a compact inverted file of
// term frequencies and field lengths, written once when an index generation
// is committed and memory-mapped for serving, and the BM25 evaluation of
// weighted term clauses over it.
//
// The file is what search reads on every query, so it is laid out for that:
// postings are delta-encoded varints in passage order, the term table is
// sorted for binary search, and nothing is decoded at open but the field
// lengths.
package bm25

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/golang/snappy"
)

// Layout of a file, in order:
//
//	magic (8 bytes)
//	postings of every term of every field: (passage delta, frequency) varint pairs
//	passage ids, concatenated; then N+1 little-endian uint64 offsets into them
//	per field: N little-endian uint32 lengths; the term bytes; the term table;
//	  for a field that lists its passages' terms, each passage's list, then
//	  N+1 little-endian uint64 offsets into the lists
//	stored values: each passage's values (Writer.Store), then N+1
//	  little-endian uint64 offsets into them (when the passages have values)
//	directory (JSON), its length (uint64), magic
//
// A passage's stored values are, snappy-compressed together, each value's
// length (uvarint) and bytes, in order.
//
// A passage's term list is (term number delta, frequency) varint pairs in
// ascending term number, a term's number being its place in the field's
// term table.
//
// A term table entry is termEntrySize bytes: term offset (uint64, into the
// field's term bytes), postings offset (uint64, into the file), postings
// length (uint32), term length (uint32), document frequency (uint32), and
// four bytes of padding.
const (
	magic         = "CNBM25\x00\x01"
	termEntrySize = 32
	version       = 3
)

// directory locates the sections of a file.
type directory struct {
	Version   int        `json:"version"`
	Passages  uint32     `json:"passages"`
	IDsOff    uint64     `json:"ids_off"`
	IDOffsOff uint64     `json:"id_offsets_off"`
	Fields    []fieldDir `json:"fields"`
	// Stored values, when the passages have them (StoredOffs is then
	// non-zero): Values per passage.
	StoredOff  uint64 `json:"stored_off,omitempty"`
	StoredLen  uint64 `json:"stored_len,omitempty"`
	StoredOffs uint64 `json:"stored_offsets_off,omitempty"`
	Values     int    `json:"values,omitempty"`
}

type fieldDir struct {
	Name        string `json:"name"`
	LengthsOff  uint64 `json:"lengths_off"`
	TotalLength uint64 `json:"total_length"`
	TermBytes   uint64 `json:"term_bytes_off"`
	TermBytesN  uint64 `json:"term_bytes_len"`
	TableOff    uint64 `json:"table_off"`
	Terms       uint64 `json:"terms"`
	// Term lists, when the field keeps them (ListsOffs is then non-zero).
	ListsOff  uint64 `json:"lists_off,omitempty"`
	ListsLen  uint64 `json:"lists_len,omitempty"`
	ListsOffs uint64 `json:"lists_offsets_off,omitempty"`
}

// Posting is one passage's occurrences of a term in a field.
type Posting struct {
	Passage uint32 // ordinal, from Writer.AddPassage
	Freq    uint32 // occurrences of the term in the field
	Length  uint32 // the field's length in the passage, in terms
}

// Writer writes a file. Add every passage first, then each field's terms in
// ascending byte order, then Commit. The file appears at its path only once
// Commit succeeds.
type Writer struct {
	path, tmp string
	f         *os.File
	w         *bufio.Writer
	off       uint64
	ids       []string
	fields    []*fieldBuild
	buf       []byte
	err       error
	listSpan  uint32 // passages per spill file of term lists
	// stored values: where they start, each passage's offset from there,
	// and how many values a passage has
	storedOff  uint64
	storedOffs []byte
	values     int
	zbuf       []byte
}

type fieldBuild struct {
	name      string
	lengths   []uint32
	termBytes []byte
	table     []byte
	terms     uint64
	last      string
	lists     *listSpill // the passages' term lists, when the field keeps them
}

// NewWriter starts a file at path holding the named fields.
func NewWriter(path string, fields []string) (*Writer, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return nil, fmt.Errorf("create ranking file: %w", err)
	}
	w := &Writer{path: path, tmp: f.Name(), f: f, w: bufio.NewWriterSize(f, 1<<20), listSpan: defaultListSpan}
	for _, name := range fields {
		w.fields = append(w.fields, &fieldBuild{name: name})
	}
	w.write([]byte(magic))
	return w, nil
}

func (w *Writer) write(b []byte) {
	if w.err != nil {
		return
	}
	_, w.err = w.w.Write(b)
	w.off += uint64(len(b))
}

// AddPassage registers a passage and returns its ordinal.
func (w *Writer) AddPassage(id string) uint32 {
	w.ids = append(w.ids, id)
	for _, f := range w.fields {
		f.lengths = append(f.lengths, 0)
	}
	return uint32(len(w.ids) - 1)
}

// ListTerms makes the file keep, for the field, each passage's terms and
// their frequencies (Index.PassageTerms): what pseudo-relevance feedback
// reads of a search's best passages without analysing their text again.
// Call it after the passages are added and before the field's first term.
func (w *Writer) ListTerms(field int) error {
	if field < 0 || field >= len(w.fields) {
		return fmt.Errorf("field %d out of range", field)
	}
	f := w.fields[field]
	if f.terms > 0 {
		return fmt.Errorf("field %s: ListTerms after its terms were added", f.name)
	}
	if f.lists == nil {
		f.lists = &listSpill{dir: filepath.Dir(w.tmp), base: filepath.Base(w.tmp), span: w.listSpan}
	}
	return nil
}

// AddTerm writes a term's postings in a field; postings must be in
// ascending passage order.
func (w *Writer) AddTerm(field int, term string, postings []Posting) error {
	if w.err != nil {
		return w.err
	}
	if err := w.addTerm(field, term, postings); err != nil {
		w.err = err // the file would be incomplete: Commit must fail
		return err
	}
	return nil
}

func (w *Writer) addTerm(field int, term string, postings []Posting) error {
	if field < 0 || field >= len(w.fields) {
		return fmt.Errorf("field %d out of range", field)
	}
	f := w.fields[field]
	if f.terms > 0 && term <= f.last {
		return fmt.Errorf("field %s: term %q after %q: terms must be added in ascending order", f.name, term, f.last)
	}
	if len(postings) == 0 {
		return nil
	}
	for i, p := range postings {
		if int(p.Passage) >= len(w.ids) || (i > 0 && p.Passage <= postings[i-1].Passage) {
			return fmt.Errorf("field %s, term %q: postings out of order or of an unknown passage (%d)", f.name, term, p.Passage)
		}
	}
	start := w.off
	w.buf = w.buf[:0]
	prev := uint32(0)
	for _, p := range postings {
		w.buf = binary.AppendUvarint(w.buf, uint64(p.Passage-prev))
		w.buf = binary.AppendUvarint(w.buf, uint64(p.Freq))
		prev = p.Passage
		f.lengths[p.Passage] = p.Length
	}
	w.write(w.buf)
	if f.lists != nil {
		if err := f.lists.add(uint32(f.terms), postings); err != nil {
			return err
		}
	}
	var e [termEntrySize]byte
	binary.LittleEndian.PutUint64(e[0:], uint64(len(f.termBytes)))
	binary.LittleEndian.PutUint64(e[8:], start)
	binary.LittleEndian.PutUint32(e[16:], uint32(len(w.buf)))
	binary.LittleEndian.PutUint32(e[20:], uint32(len(term)))
	binary.LittleEndian.PutUint32(e[24:], uint32(len(postings)))
	f.table = append(f.table, e[:]...)
	f.termBytes = append(f.termBytes, term...)
	f.terms++
	f.last = term
	return w.err
}

// Store writes the values kept for the next passage (the first call is for
// passage 0): what search shows of it, read back with Index.Stored without
// another store. Every passage has the same number of values; if any has
// them, all must, and they come after the passages' terms.
func (w *Writer) Store(values ...string) error {
	if w.err != nil {
		return w.err
	}
	ord := len(w.storedOffs) / 8
	switch {
	case ord >= len(w.ids):
		w.err = fmt.Errorf("stored values for passage %d of %d", ord, len(w.ids))
	case ord == 0:
		w.storedOff, w.values = w.off, len(values)
	case len(values) != w.values:
		w.err = fmt.Errorf("passage %d: %d stored values, the others have %d", ord, len(values), w.values)
	}
	if w.err != nil {
		return w.err
	}
	w.storedOffs = binary.LittleEndian.AppendUint64(w.storedOffs, w.off-w.storedOff)
	w.buf = w.buf[:0]
	for _, v := range values {
		w.buf = binary.AppendUvarint(w.buf, uint64(len(v)))
		w.buf = append(w.buf, v...)
	}
	if len(w.buf) > maxStoredBytes {
		w.err = fmt.Errorf("passage %d: %d bytes of stored values, over the %d a passage may have", ord, len(w.buf), maxStoredBytes)
		return w.err
	}
	w.zbuf = snappy.Encode(w.zbuf[:cap(w.zbuf)], w.buf)
	w.write(w.zbuf)
	return w.err
}

// Commit writes the tables, syncs the file and moves it into place.
func (w *Writer) Commit() error {
	if w.f == nil {
		return errors.New("ranking file already finished")
	}
	if w.err != nil {
		err := w.err
		w.Abort()
		return fmt.Errorf("write ranking file: %w", err)
	}
	d := directory{Version: version, Passages: uint32(len(w.ids))}
	if stored := len(w.storedOffs) / 8; stored > 0 {
		if stored != len(w.ids) {
			w.Abort()
			return fmt.Errorf("write ranking file: stored values for %d of %d passages", stored, len(w.ids))
		}
		d.StoredOff, d.StoredLen, d.Values = w.storedOff, w.off-w.storedOff, w.values
		d.StoredOffs = w.off
		w.write(binary.LittleEndian.AppendUint64(w.storedOffs, d.StoredLen))
	}
	d.IDsOff = w.off
	offs := make([]byte, 0, 8*(len(w.ids)+1))
	var pos uint64
	for _, id := range w.ids {
		offs = binary.LittleEndian.AppendUint64(offs, pos)
		w.write([]byte(id))
		pos += uint64(len(id))
	}
	offs = binary.LittleEndian.AppendUint64(offs, pos)
	d.IDOffsOff = w.off
	w.write(offs)
	for _, f := range w.fields {
		fd := fieldDir{Name: f.name, LengthsOff: w.off, Terms: f.terms}
		lengths := make([]byte, 0, 4*len(f.lengths))
		for _, l := range f.lengths {
			lengths = binary.LittleEndian.AppendUint32(lengths, l)
			fd.TotalLength += uint64(l)
		}
		w.write(lengths)
		fd.TermBytes, fd.TermBytesN = w.off, uint64(len(f.termBytes))
		w.write(f.termBytes)
		fd.TableOff = w.off
		w.write(f.table)
		if f.lists != nil {
			if err := w.writeLists(f.lists, &fd); err != nil && w.err == nil {
				w.err = err
			}
		}
		d.Fields = append(d.Fields, fd)
	}
	w.removeSpills()
	dir, err := json.Marshal(d)
	if err != nil {
		w.Abort()
		return err
	}
	w.write(dir)
	w.write(binary.LittleEndian.AppendUint64(nil, uint64(len(dir))))
	w.write([]byte(magic))
	if w.err == nil {
		w.err = w.w.Flush()
	}
	if w.err == nil {
		w.err = w.f.Sync()
	}
	if err := w.f.Close(); w.err == nil {
		w.err = err
	}
	w.f = nil
	if w.err == nil {
		w.err = os.Rename(w.tmp, w.path)
	}
	if w.err != nil {
		os.Remove(w.tmp)
		return fmt.Errorf("write ranking file: %w", w.err)
	}
	return nil
}

// Abort discards the file being written.
func (w *Writer) Abort() {
	w.removeSpills()
	if w.f != nil {
		w.f.Close()
		w.f = nil
		os.Remove(w.tmp)
	}
}

func (w *Writer) removeSpills() {
	for _, f := range w.fields {
		if f.lists != nil {
			f.lists.remove()
		}
	}
}
