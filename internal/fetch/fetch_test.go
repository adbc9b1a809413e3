package fetch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/docurl"
	"github.com/connectorhq/connector/internal/fetch"
	"github.com/connectorhq/connector/internal/passage"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/store/storetest"
	"github.com/connectorhq/connector/internal/toolcall/toolcalltest"
)

func connect(t *testing.T, f fetch.Fetcher, opts fetch.Options) *mcp.ClientSession {
	t.Helper()
	srv := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "v0"}, nil)
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	fetch.Register(srv, f, opts)
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

// call returns the decoded output, or the tool error text.
func call(t *testing.T, cs *mcp.ClientSession, args any) (fetch.Output, string) {
	t.Helper()
	res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "fetch", Arguments: args})
	if err != nil {
		t.Fatalf("CallTool: protocol error %v", err)
	}
	if len(res.Content) != 1 {
		t.Fatalf("got %d content items, want 1", len(res.Content))
	}
	text := res.Content[0].(*mcp.TextContent).Text
	if res.IsError {
		return fetch.Output{}, text
	}
	var out fetch.Output
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		t.Fatalf("text is not JSON: %v\n%s", err, text)
	}
	if out.Metadata == nil {
		t.Errorf("metadata is null in %s, want an object", text)
	}
	toolcalltest.CheckOutput(t, cs, "fetch", text)
	structured, _ := json.Marshal(res.StructuredContent)
	var a, b any
	json.Unmarshal(structured, &a)
	json.Unmarshal([]byte(text), &b)
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	if string(x) != string(y) {
		t.Errorf("structuredContent differs from text")
	}
	return out, ""
}

var docs = []store.Document{
	{ID: "d1", Title: "Refunds", Text: "refund policy for annual plans", URL: "https://example.com/refunds",
		Metadata: map[string]string{"topic": "billing"}},
	{ID: "guides/setup.md", Title: "Setup", Text: "setup guide"},
	{ID: "weird id/..", Title: "Odd", Text: "odd id"},
}

func TestFetch(t *testing.T) {
	linker, _ := docurl.NewLinker("https://docs.example.org/base")
	cs := connect(t, &storetest.Fake{Docs: docs}, fetch.Options{Linker: linker})
	tests := []struct {
		name, id, wantID, wantURL, wantErr string
	}{
		{name: "by id", id: "d1", wantID: "d1", wantURL: "https://example.com/refunds"},
		{name: "id with spaces around", id: "  d1 ", wantID: "d1", wantURL: "https://example.com/refunds"},
		{name: "by own url", id: "https://example.com/refunds", wantID: "d1", wantURL: "https://example.com/refunds"},
		{name: "view url", id: "guides/setup.md", wantID: "guides/setup.md", wantURL: "https://docs.example.org/base/docs/guides/setup.md"},
		{name: "by view url", id: "https://docs.example.org/base/docs/guides/setup.md", wantID: "guides/setup.md",
			wantURL: "https://docs.example.org/base/docs/guides/setup.md"},
		{name: "by query view url", id: "https://docs.example.org/base/docs/?id=weird+id%2F..", wantID: "weird id/..",
			wantURL: "https://docs.example.org/base/docs/?id=weird+id%2F.."},
		{name: "by own url with a text fragment", id: "https://example.com/refunds#:~:text=refund%20policy", wantID: "d1",
			wantURL: "https://example.com/refunds"},
		{name: "by view url with a passage anchor", id: "https://docs.example.org/base/docs/guides/setup.md#p-1", wantID: "guides/setup.md",
			wantURL: "https://docs.example.org/base/docs/guides/setup.md"},
		{name: "unknown id", id: "nope", wantErr: `no document has id "nope": use the "id" of a result from the search tool`},
		{name: "unknown url", id: "https://example.com/other", wantErr: "use the \"id\" of a result"},
		{name: "blank id", id: " ", wantErr: `"id" is empty`},
		{name: "huge id", id: strings.Repeat("x", 5000), wantErr: "bytes long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errText := call(t, cs, map[string]any{"id": tt.id})
			if tt.wantErr != "" {
				if !strings.Contains(errText, tt.wantErr) {
					t.Fatalf("error %q, want one containing %q", errText, tt.wantErr)
				}
				return
			}
			if errText != "" {
				t.Fatalf("unexpected tool error %q", errText)
			}
			if out.ID != tt.wantID || out.URL != tt.wantURL {
				t.Errorf("got id %q url %q, want %q %q", out.ID, out.URL, tt.wantID, tt.wantURL)
			}
		})
	}
	out, _ := call(t, cs, map[string]any{"id": "d1"})
	if out.Title != "Refunds" || out.Text != "refund policy for annual plans" || out.Metadata["topic"] != "billing" {
		t.Errorf("document = %+v", out)
	}
	if _, ok := out.Metadata["truncated"]; ok {
		t.Errorf("short document marked: %v", out.Metadata)
	}
}

// TestArgumentErrors: arguments fetch cannot use get a tool error that names
// the argument, says what was wrong and what to send, and shows no Go
// internals ({"id": null} once showed "<invalid reflect.Value>").
func TestArgumentErrors(t *testing.T) {
	cs := connect(t, &storetest.Fake{Docs: docs}, fetch.Options{})
	const wrong = `"id" must be a string, the id of a search result; got `
	const missing = `"id" is missing; it must be a string, the id of a search result, e.g. {"id": "<id from a search result>"}`
	const notObject = `the arguments must be a JSON object, e.g. {"id": "<id from a search result>"}; got `
	for _, tt := range []struct {
		args any
		want string
	}{
		{json.RawMessage(`{"id": null}`), wrong + "null"},
		{json.RawMessage(`{"id": true}`), wrong + "true"},
		{json.RawMessage(`{"id": {"value": "d1"}}`), wrong + "an object"},
		{json.RawMessage(`{"id": ["d1"]}`), wrong + "an array"},
		{json.RawMessage(`{}`), missing},
		{json.RawMessage(`null`), missing},
		{nil, missing},
		{json.RawMessage(`{"ID": "d1"}`), missing},
		{json.RawMessage(`["d1"]`), notObject + "an array"},
		{json.RawMessage(`"d1"`), notObject + "a string"},
		{json.RawMessage(`{"id": ""}`), `"id" is empty: pass the id of a result from the search tool`},
	} {
		_, text := call(t, cs, tt.args)
		if text != tt.want {
			t.Errorf("arguments %s: got %q, want the tool error %q", tt.args, text, tt.want)
		}
	}
}

// TestLenientArguments: arguments whose meaning is clear are accepted. A
// number id is taken as written in the JSON (MCP Inspector's --tool-arg
// id=31 sends 31), never rounded; arguments fetch does not take are ignored
// and logged by name, without their values, at debug level.
func TestLenientArguments(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	numbered := []store.Document{{ID: "31", Text: "a"}, {ID: "12345678901234567890", Text: "b"}, {ID: "1e3", Text: "c"}, {ID: "-0.50", Text: "d"}}
	cs := connect(t, &storetest.Fake{Docs: append(numbered, docs...)}, fetch.Options{Logger: logger})
	for _, tt := range []struct{ args, wantID string }{
		{`{"id": 31}`, "31"},
		{`{"id": 12345678901234567890}`, "12345678901234567890"},
		{`{"id": 1e3}`, "1e3"},
		{`{"id": -0.50}`, "-0.50"},
		{`{"id": "d1", "limit": 5, "note": "value-not-logged"}`, "d1"},
	} {
		out, errText := call(t, cs, json.RawMessage(tt.args))
		if errText != "" || out.ID != tt.wantID {
			t.Errorf("arguments %s: got id %q, error %q; want document %q", tt.args, out.ID, errText, tt.wantID)
		}
	}
	var ignored map[string]any
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, `"ignored arguments"`) {
			json.Unmarshal([]byte(line), &ignored)
		}
	}
	if ignored["tool"] != "fetch" || fmt.Sprint(ignored["arguments"]) != "[limit note]" || ignored["level"] != "DEBUG" {
		t.Errorf("ignored arguments logged as %v, want tool fetch, arguments [limit note], at DEBUG", ignored)
	}
	if strings.Contains(logs.String(), "value-not-logged") {
		t.Errorf("the value of an ignored argument was logged:\n%s", logs.String())
	}
}

func TestStoreFailure(t *testing.T) {
	cs := connect(t, &storetest.Fake{Err: errors.New("disk I/O error at /var/lib/secret")}, fetch.Options{})
	_, errText := call(t, cs, map[string]any{"id": "d1"})
	if !strings.Contains(errText, "try again") || strings.Contains(errText, "/var/lib") {
		t.Fatalf("error %q: want a generic retry message without internals", errText)
	}
}

// slowFetcher answers only when the context ends.
type slowFetcher struct{ storetest.Fake }

func (*slowFetcher) Fetch(ctx context.Context, _ access.Caller, _ string) (*store.Document, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestTimeout: a fetch out of time says the document could not be read in
// time, and whose fault it was; never advice about words, which fits a
// search, not an id.
func TestTimeout(t *testing.T) {
	const mine = "the document could not be read in time; try again shortly"
	const upstream = "the OpenAI API did not answer in time; try again shortly"
	for _, tt := range []struct {
		name string
		f    fetch.Fetcher
		want string
	}{
		{"store", &slowFetcher{}, mine},
		{"upstream", &storetest.Fake{Err: &store.Unavailable{Class: "upstream_timeout", Reason: "the OpenAI API did not answer in time; try again shortly", Err: context.DeadlineExceeded}}, upstream},
	} {
		cs := connect(t, tt.f, fetch.Options{Timeout: 20 * time.Millisecond})
		if _, errText := call(t, cs, map[string]any{"id": "d1"}); errText != tt.want {
			t.Errorf("%s: error %q, want %q", tt.name, errText, tt.want)
		}
	}
}

func TestLongDocumentsComeInParts(t *testing.T) {
	var b strings.Builder
	for i := range 400 {
		b.WriteString("Paragraph " + strconv.Itoa(i) + " says something über long.\n\n")
	}
	text := b.String()
	total := len([]rune(text))
	cs := connect(t, &storetest.Fake{Docs: []store.Document{{ID: "big", Title: "Big", Text: text}}}, fetch.Options{MaxChars: 1000})

	var parts []string
	id := "big"
	for range 100 {
		out, errText := call(t, cs, map[string]any{"id": id})
		if errText != "" {
			t.Fatal(errText)
		}
		if out.ID != "big" || out.Metadata["total_characters"] != strconv.Itoa(total) {
			t.Fatalf("part %d: id %q metadata %v", len(parts), out.ID, out.Metadata)
		}
		if n := len([]rune(out.Text)); n > 1000 {
			t.Fatalf("part of %d characters, cap 1000", n)
		}
		parts = append(parts, out.Text)
		if out.Metadata["truncated"] != "true" {
			if out.Metadata["truncated"] != "false" {
				t.Fatalf("last part metadata %v", out.Metadata)
			}
			break
		}
		if !strings.HasSuffix(out.Text, "\n\n") {
			t.Errorf("part %d ends mid-paragraph: %q", len(parts), out.Text[len(out.Text)-20:])
		}
		id = out.Metadata["next_id"]
	}
	if got := strings.Join(parts, ""); got != text {
		t.Fatalf("parts joined (%d characters) differ from the document (%d)", len([]rune(got)), total)
	}
	if len(parts) < 5 {
		t.Errorf("only %d parts", len(parts))
	}
}

// TestPassagesMetadata: a document cited through the document view lists
// its passages (the view's anchors) with their character offsets, only
// those of the part returned; one with its own URL lists none.
func TestPassagesMetadata(t *testing.T) {
	var b strings.Builder
	for i := range 3000 {
		fmt.Fprintf(&b, "wörd%d ", i)
		if i%20 == 19 {
			b.WriteString("Ende.\n\n")
		}
	}
	text := b.String()
	runes := []rune(text)
	spans := passage.Split(text)
	linker, _ := docurl.NewLinker("https://docs.example.org")
	cs := connect(t, &storetest.Fake{Docs: []store.Document{
		{ID: "long", Title: "Long", Text: text},
		{ID: "web", Title: "Web", Text: text, URL: "https://example.com/web"},
	}}, fetch.Options{Linker: linker})

	out, _ := call(t, cs, map[string]any{"id": "long"})
	if out.URL != "https://docs.example.org/docs/long" {
		t.Errorf("url %q, want the plain view link", out.URL)
	}
	list := strings.Split(out.Metadata["passages"], ", ")
	if len(list) != len(spans) || len(spans) < 4 {
		t.Fatalf("passages %q, want %d", out.Metadata["passages"], len(spans))
	}
	for i, entry := range list {
		var n, start, end int
		if _, err := fmt.Sscanf(entry, "p-%d %d-%d", &n, &start, &end); err != nil || n != i+1 {
			t.Fatalf("entry %q: %v", entry, err)
		}
		// Character offsets: the passage's text, as the view anchors it.
		if got, want := string(runes[start:end]), text[spans[i].Start:spans[i].End]; got != want {
			t.Errorf("passage %d: offsets %d-%d do not hold its text", n, start, end)
		}
	}
	if out, _ := call(t, cs, map[string]any{"id": "web"}); out.Metadata["passages"] != "" {
		t.Errorf("own URL: passages %q, want none", out.Metadata["passages"])
	}

	// A part lists the passages it overlaps.
	cs = connect(t, &storetest.Fake{Docs: []store.Document{{ID: "long", Title: "Long", Text: text}}},
		fetch.Options{Linker: linker, MaxChars: 3000})
	out, _ = call(t, cs, map[string]any{"id": "long#offset=6000"})
	got := out.Metadata["passages"]
	if got == "" || strings.HasPrefix(got, "p-1 ") || strings.Contains(got, fmt.Sprintf("p-%d ", len(spans))) {
		t.Errorf("part 6000-9000 lists %q", got)
	}
}
