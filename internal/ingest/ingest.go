// Package ingest reads the user's files (markdown, plain text, HTML, the
// text layer of PDFs, Word .docx documents, JSON and JSON Lines records) into
// documents for the index (store.SourceDocument), and reports every file or
// record it could not read as a Problem.
//
// A walk is deterministic: roots in the order given, files in lexical order
// (like fs.WalkDir), records in file order. Document ids are stable across
// runs: Root.Name plus the slash-separated path of the file for file
// documents, the record's own id for records.
package ingest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/store"
)

// DefaultMaxFileBytes is the file size limit used when Options.MaxFileBytes is 0.
const DefaultMaxFileBytes = 32 << 20

// Root is one PATH argument of `connector index`, or the bundled sample corpus.
type Root struct {
	Key  string // identifies the root across runs: the absolute cleaned path for OS paths
	Name string // prefixes ids of file documents: base name of the absolute path
	FS   fs.FS  // the filesystem holding the root
	Path string // the file or directory to read inside FS ("." for all of FS)
}

// OSRoot returns the Root for a path on disk, after checking it exists and is readable.
// For a directory: FS=os.DirFS(abs), Path=".". For a file: FS=os.DirFS(dir of abs), Path=base name.
// Errors name the path and say what to do, e.g. `path "docs": no such file or directory`.
func OSRoot(p string) (Root, error) {
	if p == "" {
		return Root{}, errors.New(`path "": empty; pass a file or a directory to index`)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return Root{}, fmt.Errorf("path %q: %w", p, osReason(err))
	}
	abs = filepath.Clean(abs)
	info, err := os.Stat(abs)
	if err != nil {
		return Root{}, pathError(p, err)
	}
	name := filepath.Base(abs)
	switch {
	case info.IsDir():
		f, err := os.Open(abs)
		if err == nil {
			_, err = f.ReadDir(1)
			f.Close()
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return Root{}, pathError(p, err)
		}
		return Root{Key: abs, Name: name, FS: os.DirFS(abs), Path: "."}, nil
	case info.Mode().IsRegular():
		f, err := os.Open(abs)
		if err != nil {
			return Root{}, pathError(p, err)
		}
		f.Close()
		return Root{Key: abs, Name: name, FS: os.DirFS(filepath.Dir(abs)), Path: name}, nil
	default:
		return Root{}, fmt.Errorf("path %q: not a regular file or directory; pass a file or a directory to index", p)
	}
}

// pathError turns an OS error about the user's path p into an error that
// names p as given and says what to do.
func pathError(p string, err error) error {
	reason := osReason(err)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("path %q: %w; check the spelling (relative paths start at the current directory)", p, reason)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("path %q: %w; make it readable by the user running connector", p, reason)
	default:
		return fmt.Errorf("path %q: %w", p, reason)
	}
}

// FSRoot returns a Root reading all of fsys (used for the bundled sample corpus, key and name "sample").
func FSRoot(key, name string, fsys fs.FS) Root {
	return Root{Key: key, Name: name, FS: fsys, Path: "."}
}

// Problem is a file or record that was not (fully) read.
type Problem struct {
	Root   string // Root.Key
	File   string // as store.SourceDocument.File
	Line   int    // 1-based line of a JSON Lines record, 0 otherwise
	Reason string // lower-case sentence for a person: what was wrong and, where useful, what to do
	Error  bool   // true: an error (the run will exit non-zero); false: a warning
	// Indexed is true for a warning about a file or record that was
	// indexed all the same, such as front matter it ignored; false for one
	// that was skipped.
	Indexed bool
	// Gone is true for a source that no longer gives a document (a web
	// page answering 404, or now disallowed by robots.txt): what it gave
	// before is deleted rather than kept.
	Gone bool
}

// String formats the problem as `NAME/FILE[:LINE]: REASON`, where NAME is the
// last element of the root's key, e.g. `docs/a.jsonl:12: record has no "id" or "_id"`.
// A problem with a single-file root shows just the file name.
func (p Problem) String() string {
	where := store.Place(p.Root, p.File, p.Line)
	if where == "" {
		return p.Reason
	}
	return where + ": " + p.Reason
}

// Progress counts what a walk has read so far; safe to read from another goroutine.
type Progress struct{ Files, Bytes atomic.Int64 }

// Options tune Walk and Size.
type Options struct {
	// MaxFileBytes: files above this are skipped with a warning; 0 means
	// DefaultMaxFileBytes (32 MiB). JSON/JSONL record files are exempt (they
	// stream), but a single record whose text exceeds it is skipped, and so
	// is a PDF or DOCX whose extracted text does.
	MaxFileBytes int64
	// Progress, when not nil, counts the files and bytes read.
	Progress *Progress
	// Exclude lists absolute, cleaned OS paths that are skipped silently
	// with everything below them: the index folder itself, when it lies
	// inside a folder being indexed.
	Exclude []string
	// Access is the run-wide access list (--access): it applies to the
	// documents that have no list of their own and no .access file above
	// them. nil: none; the serve-time default applies.
	Access access.List
}

// excluded reports whether the OS path of a root's file or folder is in
// Exclude or below an entry of it.
func (o Options) excluded(root Root, rel string) bool {
	if len(o.Exclude) == 0 || !filepath.IsAbs(root.Key) {
		return false
	}
	p := root.Key
	if rel != "" {
		p = filepath.Join(root.Key, filepath.FromSlash(rel))
	}
	for _, x := range o.Exclude {
		if p == x || strings.HasPrefix(p, x+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// maxBytes returns the effective file size limit.
func (o Options) maxBytes() int64 {
	if o.MaxFileBytes <= 0 {
		return DefaultMaxFileBytes
	}
	return o.MaxFileBytes
}
