package blevestore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	index "github.com/blevesearch/bleve_index_api"

	"github.com/connectorhq/connector/internal/bm25"
	"github.com/connectorhq/connector/internal/sample"
	"github.com/connectorhq/connector/internal/store"
)

// referenceCut is cut written the plain way, with the standard library's
// strings.Fields: the snippet code must give the same text.
func referenceCut(s string, start int) string {
	for start > 0 && start < len(s) && !utf8.RuneStart(s[start]) {
		start++
	}
	rest := s[start:]
	end := len(rest)
	if utf8.RuneCountInString(rest) > snippetChars {
		n := 0
		for i := range rest {
			if n == snippetChars {
				end = i
				break
			}
			n++
		}
		if i := strings.LastIndexFunc(rest[:end], unicode.IsSpace); i > end/2 {
			end = i
		}
	}
	out := strings.Join(strings.Fields(rest[:end]), " ")
	if start > 0 && strings.TrimSpace(s[:start]) != "" {
		out = "… " + out
	}
	if end < len(rest) {
		out += " …"
	}
	return out
}

func TestCutMatchesReference(t *testing.T) {
	texts := []string{
		"",
		"   ",
		"short text",
		"  leading and trailing white space \n\t ",
		strings.Repeat("word ", 100),
		strings.Repeat("a\u00a0b\u2003c\u0085d\te\r\nf  ", 40), // Unicode spaces
		strings.Repeat("naïve café über straße ", 30),          // multi-byte letters
		strings.Repeat("x", 400),                               // no space to cut at
		strings.Repeat("Sentence one. Sentence two!\n\nNext paragraph? ", 12),
		strings.Repeat("日本語のテキスト、", 50), // no spaces, three-byte runes
		strings.Repeat("Plain ASCII words with single spaces. ", 12),
		"Plain words  with a double space" + strings.Repeat(" and more plain words", 20),
		"x", " x", "x ", "a b", "a\tb", "a\u00a0b",
	}
	for _, text := range texts {
		for start := 0; start <= len(text); start += max(1, len(text)/37) {
			if got, want := cut(text, start), referenceCut(text, start); got != want {
				t.Errorf("cut(%.30q…, %d) = %q\nwant %q", text, start, got, want)
			}
		}
	}
}

func TestNextWord(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  ,. ", nil},
		{"one", []string{"one"}},
		{"  two words ", []string{"two", "words"}},
		{"IL-10, p<0.05", []string{"IL", "10", "p", "0", "05"}},
		{"naïve—café «über»", []string{"naïve", "café", "über"}},
		{"x\u00a0y", []string{"x", "y"}},
		{"日本語 テキスト", []string{"日本語", "テキスト"}},
	}
	for _, tt := range tests {
		var got []string
		for start, end := range wordSpans(tt.in) {
			got = append(got, tt.in[start:end])
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("words of %q = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestFuzzyMatchesBleve checks the fuzzy fallback's terms against bleve's
// own fuzzy dictionary over the same index: the same terms within one and
// two edits (transpositions counting one), whatever the order.
func TestFuzzyMatchesBleve(t *testing.T) {
	dir := t.TempDir()
	texts := []string{
		"The receiver receives received signals; a deceiver deceives.",
		"Transcription of transcripts by reverse transcriptase during translation and transfection.",
		"Proteins and the proteome: protean protein folding, prototypes, protocols.",
		"Cellular cells, a cello, cellulose; naïve cafés on the Straße, strasse and café.",
		"IL-10, IL-6 and IL-12 with CD4 and CD8 counts in 2009, 2019 and 1999.",
		"Mitochondria and mitochondrial DNA; the mitochondrion divides. Abcdefgh bacdefgh acbdefgh.",
	}
	var docs []store.SourceDocument
	for i, text := range texts {
		docs = append(docs, doc(fmt.Sprintf("d%d", i), text))
	}
	mustSync(t, dir, SyncOptions{}, docs)
	gen := mustAcquire(t, mustOpen(t, dir))
	adv, err := gen.idx.Advanced()
	if err != nil {
		t.Fatal(err)
	}
	r, err := adv.Reader()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fr := r.(index.IndexReaderFuzzy)
	found := 0
	for _, term := range []string{"recieve", "transcripton", "protien", "celul", "naiv", "strase", "cafe",
		"il11", "cd5", "2008", "mitocondria", "mitochondira", "bacdefhg", "prote", "zzzzzz"} {
		for k := 1; k <= 2; k++ {
			dict, err := fr.FieldDictFuzzy(fieldContent, term, k, "")
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for {
				e, err := dict.Next()
				if err != nil {
					t.Fatal(err)
				}
				if e == nil {
					break
				}
				if e.Term != term {
					want = append(want, e.Term)
				}
			}
			dict.Close()
			var got []string
			for _, n := range gen.ranks.Similar(rankContent, term, k, 1000) {
				got = append(got, n.Term)
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("terms within %d of %q: %q, bleve finds %q", k, term, got, want)
			}
			found += len(got)
		}
	}
	if found < 20 {
		t.Errorf("%d terms found in all: the cases no longer test much", found)
	}
}

// TestStoredPassagesMatchRecords checks that the ranking file keeps each
// passage's title, text and URL as its bleve record holds them, so search
// can show passages without reading the records.
func TestStoredPassagesMatchRecords(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("A long handbook sentence about gateways and timeouts. ", 120)
	d := doc("long", long)
	d.URL = "https://example.com/handbook"
	mustSync(t, dir, SyncOptions{}, []store.SourceDocument{d, doc("short", "Only a few words, naïve ☺."), doc("empty-title", "text")})
	st := mustOpen(t, dir)
	gen := mustAcquire(t, st)
	n := gen.ranks.Passages()
	if n < 4 {
		t.Fatalf("%d passages, want the long document split", n)
	}
	for ord := range uint32(n) {
		id := gen.ranks.ID(ord)
		want, err := st.passage(gen, id)
		if err != nil {
			t.Fatal(err)
		}
		v := gen.ranks.Stored(ord)
		if len(v) != storedValues {
			t.Fatalf("passage %s: %d stored values", id, len(v))
		}
		if words := string(newWordLister(&stemmer{}).appendWordList(nil, want.body)); v[storedWords] != words {
			t.Errorf("passage %s: word list %q, want %q", id, v[storedWords], words)
		}
		if got := (storedPassage{title: v[storedTitle], body: v[storedBody], url: v[storedURL], meta: v[storedMeta]}); got != want {
			t.Errorf("passage %s: ranking file keeps %+v, the record %+v", id, got, want)
		}
	}
}

// TestFetchOnePassageMatchesRecords checks that a document fetched from
// the ranking file is the one its bleve records give, and that a document
// of several passages, a passage id and an unknown id are left to the
// records.
func TestFetchOnePassageMatchesRecords(t *testing.T) {
	dir := t.TempDir()
	long := doc("long", strings.Repeat("A long handbook sentence about gateways and timeouts. ", 120))
	long.Metadata = map[string]string{"kind": "handbook"}
	withURL := doc("with-url", "Only a few words, naïve ☺.")
	withURL.URL = "https://example.com/a"
	withURL.Metadata = map[string]string{"author": "Ada", "year": "1843"}
	docs := []store.SourceDocument{long, withURL, doc("plain", "Plain text without a URL or metadata."), doc("empty-title", "text")}
	docs[3].Title = ""
	mustSync(t, dir, SyncOptions{}, docs)
	gen := mustAcquire(t, mustOpen(t, dir))
	for _, d := range docs {
		got, ok, err := fetchOnePassage(gen, d.ID)
		if err != nil {
			t.Fatalf("fetchOnePassage(%s): %v", d.ID, err)
		}
		if d.ID == "long" {
			if ok {
				t.Errorf("fetchOnePassage(long) answered for a document of several passages")
			}
			continue
		}
		if !ok {
			t.Errorf("fetchOnePassage(%s) left a one-passage document to the records", d.ID)
			continue
		}
		want, err := fetchRecord(gen, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("fetch %s: ranking file gives %+v, the records %+v", d.ID, got, want)
		}
	}
	for _, id := range []string{passageID("plain", 0), "missing", ""} {
		if _, ok, err := fetchOnePassage(gen, id); ok || err != nil {
			t.Errorf("fetchOnePassage(%q) = %v, %v; want false, nil", id, ok, err)
		}
	}
}

// A passage record from before fieldPMeta, as a generation cloned from an
// older index holds, stores no metadata value: fetch must read the document
// record, which knows the metadata, rather than answer without it.
func TestDocumentFromStoredNeedsMetadataValue(t *testing.T) {
	v := make([]string, storedValues)
	v[storedTitle], v[storedBody] = "Title", "Body"
	if _, ok, err := documentFromStored("d", v); ok || err != nil {
		t.Errorf("no metadata value: %v, %v; want false, nil", ok, err)
	}
	if _, ok, _ := documentFromStored("d", v[:storedMeta]); ok {
		t.Errorf("three stored values (an older ranking file): answered")
	}
	v[storedMeta] = noMetadata
	if d, ok, err := documentFromStored("d", v); !ok || err != nil || d.Metadata != nil || d.Text != "Body" {
		t.Errorf("no metadata: %+v, %v, %v", d, ok, err)
	}
	v[storedMeta] = `{"k":"v"}`
	if d, ok, err := documentFromStored("d", v); !ok || err != nil || d.Metadata["k"] != "v" {
		t.Errorf("metadata: %+v, %v, %v", d, ok, err)
	}
	v[storedMeta] = `{"k":`
	if _, _, err := documentFromStored("d", v); err == nil {
		t.Errorf("damaged metadata: no error")
	}
}

// mustAcquire returns st's generation, held until the test ends.
func mustAcquire(t *testing.T, st *Store) *generation {
	t.Helper()
	gen, err := st.acquire()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.mu.RUnlock)
	return gen
}

// wordSpans yields the byte ranges of the runs of letters and digits in s.
func wordSpans(s string) iter.Seq2[int, int] {
	return func(yield func(start, end int) bool) {
		for start, end := nextWord(s, 0); start < end; start, end = nextWord(s, end) {
			if !yield(start, end) {
				return
			}
		}
	}
}

// TestFindMatchesWords checks the matcher's inline word scan against
// nextWord's words, each stemmed: the same hits, in the same places.
func TestFindMatchesWords(t *testing.T) {
	stems := &stemmer{}
	terms := map[string]bool{}
	for _, w := range []string{"running", "naïve", "café", "cells", "IL", "10", "über", "日本語", "straße", "x"} {
		terms[stems.stemOf([]byte(strings.ToLower(w)))] = true
	}
	m := newTermMatcher(stems, terms)
	texts := []string{
		"",
		"Running cells run; the runner's CELLS (IL-10, p<0.05) ran.",
		"naïve—café «über» Straße STRASSE xylophone x",
		"runningé runningß naïvecafé café's 10x x10 10",
		"日本語 テキスト 日本語のテキスト x\u00a0y",
		"\xff\xfe broken running \xc3 bytes cells\xc3",
		strings.Repeat("the running of cells in Über-cafés, ", 20),
	}
	found := 0
	for _, text := range texts {
		var want []termHit
		for start, end := range wordSpans(text) {
			lower := []byte(strings.ToLower(text[start:end]))
			if id, ok := m.ids[stems.stemOf(lower)]; ok {
				want = append(want, termHit{start, end, id})
			}
		}
		if got := m.find(text, nil); !slices.Equal(got, want) {
			t.Errorf("find(%q)\n got %v\nwant %v", text, got, want)
		}
		// The word list, made as indexing makes it (with a stemmer of
		// its own), must lead to the same hits.
		words := string(newWordLister(&stemmer{}).appendWordList(nil, text))
		if got, ok := m.findListed(text, words, nil); !ok || !slices.Equal(got, want) {
			t.Errorf("findListed(%q) = %v, %v\nwant %v", text, got, ok, want)
		}
		found += len(want)
	}
	if found < 50 {
		t.Errorf("%d hits in all: the test texts should hold many", found)
	}
}

// TestFindListedDamagedList feeds findListed word lists that do not fit
// their text: it must not fail, and what it finds must be matches.
func TestFindListedDamagedList(t *testing.T) {
	stems := &stemmer{}
	terms := map[string]bool{}
	for _, w := range []string{"running", "cells", "café", "10"} {
		terms[stems.stemOf([]byte(w))] = true
	}
	m := newTermMatcher(stems, terms)
	text := strings.Repeat("The running of cells in cafés, 10 times; ", 8)
	words := newWordLister(stems).appendWordList(nil, text)
	if _, ok := m.findListed(text, "", nil); ok {
		t.Error("an empty list was taken for a word list")
	}
	for _, format := range []byte{wordListFormat - 1, wordListFormat + 1} {
		if _, ok := m.findListed(text, string(format)+string(words[1:]), nil); ok {
			t.Errorf("a list of format %d was read", format)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		bad := slices.Clone(words)
		switch i % 3 {
		case 0:
			bad = bad[:rng.IntN(len(bad)+1)]
		case 1:
			bad[1+rng.IntN(len(bad)-1)] = byte(rng.Uint32())
		case 2:
			for range 8 {
				bad[1+rng.IntN(len(bad)-1)] ^= 0x80
			}
		}
		body := text
		if i%7 == 0 {
			body = text[:rng.IntN(len(text))] // a list longer than its text
		}
		all := m.find(body, nil)
		got, _ := m.findListed(body, string(bad), nil)
		for _, h := range got {
			if !slices.Contains(all, h) {
				t.Fatalf("damaged list %q: hit %+v is not a match", bad, h)
			}
		}
	}
}

// BenchmarkFindListed is BenchmarkFind through the texts' word lists.
func BenchmarkFindListed(b *testing.B) {
	texts, n := sampleTexts(b)
	stems := &stemmer{}
	m := newTermMatcher(stems, benchTerms(stems))
	lists := make([]string, len(texts))
	l := newWordLister(stems)
	for i, text := range texts {
		lists[i] = string(l.appendWordList(nil, text))
	}
	b.SetBytes(int64(n))
	hits := make([]termHit, 0, 1024)
	for b.Loop() {
		for i, text := range texts {
			hits, _ = m.findListed(text, lists[i], hits[:0])
		}
	}
}

// BenchmarkFind is the matcher's scan over the bundled sample corpus, for
// one query's terms (bytes/s is the text scanned).
func BenchmarkFind(b *testing.B) {
	texts, n := sampleTexts(b)
	stems := &stemmer{}
	m := newTermMatcher(stems, benchTerms(stems))
	b.SetBytes(int64(n))
	hits := make([]termHit, 0, 1024)
	for b.Loop() {
		for _, text := range texts {
			hits = m.find(text, hits[:0])
		}
	}
}

// sampleTexts returns the bundled sample corpus's files and their size.
func sampleTexts(b *testing.B) (texts []string, n int) {
	err := fs.WalkDir(sample.FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(sample.FS(), path)
		texts = append(texts, string(raw))
		n += len(raw)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return texts, n
}

// benchTerms are the stems of a question about the sample corpus.
func benchTerms(stems *stemmer) map[string]bool {
	terms := map[string]bool{}
	for _, w := range strings.Fields("how are citation URLs formed for documents indexed without a url of their own") {
		if st := stems.stemOf([]byte(strings.ToLower(w))); st != "" {
			terms[st] = true
		}
	}
	return terms
}

// TestStorePassagesFails checks that storePassages, which reads chunks of
// passages side by side, reports a passage it cannot read and a cancelled
// context, and has stopped reading when it returns (the caller then
// closes the reader).
func TestStorePassagesFails(t *testing.T) {
	dir := t.TempDir()
	var docs []store.SourceDocument
	var ids []string
	for i := range 700 {
		id := fmt.Sprintf("d%03d", i)
		docs = append(docs, doc(id, "Some words about gateways and timeouts."))
		ids = append(ids, passageID(id, 0))
	}
	mustSync(t, dir, SyncOptions{}, docs)
	name, err := readCurrent(dir)
	if err != nil {
		t.Fatal(err)
	}
	store := func(ctx context.Context, ids []string) error {
		w, err := bm25.NewWriter(filepath.Join(t.TempDir(), "file"), rankedFields)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Abort()
		for _, id := range ids {
			w.AddPassage(id)
		}
		return readGeneration(filepath.Join(dir, name), func(r index.IndexReader) error {
			return storePassages(ctx, r, ids, &stemmer{}, w)
		})
	}
	if err := store(t.Context(), ids); err != nil {
		t.Fatalf("all passages: %v", err)
	}
	missing := slices.Insert(slices.Clone(ids), 600, "missing")
	if err := store(t.Context(), missing); err == nil || !strings.Contains(err.Error(), `"missing"`) {
		t.Errorf("a passage that is not there: %v, want an error naming it", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := store(ctx, ids); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}
