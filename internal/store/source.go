package store

import (
	"crypto/sha256"
	"encoding/binary"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/connectorhq/connector/internal/access"
)

// SourceDocument is a document as an index run hands it to a store: the
// Document plus where it was read from, which scopes re-runs and pruning.
type SourceDocument struct {
	Document
	// Root is the key of the root it was read from (an absolute cleaned
	// path for a folder or file on disk).
	Root string
	// File is the slash-separated path of its file relative to the root
	// directory; the base name for a single-file root.
	File string
	// Line is the 1-based line of a JSON Lines record, 0 otherwise. It
	// names the document in messages and is not part of ContentHash.
	Line int
	// Access is the document's access list; nil when none applies, and
	// the serve-time default (DEFAULT_ACCESS) decides.
	Access access.List
}

// Place names the document's source for a person, as Place does.
func (d SourceDocument) Place() string { return Place(d.Root, d.File, d.Line) }

// Place names a file of a root, and a line when line > 0, for a person:
// the root's base name, the file's path below it and the line, e.g.
// "docs/a.jsonl:12" for root "/home/u/docs". A single-file root (whose
// base name is the file) shows just the file name.
//
// A website's pages show as URLs: a file that is an absolute http(s) URL
// names itself, and a file of a root that is one (the start URL of a
// crawl) is resolved against the root's folder, "." being the root itself.
func Place(root, file string, line int) string {
	if isWebURL(file) {
		return file
	}
	if isWebURL(root) {
		switch {
		case file == "" || file == ".":
			return root
		case strings.HasSuffix(root, "/"):
			return root + file
		default:
			return root + "/" + file
		}
	}
	base := ""
	if root != "" {
		base = path.Base(filepath.ToSlash(root))
		if base == "/" || base == "." {
			base = ""
		}
	}
	var where string
	switch {
	case file == "":
		where = base
	case base == "" || base == file:
		where = file
	default:
		where = base + "/" + file
	}
	if line > 0 {
		where += ":" + strconv.Itoa(line)
	}
	return where
}

// isWebURL reports whether s starts like an absolute http(s) URL.
func isWebURL(s string) bool {
	return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://")
}

// accessMarker starts the access list in ContentHash's input: above any
// string length, so it cannot be read as the start of another string.
const accessMarker = ^uint64(0)

// ContentHash identifies a document's content and source (id, title, URL,
// text, metadata, root, file and access list): an index run compares it
// with the one stored to skip documents that did not change. Its byte
// layout is pinned: changing it re-indexes every existing index.
//
// The layout is a sequence of length-prefixed strings. A non-empty access
// list follows them after a marker that no length prefix can equal, so
// documents without one hash as they did before access lists existed, and
// no document without one hashes like a document with one.
func (d SourceDocument) ContentHash() [sha256.Size]byte {
	h := sha256.New()
	write := func(s string) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	write(d.ID)
	write(d.Title)
	write(d.URL)
	write(d.Text)
	keys := make([]string, 0, len(d.Metadata))
	for k := range d.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		write(k)
		write(d.Metadata[k])
	}
	write(d.Root)
	write(d.File)
	if len(d.Access) > 0 {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], accessMarker)
		h.Write(n[:])
		binary.LittleEndian.PutUint64(n[:], uint64(len(d.Access)))
		h.Write(n[:])
		for _, p := range d.Access {
			write(string(p))
		}
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}
