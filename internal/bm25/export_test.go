package bm25

import "fmt"

// SetListSpan sets the passages per spill file of w's term lists, so tests
// can spill a small collection across several files.
func SetListSpan(w *Writer, span uint32) { w.listSpan = span }

// OpenBytes opens a ranking file held in memory, so the fuzzer reads no file.
func OpenBytes(data []byte) (*Index, error) {
	if len(data) < 2*len(magic)+8 {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrCorrupt, len(data))
	}
	ix := &Index{data: data, slots: make(chan struct{}, maxQueries())}
	if err := ix.parse(); err != nil {
		return nil, err
	}
	return ix, nil
}
