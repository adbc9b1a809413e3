package blevestore

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/store"
)

// damages are ways the current generation can become unreadable. Each
// damages the index in dir, whose current generation is gen.
var damages = []struct {
	name   string
	damage func(t *testing.T, dir, gen string)
}{
	{"manifest garbage", func(t *testing.T, dir, gen string) {
		writeFile(t, filepath.Join(dir, gen, manifestFile), "not a manifest")
	}},
	{"manifest truncated", func(t *testing.T, dir, gen string) {
		truncateHalf(t, filepath.Join(dir, gen, manifestFile))
	}},
	{"manifest missing", func(t *testing.T, dir, gen string) {
		if err := os.Remove(filepath.Join(dir, gen, manifestFile)); err != nil {
			t.Fatal(err)
		}
	}},
	{"index_meta.json garbage", func(t *testing.T, dir, gen string) {
		writeFile(t, filepath.Join(dir, gen, "index_meta.json"), "{garbage")
	}},
	{"CURRENT names a missing generation", func(t *testing.T, dir, gen string) {
		writeFile(t, filepath.Join(dir, currentFile), "gen-000042\n")
	}},
	{"CURRENT garbage", func(t *testing.T, dir, gen string) {
		writeFile(t, filepath.Join(dir, currentFile), "\x00\x01garbage")
	}},
	{"generation folder gone", func(t *testing.T, dir, gen string) {
		if err := os.RemoveAll(filepath.Join(dir, gen)); err != nil {
			t.Fatal(err)
		}
	}},
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func truncateHalf(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
}

// An index run over a damaged index ends with an error that says what is
// wrong and how to get out, never a panic; the index is left as it was, so
// a server goes on with what it had. A run with --prune is the way out: it
// rebuilds the index from this run's sources.
func TestSyncOverDamagedIndex(t *testing.T) {
	for _, tc := range damages {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := SyncOptions{Roots: []string{"r"}}
			first := mustSync(t, dir, opts, []store.SourceDocument{doc("a", "alpha"), doc("b", "bravo")})
			tc.damage(t, dir, first.Generation)

			_, err := NewSyncer(t.Context(), dir, opts)
			if err == nil {
				t.Fatal("NewSyncer over a damaged index: no error")
			}
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "--prune") {
				t.Fatalf("NewSyncer = %v, want ErrDamaged naming --prune as the way out", err)
			}
			// The failed run released the lock and left no generation behind.
			gens, _ := generations(dir)
			if slices.Contains(gens, genName(2)) {
				t.Errorf("generations after the failed run: %v", gens)
			}

			sum := mustSync(t, dir, SyncOptions{Roots: []string{"r"}, Prune: true},
				[]store.SourceDocument{doc("a", "alpha again"), doc("c", "charlie")})
			if sum.Documents != 2 || sum.Generation == "" || sum.Generation == first.Generation {
				t.Fatalf("rebuild with --prune: %+v", sum)
			}
			st := mustOpen(t, dir)
			if _, err := st.Ready(t.Context()); err != nil {
				t.Fatalf("Ready after the rebuild: %v", err)
			}
			if got := allIDs(t, st); !slices.Equal(got, []string{"a", "c"}) {
				t.Errorf("ids after the rebuild = %v, want a c", got)
			}
		})
	}
}

// flipByte inverts one byte in the middle of a file.
func flipByte(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	writeFile(t, path, string(b))
}

// segments returns the paths of a generation's segment files.
func segments(t *testing.T, genPath string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(genPath, "store", "*.zap"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no segments in %s (%v)", genPath, err)
	}
	return paths
}

// Damage to any file of the served generation is found when it is opened:
// the server serves nothing, says why in Ready, and never shows altered text.
func TestDamageIsDetectedNotServed(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, genPath string)
	}{
		{"segment byte flipped", func(t *testing.T, g string) { flipByte(t, segments(t, g)[0]) }},
		{"segment truncated", func(t *testing.T, g string) { truncateHalf(t, segments(t, g)[0]) }},
		{"manifest byte flipped", func(t *testing.T, g string) { flipByte(t, filepath.Join(g, manifestFile)) }},
		{"bolt file byte flipped", func(t *testing.T, g string) { flipByte(t, filepath.Join(g, "store", "root.bolt")) }},
		{"index_meta.json truncated", func(t *testing.T, g string) { truncateHalf(t, filepath.Join(g, "index_meta.json")) }},
		{"checksum file byte flipped", func(t *testing.T, g string) { flipByte(t, filepath.Join(g, checksumFile)) }},
		{"checksum file missing", func(t *testing.T, g string) {
			if err := os.Remove(filepath.Join(g, checksumFile)); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			sum := mustSync(t, dir, SyncOptions{Roots: []string{"r"}},
				[]store.SourceDocument{doc("a", strings.Repeat("alpha words ", 400)), doc("b", "bravo")})
			tc.damage(t, filepath.Join(dir, sum.Generation))

			st := mustOpen(t, dir)
			if _, err := st.Ready(t.Context()); !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "--prune") {
				t.Fatalf("Ready = %v, want ErrDamaged with the way out", err)
			}
			if _, err := st.Search(t.Context(), access.Everyone(), "alpha", 10); !errors.Is(err, ErrDamaged) {
				t.Errorf("Search = %v, want ErrDamaged", err)
			}
			if d, err := st.Fetch(t.Context(), access.Everyone(), "a"); !errors.Is(err, ErrDamaged) {
				t.Errorf("Fetch = %+v, %v, want ErrDamaged", d, err)
			}
			if _, err := NewSyncer(t.Context(), dir, SyncOptions{Roots: []string{"r"}}); !errors.Is(err, ErrDamaged) {
				t.Errorf("NewSyncer = %v, want ErrDamaged", err)
			}
		})
	}
}

// A server keeps serving its generation when the next one is damaged, and
// a damaged server recovers when an index run commits a sound generation.
func TestReloadSkipsDamagedGenerations(t *testing.T) {
	dir := t.TempDir()
	opts := SyncOptions{Roots: []string{"r"}}
	mustSync(t, dir, opts, []store.SourceDocument{doc("a", "alpha")})
	st := mustOpen(t, dir)

	second := mustSync(t, dir, opts, []store.SourceDocument{doc("a", "alpha"), doc("b", "bravo")})
	flipByte(t, segments(t, filepath.Join(dir, second.Generation))[0])
	if switched, err := st.Reload(); switched || !errors.Is(err, ErrDamaged) {
		t.Fatalf("Reload to a damaged generation = %v, %v", switched, err)
	}
	if switched, err := st.Reload(); switched || err != nil { // not tried again
		t.Fatalf("second Reload = %v, %v", switched, err)
	}
	if got := allIDs(t, st); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("ids after a damaged reload = %v, want the previous generation's a", got)
	}

	// A server that started on the damaged generation recovers by itself.
	damaged := mustOpen(t, dir)
	if _, err := damaged.Ready(t.Context()); !errors.Is(err, ErrDamaged) {
		t.Fatalf("Ready = %v", err)
	}
	mustSync(t, dir, SyncOptions{Roots: []string{"r"}, Prune: true}, []store.SourceDocument{doc("a", "alpha"), doc("c", "charlie")})
	for _, s := range []*Store{st, damaged} {
		if switched, err := s.Reload(); !switched || err != nil {
			t.Fatalf("Reload after the rebuild = %v, %v", switched, err)
		}
		if _, err := s.Ready(t.Context()); err != nil {
			t.Fatalf("Ready after the rebuild: %v", err)
		}
		if got := allIDs(t, s); !slices.Equal(got, []string{"a", "c"}) {
			t.Errorf("ids after the rebuild = %v", got)
		}
	}
}

// Generations written before checksums (manifest version 1, no checksum
// file) are served as they are; the next run adds checksums.
func TestGenerationWithoutChecksums(t *testing.T) {
	dir := t.TempDir()
	opts := SyncOptions{Roots: []string{"r"}}
	sum := mustSync(t, dir, opts, []store.SourceDocument{doc("a", "alpha")})
	gen := filepath.Join(dir, sum.Generation)
	m, err := readManifest(gen)
	if err != nil {
		t.Fatal(err)
	}
	m.Version = 1
	if err := writeManifestVersion(gen, m); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(gen, checksumFile)); err != nil {
		t.Fatal(err)
	}
	st := mustOpen(t, dir)
	if _, err := st.Ready(t.Context()); err != nil {
		t.Fatalf("Ready on a generation without checksums: %v", err)
	}
	next := mustSync(t, dir, opts, []store.SourceDocument{doc("a", "alpha"), doc("b", "bravo")})
	if err := verifyGeneration(t.Context(), filepath.Join(dir, next.Generation)); err != nil {
		t.Fatalf("the next generation: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, next.Generation, checksumFile)); err != nil {
		t.Fatal(err)
	}
}

func TestParseChecksumsRejectsFlaws(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "x"), "some bytes")
	if err := writeChecksums(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
	valid, err := os.ReadFile(filepath.Join(dir, checksumFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseChecksums(valid); err != nil {
		t.Fatalf("valid file: %v", err)
	}
	for i := range valid {
		for _, bit := range []byte{0x01, 0x20, 0x80} {
			b := slices.Clone(valid)
			b[i] ^= bit
			if _, err := parseChecksums(b); err == nil {
				t.Errorf("byte %d ^ %#x: accepted", i, bit)
			}
		}
	}
	for n := range len(valid) {
		if _, err := parseChecksums(valid[:n]); err == nil {
			t.Errorf("truncated to %d bytes: accepted", n)
		}
	}
}

// FuzzParseChecksums: no input panics, and an accepted file lists only
// valid relative paths.
func FuzzParseChecksums(f *testing.F) {
	dir := f.TempDir()
	os.WriteFile(filepath.Join(dir, "x"), []byte("some bytes"), 0o644)
	os.MkdirAll(filepath.Join(dir, "store"), 0o755)
	os.WriteFile(filepath.Join(dir, "store", "1.zap"), []byte("more"), 0o644)
	if err := writeChecksums(f.Context(), dir); err != nil {
		f.Fatal(err)
	}
	valid, _ := os.ReadFile(filepath.Join(dir, checksumFile))
	f.Add(valid)
	f.Add([]byte(checksumHeader + "\nend 00000000\n"))
	f.Add([]byte("end 0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sums, err := parseChecksums(data)
		if err != nil {
			return
		}
		for _, c := range sums {
			if !fs.ValidPath(c.path) || c.size < 0 || c.path == checksumFile {
				t.Errorf("accepted entry %+v", c)
			}
		}
	})
}

// A panic where a batch is written, in the goroutine that writes it, fails
// the run with an error; the previous generation goes on serving.
func TestPanicInBatchIsAnError(t *testing.T) {
	dir := t.TempDir()
	opts := SyncOptions{Roots: []string{"r"}, batchRecords: 2}
	mustSync(t, dir, opts, []store.SourceDocument{doc("a", "alpha")})
	st := mustOpen(t, dir)

	opts.beforeBatch = func() {
		var m map[string]int
		m["x"] = 1 // as zap does on a full disk
	}
	s, err := NewSyncer(t.Context(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"b", "c", "d", "e"} {
		if _, err = s.Add(t.Context(), doc(id, "words")); err != nil {
			break
		}
	}
	if err == nil {
		_, err = s.Commit(t.Context())
	} else {
		s.Abort()
	}
	if err == nil || !strings.Contains(err.Error(), "assignment to entry in nil map") {
		t.Fatalf("run = %v, want the panic as an error", err)
	}
	if switched, err := st.Reload(); switched || err != nil {
		t.Errorf("Reload = %v, %v", switched, err)
	}
	if got := allIDs(t, st); !slices.Equal(got, []string{"a"}) {
		t.Errorf("ids = %v, want a", got)
	}
	// The folder is free for the next run.
	mustSync(t, dir, SyncOptions{Roots: []string{"r"}}, []store.SourceDocument{doc("a", "alpha"), doc("b", "bravo")})
}

// FuzzReadManifest: no manifest file, however damaged, panics the reader,
// and an accepted one names only files and roots it holds.
func FuzzReadManifest(f *testing.F) {
	dir := f.TempDir()
	m := &manifest{Roots: []string{"r"}, Files: []manifestSource{{Root: 0, Path: "a.md"}},
		Docs: []manifestDoc{{ID: "a", File: 0, Passages: 1}}}
	if err := writeManifest(dir, m); err != nil {
		f.Fatal(err)
	}
	valid, _ := os.ReadFile(filepath.Join(dir, manifestFile))
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeManifest(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, d := range m.Docs {
			if int(d.File) >= len(m.Files) || int(m.Files[d.File].Root) >= len(m.Roots) {
				t.Errorf("accepted a document naming file %d of %d", d.File, len(m.Files))
			}
		}
	})
}

// Damage that appears while a generation is served is caught by the next
// Verify: the store stops serving it, and recovers at the next sound one.
func TestVerifyWhileServing(t *testing.T) {
	dir := t.TempDir()
	opts := SyncOptions{Roots: []string{"r"}}
	sum := mustSync(t, dir, opts, []store.SourceDocument{doc("a", strings.Repeat("alpha words ", 400)), doc("b", "bravo")})
	st := mustOpen(t, dir)
	if err := st.Verify(t.Context()); err != nil {
		t.Fatalf("Verify of a sound generation: %v", err)
	}
	flipByte(t, segments(t, filepath.Join(dir, sum.Generation))[0])
	if err := st.Verify(t.Context()); !errors.Is(err, ErrDamaged) {
		t.Fatalf("Verify after damage = %v, want ErrDamaged", err)
	}
	if _, err := st.Fetch(t.Context(), access.Everyone(), "a"); !errors.Is(err, ErrDamaged) {
		t.Errorf("Fetch after damage = %v, want ErrDamaged", err)
	}
	if _, err := st.Ready(t.Context()); !errors.Is(err, ErrDamaged) {
		t.Errorf("Ready after damage = %v, want ErrDamaged", err)
	}
	mustSync(t, dir, SyncOptions{Roots: []string{"r"}, Prune: true}, []store.SourceDocument{doc("a", "alpha")})
	if switched, err := st.Reload(); !switched || err != nil {
		t.Fatalf("Reload after the rebuild = %v, %v", switched, err)
	}
	if got := allIDs(t, st); !slices.Equal(got, []string{"a"}) {
		t.Errorf("ids after the rebuild = %v", got)
	}
}
