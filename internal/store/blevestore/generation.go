package blevestore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// An index folder holds numbered generations of the bleve index and a CURRENT
// file naming the one to serve:
//
//	INDEX_DIR/CURRENT        "gen-000007\n", replaced atomically by rename
//	INDEX_DIR/gen-000007/    the bleve (scorch) index being served
//	INDEX_DIR/gen-000006/    the one before, kept for servers still reading it
//	INDEX_DIR/lock           held by the one `connector index` run at a time
//
// An index run writes a new generation beside the current one (a copy whose
// immutable segment files are hard links) and switches CURRENT only once it
// has committed everything. A crash or Ctrl-C before the switch leaves
// CURRENT as it was, and the next run deletes the abandoned generation.

const (
	currentFile = "CURRENT"
	lockFile    = "lock"
	genPrefix   = "gen-"
)

// ErrNoIndex is returned by Open when the folder holds no committed index.
var ErrNoIndex = errors.New("no index has been built here yet")

// errBadPointer is returned, wrapped, by readCurrent when CURRENT holds
// something other than a generation's name: damage, unlike a failure to
// read it (permissions, a file where the folder should be).
var errBadPointer = errors.New("the file is damaged")

// Exists reports whether an index run has committed an index in dir (a
// damaged one counts: Open serves it as well as it can).
func Exists(dir string) bool {
	_, err := readCurrent(dir)
	return !errors.Is(err, ErrNoIndex)
}

// readCurrent returns the name of the current generation, or ErrNoIndex.
func readCurrent(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, currentFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", ErrNoIndex
	}
	if err != nil {
		return "", fmt.Errorf("read index pointer: %w", err)
	}
	name := strings.TrimSpace(string(b))
	if _, ok := genNumber(name); !ok {
		return "", fmt.Errorf("index pointer %s names %q, not an index generation: %w",
			filepath.Join(dir, currentFile), name, errBadPointer)
	}
	return name, nil
}

// writeCurrent atomically points CURRENT at the generation.
func writeCurrent(dir, name string) error {
	tmp, err := os.CreateTemp(dir, ".CURRENT-*")
	if err != nil {
		return fmt.Errorf("write index pointer: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.WriteString(name + "\n"); err != nil {
		tmp.Close()
		return fmt.Errorf("write index pointer: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write index pointer: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write index pointer: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, currentFile)); err != nil {
		return fmt.Errorf("switch index pointer: %w", err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// genNumber parses "gen-000007".
func genNumber(name string) (int, bool) {
	digits, ok := strings.CutPrefix(name, genPrefix)
	if !ok || digits == "" {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	return n, err == nil && n > 0
}

func genName(n int) string { return fmt.Sprintf("%s%06d", genPrefix, n) }

// generations lists the generation folders in dir, oldest first.
func generations(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if _, ok := genNumber(e.Name()); ok && e.IsDir() {
			names = append(names, e.Name())
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		x, _ := genNumber(a)
		y, _ := genNumber(b)
		return x - y
	})
	return names, nil
}

// cloneIndex copies the bleve index folder src to dst, hard-linking segment
// files (scorch never changes a written segment) and copying the rest (the
// root bolt file is updated in place, so it must not be shared).
func cloneIndex(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case !d.Type().IsRegular():
			return nil
		case rel == vectorsFile || rel == vectorsMetaFile || rel == vectorsSpillFile:
			return nil // the run writes its own, reading the base's in place
		case strings.HasSuffix(d.Name(), ".zap"):
			if err := os.Link(path, target); err == nil {
				return nil
			}
			return copyFile(path, target)
		default:
			return copyFile(path, target)
		}
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
