package blevestore

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/store"
)

func TestCut(t *testing.T) {
	long := strings.Repeat("word ", 100)
	tests := []struct {
		s     string
		start int
		want  string
	}{
		{"", 0, ""},
		{"   ", 0, ""},
		{"short text", 0, "short text"},
		{"  leading and\ttrailing \n white space \n\t ", 0, "leading and trailing white space"},
		{"one two three", 4, "… two three"},
		{"naïve café", 3, "… ve café"}, // inside a character: from the next one
		{long, 0, strings.TrimSpace(strings.Repeat("word ", 60)) + " …"},
		{strings.Repeat("x", 400), 0, strings.Repeat("x", 300) + " …"}, // no space to cut at
	}
	for _, tt := range tests {
		if got := cut(tt.s, tt.start); got != tt.want {
			t.Errorf("cut(%.30q, %d) = %q, want %q", tt.s, tt.start, got, tt.want)
		}
	}
	for _, s := range []string{strings.Repeat("naïve café über straße ", 30), strings.Repeat("日本語のテキスト、", 50)} {
		for start := range len(s) {
			got := cut(s, start)
			if !utf8.ValidString(got) || utf8.RuneCountInString(got) > snippetChars+4 {
				t.Fatalf("cut(%.20q…, %d) = %q: not text of at most %d characters", s, start, got, snippetChars)
			}
		}
	}
}

// TestUnfolder checks that offsets in the folded text, where bleve's term
// locations are, map back to the same words in the original.
func TestUnfolder(t *testing.T) {
	for _, s := range []string{
		"plain ASCII words",
		"Crêpes, café crème and brûlée",
		"Straße ß æther Œuvre ﬁnal naïve",
		"日本語 テキスト mixed ☺ words",
		"bad \xff byte then word",
	} {
		unfold := unfolder(s)
		for i := range s {
			if i > 0 && s[i-1] != ' ' || s[i] == ' ' {
				continue // not the start of a word
			}
			if got := unfold(len(foldAccents(s[:i]))); got != i {
				t.Errorf("%q: word at %d maps back to %d", s, i, got)
			}
		}
		if got := unfold(len(foldAccents(s))); got != len(s) {
			t.Errorf("%q: the end maps back to %d, want %d", s, got, len(s))
		}
	}
}

func TestSnippetWindow(t *testing.T) {
	filler := strings.Repeat("Nothing to see in this sentence at all. ", 12)
	body := "Gateway mentioned once at the start. " + filler +
		"Here the gateway timeout and its retries are explained together. " + filler
	hit := func(word string, from int) termHit {
		i := from + strings.Index(body[from:], word)
		return termHit{i, i + len(word), word}
	}
	second := strings.Index(body, "Here")
	hits := []termHit{hit("Gateway", 0), hit("gateway", second), hit("timeout", second), hit("retries", second)}
	got := snippet(body, hits)
	if !strings.HasPrefix(got, "… Here the gateway timeout and its retries") {
		t.Errorf("snippet = %q, want the window with every term, from its sentence", got)
	}
	if got := snippet(body, nil); !strings.HasPrefix(got, "Gateway mentioned once") {
		t.Errorf("snippet without matches = %q, want the opening", got)
	}
}

// TestSnippetsFromLocations searches a real index: snippets show the
// matched words, found from bleve's term locations, also past accented
// letters (whose folded form is shorter) and in a long document's later
// passage; a match in the title alone shows the passage's opening.
func TestSnippetsFromLocations(t *testing.T) {
	dir := t.TempDir()
	accents := doc("accents", "Crêpes, café crème, brûlée, naïve façade: "+strings.Repeat("déjà vu ", 20)+"then the lighthouse keeper spoke.")
	long := doc("long", strings.Repeat("Routine words about ordinary matters fill this part. ", 100)+
		"The zeppelin hangar stood at the end of the field. "+strings.Repeat("More routine words about ordinary matters. ", 100))
	title := doc("title", "The body says nothing of it.")
	title.Title = "Quasar observations"
	mustSync(t, dir, SyncOptions{}, []store.SourceDocument{accents, long, title})
	st := mustOpen(t, dir)
	for _, tt := range []struct{ query, id, want string }{
		{"lighthouse keeper", "accents", "lighthouse keeper spoke"},
		{"creme brulee", "accents", "Crêpes, café crème, brûlée"},
		{"zeppelin hangar", "long", "The zeppelin hangar stood"},
		{"quasar", "title", "The body says nothing of it."},
	} {
		hits, err := st.Search(t.Context(), access.Everyone(), tt.query, 3)
		if err != nil || len(hits) == 0 || hits[0].ID != tt.id {
			t.Fatalf("search %q = %+v, %v; want %s first", tt.query, hits, err, tt.id)
		}
		if !strings.Contains(hits[0].Snippet, tt.want) {
			t.Errorf("search %q: snippet %q, want it to show %q", tt.query, hits[0].Snippet, tt.want)
		}
	}
}

// TestFetchJoinsPassages checks that fetch gives back every document's text
// exactly as indexed, from its passages: one passage or many, leading and
// trailing white space, multi-byte text.
func TestFetchJoinsPassages(t *testing.T) {
	dir := t.TempDir()
	docs := []store.SourceDocument{
		doc("short", "  Only a few words, naïve ☺.\n"),
		doc("long", "\n\n  "+strings.Repeat("A long handbook sentence about gateways and timeouts.\n\n", 150)+"  The end.  \n"),
		doc("words", strings.Repeat("naïve café über straße 日本語 ", 400)),
		doc("empty", ""),
	}
	docs[0].URL = "https://example.com/short"
	docs[1].Metadata = map[string]string{"kind": "handbook"}
	mustSync(t, dir, SyncOptions{}, docs)
	st := mustOpen(t, dir)
	for _, d := range docs {
		got, err := st.Fetch(t.Context(), access.Everyone(), d.ID)
		if err != nil {
			t.Fatalf("fetch %s: %v", d.ID, err)
		}
		want := &store.Document{ID: d.ID, Title: d.Title, URL: d.URL, Text: d.Text, Metadata: d.Metadata}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("fetch %s:\n got %+v\nwant %+v", d.ID, got, want)
		}
	}
}
