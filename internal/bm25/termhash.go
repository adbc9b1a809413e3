package bm25

import "hash/maphash"

// termHash finds a field's terms by their text in one or two probes,
// where a binary search over the sorted table would take a dozen or more
// reads scattered over the file. It is an open-addressing table of term
// numbers plus one (0 marks an empty slot), at least twice as long as the
// field has terms: 4 bytes a slot, 8 to 16 bytes a term. It is built when
// the file is opened.
type termHash struct {
	seed  maphash.Seed
	slots []uint32
	mask  uint64
}

func newTermHash(f *field) termHash {
	size := 2
	for size < 2*f.terms {
		size *= 2
	}
	h := termHash{seed: maphash.MakeSeed(), slots: make([]uint32, size), mask: uint64(size - 1)}
	for num := range f.terms {
		i := maphash.Bytes(h.seed, f.termAt(num)) & h.mask
		for h.slots[i] != 0 {
			i = (i + 1) & h.mask
		}
		h.slots[i] = uint32(num) + 1
	}
	return h
}

// find returns the number of term in f, or false when f does not hold it.
func (h *termHash) find(f *field, term string) (int, bool) {
	if len(h.slots) == 0 {
		return 0, false
	}
	for i := maphash.String(h.seed, term) & h.mask; ; i = (i + 1) & h.mask {
		v := h.slots[i]
		if v == 0 {
			return 0, false
		}
		if string(f.termAt(int(v-1))) == term {
			return int(v - 1), true
		}
	}
}
