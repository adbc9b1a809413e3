package blevestore

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/connectorhq/connector/internal/store"
)

// smallDisk mounts a tmpfs of size bytes for the test, or skips the test
// where mounting is not allowed (it needs root).
func smallDisk(t *testing.T, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("cannot mount a small file system here (%v): needs root", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// An index run on a disk that fills up fails with an error that says so,
// never a panic or a hang, and the previous generation goes on serving.
// Disks of several sizes make the run stop at different points.
func TestFullDisk(t *testing.T) {
	var docs []store.SourceDocument
	for i := range 3000 {
		words := make([]string, 0, 300)
		for j := range 300 {
			words = append(words, fmt.Sprintf("w%dx%d", i, j%97))
		}
		docs = append(docs, doc(fmt.Sprintf("d%03d", i), strings.Join(words, " ")))
	}
	first := []store.SourceDocument{doc("a", "alpha"), doc("b", "bravo")}
	for _, size := range []int{minFreeBytes - 1<<20, minFreeBytes + 1<<20, minFreeBytes + 4<<20, minFreeBytes + 12<<20} {
		t.Run(fmt.Sprintf("%dKiB", size>>10), func(t *testing.T) {
			root := smallDisk(t, size)
			dir := filepath.Join(root, "index")
			opts := SyncOptions{Roots: []string{"r"}, batchRecords: 400}
			s, err := NewSyncer(t.Context(), dir, opts)
			if size < minFreeBytes {
				if err == nil || !strings.Contains(err.Error(), "not enough free disk space") {
					t.Fatalf("NewSyncer on a disk with less than the reserve = %v", err)
				}
				if gens, _ := generations(dir); len(gens) != 0 {
					t.Errorf("generations = %v", gens)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range first {
				if _, err := s.Add(t.Context(), d); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.Commit(t.Context()); err != nil {
				t.Fatal(err)
			}
			st := mustOpen(t, dir)

			s, err = NewSyncer(t.Context(), dir, opts)
			if err == nil {
				for _, d := range append(slices.Clone(first), docs...) {
					if _, err = s.Add(t.Context(), d); err != nil {
						break
					}
				}
				if err == nil {
					_, err = s.Commit(t.Context())
				} else {
					s.Abort()
				}
			}
			if err == nil || !strings.Contains(err.Error(), "not enough free disk space") {
				t.Fatalf("run on a disk too small for it = %v, want a clear error", err)
			}
			if switched, rerr := st.Reload(); switched || rerr != nil {
				t.Errorf("Reload after the failed run = %v, %v", switched, rerr)
			}
			if got := allIDs(t, st); !slices.Equal(got, []string{"a", "b"}) {
				t.Errorf("ids served after the failed run = %v, want a b", got)
			}
			if _, err := st.Ready(t.Context()); err != nil {
				t.Errorf("Ready after the failed run: %v", err)
			}
			// Nothing of the failed run is left on the disk.
			if gens, _ := generations(dir); len(gens) != 1 {
				t.Errorf("generations after the failed run: %v", gens)
			}
		})
	}
}
