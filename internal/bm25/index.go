package bm25

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"

	mmap "github.com/blevesearch/mmap-go"
	"github.com/golang/snappy"
)

// ErrCorrupt is wrapped by Open when a file is not a ranking file or is
// damaged.
var ErrCorrupt = errors.New("ranking file is damaged")

// Index is an opened ranking file. It is safe for concurrent use; Close
// must wait until no search uses it.
type Index struct {
	f      *os.File
	data   mmap.MMap
	n      uint32
	ids    []byte  // passage id bytes
	idOffs []byte  // n+1 uint64
	idHash keyHash // finds passages by id
	fields []field
	// slots bounds the queries scoring at once, and free keeps their
	// accumulators (16 bytes a passage: 16 MiB for a million) for the next
	// queries, out of the garbage collector's reach. free is a stack: the
	// accumulator last released, the likeliest to be in the processor's
	// caches still, is the next one taken.
	slots  chan struct{}
	freeMu sync.Mutex
	free   []*accumulator
	// grams are the fields' bigram indexes for Similar, built when first
	// needed.
	grams []gramState
	// stored values (Writer.Store), when the file keeps them
	stored     []byte
	storedOffs []byte
	values     int
	decoded    sync.Pool // *[]byte buffers Stored decodes into
}

// maxQueries is how many queries score at once; more wait their turn.
// Scoring is CPU work, so more than a few per CPU would only hold more
// accumulators in memory.
func maxQueries() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

type field struct {
	name      string
	lengths   []uint32
	avg       float64 // mean length over all passages
	termBytes []byte
	table     []byte
	terms     int
	lists     []byte  // the passages' term lists, when the field keeps them
	listOffs  []byte  // n+1 uint64 offsets into lists, or nil
	hash      keyHash // finds terms by text
}

// termAt returns the term numbered i, nil when the table is damaged.
func (f *field) termAt(i int) []byte {
	e := f.table[i*termEntrySize:]
	off := binary.LittleEndian.Uint64(e[0:])
	n := uint64(binary.LittleEndian.Uint32(e[20:]))
	if off > uint64(len(f.termBytes)) || n > uint64(len(f.termBytes))-off {
		return nil
	}
	return f.termBytes[off : off+n]
}

// Open maps the file at path.
func Open(path string) (*Index, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	ix, err := open(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open ranking file %s: %w", path, err)
	}
	return ix, nil
}

func open(f *os.File) (*Index, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := info.Size()
	if size < int64(2*len(magic)+8) {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrCorrupt, size)
	}
	data, err := mmap.Map(f, mmap.RDONLY, 0)
	if err != nil {
		return nil, err
	}
	ix := &Index{f: f, data: data, slots: make(chan struct{}, maxQueries())}
	if err := ix.parse(); err != nil {
		data.Unmap()
		return nil, err
	}
	return ix, nil
}

// section returns data[off:off+n], or an error when that is outside the file.
func section(data []byte, off, n uint64) ([]byte, error) {
	if off > uint64(len(data)) || n > uint64(len(data))-off {
		return nil, fmt.Errorf("%w: section [%d, +%d) outside the file", ErrCorrupt, off, n)
	}
	return data[off : off+n], nil
}

func (ix *Index) parse() error {
	data := []byte(ix.data)
	size := uint64(len(data))
	if string(data[:len(magic)]) != magic || string(data[size-uint64(len(magic)):]) != magic {
		return fmt.Errorf("%w: not a ranking file (bad magic)", ErrCorrupt)
	}
	dirLen := binary.LittleEndian.Uint64(data[size-uint64(len(magic))-8:])
	end := size - uint64(len(magic)) - 8
	if dirLen > end {
		return fmt.Errorf("%w: directory length %d", ErrCorrupt, dirLen)
	}
	var d directory
	if err := json.Unmarshal(data[end-dirLen:end], &d); err != nil {
		return fmt.Errorf("%w: directory: %v", ErrCorrupt, err)
	}
	if d.Version != version {
		return fmt.Errorf("%w: version %d, want %d", ErrCorrupt, d.Version, version)
	}
	ix.n = d.Passages
	var err error
	if uint64(d.Passages) > size/8 {
		return fmt.Errorf("%w: %d passages in %d bytes", ErrCorrupt, d.Passages, size)
	}
	if ix.idOffs, err = section(data, d.IDOffsOff, 8*(uint64(d.Passages)+1)); err != nil {
		return err
	}
	idLen := binary.LittleEndian.Uint64(ix.idOffs[8*uint64(d.Passages):])
	if ix.ids, err = section(data, d.IDsOff, idLen); err != nil {
		return err
	}
	ix.idHash = newKeyHash(int(ix.n), ix.idAt)
	for _, fd := range d.Fields {
		if fd.Terms > size/termEntrySize {
			return fmt.Errorf("%w: field %s claims %d terms", ErrCorrupt, fd.Name, fd.Terms)
		}
		fl := field{name: fd.Name, terms: int(fd.Terms)}
		raw, err := section(data, fd.LengthsOff, 4*uint64(d.Passages))
		if err != nil {
			return err
		}
		fl.lengths = make([]uint32, d.Passages)
		for i := range fl.lengths {
			fl.lengths[i] = binary.LittleEndian.Uint32(raw[4*i:])
		}
		if d.Passages > 0 {
			fl.avg = float64(fd.TotalLength) / float64(d.Passages)
		}
		if fl.termBytes, err = section(data, fd.TermBytes, fd.TermBytesN); err != nil {
			return err
		}
		if fl.table, err = section(data, fd.TableOff, termEntrySize*fd.Terms); err != nil {
			return err
		}
		if fd.ListsOffs != 0 {
			if fl.lists, err = section(data, fd.ListsOff, fd.ListsLen); err != nil {
				return err
			}
			if fl.listOffs, err = section(data, fd.ListsOffs, 8*(uint64(d.Passages)+1)); err != nil {
				return err
			}
		}
		fl.hash = newKeyHash(fl.terms, fl.termAt)
		ix.fields = append(ix.fields, fl)
	}
	ix.grams = make([]gramState, len(ix.fields))
	if d.StoredOffs != 0 {
		if d.Values <= 0 || d.Values > 1<<16 {
			return fmt.Errorf("%w: %d stored values a passage", ErrCorrupt, d.Values)
		}
		if ix.stored, err = section(data, d.StoredOff, d.StoredLen); err != nil {
			return err
		}
		if ix.storedOffs, err = section(data, d.StoredOffs, 8*(uint64(d.Passages)+1)); err != nil {
			return err
		}
		ix.values = d.Values
	}
	return nil
}

// maxPooledDecode is the largest decoding buffer Stored keeps for the next
// call.
const maxPooledDecode = 64 << 10

// maxStoredBytes bounds a passage's stored values, as Stored reads them.
const maxStoredBytes = 64 << 20

// Stored returns the values Writer.Store kept for passage ord, copied; nil
// when the file keeps none, ord is out of range or the values are damaged.
func (ix *Index) Stored(ord uint32) []string {
	if ix.storedOffs == nil || ord >= ix.n {
		return nil
	}
	a := binary.LittleEndian.Uint64(ix.storedOffs[8*uint64(ord):])
	b := binary.LittleEndian.Uint64(ix.storedOffs[8*uint64(ord)+8:])
	if a > b || b > uint64(len(ix.stored)) {
		return nil
	}
	z := ix.stored[a:b]
	if n, err := snappy.DecodedLen(z); err != nil || n > maxStoredBytes {
		return nil // damaged: do not believe a length past any passage's
	}
	buf, _ := ix.decoded.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	defer ix.decoded.Put(buf)
	rec, err := snappy.Decode((*buf)[:cap(*buf)], z)
	if err != nil {
		return nil
	}
	if cap(rec) <= maxPooledDecode {
		*buf = rec
	}
	// One string holds the record; the values are parts of it.
	all := string(rec)
	out := make([]string, ix.values)
	for i := range out {
		n, m := binary.Uvarint(rec)
		if m <= 0 || n > uint64(len(rec)-m) {
			return nil
		}
		from := len(all) - len(rec) + m
		out[i] = all[from : from+int(n)]
		rec = rec[m+int(n):]
	}
	return out
}

// Close unmaps the file.
func (ix *Index) Close() error {
	if ix.f == nil { // opened from memory, by tests
		return nil
	}
	err := ix.data.Unmap()
	if cerr := ix.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Passages returns the number of passages.
func (ix *Index) Passages() int { return int(ix.n) }

// ID returns the id of the passage with ordinal ord.
func (ix *Index) ID(ord uint32) string {
	if ord >= ix.n {
		return ""
	}
	return string(ix.idAt(int(ord)))
}

// idAt returns the id of passage ord < n, nil when the offsets are damaged.
func (ix *Index) idAt(ord int) []byte {
	a := binary.LittleEndian.Uint64(ix.idOffs[8*uint64(ord):])
	b := binary.LittleEndian.Uint64(ix.idOffs[8*uint64(ord)+8:])
	if a > b || b > uint64(len(ix.ids)) {
		return nil
	}
	return ix.ids[a:b]
}

// Ordinal returns the ordinal of the passage with this id, or false when
// the file has no such passage.
func (ix *Index) Ordinal(id string) (uint32, bool) {
	ord, ok := ix.idHash.find(id, ix.idAt)
	return uint32(ord), ok
}

// Field returns the number of the named field, or -1.
func (ix *Index) Field(name string) int {
	for i, f := range ix.fields {
		if f.name == name {
			return i
		}
	}
	return -1
}

// AverageLength returns the mean length of the field over all passages.
func (ix *Index) AverageLength(fieldNum int) float64 {
	if fieldNum < 0 || fieldNum >= len(ix.fields) {
		return 0
	}
	return ix.fields[fieldNum].avg
}

// DocFreq returns the number of passages whose field holds term.
func (ix *Index) DocFreq(fieldNum int, term string) uint32 {
	_, df, _ := ix.lookup(fieldNum, term)
	return df
}

// lookup finds a term's postings.
func (ix *Index) lookup(fieldNum int, term string) (postings []byte, df uint32, ok bool) {
	if fieldNum < 0 || fieldNum >= len(ix.fields) {
		return nil, 0, false
	}
	f := &ix.fields[fieldNum]
	i, ok := f.hash.find(term, f.termAt)
	if !ok {
		return nil, 0, false
	}
	e := f.table[i*termEntrySize:]
	p, err := section(ix.data, binary.LittleEndian.Uint64(e[8:]), uint64(binary.LittleEndian.Uint32(e[16:])))
	if err != nil {
		return nil, 0, false
	}
	return p, binary.LittleEndian.Uint32(e[24:]), true
}
