package mcpserver_test

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/mcpserver"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/store/storetest"
)

var update = flag.Bool("update", false, "rewrite testdata/tools.json from the current tools")

func connect(t *testing.T, st store.Store) (*mcpserver.Server, *mcp.ClientSession) {
	t.Helper()
	srv := mcpserver.New(st, mcpserver.Options{Version: "test"})
	sT, cT := mcp.NewInMemoryTransports()
	ss, err := srv.MCP.Connect(access.NewContext(t.Context(), access.Everyone()), sT, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "openai-mcp", Version: "1.0.0"}, nil).Connect(t.Context(), cT, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return srv, cs
}

// TestToolsSnapshot pins the tools/list answer: names, schemas, annotations
// and descriptions. A change shows up in review as a diff of testdata/tools.json.
func TestToolsSnapshot(t *testing.T) {
	_, cs := connect(t, &storetest.Fake{})
	res, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(res.Tools, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "tools.json")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("tools/list changed; if intended, run go test ./internal/mcpserver -update\ngot:\n%s", got)
	}
}

// TestToolsContract checks what ChatGPT's connector check looks at (CLIENTS.md).
func TestToolsContract(t *testing.T) {
	_, cs := connect(t, &storetest.Fake{})
	res, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tools) != 2 {
		t.Fatalf("got %d tools, want exactly search and fetch", len(res.Tools))
	}
	wantArg := map[string]string{"search": "query", "fetch": "id"}
	for _, tool := range res.Tools {
		arg, ok := wantArg[tool.Name]
		if !ok {
			t.Fatalf("unexpected tool %q", tool.Name)
		}
		schema := asMap(t, tool.InputSchema)
		props := schema["properties"].(map[string]any)
		if len(props) != 1 || props[arg].(map[string]any)["type"] != "string" {
			t.Errorf("%s input properties = %v, want exactly {%q: string}", tool.Name, props, arg)
		}
		if req, _ := json.Marshal(schema["required"]); string(req) != `["`+arg+`"]` {
			t.Errorf("%s required = %s", tool.Name, req)
		}
		if schema["additionalProperties"] != false {
			t.Errorf("%s additionalProperties = %v, want false", tool.Name, schema["additionalProperties"])
		}
		a := tool.Annotations
		if a == nil || !a.ReadOnlyHint || !a.IdempotentHint || a.DestructiveHint == nil || *a.DestructiveHint ||
			a.OpenWorldHint == nil || *a.OpenWorldHint || a.Title == "" {
			t.Errorf("%s annotations = %+v, want read-only, idempotent, not destructive, closed world, titled", tool.Name, a)
		}
		out, _ := json.Marshal(tool.OutputSchema)
		if strings.Contains(string(out), `"format"`) {
			t.Errorf("%s output schema declares a format; an empty url must validate: %s", tool.Name, out)
		}
		if strings.Contains(string(out), `"null"`) {
			t.Errorf("%s output schema allows null somewhere; the tools always send values (e.g. results: []): %s", tool.Name, out)
		}
		if d := strings.ToLower(tool.Description); !strings.Contains(d, "search tool") && !strings.Contains(d, "fetch tool") || !strings.Contains(d, `"id"`) {
			t.Errorf("%s description does not tell the model how ids flow: %q", tool.Name, tool.Description)
		}
	}
}

func asMap(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestInstructions(t *testing.T) {
	_, cs := connect(t, &storetest.Fake{})
	got := cs.InitializeResult().Instructions
	if got != mcpserver.Instructions {
		t.Fatalf("instructions not sent")
	}
	first, _, _ := strings.Cut(got, "\n\n")
	if n := utf8.RuneCountInString(first); n > 512 {
		t.Errorf("first paragraph has %d characters; the first 512 must stand alone", n)
	}
	for _, must := range []string{"search", "fetch", "cite", "url"} {
		if !strings.Contains(first, must) {
			t.Errorf("first paragraph does not mention %q", must)
		}
	}
	if !strings.HasSuffix(first, ".") {
		t.Errorf("first paragraph does not end a sentence: %q", first)
	}
}

// TestArguments: through the whole server, arguments a tool cannot use are
// a tool error saying which argument, what was wrong and what to send, with
// no Go internals; arguments whose meaning is clear are accepted.
func TestArguments(t *testing.T) {
	_, cs := connect(t, &storetest.Fake{Docs: []store.Document{{ID: "12", Title: "Twelve", Text: "refund"}}})
	for _, tc := range []struct {
		tool, args, want string
		isError          bool
	}{
		{"search", `{}`, `"query" is missing; it must be a string, keywords or a question, e.g. {"query": "refund policy for annual plans"}`, true},
		{"search", `{"query": null}`, `"query" must be a string, keywords or a question; got null`, true},
		{"fetch", `{"id": null}`, `"id" must be a string, the id of a search result; got null`, true},
		{"fetch", `[]`, `the arguments must be a JSON object, e.g. {"id": "<id from a search result>"}; got an array`, true},
		{"search", `{"query": "refund", "limit": 3}`, `"id":"12"`, false},
		{"fetch", `{"id": 12}`, `"title":"Twelve"`, false},
	} {
		res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: tc.tool, Arguments: json.RawMessage(tc.args)})
		if err != nil {
			t.Fatalf("%s %s: protocol error %v", tc.tool, tc.args, err)
		}
		text := res.Content[0].(*mcp.TextContent).Text
		if res.IsError != tc.isError || !strings.Contains(text, tc.want) {
			t.Errorf("%s %s: IsError=%v %q, want IsError=%v and %q", tc.tool, tc.args, res.IsError, text, tc.isError, tc.want)
		}
		if strings.Contains(text, "reflect") || strings.Contains(text, "validating") {
			t.Errorf("%s %s: Go internals in %q", tc.tool, tc.args, text)
		}
	}
}

// blockingStore holds every search until released.
type blockingStore struct {
	storetest.Fake
	release chan struct{}
	started chan struct{}
}

func (b *blockingStore) Search(ctx context.Context, who access.Caller, q string, n int) ([]store.Hit, error) {
	b.started <- struct{}{}
	<-b.release
	return nil, nil
}

func TestInFlight(t *testing.T) {
	st := &blockingStore{release: make(chan struct{}), started: make(chan struct{}, 1)}
	srv, cs := connect(t, st)
	done := make(chan error, 1)
	go func() {
		_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "search", Arguments: map[string]any{"query": "x"}})
		done <- err
	}()
	<-st.started
	if n := srv.InFlight(); n != 1 {
		t.Fatalf("InFlight = %d during a call, want 1", n)
	}
	close(st.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := srv.InFlight(); n != 0 {
		t.Fatalf("InFlight = %d after the call, want 0", n)
	}
}

// TestPrivateCacheScope: with authentication on (Private), list results
// tell shared caches to keep out; without it they are public.
func TestPrivateCacheScope(t *testing.T) {
	for _, private := range []bool{false, true} {
		srv := mcpserver.New(&storetest.Fake{}, mcpserver.Options{Version: "test", Private: private})
		sT, cT := mcp.NewInMemoryTransports()
		ss, err := srv.MCP.Connect(t.Context(), sT, nil)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil).Connect(t.Context(), cT, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := cs.ListTools(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		want := map[bool]string{false: "public", true: "private"}[private]
		if res.CacheScope != want {
			t.Errorf("Private=%v: cacheScope %q, want %q", private, res.CacheScope, want)
		}
		cs.Close()
		ss.Close()
	}
}
