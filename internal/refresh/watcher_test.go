package refresh

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// startWatcher watches paths and returns a channel of changes.
func startWatcher(t *testing.T, paths []string, exclude ...string) <-chan struct{} {
	t.Helper()
	changes := make(chan struct{}, 100)
	w, err := NewWatcher(paths, WatchOptions{Exclude: exclude, OnChange: func() { changes <- struct{}{} }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { w.Run(ctx); close(stopped) }()
	t.Cleanup(func() { cancel(); <-stopped })
	return changes
}

func expectChange(t *testing.T, changes <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-changes:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no change reported", what)
	}
}

// drain empties changes, for the next expectation to see only what follows.
func drain(changes <-chan struct{}) {
	for {
		select {
		case <-changes:
		default:
			return
		}
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWatcherFolders: edits, new files, deletions and files in new
// sub-folders are reported; changes in the excluded index folder are not.
func TestWatcherFolders(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.md"), "one")
	write(t, filepath.Join(dir, "sub", "b.md"), "two")
	index := filepath.Join(dir, "index")
	write(t, filepath.Join(index, "CURRENT"), "g1")
	changes := startWatcher(t, []string{dir}, index)

	write(t, filepath.Join(dir, "a.md"), "one, edited")
	expectChange(t, changes, "edit")
	write(t, filepath.Join(dir, "sub", "c.md"), "three")
	expectChange(t, changes, "new file in a sub-folder")
	if err := os.Remove(filepath.Join(dir, "sub", "b.md")); err != nil {
		t.Fatal(err)
	}
	expectChange(t, changes, "delete")

	// A new folder is watched as soon as its creation is seen: poll until
	// a write inside it is reported.
	newDir := filepath.Join(dir, "new", "deeper")
	if err := os.MkdirAll(newDir, 0o755); err != nil {
		t.Fatal(err)
	}
	expectChange(t, changes, "new folder")
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; ; i++ {
		drain(changes)
		write(t, filepath.Join(newDir, "d.md"), "four "+string(rune('a'+i%26)))
		select {
		case <-changes:
		case <-time.After(500 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("a write in a new sub-sub-folder is never reported")
			}
			continue
		}
		break
	}

	// The index folder is excluded: a write there reports nothing. Its
	// silence is checked by a write elsewhere coming through alone.
	drain(changes)
	write(t, filepath.Join(index, "CURRENT"), "g2")
	write(t, filepath.Join(index, "g2", "seg"), "x")
	write(t, filepath.Join(dir, "a.md"), "one, edited again")
	expectChange(t, changes, "edit after index writes")
}

// TestWatcherFile: a file source is watched through its folder, so a
// replace-on-save is seen, and its siblings are ignored.
func TestWatcherFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "notes.md")
	write(t, file, "one")
	changes := startWatcher(t, []string{file})

	write(t, filepath.Join(dir, "other.md"), "sibling")
	tmp := filepath.Join(dir, "notes.md.tmp")
	write(t, tmp, "two")
	if err := os.Rename(tmp, file); err != nil { // how many editors save
		t.Fatal(err)
	}
	expectChange(t, changes, "replace")
	drain(changes)
	write(t, filepath.Join(dir, "other.md"), "sibling again")
	write(t, file, "three")
	expectChange(t, changes, "edit")
}

func TestWatcherMissingPath(t *testing.T) {
	_, err := NewWatcher([]string{filepath.Join(t.TempDir(), "nope")}, WatchOptions{OnChange: func() {}})
	if err == nil {
		t.Fatal("no error for a missing path")
	}
}
