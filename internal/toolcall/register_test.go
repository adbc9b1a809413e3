package toolcall_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

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

// TestAddToolMatchesSDK pins AddTool to mcp.AddTool: the same tool listing,
// and for every kind of arguments the same result or error.
func TestAddToolMatchesSDK(t *testing.T) {
	tool := &mcp.Tool{Name: "echo", Description: "Echo a word."}
	sdk := connect(t, func(s *mcp.Server) { mcp.AddTool(s, tool, echo) })
	ours := connect(t, func(s *mcp.Server) { toolcall.AddTool(s, tool, echo) })
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
		`{"word":"hello"}`, `{"word":""}`, `{}`, `null`, ``, `{"word":1}`, `{"word":"a","extra":true}`,
		`{"Word":"hello"}`, `[]`, `"word"`, `{"word":"fail"}`, `{"word":"wire"}`, `{"word":"\u00e9t\u00e9 \ud83d\ude00"}`,
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

// normalize renders a result for comparison: JSON text is compared by
// value (the SDK's re-validation sorts object keys; AddTool keeps the
// struct's order), and the JSON decoder's wording of a non-object
// argument is cut (the SDK uses another decoder).
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
		if i := strings.Index(text.Text, "unmarshaling arguments: "); i >= 0 && res.IsError {
			text.Text = text.Text[:i] + "unmarshaling arguments: …"
		}
	}
	b, _ := json.Marshal(res)
	return string(b)
}

// TestAddToolResultShape checks the result a client reads: one text item
// holding the output JSON, and the same object as structuredContent.
func TestAddToolResultShape(t *testing.T) {
	cs := connect(t, func(s *mcp.Server) { toolcall.AddTool(s, &mcp.Tool{Name: "echo"}, echo) })
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
