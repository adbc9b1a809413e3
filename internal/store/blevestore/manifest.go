package blevestore

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// manifestFile, inside each generation, lists every document with its
// content hash and source, so that an index run can skip unchanged documents
// and scope deletions without reading the whole index back.
const manifestFile = "connector-manifest.gob"

// manifest is the on-disk form: files reference roots, documents reference files.
type manifest struct {
	Version int
	Roots   []string
	Files   []manifestSource
	Docs    []manifestDoc
}

type manifestSource struct {
	Root uint32
	Path string
}

type manifestDoc struct {
	ID       string
	SHA      [sha256Len]byte
	File     uint32
	Passages uint32 // passage records of the document (0 in generations of schema 1)
}

// manifestVersion 2 marks generations that carry a checksum file; version
// 1 generations are read, unverified, until the next index run replaces them.
const manifestVersion = 2

// manifestVersionOf returns the version of a generation's manifest.
func manifestVersionOf(genPath string) (int, error) {
	m, err := readManifest(genPath)
	if err != nil {
		return 0, err
	}
	return m.Version, nil
}

func readManifest(genPath string) (*manifest, error) {
	f, err := os.Open(filepath.Join(genPath, manifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s is missing", manifestFile)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := decodeManifest(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return m, nil
}

// decodeManifest decodes a manifest and checks that what it names exists.
func decodeManifest(r io.Reader) (*manifest, error) {
	var m manifest
	if err := gob.NewDecoder(r).Decode(&m); err != nil {
		return nil, err
	}
	if m.Version < 1 || m.Version > manifestVersion {
		return nil, fmt.Errorf("version %d, want 1 to %d", m.Version, manifestVersion)
	}
	for _, d := range m.Docs {
		if int(d.File) >= len(m.Files) {
			return nil, fmt.Errorf("document %q names file %d of %d", d.ID, d.File, len(m.Files))
		}
	}
	for _, fl := range m.Files {
		if int(fl.Root) >= len(m.Roots) {
			return nil, fmt.Errorf("file %q names root %d of %d", fl.Path, fl.Root, len(m.Roots))
		}
	}
	return &m, nil
}

func writeManifest(genPath string, m *manifest) error {
	m.Version = manifestVersion
	return writeManifestVersion(genPath, m)
}

// writeManifestVersion writes m as it is, whatever its version.
func writeManifestVersion(genPath string, m *manifest) error {
	return writeSynced(filepath.Join(genPath, manifestFile), func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if err := gob.NewEncoder(bw).Encode(m); err != nil {
			return err
		}
		return bw.Flush()
	})
}

// writeSynced creates (or truncates) the file at path, writes it with
// write, and syncs it to disk.
func writeSynced(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
