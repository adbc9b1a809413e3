package bm25

import "github.com/cespare/xxhash/v2"

// keyHash finds a key (a field's term, a passage's id) by its text in one
// or two probes, where a binary search over a sorted table would take a
// dozen or more reads scattered over the file. It is an open-addressing
// table of key numbers plus one (0 marks an empty slot), at least twice as
// long as there are keys: 4 bytes a slot, 8 to 16 bytes a key. It is built
// when the file is opened. The hash has a fixed seed, so that a file is
// laid out and probed the same way every time (the fuzzer needs that to
// tell new paths from old); keys come from the index, not from callers.
type keyHash struct {
	slots []uint32
	mask  uint64
}

// newKeyHash indexes keys 0..n-1, key(i) being the text of key i.
func newKeyHash(n int, key func(int) []byte) keyHash {
	size := 2
	for size < 2*n {
		size *= 2
	}
	h := keyHash{slots: make([]uint32, size), mask: uint64(size - 1)}
	for num := range n {
		i := xxhash.Sum64(key(num)) & h.mask
		for h.slots[i] != 0 {
			i = (i + 1) & h.mask
		}
		h.slots[i] = uint32(num) + 1
	}
	return h
}

// find returns the number of the key whose text is s, or false when there
// is none; key is the function the table was built with.
func (h *keyHash) find(s string, key func(int) []byte) (int, bool) {
	if len(h.slots) == 0 {
		return 0, false
	}
	for i := xxhash.Sum64String(s) & h.mask; ; i = (i + 1) & h.mask {
		v := h.slots[i]
		if v == 0 {
			return 0, false
		}
		if string(key(int(v-1))) == s {
			return int(v - 1), true
		}
	}
}
