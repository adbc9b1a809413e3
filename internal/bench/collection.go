package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/connectorhq/connector/internal/ingest"
	"github.com/connectorhq/connector/internal/store"
)

// Query is one benchmark query.
type Query struct {
	ID, Text string
}

// Collection is what a benchmark runs on: documents to index, queries, and
// judgements.
type Collection struct {
	Name    string
	Queries []Query
	Qrels   Qrels
	// Docs streams the documents into emit; Documents is their number when
	// known in advance (0 otherwise).
	Docs      func(ctx context.Context, emit func(store.SourceDocument) error) error
	Documents int
}

// beirSource says where collections come from, for a folder that is missing.
const beirSource = "collections are not part of the repository: download one from the BEIR benchmark " +
	"(e.g. https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets/scifact.zip), unzip it and give " +
	"its folder, or run with --synthetic N"

// LoadBEIR reads a collection in BEIR layout: corpus.jsonl, queries.jsonl
// and qrels.tsv (or qrels/test.tsv). Only judged queries are kept.
func LoadBEIR(dir string) (*Collection, error) {
	if fi, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("BEIR collection %s: the folder does not exist; %s", dir, beirSource)
	} else if err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("BEIR collection %s: not a folder; %s", dir, beirSource)
	}
	qrels, err := readQrels(dir)
	if err != nil {
		return nil, err
	}
	queries, err := readQueries(filepath.Join(dir, "queries.jsonl"), qrels)
	if err != nil {
		return nil, err
	}
	corpus := filepath.Join(dir, "corpus.jsonl")
	if _, err := os.Stat(corpus); err != nil {
		return nil, fmt.Errorf("BEIR collection %s: %w", dir, err)
	}
	root, err := ingest.OSRoot(corpus)
	if err != nil {
		return nil, err
	}
	abs, _ := filepath.Abs(dir)
	return &Collection{
		Name:    filepath.Base(abs),
		Queries: queries,
		Qrels:   qrels,
		Docs: func(ctx context.Context, emit func(store.SourceDocument) error) error {
			var bad []string
			err := ingest.Walk(ctx, []ingest.Root{root}, ingest.Options{}, emit, func(p ingest.Problem) {
				if p.Error {
					bad = append(bad, p.String())
				}
			})
			if err == nil && len(bad) > 0 {
				err = fmt.Errorf("corpus %s: %d bad records, first: %s", corpus, len(bad), bad[0])
			}
			return err
		},
	}, nil
}

func readQrels(dir string) (Qrels, error) {
	path := filepath.Join(dir, "qrels.tsv")
	if _, err := os.Stat(path); err != nil {
		path = filepath.Join(dir, "qrels", "test.tsv")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("BEIR collection %s: no qrels.tsv or qrels/test.tsv: %w", dir, err)
	}
	defer f.Close()
	qrels := Qrels{}
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Split(strings.TrimRight(sc.Text(), "\r"), "\t")
		if len(fields) < 3 {
			continue
		}
		grade, err := strconv.Atoi(strings.TrimSpace(fields[2]))
		if err != nil {
			if line == 1 {
				continue // header
			}
			return nil, fmt.Errorf("%s:%d: score %q is not a number", path, line, fields[2])
		}
		q, d := strings.TrimSpace(fields[0]), strings.TrimSpace(fields[1])
		if qrels[q] == nil {
			qrels[q] = map[string]int{}
		}
		qrels[q][d] = grade
	}
	return qrels, sc.Err()
}

func readQueries(path string, qrels Qrels) ([]Query, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("BEIR queries: %w", err)
	}
	defer f.Close()
	var out []Query
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var q struct {
			ID   any    `json:"_id"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		id := fmt.Sprint(q.ID)
		if f, ok := q.ID.(float64); ok {
			id = strconv.FormatFloat(f, 'f', -1, 64)
		}
		if _, judged := qrels[id]; judged {
			out = append(out, Query{ID: id, Text: q.Text})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no query has judgements in qrels", path)
	}
	return out, nil
}

// Synthetic returns n generated documents of about 150 words each, drawn
// from a Zipf-distributed vocabulary with a fixed seed, and queries made of
// a few distinctive words of some documents, each judged relevant to its
// source (enough to check that search finds them at scale).
func Synthetic(n int, seed uint64) *Collection {
	const vocab = 50_000
	words := make([]string, vocab)
	for i := range words {
		words[i] = syntheticWord(i)
	}
	docRNG := func(i int) *rand.Rand { return rand.New(rand.NewPCG(seed, uint64(i))) }
	zipf := func(r *rand.Rand) *rand.Zipf { return rand.NewZipf(r, 1.07, 2, vocab-1) }
	gen := func(i int) store.Document {
		r := docRNG(i)
		z := zipf(r)
		length := max(20, int(150+30*r.NormFloat64()))
		var b strings.Builder
		for w := range length {
			if w > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[z.Uint64()])
		}
		title := words[z.Uint64()] + " " + words[z.Uint64()] + " " + words[z.Uint64()]
		return store.Document{ID: "syn-" + strconv.Itoa(i), Title: title, Text: b.String()}
	}
	queries := []Query{}
	qrels := Qrels{}
	nq := min(200, n)
	for q := range nq {
		i := int(uint64(q) * uint64(n) / uint64(nq))
		d := gen(i)
		// The document's rarest words: generated words get longer as they get rarer.
		terms := distinctByLength(strings.Fields(d.Text))
		k := min(4, len(terms))
		id := "q" + strconv.Itoa(q)
		queries = append(queries, Query{ID: id, Text: strings.Join(terms[:k], " ")})
		qrels[id] = map[string]int{d.ID: 1}
	}
	return &Collection{
		Name:      fmt.Sprintf("synthetic-%d", n),
		Queries:   queries,
		Qrels:     qrels,
		Documents: n,
		Docs: func(ctx context.Context, emit func(store.SourceDocument) error) error {
			for i := range n {
				if i%1000 == 0 && ctx.Err() != nil {
					return ctx.Err()
				}
				if err := emit(store.SourceDocument{Document: gen(i), Root: "synthetic", File: "synthetic.jsonl"}); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// syntheticWord spells word number i: frequent words are short.
func syntheticWord(i int) string {
	const letters = "etaoinshrdlucmfwypvbgkqjxz"
	var b []byte
	for n := i + 1; n > 0; n /= len(letters) {
		b = append(b, letters[n%len(letters)])
	}
	// Make each word pronounceable enough and distinct from English stop words.
	return "w" + string(b) + strconv.Itoa(int(math.Log2(float64(i+2))))
}

// distinctByLength returns the distinct words, longest first.
func distinctByLength(words []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range words {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}
