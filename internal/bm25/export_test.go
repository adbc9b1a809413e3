package bm25

// SetListSpan sets the passages per spill file of w's term lists, so tests
// can spill a small collection across several files.
func SetListSpan(w *Writer, span uint32) { w.listSpan = span }
