package blevestore

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
)

// trickyWords are words whose stems change their last letters: Snowball's
// exceptions, suffix replacements, y to i, and a restored e.
var trickyWords = []string{
	"dying", "lying", "tying", "skies", "skis", "idly", "gently", "ugly", "early", "only", "singly",
	"news", "howe", "atlas", "cosmos", "bias", "andes", "inning", "outing", "canning", "herring",
	"earring", "proceed", "exceed", "succeed", "possibility", "sensibility", "hoping", "hopping",
	"happy", "happiness", "cries", "cried", "ties", "relational", "conditional", "organization",
	"organizer", "valenci", "hesitanci", "digitizer", "conformabli", "radicalli", "differentli",
	"vileli", "analogousli", "vietnamization", "predication", "operator", "feudalism",
	"decisiveness", "hopefulness", "callousness", "formaliti", "sensitiviti", "sensibiliti",
	"triplicate", "formative", "formalize", "electriciti", "electrical", "hopeful", "goodness",
	"revival", "allowance", "inference", "airliner", "gyroscopic", "adjustable", "defensible",
	"irritant", "replacement", "adjustment", "dependent", "adoption", "homologou", "communism",
	"activate", "angulariti", "homologous", "effective", "bowdlerize", "generate", "generously",
	"fly", "flies", "flying", "say", "says", "yes", "yelled", "crying", "eyes", "agreed", "feed",
	"luxuriated", "luxuriating", "hopped", "fizzed", "failing", "filing", "cats", "abilities",
	"ability", "béchamel", "naïve", "naïvety", "Über", "ÉCOLE", "İstanbul",
}

// TestStemKeepsOpening checks what termMatcher relies on: every word,
// accents folded, begins with the opening (stemOpening) of its stem. It runs over the
// tricky words, the bundled sample corpus and, when present, the shared
// benchmark collections.
func TestStemKeepsOpening(t *testing.T) {
	var stems stemmer
	checked := map[string]bool{}
	check := func(word string) {
		lower := lowerInto(make([]byte, 0, 64), word)
		if checked[string(lower)] {
			return
		}
		checked[string(lower)] = true
		stem := stems.stemOf(lower)
		if stem == "" {
			return
		}
		folded := fold(lower) // as the analyzer folds accents before it stems
		env := snowballstem.NewEnv(string(folded))
		english.Stem(env)
		if stem != env.Current() {
			t.Errorf("stemmer: %q stems to %q, Snowball says %q", word, stem, env.Current())
		}
		if open := stemOpening(stem); !strings.HasPrefix(string(folded), open) {
			t.Errorf("%q stems to %q, but does not begin with %q", word, stem, open)
		}
		m := newTermMatcher(&stems, map[string]bool{stem: true})
		if !m.mayMatch(word[0]) {
			t.Errorf("a matcher of %q passes over %q by its first letter", stem, word)
		}
		if _, ok := m.match(lower); !ok {
			t.Errorf("a matcher of %q does not match %q", stem, word)
		}
	}
	for _, w := range trickyWords {
		check(w)
	}
	words := func(path string) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			line := sc.Text()
			for start, end := range wordSpans(line) {
				check(line[start:end])
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	err := filepath.WalkDir("../../sample/corpus", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			words(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"scifact", "cranfield"} {
		path := filepath.Join("../../../../shared/data", c, "corpus.jsonl")
		if _, err := os.Stat(path); err == nil {
			words(path)
		}
	}
	t.Logf("%d distinct words checked", len(checked))
}

// TestTermMatcher checks matching words to query terms: case, stop words,
// terms sharing an opening, and words that only look like a term.
func TestTermMatcher(t *testing.T) {
	var stems stemmer
	m := newTermMatcher(&stems, map[string]bool{"possibl": true, "posit": true, "die": true, "run": true})
	for word, want := range map[string]bool{
		"Possibilities": true, "possible": true, "positions": true, "DYING": true, "died": true,
		"running": true, "runs": true, "post": false, "pose": false, "the": false, "d": false, "": false,
		"rune": false, "diet": false,
	} {
		_, got := m.match(lowerInto(make([]byte, 0, 64), word))
		if got != want {
			t.Errorf("match(%q) = %v, want %v", word, got, want)
		}
	}
	if m.terms() != 4 {
		t.Errorf("terms() = %d, want 4", m.terms())
	}
}

func TestMisspellable(t *testing.T) {
	for term, want := range map[string]bool{
		"reimbursment": true, "polici": true, "cat": false, "2019": true, "b12": false,
		"éclair": true, "naïv": true, "ab": false,
	} {
		if got := misspellable(term); got != want {
			t.Errorf("misspellable(%q) = %v, want %v", term, got, want)
		}
	}
}

// TestAnalyzerStemmer checks that word lists are made with the stemmer the
// index's analyzer stems with (so its memory of stems serves them), and
// with a stemmer of their own for any other analyzer.
func TestAnalyzerStemmer(t *testing.T) {
	m, err := newMapping(nil, false)
	if err != nil {
		t.Fatal(err)
	}
	a := m.AnalyzerNamed(analyzerName)
	st := analyzerStemmer(a)
	a.Analyze([]byte("Gateways timing out"))
	remembered := 0
	for i := range st.shards {
		remembered += len(st.shards[i].stems)
	}
	if remembered == 0 {
		t.Error("the analyzer stemmed words, but not with the stemmer analyzerStemmer returned")
	}
	if analyzerStemmer(nil) == nil {
		t.Error("no stemmer for an analyzer without this package's stemming step")
	}
}
