package blevestore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
)

// checksumFile, inside each generation, lists every other file of the
// generation with its size and CRC-32C, and ends with the CRC-32C of the
// lines before it:
//
//	connector checksums 1
//	<crc32c hex> <size> <slash-separated path>
//	...
//	end <crc32c hex>
//
// A committed generation is never written again (a later run copies it), so
// any difference is damage. CRC-32C runs at memory speed on current CPUs; it
// detects damage, not tampering.
const checksumFile = "connector-checksums"

const checksumHeader = "connector checksums 1"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrDamaged is returned, wrapped, when an index's files cannot be read or
// differ from what the index run that wrote them recorded.
var ErrDamaged = errors.New("index is damaged")

// damaged wraps err, a failure to read generation gen of the index in dir
// (gen is "" when CURRENT itself is unreadable), with ErrDamaged and the
// way out.
func damaged(dir, gen string, err error) error {
	where := "index " + dir
	if gen != "" {
		where += " (generation " + gen + ")"
	}
	return fmt.Errorf("%s: %w: %w; rebuild it from your sources with `connector index --prune PATH...`, naming every folder and file it should hold",
		where, ErrDamaged, err)
}

// checksum is one file's entry in the checksum file.
type checksum struct {
	path string // slash-separated, relative to the generation
	size int64
	crc  uint32
}

// writeChecksums records the size and CRC-32C of every file in the
// generation at genPath, and syncs the checksum file.
func writeChecksums(ctx context.Context, genPath string) error {
	var sums []checksum
	err := filepath.WalkDir(genPath, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(genPath, path)
		if err != nil || rel == checksumFile {
			return err
		}
		size, crc, err := fileCRC(ctx, path)
		if err != nil {
			return err
		}
		sums = append(sums, checksum{path: filepath.ToSlash(rel), size: size, crc: crc})
		return nil
	})
	if err != nil {
		return fmt.Errorf("checksum index files: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(checksumHeader + "\n")
	for _, c := range sums {
		fmt.Fprintf(&b, "%08x %d %s\n", c.crc, c.size, c.path)
	}
	fmt.Fprintf(&b, "end %08x\n", crc32.Checksum(b.Bytes(), castagnoli))
	return writeSynced(filepath.Join(genPath, checksumFile), func(w io.Writer) error {
		_, err := w.Write(b.Bytes())
		return err
	})
}

// parseChecksums reads a checksum file's contents; any flaw in it is an error.
func parseChecksums(data []byte) ([]checksum, error) {
	body, last, ok := cutLastLine(data)
	if !ok {
		return nil, errors.New("checksum file is truncated")
	}
	if !strings.HasPrefix(last, "end ") {
		return nil, errors.New("checksum file is truncated")
	}
	if last != fmt.Sprintf("end %08x", crc32.Checksum(body, castagnoli)) {
		return nil, errors.New("checksum file is damaged")
	}
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	if lines[0] != checksumHeader {
		return nil, fmt.Errorf("checksum file starts %q, want %q", lines[0], checksumHeader)
	}
	sums := make([]checksum, 0, len(lines)-1)
	for i, line := range lines[1:] {
		crcText, rest, ok1 := strings.Cut(line, " ")
		sizeText, path, ok2 := strings.Cut(rest, " ")
		crc, err1 := strconv.ParseUint(crcText, 16, 32)
		size, err2 := strconv.ParseInt(sizeText, 10, 64)
		if !ok1 || !ok2 || err1 != nil || err2 != nil || size < 0 || !fs.ValidPath(path) || path == checksumFile {
			return nil, fmt.Errorf("checksum file line %d is malformed", i+2)
		}
		sums = append(sums, checksum{path: path, size: size, crc: uint32(crc)})
	}
	return sums, nil
}

// cutLastLine splits data before its last line, which must end in a newline.
func cutLastLine(data []byte) (before []byte, last string, ok bool) {
	if len(data) == 0 || data[len(data)-1] != '\n' {
		return nil, "", false
	}
	i := bytes.LastIndexByte(data[:len(data)-1], '\n')
	if i < 0 {
		return nil, "", false
	}
	return data[:i+1], string(data[i+1 : len(data)-1]), true
}

// verifyGeneration checks every file of the generation at genPath, except
// those named in skip, against its checksum file. A generation written before checksums (manifest version 1) passes
// unchecked; for any other, an error names the first file that differs.
func verifyGeneration(ctx context.Context, genPath string, skip ...string) error {
	if _, err := os.Stat(genPath); err != nil {
		return fmt.Errorf("the generation's folder: %w", err)
	}
	data, err := os.ReadFile(filepath.Join(genPath, checksumFile))
	if errors.Is(err, fs.ErrNotExist) {
		if v, verr := manifestVersionOf(genPath); verr == nil && v < manifestVersion {
			return nil // written before checksums; the next index run adds them
		}
		return fmt.Errorf("%s is missing", checksumFile)
	}
	if err != nil {
		return err
	}
	sums, err := parseChecksums(data)
	if err != nil {
		return err
	}
	for _, c := range sums {
		path := filepath.Join(genPath, filepath.FromSlash(c.path))
		if slices.Contains(skip, c.path) {
			continue
		}
		size, crc, err := fileCRC(ctx, path)
		if err != nil {
			return fmt.Errorf("%s: %w", c.path, err)
		}
		if size != c.size {
			return fmt.Errorf("%s is %d bytes, but the index run wrote %d", c.path, size, c.size)
		}
		if crc != c.crc {
			return fmt.Errorf("%s has changed since the index run wrote it (CRC-32C %08x, want %08x)", c.path, crc, c.crc)
		}
	}
	return nil
}

// fileCRC returns a file's size and CRC-32C, reading it a chunk at a time
// and stopping when ctx is done.
func fileCRC(ctx context.Context, path string) (int64, uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	h := crc32.New(castagnoli)
	r := bufio.NewReaderSize(f, 1<<20)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		m, err := io.CopyN(h, r, 8<<20)
		n += m
		if err == io.EOF {
			return n, h.Sum32(), nil
		}
		if err != nil {
			return 0, 0, err
		}
	}
}

// catch runs fn and turns a panic in it into an error, so that a fault deep
// in the index library (seen on a full disk) fails the run instead of
// crashing the process.
func catch(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return fn()
}

// panicError is a panic caught by catch; the stack is for the debug log.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("the index library failed: %v", p.value) }

// logPanic writes the stack of a caught panic in err, if any, to the debug log.
func logPanic(logger *slog.Logger, err error) {
	if p, ok := errors.AsType[*panicError](err); ok {
		logger.Debug("panic in the index library", "panic", p.value, "stack", string(p.stack))
	}
}
