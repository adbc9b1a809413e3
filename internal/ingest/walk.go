package ingest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/store"
)

// Walk reads every root in order and calls emit for each document and
// problem for each skipped file/record, in a deterministic order (lexical,
// like fs.WalkDir). It returns ctx.Err() when cancelled, or the first error
// returned by emit. Per-file failures are never returned: they are reported
// through problem and the walk goes on. A root that cannot be read at all is
// reported as an error problem (Problem.Error). problem may be nil.
func Walk(ctx context.Context, roots []Root, opts Options, emit func(store.SourceDocument) error, problem func(Problem)) error {
	if emit == nil {
		emit = func(store.SourceDocument) error { return nil }
	}
	if problem == nil {
		problem = func(Problem) {}
	}
	r := &reader{ctx: ctx, max: opts.maxBytes(), progress: opts.Progress, emit: emit, problem: problem}
	for _, root := range roots {
		w := walker{ctx: ctx, root: root, opts: opts, max: opts.maxBytes(), problem: problem, visit: r.read}
		if err := w.run(); err != nil {
			return err
		}
	}
	return nil
}

// Size walks the roots without reading files and returns how many candidate
// files and bytes a Walk would read (for a progress bar). It returns
// ctx.Err() when cancelled. A Walk with Options.Progress counts up to the
// same totals, unless files change in between.
func Size(ctx context.Context, roots []Root, opts Options) (files, bytes int64, err error) {
	count := func(c candidate) error {
		files++
		bytes += c.size
		return nil
	}
	for _, root := range roots {
		w := walker{ctx: ctx, root: root, opts: opts, max: opts.maxBytes(), problem: func(Problem) {}, visit: count}
		if err := w.run(); err != nil {
			return files, bytes, err
		}
	}
	return files, bytes, nil
}

// candidate is a file that a walk reads: supported, within the size limit
// (or a record file) and not excluded by its directory.
type candidate struct {
	root   Root
	fsPath string // path inside root.FS
	file   string // SourceDocument.File
	single bool   // the root is this file
	size   int64  // as the directory listing reported it
	format format
	access access.List // from the nearest .access file, else the run's; nil for none
}

// problem returns a Problem about the candidate's file.
func (c candidate) problem(line int, isErr bool, reason string) Problem {
	return Problem{Root: c.root.Key, File: c.file, Line: line, Reason: validUTF8(reason), Error: isErr}
}

// walker finds the candidate files of one root, in lexical order, and
// reports the files and directories it skips. Walk and Size share it, so
// that Size counts exactly what Walk reads.
type walker struct {
	ctx     context.Context
	root    Root
	opts    Options
	max     int64
	problem func(Problem)
	visit   func(candidate) error // an error ends the walk
	tree    *access.Tree          // the .access lists read so far
}

// accessFile is the per-folder access list's file name; being hidden, it
// is never indexed.
const accessFile = ".access"

// BEIR collections hold these files; only corpusFile is indexed.
const (
	corpusFile  = "corpus.jsonl"
	beirSkipped = "part of a BEIR collection; only corpus.jsonl is indexed"
)

func (w *walker) run() error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	w.tree = access.NewTree(w.opts.Access)
	if w.root.FS == nil {
		w.report("", true, "root has no filesystem to read")
		return nil
	}
	p := w.root.Path
	if p == "" {
		p = "."
	}
	if !fs.ValidPath(p) {
		w.report("", true, fmt.Sprintf("%q is not a valid slash-separated path inside the root", p))
		return nil
	}
	info, err := fs.Stat(w.root.FS, p)
	if err != nil {
		w.report("", true, "cannot read: "+osReason(err).Error())
		return nil
	}
	if info.IsDir() {
		return w.dir(p, "", true)
	}
	// A single file takes the list of the folder it is in.
	if !w.readAccess(path.Dir(p), "", store.Place(filepath.Dir(w.root.Key), accessFile, 0)) {
		return nil
	}
	return w.file(p, path.Base(p), info, true)
}

// report sends a problem about a file or directory of the root.
func (w *walker) report(file string, isErr bool, reason string) {
	w.problem(Problem{Root: w.root.Key, File: file, Reason: validUTF8(reason), Error: isErr})
}

// dir visits the directory at fsPath, which is rel below the root.
func (w *walker) dir(fsPath, rel string, isRoot bool) error {
	entries, err := fs.ReadDir(w.root.FS, fsPath)
	if err != nil {
		w.report(rel, isRoot, "cannot read directory: "+osReason(err).Error())
		return nil
	}
	if !w.readAccess(fsPath, rel, store.Place(w.root.Key, path.Join(rel, accessFile), 0)) {
		return nil
	}
	beir := isBEIR(entries)
	for _, e := range entries {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		name := e.Name()
		childPath, childRel := path.Join(fsPath, name), path.Join(rel, name)
		if strings.HasPrefix(name, ".") || name == "node_modules" || w.opts.excluded(w.root, childRel) {
			continue
		}
		if beir && name != corpusFile {
			w.report(childRel, false, beirSkipped)
			continue
		}
		var err error
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			info, statErr := fs.Stat(w.root.FS, childPath)
			switch {
			case statErr != nil:
				w.report(childRel, false, "broken symbolic link: "+osReason(statErr).Error())
			case info.IsDir():
				w.report(childRel, false, "symbolic link to a directory; not followed (pass the target directory as its own path to index it)")
			default:
				err = w.file(childPath, childRel, info, false)
			}
		case e.IsDir():
			err = w.dir(childPath, childRel, false)
		default:
			info, infoErr := e.Info()
			if infoErr != nil {
				w.report(childRel, false, "cannot read file: "+osReason(infoErr).Error())
				continue
			}
			err = w.file(childPath, childRel, info, false)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// readAccess reads the .access file of the folder at fsPath, rel below the
// root, if it has one, and records its list for the folder's documents;
// name names the file in problems. A
// file that cannot be read or parsed is an error problem about the folder,
// which is then skipped with its sub-folders, so that their documents keep
// their previous state rather than lose their restriction; it returns false.
func (w *walker) readAccess(fsPath, rel, name string) bool {
	l, err := w.parseAccess(path.Join(fsPath, accessFile), name)
	if err == nil && l != nil {
		err = w.tree.Set(rel, l)
	}
	if err != nil {
		w.report(rel, true, err.Error()+"; the folder was skipped with its sub-folders, and their documents keep their previous state")
		return false
	}
	return true
}

// parseAccess parses the access file at fsPath, named name in errors; it
// returns nil and no error when there is none.
func (w *walker) parseAccess(fsPath, name string) (access.List, error) {
	f, err := w.root.FS.Open(fsPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read: %w", name, osReason(err))
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.IsDir() {
		return nil, fmt.Errorf("%s: is a folder; an access file lists principals, one a line", name)
	}
	return access.ParseFile(name, f)
}

// file checks the file at fsPath and visits it when a walk should read it.
func (w *walker) file(fsPath, rel string, info fs.FileInfo, single bool) error {
	if !info.Mode().IsRegular() {
		w.report(rel, false, "not a regular file (a device, pipe or socket)")
		return nil
	}
	f, ok := formatOf(rel)
	if !ok {
		w.report(rel, false, unsupportedReason(rel))
		return nil
	}
	if !f.records() && info.Size() > w.max {
		w.report(rel, false, tooLargeReason("file", info.Size(), w.max))
		return nil
	}
	l, _ := w.tree.For(rel)
	return w.visit(candidate{root: w.root, fsPath: fsPath, file: rel, single: single, size: info.Size(), format: f, access: l})
}

// isBEIR reports whether a directory listing is a BEIR retrieval benchmark
// collection: corpus.jsonl, queries.jsonl and qrels.tsv or qrels/.
func isBEIR(entries []fs.DirEntry) bool {
	var corpus, queries, qrels bool
	for _, e := range entries {
		switch e.Name() {
		case corpusFile:
			corpus = !e.IsDir()
		case "queries.jsonl":
			queries = !e.IsDir()
		case "qrels.tsv":
			qrels = qrels || !e.IsDir()
		case "qrels":
			qrels = qrels || e.IsDir()
		}
	}
	return corpus && queries && qrels
}

// unsupportedReason says why a file name is not read and what is.
func unsupportedReason(name string) string {
	ext := path.Ext(name)
	if ext == "" {
		return "unsupported file type (no extension); supported: " + supportedExtensions
	}
	return fmt.Sprintf("unsupported file type %q; supported: %s", ext, supportedExtensions)
}

// tooLargeReason says that what (a file, a record's text) of size bytes is
// over the limit and how to raise it.
func tooLargeReason(what string, size, limit int64) string {
	return fmt.Sprintf("%s is %s, over the limit of %s; set MAX_FILE_BYTES to a larger number of bytes to index it",
		what, formatBytes(size), formatBytes(limit))
}

// formatBytes writes a byte count for a person, e.g. "40.5 MiB (42467328 bytes)".
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB (%d bytes)", float64(n)/float64(div), "KMGTPE"[exp], n)
}

// osReason strips the operation and path from an OS error, leaving the
// reason ("permission denied"), so that messages do not repeat the user's
// absolute paths.
func osReason(err error) error {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err
	}
	var linkErr *os.LinkError
	if errors.As(err, &linkErr) {
		return linkErr.Err
	}
	var sysErr *os.SyscallError
	if errors.As(err, &sysErr) {
		return sysErr.Err
	}
	return err
}
