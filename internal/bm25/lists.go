package bm25

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
)

// Term lists are the postings turned around: for each passage, the terms
// it holds. Terms reach the Writer in term order, so their postings are
// spilled to temporary files, one per range of listSpan passages, and at
// Commit each range is read back and sorted by passage (a counting sort,
// stable, so each passage's terms stay in ascending order). Memory holds
// one range at a time, however large the collection.

// defaultListSpan is the passages per spill file: at a hundred distinct
// terms a passage, a range is a few MiB to sort.
const defaultListSpan = 8192

// listSpill collects one field's (passage, term, frequency) triples.
type listSpill struct {
	dir, base string
	span      uint32
	files     []*os.File
	writers   []*bufio.Writer
	buf       []byte
}

// add spills the postings of the term numbered term.
func (s *listSpill) add(term uint32, postings []Posting) error {
	for _, p := range postings {
		b := int(p.Passage / s.span)
		for b >= len(s.files) {
			s.files = append(s.files, nil)
			s.writers = append(s.writers, nil)
		}
		if s.files[b] == nil {
			f, err := os.CreateTemp(s.dir, s.base+"-lists-*")
			if err != nil {
				return fmt.Errorf("spill term lists: %w", err)
			}
			s.files[b], s.writers[b] = f, bufio.NewWriterSize(f, 32<<10)
		}
		s.buf = binary.AppendUvarint(s.buf[:0], uint64(p.Passage%s.span))
		s.buf = binary.AppendUvarint(s.buf, uint64(term))
		s.buf = binary.AppendUvarint(s.buf, uint64(p.Freq))
		if _, err := s.writers[b].Write(s.buf); err != nil {
			return fmt.Errorf("spill term lists: %w", err)
		}
	}
	return nil
}

// readRange reads the spilled triples of range b into buf, which it
// returns grown as needed; empty when the range has none.
func (s *listSpill) readRange(b int, buf []byte) ([]byte, error) {
	if b >= len(s.files) || s.files[b] == nil {
		return buf[:0], nil
	}
	if err := s.writers[b].Flush(); err != nil {
		return nil, err
	}
	s.writers[b] = nil // its buffer is not needed again
	f := s.files[b]
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	buf = slices.Grow(buf[:0], int(info.Size()))[:info.Size()]
	if _, err := f.ReadAt(buf, 0); err != nil && err != io.EOF {
		return nil, err
	}
	return buf, nil
}

func (s *listSpill) remove() {
	for i, f := range s.files {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
			s.files[i] = nil
		}
	}
}

// writeLists writes the field's term lists and their offsets, and records
// where they are in fd.
func (w *Writer) writeLists(s *listSpill, fd *fieldDir) error {
	n := uint32(len(w.ids))
	offs := make([]byte, 0, 8*(uint64(n)+1))
	start := w.off
	fd.ListsOff = start
	var raw []byte
	var counts []uint32
	var terms, freqs []uint32
	for first := uint64(0); first < uint64(n); first += uint64(s.span) {
		size := uint32(min(uint64(s.span), uint64(n)-first))
		var err error
		if raw, err = s.readRange(int(first/uint64(s.span)), raw); err != nil {
			return fmt.Errorf("read spilled term lists: %w", err)
		}
		// Count each passage's terms, then place them (stable: in term order).
		counts = resize(counts, int(size)+1)
		total := 0
		for rest := raw; len(rest) > 0; total++ {
			ord, _, _, m := triple(rest)
			if m <= 0 || ord >= uint64(size) {
				return fmt.Errorf("spilled term lists are damaged")
			}
			counts[ord+1]++
			rest = rest[m:]
		}
		for i := 1; i <= int(size); i++ {
			counts[i] += counts[i-1]
		}
		terms, freqs = resize(terms, total), resize(freqs, total)
		next := counts[:size] // next[i]: where passage i's next term goes
		for rest := raw; len(rest) > 0; {
			ord, term, freq, m := triple(rest)
			rest = rest[m:]
			terms[next[ord]], freqs[next[ord]] = uint32(term), uint32(freq)
			next[ord]++
		}
		// Now next[i] is where passage i's terms end and i+1's begin.
		from := uint32(0)
		for i := range size {
			offs = binary.LittleEndian.AppendUint64(offs, w.off-start)
			w.buf = w.buf[:0]
			prev := uint32(0)
			for j := from; j < next[i]; j++ {
				w.buf = binary.AppendUvarint(w.buf, uint64(terms[j]-prev))
				w.buf = binary.AppendUvarint(w.buf, uint64(freqs[j]))
				prev = terms[j]
			}
			w.write(w.buf)
			from = next[i]
		}
	}
	offs = binary.LittleEndian.AppendUint64(offs, w.off-start)
	fd.ListsLen = w.off - start
	fd.ListsOffs = w.off
	w.write(offs)
	return w.err
}

// resize returns s with length n, zeroed, reusing its memory when it can.
func resize(s []uint32, n int) []uint32 {
	s = slices.Grow(s[:0], n)[:n]
	clear(s)
	return s
}

// triple decodes one spilled (passage, term, frequency); m ≤ 0 when it is
// damaged.
func triple(b []byte) (ord, term, freq uint64, m int) {
	ord, a := binary.Uvarint(b)
	if a <= 0 {
		return 0, 0, 0, -1
	}
	term, c := binary.Uvarint(b[a:])
	if c <= 0 {
		return 0, 0, 0, -1
	}
	freq, d := binary.Uvarint(b[a+c:])
	if d <= 0 {
		return 0, 0, 0, -1
	}
	return ord, term, freq, a + c + d
}

// HasTermLists reports whether the file keeps the field's term lists.
func (ix *Index) HasTermLists(fieldNum int) bool {
	return fieldNum >= 0 && fieldNum < len(ix.fields) && ix.fields[fieldNum].listOffs != nil
}

// PassageTerms yields the terms of passage ord's field, by their number in
// the field's term table (see Term), in ascending order, with their
// frequencies. It yields nothing when the field keeps no term lists
// (Writer.ListTerms) or ord is out of range.
func (ix *Index) PassageTerms(fieldNum int, ord uint32) iter.Seq2[uint32, uint32] {
	return func(yield func(term, freq uint32) bool) {
		if !ix.HasTermLists(fieldNum) || ord >= ix.n {
			return
		}
		f := &ix.fields[fieldNum]
		a := binary.LittleEndian.Uint64(f.listOffs[8*uint64(ord):])
		b := binary.LittleEndian.Uint64(f.listOffs[8*uint64(ord)+8:])
		if a > b || b > uint64(len(f.lists)) {
			return
		}
		list := f.lists[a:b]
		term := uint64(0)
		for len(list) > 0 {
			delta, m := binary.Uvarint(list)
			if m <= 0 {
				return
			}
			freq, k := binary.Uvarint(list[m:])
			if k <= 0 {
				return
			}
			list = list[m+k:]
			term += delta
			if term >= uint64(f.terms) {
				return
			}
			if !yield(uint32(term), uint32(freq)) {
				return
			}
		}
	}
}

// Term returns the field's term numbered num and its document frequency;
// "" and 0 when there is no such term.
func (ix *Index) Term(fieldNum int, num uint32) (string, uint32) {
	if fieldNum < 0 || fieldNum >= len(ix.fields) {
		return "", 0
	}
	f := &ix.fields[fieldNum]
	if int(num) >= f.terms {
		return "", 0
	}
	t := f.termAt(int(num))
	if t == nil {
		return "", 0
	}
	return string(t), f.docFreq(int(num))
}

// Length returns the field's length in passage ord, in terms.
func (ix *Index) Length(fieldNum int, ord uint32) uint32 {
	if fieldNum < 0 || fieldNum >= len(ix.fields) || ord >= ix.n {
		return 0
	}
	return ix.fields[fieldNum].lengths[ord]
}
