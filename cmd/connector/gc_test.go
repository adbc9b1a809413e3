package main

import (
	"runtime/debug"
	"testing"
	"time"
)

// TestIndexingGC checks the indexing policy: the memory limit while it
// runs, Go's default collector once the heap is large, and everything as
// before afterwards; GOGC and GOMEMLIMIT, when set, are left alone.
func TestIndexingGC(t *testing.T) {
	before := debug.SetGCPercent(defaultGCPercent)
	defer debug.SetGCPercent(before)
	limitBefore := debug.SetMemoryLimit(-1)

	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	restore := indexingGC(env())
	if got := debug.SetMemoryLimit(-1); got != indexingMemoryLimit {
		t.Errorf("memory limit while indexing = %d, want %d", got, indexingMemoryLimit)
	}
	restore()
	if got := debug.SetMemoryLimit(-1); got != limitBefore {
		t.Errorf("memory limit after indexing = %d, want %d", got, limitBefore)
	}
	if got := debug.SetGCPercent(defaultGCPercent); got != defaultGCPercent {
		t.Errorf("GOGC after indexing = %d, want %d", got, defaultGCPercent)
	}

	restore = indexingGC(env("GOGC", "50", "GOMEMLIMIT", "1GiB"))
	if got := debug.SetMemoryLimit(-1); got != limitBefore {
		t.Errorf("memory limit with GOMEMLIMIT set = %d, want it untouched (%d)", got, limitBefore)
	}
	restore()
}

func TestWatchHeap(t *testing.T) {
	called := make(chan struct{})
	stop := make(chan struct{})
	go watchHeap(stop, 0, func() { close(called) }) // any heap is over 0
	select {
	case <-called:
	case <-time.After(5 * time.Second):
		t.Fatal("large heap not reported")
	}
	close(stop)

	done := make(chan struct{})
	stop2 := make(chan struct{})
	go func() {
		watchHeap(stop2, 1<<62, func() { t.Error("a small heap reported as large") })
		close(done)
	}()
	close(stop2)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("watchHeap did not return when stopped")
	}
}
