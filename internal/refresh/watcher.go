package refresh

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/fsnotify/fsnotify"
)

// WatchOptions configure a Watcher.
type WatchOptions struct {
	// Exclude are absolute paths whose changes are ignored and whose
	// folders are not watched: the index folder, which every run writes.
	Exclude []string
	// OnChange is called for each relevant change, from the Watcher's
	// goroutine (Scheduler.Changed debounces them).
	OnChange func()
	Logger   *slog.Logger
}

// Watcher reports changes to files and folders: a folder is watched with
// all its sub-folders, including ones created later; a file is watched
// through its parent folder, so that editors that save by replacing the
// file are seen. Hidden folders and node_modules are skipped, as indexing
// skips them.
type Watcher struct {
	fsw   *fsnotify.Watcher
	opts  WatchOptions
	dirs  []string        // absolute folders watched with their sub-folders
	files map[string]bool // absolute files watched through their parent
	// limitWarned keeps the warning about the OS watch limit to one.
	limitWarned bool
}

// NewWatcher starts watching paths (files or folders); Run delivers the
// changes. The watches are in place when it returns.
func NewWatcher(paths []string, opts WatchOptions) (*Watcher, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch for changes: %w", err)
	}
	w := &Watcher{fsw: fsw, opts: opts, files: map[string]bool{}}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			fsw.Close()
			return nil, fmt.Errorf("watch %q: %w", p, err)
		}
		info, err := os.Stat(abs)
		if err != nil {
			fsw.Close()
			return nil, fmt.Errorf("watch %q: %w", p, err)
		}
		if !info.IsDir() {
			w.files[abs] = true
			if err := fsw.Add(filepath.Dir(abs)); err != nil {
				fsw.Close()
				return nil, fmt.Errorf("watch %q: %w", p, err)
			}
			continue
		}
		w.dirs = append(w.dirs, abs)
		if err := w.addTree(abs); err != nil {
			fsw.Close()
			return nil, fmt.Errorf("watch %q: %w", p, err)
		}
	}
	return w, nil
}

// Run delivers changes to OnChange until ctx is done, then closes the
// Watcher.
func (w *Watcher) Run(ctx context.Context) {
	defer w.fsw.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			if !w.relevant(ev) {
				continue
			}
			w.opts.Logger.Debug("source changed", "path", ev.Name, "op", ev.Op.String())
			if ev.Has(fsnotify.Create) {
				if info, err := os.Lstat(ev.Name); err == nil && info.IsDir() {
					// Files may have landed in it before its watch did:
					// the run that follows reads them anyway.
					if err := w.addTree(ev.Name); err != nil {
						w.opts.Logger.Warn("cannot watch a new folder; its changes show at the next refresh", "path", ev.Name, "err", err)
					}
				}
			}
			w.opts.OnChange()
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.opts.Logger.Warn("too many changes at once to follow each: refreshing everything", "err", err)
				w.opts.OnChange()
				continue
			}
			w.opts.Logger.Warn("watching sources for changes", "err", err)
		}
	}
}

// relevant reports whether ev may change what indexing reads.
func (w *Watcher) relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod || w.excluded(ev.Name) {
		return false // permission bits and touch: the content is the same
	}
	if w.files[ev.Name] {
		return true
	}
	for _, d := range w.dirs {
		if ev.Name == d || strings.HasPrefix(ev.Name, d+string(filepath.Separator)) {
			return true
		}
	}
	return false // a sibling of a watched file
}

func (w *Watcher) excluded(p string) bool {
	for _, e := range w.opts.Exclude {
		if p == e || strings.HasPrefix(p, e+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// addTree watches dir and its sub-folders, except hidden ones,
// node_modules and excluded paths. A sub-folder that cannot be read or
// watched is logged and skipped; only dir itself failing is an error.
func (w *Watcher) addTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			w.opts.Logger.Warn("cannot watch a folder; its changes show at the next refresh", "path", p, "err", err)
			return fs.SkipDir
		}
		if !d.IsDir() {
			return nil
		}
		if p != dir && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules") || w.excluded(p) {
			return fs.SkipDir
		}
		if err := w.fsw.Add(p); err != nil {
			if p == dir {
				return err
			}
			w.warnAdd(p, err)
			return fs.SkipDir
		}
		return nil
	})
}

// warnAdd logs a folder that could not be watched, naming the OS limit
// when that is why.
func (w *Watcher) warnAdd(p string, err error) {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EMFILE) {
		if !w.limitWarned {
			w.limitWarned = true
			w.opts.Logger.Warn("the system's limit on watched folders is reached: changes in further folders show only when another change triggers a refresh; raise it (Linux: sysctl fs.inotify.max_user_watches=524288)", "path", p, "err", err)
		}
		return
	}
	w.opts.Logger.Warn("cannot watch a folder; its changes show at the next refresh", "path", p, "err", err)
}
