package toolcall_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/toolcall"
)

type echoIn struct {
	Word string `json:"word" jsonschema:"a word"`
}

type echoOut struct {
	Words []string          `json:"words" jsonschema:"the words"`
	Meta  map[string]string `json:"meta" jsonschema:"facts"`
}

func echo(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, echoOut, error) {
	switch in.Word {
	case "fail":
		return nil, echoOut{}, errors.New("the word fail fails")
	case "wire":
		return nil, echoOut{}, &jsonrpc.Error{Code: jsonrpc.CodeInvalidParams, Message: "wire error"}
	}
	return nil, echoOut{Words: []string{in.Word, "<&>"}, Meta: map[string]string{"n": "1"}}, nil
}

// connect returns a client session on a server with the echo tool added by add.
func connect(t *testing.T, add func(*mcp.Server)) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	srv := mcp.NewServer(&mcp.Implementation{Name: "test", Version: "1"}, nil)
	add(srv)
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "client", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// echoArgs explain the echo tool's argument.
var echoArgs = toolcall.Options{About: map[string]string{"word": "a word to echo"}, Example: `{"word": "hello"}`}

// TestAddToolMatchesSDK pins AddTool to mcp.AddTool: the same tool listing,
// and for arguments that fit the schema, the same result or error.
// TestAddToolArguments covers the arguments where they differ.
func TestAddToolMatchesSDK(t *testing.T) {
	tool := &mcp.Tool{Name: "echo", Description: "Echo a word."}
	sdk := connect(t, func(s *mcp.Server) { mcp.AddTool(s, tool, echo) })
	ours := connect(t, func(s *mcp.Server) { toolcall.AddTool(s, tool, echoArgs, echo) })
	ctx := context.Background()

	list := func(cs *mcp.ClientSession) string {
		res, err := cs.ListTools(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(res.Tools)
		return string(b)
	}
	if a, b := list(sdk), list(ours); a != b {
		t.Errorf("tools/list differs:\nmcp.AddTool:      %s\ntoolcall.AddTool: %s", a, b)
	}

	for _, args := range []string{
		`{"word":"hello"}`, `{"word":""}`, `{"word":"fail"}`, `{"word":"wire"}`, `{"word":"\u00e9t\u00e9 \ud83d\ude00"}`,
	} {
		call := func(cs *mcp.ClientSession) string {
			params := &mcp.CallToolParams{Name: "echo"}
			if args != "" {
				params.Arguments = json.RawMessage(args)
			}
			res, err := cs.CallTool(ctx, params)
			if err != nil {
				return "protocol error: " + err.Error()
			}
			return normalize(t, res)
		}
		if a, b := call(sdk), call(ours); a != b {
			t.Errorf("arguments %s:\nmcp.AddTool:      %s\ntoolcall.AddTool: %s", args, a, b)
		}
	}
}

// TestAddToolGivenOutputSchema: a tool that brings its own output schema
// lists that one, as with mcp.AddTool.
func TestAddToolGivenOutputSchema(t *testing.T) {
	schema, err := jsonschema.For[echoOut](nil)
	if err != nil {
		t.Fatal(err)
	}
	schema.Properties["words"].Types, schema.Properties["words"].Type = nil, "array"
	tool := &mcp.Tool{Name: "echo", Description: "Echo a word.", OutputSchema: schema}
	sdk := connect(t, func(s *mcp.Server) { mcp.AddTool(s, tool, echo) })
	ours := connect(t, func(s *mcp.Server) { toolcall.AddTool(s, tool, echoArgs, echo) })
	list := func(cs *mcp.ClientSession) string {
		res, err := cs.ListTools(t.Context(), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(res.Tools[0].OutputSchema)
		return string(b)
	}
	a, b := list(sdk), list(ours)
	if a != b || strings.Contains(b, `"null"`) {
		t.Errorf("output schema:\nmcp.AddTool:      %s\ntoolcall.AddTool: %s\nwant words a plain array", a, b)
	}
}

// normalize renders a result for comparison: JSON text is compared by
// value (the SDK's re-validation sorts object keys; AddTool keeps the
// struct's order).
func normalize(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	for _, c := range res.Content {
		text, ok := c.(*mcp.TextContent)
		if !ok {
			continue
		}
		var v any
		if json.Unmarshal([]byte(text.Text), &v) == nil {
			b, _ := json.Marshal(v)
			text.Text = string(b)
		}
	}
	b, _ := json.Marshal(res)
	return string(b)
}

// TestAddToolResultShape checks the result a client reads: one text item
// holding the output JSON, and the same object as structuredContent.
func TestAddToolResultShape(t *testing.T) {
	cs := connect(t, func(s *mcp.Server) { toolcall.AddTool(s, &mcp.Tool{Name: "echo"}, echoArgs, echo) })
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"word": "hi"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError || len(res.Content) != 1 {
		t.Fatalf("result = %+v, want one content item", res)
	}
	text, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("content is %T, want text", res.Content[0])
	}
	var fromText, fromStructured echoOut
	if err := json.Unmarshal([]byte(text.Text), &fromText); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &fromStructured); err != nil {
		t.Fatal(err)
	}
	want := echoOut{Words: []string{"hi", "<&>"}, Meta: map[string]string{"n": "1"}}
	if !reflect.DeepEqual(fromText, want) || !reflect.DeepEqual(fromStructured, want) {
		t.Errorf("text %+v, structured %+v, want %+v", fromText, fromStructured, want)
	}
}

// pairIn has two required arguments, one not a string.
type pairIn struct {
	N    int    `json:"n" jsonschema:"a count"`
	Word string `json:"word" jsonschema:"a word"`
}

func pair(_ context.Context, _ *mcp.CallToolRequest, in pairIn) (*mcp.CallToolResult, echoOut, error) {
	return nil, echoOut{Words: []string{strconv.Itoa(in.N), in.Word}}, nil
}

// TestAddToolArguments: AddTool reads arguments the way clients send them.
// What a client clearly means is accepted (a number for a string argument,
// as written; arguments the schema does not list, ignored); what cannot be
// used is an error naming the argument, what was wrong and what to send,
// in JSON terms. The SDK's validator shows Go values there: null came out
// as "<invalid reflect.Value>".
func TestAddToolArguments(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := echoArgs
	opts.Logger = logger.With("tool", "echo")
	cs := connect(t, func(s *mcp.Server) {
		toolcall.AddTool(s, &mcp.Tool{Name: "echo"}, opts, echo)
		toolcall.AddTool(s, &mcp.Tool{Name: "pair"}, toolcall.Options{Example: `{"n": 2, "word": "hi"}`}, pair)
	})
	const wrong = `"word" must be a string, a word to echo; got `
	const missing = `"word" is missing; it must be a string, a word to echo, e.g. {"word": "hello"}`
	const notObject = `the arguments must be a JSON object, e.g. {"word": "hello"}; got `
	for _, tt := range []struct {
		tool, args string
		want       string // the first word echoed, or the whole tool error
		isError    bool
	}{
		{"echo", `{"word": "hi"}`, "hi", false},
		{"echo", `{"word": 31}`, "31", false},
		{"echo", `{"word": 12345678901234567890}`, "12345678901234567890", false},
		{"echo", `{"word": 1e3}`, "1e3", false},
		{"echo", `{"word": -0.50}`, "-0.50", false},
		{"echo", `{"word": "hi", "limit": 5, "extra": {"x": 1}}`, "hi", false},
		{"echo", `{"word": null}`, wrong + "null", true},
		{"echo", `{"word": true}`, wrong + "true", true},
		{"echo", `{"word": {}}`, wrong + "an object", true},
		{"echo", `{"word": []}`, wrong + "an array", true},
		{"echo", `{}`, missing, true},
		{"echo", `null`, missing, true},
		{"echo", ``, missing, true},
		{"echo", `{"Word": "hi"}`, missing, true},
		{"echo", `[]`, notObject + "an array", true},
		{"echo", `"hi"`, notObject + "a string", true},
		{"echo", `5`, notObject + "5", true},
		{"pair", `{"n": 2, "word": 3}`, "2", false},
		{"pair", `{"n": 1.5, "word": "x"}`, `the arguments do not fit the tool's input schema; send e.g. {"n": 2, "word": "hi"}`, true},
		{"pair", `{}`, `"n" is missing; it must be an integer, e.g. {"n": 2, "word": "hi"}` + "\n" +
			`"word" is missing; it must be a string, e.g. {"n": 2, "word": "hi"}`, true},
		{"pair", `{"n": "2", "word": null}`, `"n" must be an integer; got a string` + "\n" + `"word" must be a string; got null`, true},
	} {
		params := &mcp.CallToolParams{Name: tt.tool}
		if tt.args != "" {
			params.Arguments = json.RawMessage(tt.args)
		}
		res, err := cs.CallTool(t.Context(), params)
		if err != nil {
			t.Fatalf("%s %s: protocol error %v", tt.tool, tt.args, err)
		}
		text := res.Content[0].(*mcp.TextContent).Text
		got := text
		if !res.IsError {
			var out echoOut
			if err := json.Unmarshal([]byte(text), &out); err != nil || len(out.Words) == 0 {
				t.Fatalf("%s %s: result %s", tt.tool, tt.args, text)
			}
			got = out.Words[0]
		}
		if res.IsError != tt.isError || got != tt.want {
			t.Errorf("%s %s: IsError=%v %q, want IsError=%v %q", tt.tool, tt.args, res.IsError, got, tt.isError, tt.want)
		}
	}

	// Ignored arguments are logged by name, never by value, at debug level;
	// refused calls write the call's log line as an invalid argument.
	var ignored []string
	refused := 0
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		switch rec["msg"] {
		case "ignored arguments":
			ignored = append(ignored, fmt.Sprint(rec["arguments"]))
			if rec["tool"] != "echo" || rec["level"] != "DEBUG" {
				t.Errorf("ignored arguments logged as %s", line)
			}
		case "tool call":
			refused++
			if rec["error_class"] != toolcall.ClassInvalidArgument || rec["tool"] != "echo" {
				t.Errorf("refused call logged as %s", line)
			}
		}
	}
	if got := strings.Join(ignored, " "); got != "[extra limit] [Word]" || refused != 11 {
		t.Errorf("ignored arguments logged %s, refused calls %d; want [extra limit] [Word], 11:\n%s", got, refused, logs.String())
	}
	if strings.Contains(logs.String(), `"x"`) {
		t.Errorf("an ignored argument's value was logged:\n%s", logs.String())
	}
}

// TestIgnoredArgumentsLogBounded: a client's argument names are logged
// at most ten, of at most 64 bytes each.
func TestIgnoredArgumentsLogBounded(t *testing.T) {
	var logs bytes.Buffer
	opts := echoArgs
	opts.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cs := connect(t, func(s *mcp.Server) { toolcall.AddTool(s, &mcp.Tool{Name: "echo"}, opts, echo) })
	args := map[string]any{"word": "hi"}
	for i := range 30 {
		args[fmt.Sprintf("%02d%s", i, strings.Repeat("x", 100))] = i
	}
	if res, err := cs.CallTool(t.Context(), &mcp.CallToolParams{Name: "echo", Arguments: args}); err != nil || res.IsError {
		t.Fatalf("call: %v %+v", err, res)
	}
	var rec struct {
		Arguments []string
		Count     int
	}
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, "ignored arguments") {
			json.Unmarshal([]byte(line), &rec)
		}
	}
	if rec.Count != 30 || len(rec.Arguments) != 10 || rec.Arguments[0] != "00"+strings.Repeat("x", 62)+"…" {
		t.Errorf("logged %d names (count %d), first %q", len(rec.Arguments), rec.Count, rec.Arguments)
	}
}
