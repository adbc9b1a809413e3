package blevestore

import (
	"bufio"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/connectorhq/connector/internal/embed"
)

// embedBatch is how many passages go to the embedder in one call: enough
// to amortise a call's overhead (an API round trip, a model invocation),
// few enough to hold in memory and to report progress often.
const embedBatch = 64

// embedsInFlight is how many batches are embedded at once, in the
// background: the run reads and analyses the next documents meanwhile,
// and an embedding API's round trips overlap.
const embedsInFlight = 2

// vecDoc is where the vectors of a document this run indexed come from.
type vecDoc struct {
	acl    uint32   // index into the run's access sets
	rows   []int64  // per passage: a row of the base generation (>= 0), or -(spill row)-1
	hashes []uint64 // passageHash of each passage's embedded text
}

// pendingPassage is a passage waiting for its vector.
type pendingPassage struct {
	doc  *vecDoc
	n    int
	text string
}

// embedJob is a batch being embedded in the background.
type embedJob struct {
	batch []pendingPassage
	done  chan embedResult
}

type embedResult struct {
	vecs [][]float32
	err  error
}

// vectorRun is the vector side of an index run.
type vectorRun struct {
	emb   embed.Embedder
	model embed.Model

	// base is the previous generation's vectors when they are of the same
	// model, so that unchanged passages keep theirs; nil otherwise.
	base      *vectorsMeta
	basePath  string
	baseDoc   map[string]int // document id to index in base.Docs
	baseFirst []int64        // first row of each base document

	acls   [][]string
	aclIdx map[string]uint32

	spill     *os.File
	spillW    *bufio.Writer
	spillRows int64

	pending      []pendingPassage
	inFlight     []embedJob // oldest first
	done, queued int
	onEmbed      func(done, queued int)
}

// newVectorRun prepares the vector side of a run with embedder emb. base
// is the base generation's vector metadata (nil when it has none) at
// basePath; it is used only if its model is emb's.
func newVectorRun(emb embed.Embedder, base *vectorsMeta, basePath string, onEmbed func(int, int)) *vectorRun {
	r := &vectorRun{emb: emb, model: emb.Model(), aclIdx: map[string]uint32{}, onEmbed: onEmbed}
	if base != nil && base.Model == r.model {
		r.base, r.basePath = base, basePath
		r.baseDoc = make(map[string]int, len(base.Docs))
		r.baseFirst = make([]int64, len(base.Docs)+1)
		var row int64
		for i, d := range base.Docs {
			r.baseDoc[d.ID], r.baseFirst[i] = i, row
			row += int64(len(d.Hashes))
		}
		r.baseFirst[len(base.Docs)] = row
	}
	return r
}

// aclSet returns the index of an access-term set, adding it if new.
func (r *vectorRun) aclSet(terms []string) uint32 {
	key := strings.Join(terms, "\x00")
	if i, ok := r.aclIdx[key]; ok {
		return i
	}
	i := uint32(len(r.acls))
	r.acls = append(r.acls, slices.Clone(terms))
	r.aclIdx[key] = i
	return i
}

// add plans the vectors of a document's passages (texts, from embedText):
// a passage whose text the base generation embedded for the same document
// keeps that vector; the others are queued, and embedded a batch at a time.
func (r *vectorRun) add(ctx context.Context, genPath, id string, acl []string, texts []string) (*vecDoc, error) {
	vd := &vecDoc{acl: r.aclSet(acl), rows: make([]int64, len(texts)), hashes: make([]uint64, len(texts))}
	var old map[uint64]int64
	if i, ok := r.baseDoc[id]; ok {
		old = make(map[uint64]int64, len(r.base.Docs[i].Hashes))
		for n, h := range r.base.Docs[i].Hashes {
			old[h] = r.baseFirst[i] + int64(n)
		}
	}
	for n, text := range texts {
		h := passageHash(text)
		vd.hashes[n] = h
		if row, ok := old[h]; ok {
			vd.rows[n] = row
			continue
		}
		r.pending = append(r.pending, pendingPassage{doc: vd, n: n, text: text})
		r.queued++
	}
	for len(r.pending) >= embedBatch {
		if err := r.embed(ctx, genPath); err != nil {
			return nil, err
		}
	}
	return vd, nil
}

// embed starts embedding the next batch of pending passages in the
// background, once fewer than embedsInFlight batches are, and writes the
// vectors of those it waited for to the spill file.
func (r *vectorRun) embed(ctx context.Context, genPath string) error {
	n := min(embedBatch, len(r.pending))
	if n == 0 {
		return nil
	}
	if len(r.inFlight) == embedsInFlight {
		if err := r.waitOldest(genPath); err != nil {
			return err
		}
	}
	batch := slices.Clone(r.pending[:n])
	// Keep the pending slice's memory bounded: drop the texts taken.
	r.pending = append(r.pending[:0], r.pending[n:]...)
	texts := make([]string, len(batch))
	for i, p := range batch {
		texts[i] = p.text
	}
	job := embedJob{batch: batch, done: make(chan embedResult, 1)}
	go func() {
		vecs, err := r.emb.Embed(ctx, texts)
		job.done <- embedResult{vecs, err}
	}()
	r.inFlight = append(r.inFlight, job)
	return nil
}

// waitOldest waits for the oldest batch being embedded and appends its
// vectors to the spill file.
func (r *vectorRun) waitOldest(genPath string) error {
	job := r.inFlight[0]
	r.inFlight = r.inFlight[1:]
	res := <-job.done
	if res.err != nil {
		return fmt.Errorf("embed passages with %s: %w", modelString(r.model), res.err)
	}
	if len(res.vecs) != len(job.batch) {
		return fmt.Errorf("embed passages with %s: got %d vectors for %d texts", modelString(r.model), len(res.vecs), len(job.batch))
	}
	if r.spill == nil {
		var err error
		if r.spill, err = os.Create(filepath.Join(genPath, vectorsSpillFile)); err != nil {
			return fmt.Errorf("create vector spill file: %w", err)
		}
		r.spillW = bufio.NewWriterSize(r.spill, 1<<20)
	}
	buf := make([]byte, 0, 4*r.model.Dims)
	for i, v := range res.vecs {
		if len(v) != r.model.Dims {
			return fmt.Errorf("embed passages with %s: got a vector of %d dims", modelString(r.model), len(v))
		}
		if _, err := r.spillW.Write(appendFloats(buf[:0], v)); err != nil {
			return fmt.Errorf("write vector spill file: %w", err)
		}
		p := job.batch[i]
		p.doc.rows[p.n] = -r.spillRows - 1
		r.spillRows++
	}
	r.done += len(job.batch)
	if r.onEmbed != nil {
		r.onEmbed(r.done, r.queued)
	}
	return nil
}

// drain embeds every pending passage and waits for all the batches.
func (r *vectorRun) drain(ctx context.Context, genPath string) error {
	for len(r.pending) > 0 {
		if err := r.embed(ctx, genPath); err != nil {
			return err
		}
	}
	for len(r.inFlight) > 0 {
		if err := r.waitOldest(genPath); err != nil {
			return err
		}
	}
	return nil
}

// write embeds what is still pending and writes the generation's vector
// files for docs (the manifest's documents, in order); vec returns the
// plan of a document this run indexed, or nil for one it carried over
// untouched, whose vectors come from the base generation.
func (r *vectorRun) write(ctx context.Context, genPath string, docs []manifestDoc, vec func(id string) *vecDoc) error {
	if err := r.drain(ctx, genPath); err != nil {
		return err
	}
	if r.spill != nil {
		if err := r.spillW.Flush(); err != nil {
			return fmt.Errorf("write vector spill file: %w", err)
		}
	}
	var base *os.File
	if r.base != nil {
		f, err := os.Open(filepath.Join(r.basePath, vectorsFile))
		if err != nil {
			return fmt.Errorf("read the previous generation's vectors: %w", err)
		}
		defer f.Close()
		base = f
	}
	meta := &vectorsMeta{Version: vectorsVersion, Model: r.model}
	err := writeSynced(filepath.Join(genPath, vectorsFile), func(w io.Writer) error {
		c := &rowCopier{w: bufio.NewWriterSize(w, 1<<20), rowBytes: int64(4 * r.model.Dims), base: base, spill: r.spill}
		for _, d := range docs {
			if err := ctx.Err(); err != nil {
				return err
			}
			vd := vec(d.ID)
			if vd == nil {
				i, ok := r.baseDoc[d.ID]
				if !ok {
					return fmt.Errorf("document %q has no vectors in the previous generation; run `connector index --prune` to rebuild", d.ID)
				}
				bd := r.base.Docs[i]
				vd = &vecDoc{acl: r.aclSet(r.base.ACLs[bd.ACL]), hashes: bd.Hashes, rows: make([]int64, len(bd.Hashes))}
				for n := range vd.rows {
					vd.rows[n] = r.baseFirst[i] + int64(n)
				}
			}
			for _, row := range vd.rows {
				if err := c.copy(row); err != nil {
					return err
				}
			}
			meta.Docs = append(meta.Docs, vectorsDoc{ID: d.ID, ACL: vd.acl, Hashes: vd.hashes})
			meta.Rows += len(vd.rows)
		}
		if err := c.flush(); err != nil {
			return err
		}
		return c.w.Flush()
	})
	if err != nil {
		return fmt.Errorf("write passage vectors: %w", err)
	}
	meta.ACLs = r.acls
	err = writeSynced(filepath.Join(genPath, vectorsMetaFile), func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if err := gob.NewEncoder(bw).Encode(meta); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return err
	}
	return r.close(genPath)
}

// close waits for the batches being embedded, whose results it drops,
// and removes the spill file.
func (r *vectorRun) close(genPath string) error {
	for _, job := range r.inFlight {
		<-job.done
	}
	r.inFlight = nil
	if r.spill == nil {
		return nil
	}
	err := r.spill.Close()
	r.spill = nil
	if rerr := os.Remove(filepath.Join(genPath, vectorsSpillFile)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		return rerr
	}
	return err
}

// rowCopier copies rows from the base vectors file or the spill file to w,
// reading consecutive rows of a file in one go.
type rowCopier struct {
	w           *bufio.Writer
	rowBytes    int64
	base, spill *os.File
	from        *os.File // the run being gathered: rows [start, start+n) of from
	start, n    int64
	buf         []byte
}

// maxCopyRows bounds a run of rows read at once (about a megabyte at 384 dims).
const maxCopyRows = 640

func (c *rowCopier) copy(row int64) error {
	f := c.base
	if row < 0 {
		f, row = c.spill, -row-1
	}
	if f == nil {
		return errors.New("a passage's vector is missing")
	}
	if f == c.from && row == c.start+c.n && c.n < maxCopyRows {
		c.n++
		return nil
	}
	if err := c.flush(); err != nil {
		return err
	}
	c.from, c.start, c.n = f, row, 1
	return nil
}

// flush writes the run gathered so far.
func (c *rowCopier) flush() error {
	if c.n == 0 {
		return nil
	}
	size := c.n * c.rowBytes
	if int64(cap(c.buf)) < size {
		c.buf = make([]byte, size)
	}
	b := c.buf[:size]
	if _, err := c.from.ReadAt(b, c.start*c.rowBytes); err != nil {
		return fmt.Errorf("read vectors: %w", err)
	}
	c.n = 0
	_, err := c.w.Write(b)
	return err
}
