package access

import (
	"fmt"
	"path"
	"strings"
)

// Tree resolves folder inheritance: the lists of .access files by folder,
// and a run-wide list (from --access) for documents under none of them.
// Paths are slash-separated and relative to the collection root; "" is the
// root. Build it with Set, then call For from any number of goroutines.
type Tree struct {
	run     List
	folders map[string]List
}

// NewTree returns a tree whose documents default to run (nil for none).
func NewTree(run List) *Tree {
	return &Tree{run: run, folders: map[string]List{}}
}

// Set records l as the list of folder and everything under it, unless a
// deeper folder has its own list. An empty l removes the folder's list.
func (t *Tree) Set(folder string, l List) error {
	dir, err := clean(folder)
	if err != nil {
		return fmt.Errorf("access list for folder %q: %w", folder, err)
	}
	if len(l) == 0 {
		delete(t.folders, dir)
		return nil
	}
	t.folders[dir] = l
	return nil
}

// For returns the list that applies to the document at file: its nearest
// folder's list (for "a/b/c.md": "a/b", then "a", then the root ""), else
// the run-wide list. It reports false when neither exists, and the caller
// applies DEFAULT_ACCESS. An absolute path, or one leaving the root, is a
// caller's bug and gets List{None}: hidden rather than exposed.
func (t *Tree) For(file string) (List, bool) {
	dir, err := clean(file)
	if err != nil {
		return List{None}, true
	}
	dir = path.Dir(dir)
	for {
		if dir == "." {
			dir = ""
		}
		if l, ok := t.folders[dir]; ok {
			return l, true
		}
		if dir == "" {
			break
		}
		dir = path.Dir(dir)
	}
	return t.run, len(t.run) > 0
}

// clean returns p in canonical form, "" for the root, refusing absolute
// paths and paths that leave the root.
func clean(p string) (string, error) {
	if strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("path is absolute; give it relative to the collection root")
	}
	c := path.Clean(p)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("path leaves the collection root")
	}
	if c == "." {
		c = ""
	}
	return c, nil
}
