package ingest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOSRoot(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "docs", "a.md"), "a")
	writeFile(t, filepath.Join(dir, "notes.md"), "n")
	t.Chdir(dir)
	tests := []struct {
		name, path        string
		wantKey, wantName string
		wantPath          string
		wantErr           []string
		wantErrIs         error
		wantReadable      string // a file FS must open
	}{
		{name: "relative directory", path: "docs", wantKey: filepath.Join(dir, "docs"), wantName: "docs", wantPath: ".", wantReadable: "a.md"},
		{name: "unclean directory", path: "./docs/../docs/", wantKey: filepath.Join(dir, "docs"), wantName: "docs", wantPath: ".", wantReadable: "a.md"},
		{name: "absolute file", path: filepath.Join(dir, "notes.md"), wantKey: filepath.Join(dir, "notes.md"), wantName: "notes.md", wantPath: "notes.md", wantReadable: "notes.md"},
		{name: "missing", path: "nope", wantErr: []string{`path "nope": no such file or directory`, "check the spelling"}, wantErrIs: fs.ErrNotExist},
		{name: "empty", path: "", wantErr: []string{`path "": empty`}},
		{name: "device", path: os.DevNull, wantErr: []string{"not a regular file or directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := OSRoot(tt.path)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("got root %+v, want an error", root)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				if tt.wantErrIs != nil && !errors.Is(err, tt.wantErrIs) {
					t.Errorf("error %v is not %v", err, tt.wantErrIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if root.Key != tt.wantKey || root.Name != tt.wantName || root.Path != tt.wantPath {
				t.Errorf("got key %q name %q path %q, want %q %q %q", root.Key, root.Name, root.Path, tt.wantKey, tt.wantName, tt.wantPath)
			}
			if _, err := fs.Stat(root.FS, tt.wantReadable); err != nil {
				t.Errorf("root FS cannot stat %q: %v", tt.wantReadable, err)
			}
		})
	}
}

func TestFSRoot(t *testing.T) {
	fsys := mapFS(map[string]string{"a.md": "a"})
	root := FSRoot("sample", "sample", fsys)
	if root.Key != "sample" || root.Name != "sample" || root.Path != "." || root.FS == nil {
		t.Errorf("got %+v", root)
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		name string
		p    Problem
		want string
	}{
		{name: "record line", p: Problem{Root: "/home/u/docs", File: "a.jsonl", Line: 12, Reason: `record has no "id" or "_id"`},
			want: `docs/a.jsonl:12: record has no "id" or "_id"`},
		{name: "nested file", p: Problem{Root: "/home/u/docs", File: "sub/b.png", Reason: "unsupported"}, want: "docs/sub/b.png: unsupported"},
		{name: "single-file root", p: Problem{Root: "/home/u/notes.md", File: "notes.md", Reason: "empty document"}, want: "notes.md: empty document"},
		{name: "root itself", p: Problem{Root: "/home/u/docs", Reason: "cannot read: permission denied"}, want: "docs: cannot read: permission denied"},
		{name: "sample", p: Problem{Root: "sample", File: "x.md", Reason: "r"}, want: "sample/x.md: r"},
		{name: "filesystem root", p: Problem{Root: "/", File: "x.md", Reason: "r"}, want: "x.md: r"},
		{name: "nothing", p: Problem{Reason: "r"}, want: "r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 bytes"},
		{1023, "1023 bytes"},
		{2000, "2.0 KiB (2000 bytes)"},
		{DefaultMaxFileBytes, "32.0 MiB (33554432 bytes)"},
		{5 << 30, "5.0 GiB (5368709120 bytes)"},
	}
	for _, tt := range tests {
		if got := formatBytes(tt.n); got != tt.want {
			t.Errorf("formatBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
