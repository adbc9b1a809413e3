package blevestore

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"

	"github.com/blevesearch/bleve/v2"
	index "github.com/blevesearch/bleve_index_api"
	"golang.org/x/sync/errgroup"

	"github.com/connectorhq/connector/internal/bm25"
)

// rankFileName is the ranking file in a generation's folder: the passages'
// term frequencies and lengths, which search scores from (package bm25).
// bleve keeps the records, the stored text and the term dictionaries; the
// ranking file is derived from its index when a generation is committed, so
// it always matches the generation, however the run got there.
const rankFileName = "passages.bm25"

// rankedFields are the passage fields in the ranking file, in this order.
var rankedFields = []string{fieldContent, fieldTitle}

const (
	rankContent = 0 // field numbers in the ranking file
	rankTitle   = 1
)

// writeRankFile derives the ranking file of the generation at genPath from
// its bleve index, which closeIndex closes first: the file is written from
// the generation opened read-only, twice, once for the terms' postings and
// once for the passages' stored fields. Each opening maps the index's files
// into memory, and closing it gives that memory back, so the run's peak is
// the largest of the three parts, not their sum.
//
// stems makes the passages' word lists; the analyzer's own, which has
// just stemmed their words, saves stemming them again.
func writeRankFile(ctx context.Context, genPath string, stems *stemmer, closeIndex func() error) error {
	if err := closeIndex(); err != nil {
		return err
	}
	w, err := bm25.NewWriter(filepath.Join(genPath, rankFileName), rankedFields)
	if err != nil {
		return err
	}
	defer w.Abort()
	var ids []string
	err = readGeneration(genPath, func(r index.IndexReader) (err error) {
		ids, err = writePostings(ctx, r, w)
		return err
	})
	if err != nil {
		return err
	}
	// What a search result shows of each passage (title, text, URL), so
	// search reads no bleve record.
	err = readGeneration(genPath, func(r index.IndexReader) error {
		return storePassages(ctx, r, ids, stems, w)
	})
	if err != nil {
		return err
	}
	return w.Commit()
}

// readGeneration calls read with a reader of the generation at genPath,
// opened read-only for the call.
func readGeneration(genPath string, read func(index.IndexReader) error) error {
	idx, err := bleve.OpenUsing(genPath, map[string]any{"read_only": true})
	if err != nil {
		return fmt.Errorf("open index generation %s: %w", genPath, err)
	}
	defer idx.Close()
	adv, err := idx.Advanced()
	if err != nil {
		return err
	}
	r, err := adv.Reader()
	if err != nil {
		return err
	}
	defer r.Close()
	return read(r)
}

// storePassages copies each passage's title, text, URL and metadata into
// w, with its word list. Passages are read and listed a chunk at a time,
// two chunks at once (listing is most of the work, and there is a CPU for
// each), and written in order.
func storePassages(ctx context.Context, r index.IndexReader, ids []string, stems *stemmer, w *bm25.Writer) error {
	const chunkPassages = 256
	var readers sync.WaitGroup
	defer readers.Wait() // none may read r once the caller closes it
	g, ctx := errgroup.WithContext(ctx)
	listers := make(chan *wordLister, 2)
	for range cap(listers) {
		listers <- newWordLister(stems)
	}
	chunks := make(chan *passageChunk, cap(listers))
	g.Go(func() error {
		defer close(chunks)
		return catch(func() error {
			for from := 0; from < len(ids); from += chunkPassages {
				c := &passageChunk{ids: ids[from:min(from+chunkPassages, len(ids))], done: make(chan struct{})}
				var l *wordLister
				select {
				case l = <-listers:
				case <-ctx.Done():
					return ctx.Err()
				}
				readers.Go(func() {
					c.err = catch(func() error { return c.read(r, l) })
					listers <- l
					close(c.done)
				})
				select {
				case chunks <- c:
				case <-ctx.Done():
					<-c.done
					return ctx.Err()
				}
			}
			return nil
		})
	})
	g.Go(func() error {
		for c := range chunks {
			<-c.done
			if c.err != nil {
				return c.err
			}
			for i, p := range c.passages {
				if err := w.Store(p.title, p.body, p.url, p.meta, c.lists[i]); err != nil {
					return err
				}
			}
		}
		return ctx.Err()
	})
	return g.Wait()
}

// passageChunk is a run of passages storePassages reads and lists
// together.
type passageChunk struct {
	ids      []string
	passages []storedPassage
	lists    []string
	err      error
	done     chan struct{} // closed when read has returned
}

// read loads the chunk's passages from r and lists their words with l.
func (c *passageChunk) read(r index.IndexReader, l *wordLister) error {
	var list []byte
	for _, id := range c.ids {
		d, err := r.Document(id)
		if err != nil || d == nil {
			return fmt.Errorf("load passage %q: %v", id, err)
		}
		var p storedPassage
		d.VisitFields(func(f index.Field) { p.set(f) })
		list = l.appendWordList(list[:0], p.body)
		c.passages = append(c.passages, p)
		c.lists = append(c.lists, string(list))
	}
	return nil
}

// Stored values of a passage in the ranking file, in this order.
const (
	storedTitle = iota
	storedBody
	storedURL
	storedMeta  // in a document's only passage, fieldPMeta; else ""
	storedWords // the body's word list (wordLister.appendWordList)
	storedValues
)

// writePostings registers the passages with w and writes their terms'
// postings, and returns the passages' ids by ordinal.
func writePostings(ctx context.Context, r index.IndexReader, w *bm25.Writer) ([]string, error) {
	// Ordinals follow bleve's internal order, so every term's postings,
	// read in that order, come out in ordinal order.
	ords, ids, err := passageOrdinals(ctx, r, w)
	if err != nil {
		return nil, err
	}
	if err := w.ListTerms(rankContent); err != nil { // for feedback
		return nil, err
	}
	var postings []bm25.Posting
	for fieldNum, field := range rankedFields {
		dict, err := r.FieldDict(field)
		if err != nil {
			return nil, err
		}
		for {
			entry, err := dict.Next()
			if err != nil {
				dict.Close()
				return nil, err
			}
			if entry == nil {
				break
			}
			if err := ctx.Err(); err != nil {
				dict.Close()
				return nil, err
			}
			postings, err = termPostings(ctx, r, field, entry.Term, ords, postings[:0])
			if err != nil {
				dict.Close()
				return nil, err
			}
			if err := w.AddTerm(fieldNum, entry.Term, postings); err != nil {
				dict.Close()
				return nil, err
			}
		}
		if err := dict.Close(); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// ordinalMap maps bleve internal ids to passage ordinals (-1: not a passage).
type ordinalMap struct {
	dense  []int32
	sparse map[uint64]int32
}

func (m *ordinalMap) get(id index.IndexInternalID) int32 {
	if len(id) != 8 {
		return -1
	}
	n := binary.BigEndian.Uint64(id)
	if m.sparse != nil {
		if o, ok := m.sparse[n]; ok {
			return o
		}
		return -1
	}
	if n >= uint64(len(m.dense)) {
		return -1
	}
	return m.dense[n]
}

// passageOrdinals registers every passage record with w, in internal order.
func passageOrdinals(ctx context.Context, r index.IndexReader, w *bm25.Writer) (*ordinalMap, []string, error) {
	all, err := r.DocIDReaderAll()
	if err != nil {
		return nil, nil, err
	}
	defer all.Close()
	type rec struct {
		internal uint64
		ord      int32
	}
	var recs []rec
	var ids []string
	var maxID uint64
	for {
		id, err := all.Next()
		if err != nil {
			return nil, nil, err
		}
		if id == nil {
			break
		}
		if len(id) != 8 {
			return nil, nil, fmt.Errorf("unexpected internal id of %d bytes", len(id))
		}
		ext, err := r.ExternalID(id)
		if err != nil {
			return nil, nil, err
		}
		if !strings.Contains(ext, passageSep) {
			continue
		}
		if len(recs)%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		if len(recs) == math.MaxInt32 {
			return nil, nil, fmt.Errorf("more than %d passages", math.MaxInt32)
		}
		n := binary.BigEndian.Uint64(id)
		maxID = max(maxID, n)
		recs = append(recs, rec{n, int32(w.AddPassage(ext))})
		ids = append(ids, ext)
	}
	m := &ordinalMap{}
	if maxID < 4*uint64(len(recs))+1024 {
		m.dense = make([]int32, maxID+1)
		for i := range m.dense {
			m.dense[i] = -1
		}
		for _, r := range recs {
			m.dense[r.internal] = r.ord
		}
	} else {
		m.sparse = make(map[uint64]int32, len(recs))
		for _, r := range recs {
			m.sparse[r.internal] = r.ord
		}
	}
	return m, ids, nil
}

// termPostings reads a term's postings in a field as passage postings.
func termPostings(ctx context.Context, r index.IndexReader, field, term string, ords *ordinalMap, out []bm25.Posting) ([]bm25.Posting, error) {
	tfr, err := r.TermFieldReader(ctx, []byte(term), field, true, true, false)
	if err != nil {
		return nil, err
	}
	defer tfr.Close()
	var doc index.TermFieldDoc
	for {
		d, err := tfr.Next(&doc)
		if err != nil {
			return nil, err
		}
		if d == nil {
			return out, nil
		}
		ord := ords.get(d.ID)
		if ord < 0 {
			continue
		}
		length := uint32(1)
		if d.Norm > 0 { // bleve keeps 1/√length
			length = uint32(math.Round(1 / (d.Norm * d.Norm)))
		}
		out = append(out, bm25.Posting{Passage: uint32(ord), Freq: uint32(d.Freq), Length: length})
		d.Reset()
	}
}
