package blevestore

import "fmt"

// minFreeBytes is the free disk space an index run keeps in hand beyond
// what it is about to write. bleve fails badly when a disk fills under it
// (panics in its own goroutines, which the run cannot recover), so the run
// stops with a clear error before that can happen.
const minFreeBytes = 32 << 20

// roomFor returns an error unless the index folder's file system has need
// bytes free beyond minFreeBytes (less in tests: SyncOptions.minFree).
func (s *Syncer) roomFor(need int64) error {
	free, ok := freeBytes(s.dir)
	if !ok {
		return nil // not known on this system
	}
	if free >= uint64(need)+uint64(s.opts.minFree) {
		return nil
	}
	return fmt.Errorf("not enough free disk space for the index in %s: %s free, and this run needs about %s more; "+
		"free some space or point INDEX_DIR at a larger disk (the current index is unchanged)",
		s.dir, mib(free), mib(uint64(need)+uint64(s.opts.minFree)-free))
}

func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
