package search_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/docurl"
	"github.com/connectorhq/connector/internal/search"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/store/storetest"
	"github.com/connectorhq/connector/internal/toolcall/toolcalltest"
)

// connect registers the tool over s and returns a client session.
func connect(t *testing.T, s search.Searcher, opts search.Options) *mcp.ClientSession {
	t.Helper()
	srv := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "v0"}, nil)
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	search.Register(srv, s, opts)
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(access.NewContext(t.Context(), access.Everyone()), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "v0"}, nil).Connect(t.Context(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func call(t *testing.T, cs *mcp.ClientSession, args any) (*mcp.CallToolResult, string) {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "search", Arguments: args})
	if err != nil {
		t.Fatalf("CallTool: protocol error %v; tool errors must be IsError results", err)
	}
	if len(res.Content) != 1 {
		t.Fatalf("got %d content items, want exactly 1", len(res.Content))
	}
	text, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("content is %T, want text", res.Content[0])
	}
	if !res.IsError {
		toolcalltest.CheckOutput(t, cs, "search", text.Text)
	}
	return res, text.Text
}

func decode(t *testing.T, res *mcp.CallToolResult, text string) search.Output {
	t.Helper()
	var out search.Output
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatalf("text is not the result JSON: %v\n%s", err, text)
	}
	structured, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	if !jsonEqual(t, structured, []byte(text)) {
		t.Errorf("structuredContent %s differs from text %s", structured, text)
	}
	return out
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

var docs = []store.Document{
	{ID: "d1", Title: "Refunds", Text: "refund policy for annual plans", URL: "https://example.com/refunds"},
	{ID: "guides/setup.md", Title: "Setup", Text: "setup guide: refund nothing, configure everything"},
	{ID: "d3", Title: "", Text: "untitled annual report"},
}

func TestSearch(t *testing.T) {
	linker, _ := docurl.NewLinker("https://docs.example.org")
	tests := []struct {
		name     string
		args     any
		storeErr error
		opts     search.Options
		wantIDs  string // comma-separated, in order
		wantErr  string // substring of the tool error
		noCall   bool   // the store must not be called
	}{
		{name: "match", args: map[string]any{"query": "refund policy"}, wantIDs: "d1,guides/setup.md"},
		{name: "limit", args: map[string]any{"query": "refund annual"}, opts: search.Options{MaxResults: 1}, wantIDs: "d1"},
		{name: "no match is not an error", args: map[string]any{"query": "zebra"}},
		{name: "blank query gives no results", args: map[string]any{"query": "  \t "}, noCall: true},
		{name: "query too long", args: map[string]any{"query": strings.Repeat("x", 2049)}, wantErr: "2048 bytes", noCall: true},
		{name: "query at the limit", args: map[string]any{"query": strings.Repeat("x", 2048)}},
		{name: "backend down", args: map[string]any{"query": "refund"}, storeErr: errors.New("dial tcp 10.0.0.7:443: secret-internal-detail"),
			wantErr: "try again shortly"},
		{name: "backend timeout", args: map[string]any{"query": "refund"}, storeErr: context.DeadlineExceeded,
			wantErr: "the search took too long and was stopped; try again, or use fewer or more specific words"},
		{name: "upstream timeout", args: map[string]any{"query": "refund"},
			storeErr: &store.Unavailable{Class: "upstream_timeout", Reason: "the OpenAI API did not answer in time; try again shortly", Err: context.DeadlineExceeded},
			wantErr:  "the OpenAI API did not answer in time; try again shortly"},
		{name: "missing query", args: map[string]any{}, noCall: true,
			wantErr: `"query" is missing; it must be a string, keywords or a question, e.g. {"query": "refund policy for annual plans"}`},
		{name: "null query", args: json.RawMessage(`{"query": null}`), wantErr: `"query" must be a string, keywords or a question; got null`, noCall: true},
		{name: "boolean query", args: json.RawMessage(`{"query": false}`), wantErr: `"query" must be a string, keywords or a question; got false`, noCall: true},
		{name: "list of queries", args: json.RawMessage(`{"query": ["refund"]}`), wantErr: `"query" must be a string, keywords or a question; got an array`, noCall: true},
		{name: "arguments not an object", args: json.RawMessage(`["refund"]`), noCall: true,
			wantErr: `the arguments must be a JSON object, e.g. {"query": "refund policy for annual plans"}; got an array`},
		{name: "extra argument is ignored", args: map[string]any{"query": "refund", "limit": 5}, wantIDs: "d1,guides/setup.md"},
		{name: "number query is taken as written", args: json.RawMessage(`{"query": 42}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &storetest.Fake{Docs: docs, Err: tt.storeErr}
			opts := tt.opts
			opts.Linker = linker
			if opts.MaxQueryBytes == 0 {
				opts.MaxQueryBytes = 2048
			}
			res, text := call(t, connect(t, fake, opts), tt.args)
			if tt.noCall && fake.Calls() != 0 {
				t.Errorf("store was called %d times", fake.Calls())
			}
			if tt.wantErr != "" {
				if !res.IsError || !strings.Contains(text, tt.wantErr) {
					t.Fatalf("got IsError=%v %q, want an error containing %q", res.IsError, text, tt.wantErr)
				}
				if strings.Contains(text, "secret-internal-detail") {
					t.Errorf("tool error leaks store internals: %q", text)
				}
				for _, internal := range []string{"reflect", "map[", "interface {}", "Go value", "validating"} {
					if strings.Contains(text, internal) {
						t.Errorf("tool error shows Go internals (%q): %q", internal, text)
					}
				}
				return
			}
			if res.IsError {
				t.Fatalf("unexpected tool error: %s", text)
			}
			out := decode(t, res, text)
			if out.Results == nil {
				t.Fatalf("results is null in %s, want []", text)
			}
			var ids []string
			for _, r := range out.Results {
				ids = append(ids, r.ID)
			}
			if got := strings.Join(ids, ","); got != tt.wantIDs {
				t.Errorf("ids = %q, want %q", got, tt.wantIDs)
			}
		})
	}
}

// TestOutputSchemaResultsNotNull: the listed schema makes "results" an
// array that null does not satisfy, and a search that finds nothing (or has
// nothing to look for) sends [] and validates.
func TestOutputSchemaResultsNotNull(t *testing.T) {
	cs := connect(t, &storetest.Fake{Docs: docs}, search.Options{})
	list, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(list.Tools[0].OutputSchema)
	var schema jsonschema.Schema
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	if r := schema.Properties["results"]; r == nil || r.Type != "array" || len(r.Types) != 0 {
		t.Fatalf("results schema %+v, want type array alone", r)
	}
	resolved, err := schema.Resolve(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := resolved.Validate(map[string]any{"results": nil}); err == nil {
		t.Error(`{"results": null} validates against the output schema`)
	}
	for _, args := range []map[string]any{{"query": "zebra"}, {"query": "  "}} {
		if res, text := call(t, cs, args); res.IsError || text != `{"results":[]}` {
			t.Errorf("%v: IsError=%v %s, want {\"results\":[]}", args, res.IsError, text)
		}
	}
}

func TestResultFields(t *testing.T) {
	long := store.Document{ID: "long", Title: "Long", Text: strings.Repeat("word ", 500)}
	fake := &storetest.Fake{Docs: append([]store.Document{long}, docs...)}
	for _, base := range []string{"https://docs.example.org", ""} {
		linker, _ := docurl.NewLinker(base)
		_, text := call(t, connect(t, fake, search.Options{Linker: linker}), map[string]any{"query": "refund annual word"})
		var out search.Output
		if err := json.Unmarshal([]byte(text), &out); err != nil {
			t.Fatal(err)
		}
		byID := map[string]search.Result{}
		for _, r := range out.Results {
			byID[r.ID] = r
		}
		// The document's own page, with a text fragment quoting the excerpt.
		if got := byID["d1"].URL; got != "https://example.com/refunds#:~:text=refund%20policy%20for%20annual%20plans" {
			t.Errorf("base %q: own URL = %q, want the document's own with a text fragment", base, got)
		}
		// The fake store knows no passage numbers (as openaistore): the
		// view link quotes the excerpt too.
		wantView := ""
		if base != "" {
			wantView = base + "/docs/guides/setup.md#:~:text=setup%20guide%3A%20refund%20nothing%2C%20configure%20everything"
		}
		if got := byID["guides/setup.md"].URL; got != wantView {
			t.Errorf("base %q: view URL = %q, want %q", base, got, wantView)
		}
		if got := byID["d3"].Title; got != "d3" {
			t.Errorf("untitled document title = %q, want its id", got)
		}
		if n := len([]rune(byID["long"].Text)); n > 300 || n < 100 {
			t.Errorf("snippet has %d characters, want at most 300", n)
		}
	}
}

// queryStore records the query it is asked.
type queryStore struct{ got chan string }

func (q queryStore) Search(_ context.Context, _ access.Caller, query string, _ int) ([]store.Hit, error) {
	q.got <- query
	return nil, nil
}

// TestNumberQuery: a number given as the query is searched for as written
// in the JSON, never rounded or reformatted.
func TestNumberQuery(t *testing.T) {
	q := queryStore{got: make(chan string, 1)}
	cs := connect(t, q, search.Options{})
	for _, n := range []string{"31", "12345678901234567890", "1e3", "-0.50"} {
		if res, text := call(t, cs, json.RawMessage(`{"query": `+n+`}`)); res.IsError {
			t.Fatalf("query %s: tool error %q", n, text)
		}
		if got := <-q.got; got != n {
			t.Errorf("query %s searched for %q", n, got)
		}
	}
}

// slowStore answers only when the context ends.
type slowStore struct{}

func (slowStore) Search(ctx context.Context, _ access.Caller, _ string, _ int) ([]store.Hit, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestTimeout(t *testing.T) {
	cs := connect(t, slowStore{}, search.Options{Timeout: 50 * time.Millisecond})
	res, text := call(t, cs, map[string]any{"query": "anything"})
	if !res.IsError || !strings.Contains(text, "took too long") {
		t.Fatalf("got IsError=%v %q, want a timeout tool error", res.IsError, text)
	}
}

// panicStore has a bug.
type panicStore struct{}

func (panicStore) Search(context.Context, access.Caller, string, int) ([]store.Hit, error) {
	panic("boom")
}

func TestPanicIsAToolError(t *testing.T) {
	cs := connect(t, panicStore{}, search.Options{})
	res, text := call(t, cs, map[string]any{"query": "anything"})
	if !res.IsError || strings.Contains(text, "boom") {
		t.Fatalf("got IsError=%v %q, want an internal tool error without details", res.IsError, text)
	}
	// The server is still up.
	if _, text := call(t, cs, map[string]any{"query": "again"}); text == "" {
		t.Fatal("no answer after a panic")
	}
}

func TestShorten(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"one two three four five six", 15, "one two …"},
		{"ünïcödé wörds hére", 12, "ünïcödé …"},
	}
	for _, tt := range tests {
		if got := search.Shorten(tt.in, tt.n); got != tt.want {
			t.Errorf("Shorten(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// passageStore answers with hits that name their passage, as blevestore's do.
type passageStore []store.Hit

func (p passageStore) Search(context.Context, access.Caller, string, int) ([]store.Hit, error) {
	return p, nil
}

// TestPassageLink: a hit whose store knows the matched passage links the
// document view at that passage's anchor; a document with its own URL gets
// a text fragment instead (its page has no such anchors).
func TestPassageLink(t *testing.T) {
	linker, _ := docurl.NewLinker("https://docs.example.org")
	cs := connect(t, passageStore{
		{ID: "handbook.md", Title: "Handbook", Snippet: "… claims filed later than 30 days are not reimbursed …", Passage: 4},
		{ID: "web", Title: "Web page", URL: "https://intra.example.com/travel", Snippet: "Book travel through the portal.", Passage: 2},
	}, search.Options{Linker: linker})
	_, text := call(t, cs, map[string]any{"query": "reimbursed"})
	var out search.Output
	if err := json.Unmarshal([]byte(text), &out); err != nil || len(out.Results) != 2 {
		t.Fatalf("%v: %s", err, text)
	}
	if got, want := out.Results[0].URL, "https://docs.example.org/docs/handbook.md#p-4"; got != want {
		t.Errorf("view link %q, want %q", got, want)
	}
	if got, want := out.Results[1].URL, "https://intra.example.com/travel#:~:text=Book%20travel%20through%20the%20portal."; got != want {
		t.Errorf("own link %q, want %q", got, want)
	}
	// The plain links stay in metadata.
	for i, want := range []string{"https://docs.example.org/docs/handbook.md", "https://intra.example.com/travel"} {
		if got := out.Results[i].Metadata["url"]; got != want {
			t.Errorf("result %d: metadata url %q, want %q", i, got, want)
		}
	}
}
