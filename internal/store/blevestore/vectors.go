package blevestore

import (
	"bufio"
	"cmp"
	"container/heap"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/connectorhq/connector/internal/embed"
)

// Passage vectors for semantic search (issue 18). A generation built with
// an embedder holds two more files, written and checksummed with the rest:
//
//	connector-vectors.f32  one row of Model.Dims little-endian float32 per
//	                       passage, the rows of a document together, in
//	                       the order of vectorsMeta.Docs
//	connector-vectors.gob  vectorsMeta: the model, and per document its id,
//	                       access terms and a hash of each passage's text
//
// A generation without them has no vectors (built without an embedder, or
// before vectors existed). Serving loads the rows into one []float32 and
// searches them exhaustively (see vectorSet.search).
const (
	vectorsFile     = "connector-vectors.f32"
	vectorsMetaFile = "connector-vectors.gob"
	// vectorsSpillFile holds, during an index run, the vectors embedded so
	// far, so that they need not stay in memory until Commit merges them.
	vectorsSpillFile = "connector-vectors.spill"
)

const vectorsVersion = 1

// vectorsMeta is the on-disk form of connector-vectors.gob.
type vectorsMeta struct {
	Version int
	Model   embed.Model
	Rows    int
	ACLs    [][]string // distinct access-term sets, which documents share
	Docs    []vectorsDoc
}

// vectorsDoc is a document's rows: len(Hashes) of them, after those of the
// documents before it.
type vectorsDoc struct {
	ID     string
	ACL    uint32   // index into ACLs
	Hashes []uint64 // passageHash of each passage's embedded text, for reuse
}

// passageHash identifies the text a passage's vector was made from.
func passageHash(text string) uint64 {
	h := sha256.Sum256([]byte(text))
	return binary.LittleEndian.Uint64(h[:8])
}

// embedText is what is embedded for a passage: its title and text, as the
// content field that BM25 matches.
func embedText(title, body string) string { return title + "\n" + body }

// modelString names a model for messages: "all-MiniLM-L6-v2 (384 dims)".
func modelString(m embed.Model) string { return fmt.Sprintf("%s (%d dims)", m.Name, m.Dims) }

// readVectorsMeta reads a generation's vector metadata; nil, nil when the
// generation has no vectors.
func readVectorsMeta(genPath string) (*vectorsMeta, error) {
	f, err := os.Open(filepath.Join(genPath, vectorsMetaFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var m vectorsMeta
	if err := gob.NewDecoder(bufio.NewReader(f)).Decode(&m); err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	if m.Version != vectorsVersion {
		return nil, fmt.Errorf("read %s: version %d, want %d", f.Name(), m.Version, vectorsVersion)
	}
	if m.Model.Dims <= 0 {
		return nil, fmt.Errorf("read %s: model %q has %d dimensions", f.Name(), m.Model.Name, m.Model.Dims)
	}
	rows := 0
	for _, d := range m.Docs {
		if int(d.ACL) >= len(m.ACLs) {
			return nil, fmt.Errorf("read %s: document %q names access set %d of %d", f.Name(), d.ID, d.ACL, len(m.ACLs))
		}
		rows += len(d.Hashes)
	}
	if rows != m.Rows {
		return nil, fmt.Errorf("read %s: documents hold %d rows, header says %d", f.Name(), rows, m.Rows)
	}
	fi, err := os.Stat(filepath.Join(genPath, vectorsFile))
	if err != nil {
		return nil, err
	}
	if want := int64(m.Rows) * int64(m.Model.Dims) * 4; fi.Size() != want {
		return nil, fmt.Errorf("%s is %d bytes, want %d for %d rows of %d dims", vectorsFile, fi.Size(), want, m.Rows, m.Model.Dims)
	}
	return &m, nil
}

// vectorSet is a generation's vectors, loaded for search.
type vectorSet struct {
	model embed.Model
	vecs  []float32 // row r is vecs[r*dims:(r+1)*dims]
	ids   []string  // document ids, in row order
	first []int32   // first row of each document; len(ids)+1 entries
	acl   []uint32  // each document's access set
	acls  [][]string
}

// loadVectors loads the vectors of the generation at genPath; nil, nil
// when it has none.
func loadVectors(ctx context.Context, genPath string, meta *vectorsMeta) (*vectorSet, error) {
	dims := meta.Model.Dims
	v := &vectorSet{model: meta.Model, acls: meta.ACLs,
		ids: make([]string, len(meta.Docs)), first: make([]int32, len(meta.Docs)+1), acl: make([]uint32, len(meta.Docs))}
	row := 0
	for i, d := range meta.Docs {
		v.ids[i], v.acl[i], v.first[i] = d.ID, d.ACL, int32(row)
		row += len(d.Hashes)
	}
	v.first[len(meta.Docs)] = int32(row)
	f, err := os.Open(filepath.Join(genPath, vectorsFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	v.vecs = make([]float32, meta.Rows*dims)
	if err := readFloats(ctx, f, v.vecs); err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	return v, nil
}

// readFloats fills dst with little-endian float32s from r, a megabyte at a time.
func readFloats(ctx context.Context, r io.Reader, dst []float32) error {
	buf := make([]byte, 1<<20)
	for len(dst) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(len(dst), len(buf)/4)
		if _, err := io.ReadFull(r, buf[:4*n]); err != nil {
			return err
		}
		for i := range n {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
		}
		dst = dst[n:]
	}
	return nil
}

// appendFloats appends vec to b as little-endian float32s.
func appendFloats(b []byte, vec []float32) []byte {
	for _, x := range vec {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// vectorHit is a passage the vector search ranked: document d's passage n.
type vectorHit struct {
	doc   int32
	n     int32
	score float32
}

// search returns the k passages nearest to q (highest dot product: the
// vectors are unit length) among the documents allowed admits (all when
// nil), best first. It scans every row: exact, and fast enough at the
// sizes this store serves (see BenchmarkVectorSearch).
func (v *vectorSet) search(ctx context.Context, q []float32, k int, allowed func(acl uint32) bool) ([]vectorHit, error) {
	dims := len(q)
	h := make(hitHeap, 0, k)
	for d := range v.ids {
		if d%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if allowed != nil && !allowed(v.acl[d]) {
			continue
		}
		for r := v.first[d]; r < v.first[d+1]; r++ {
			s := dot(q, v.vecs[int(r)*dims:int(r+1)*dims])
			switch {
			case len(h) < k:
				heap.Push(&h, vectorHit{doc: int32(d), n: r - v.first[d], score: s})
			case s > h[0].score:
				h[0] = vectorHit{doc: int32(d), n: r - v.first[d], score: s}
				heap.Fix(&h, 0)
			}
		}
	}
	out := slices.Clone(h)
	slices.SortFunc(out, func(a, b vectorHit) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return cmp.Or(cmp.Compare(a.doc, b.doc), cmp.Compare(a.n, b.n))
	})
	return out, nil
}

// dot is the dot product of two vectors of the same length, unrolled by
// four (about twice as fast as the plain loop).
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

// hitHeap is a min-heap of hits by score: the worst of the best k on top.
type hitHeap []vectorHit

func (h hitHeap) Len() int           { return len(h) }
func (h hitHeap) Less(i, j int) bool { return h[i].score < h[j].score }
func (h hitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *hitHeap) Push(x any)        { *h = append(*h, x.(vectorHit)) }
func (h *hitHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
