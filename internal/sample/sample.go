// Package sample holds the sample corpus bundled into the connector binary.
//
// The corpus is a set of documents about the connector itself: set-up
// guides, configuration, connecting ChatGPT and the Responses API, indexing,
// security, troubleshooting (one document per symptom), a glossary and an
// FAQ. It is written in every format the indexer reads (Markdown with and
// without YAML front matter, plain text, HTML and JSON Lines), so building an
// index from it exercises each reader. `connector serve` indexes it on first
// start when INDEX_DIR holds no index, so that a new user's first searches
// find real answers.
//
// No sample document carries a URL of its own; all of them are cited through
// the server's document view.
package sample

import (
	"embed"
	"io/fs"
)

//go:embed corpus
var corpus embed.FS

// dir is the directory, inside the embedded file system, that holds the
// documents.
const dir = "corpus"

// FS returns the sample documents as a read-only file system rooted at the
// corpus directory, so that paths read "quick-start.md",
// "guides/connect-chatgpt.md" and so on.
func FS() fs.FS {
	sub, err := fs.Sub(corpus, dir)
	if err != nil {
		// fs.Sub fails only for an invalid directory name, and dir is a
		// valid constant, so this cannot happen. Should it ever, report the
		// error from every Open rather than serving the wrong root.
		return errFS{err: err}
	}
	return sub
}

// errFS is a file system whose every Open fails with err.
type errFS struct{ err error }

func (e errFS) Open(name string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: name, Err: e.err}
}
