// Package toolcalltest checks tool results in tests against what the server
// declares.
package toolcalltest

import (
	"encoding/json"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// CheckOutput fails t unless text (a successful result of the named tool)
// validates against the output schema the server lists for the tool.
// toolcall.AddTool does not re-validate results on every call; the tools'
// tests do, through this.
func CheckOutput(t testing.TB, cs *mcp.ClientSession, tool, text string) {
	t.Helper()
	list, err := cs.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	for _, tl := range list.Tools {
		if tl.Name != tool {
			continue
		}
		raw, err := json.Marshal(tl.OutputSchema)
		if err != nil {
			t.Fatal(err)
		}
		var schema jsonschema.Schema
		if err := json.Unmarshal(raw, &schema); err != nil {
			t.Fatalf("%s output schema: %v", tool, err)
		}
		resolved, err := schema.Resolve(nil)
		if err != nil {
			t.Fatalf("%s output schema: %v", tool, err)
		}
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			t.Fatalf("%s result is not JSON: %v", tool, err)
		}
		if err := resolved.Validate(v); err != nil {
			t.Errorf("%s result does not match its output schema: %v\n%s", tool, err, text)
		}
		return
	}
	t.Fatalf("the server lists no tool %q", tool)
}
