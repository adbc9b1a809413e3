package toolcall

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// AddTool adds a tool with typed input and output to srv, as mcp.AddTool
// does, with the same schemas, argument validation, error results and
// result shape: the output JSON as one text item and as structuredContent.
//
// It differs in where the work happens. mcp.AddTool keeps the schemas as
// structures that the SDK marshals again on every call (for its parameter
// header checks), and validates each result against the output schema by
// unmarshalling and re-marshalling it; for a search result that was a
// third of the server's time per call. Here the schemas are marshalled once,
// and results, which this package's tools build from typed values, are
// marshalled once and not re-validated (the tools' tests validate them).
func AddTool[In, Out any](srv *mcp.Server, t *mcp.Tool, h mcp.ToolHandlerFor[In, Out]) {
	tool := *t
	inSchema, inResolved := schemaFor[In]()
	outSchema, _ := schemaFor[Out]()
	tool.InputSchema, tool.OutputSchema = inSchema, outSchema
	srv.AddTool(&tool, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var in In
		if err := decodeArguments(req.Params.Arguments, inResolved, &in); err != nil {
			return errorResult(fmt.Errorf("validating \"arguments\": %w", err)), nil
		}
		res, out, err := h(ctx, req, in)
		if err != nil {
			if wire, ok := err.(*jsonrpc.Error); ok {
				return nil, wire
			}
			return errorResult(err), nil
		}
		if res == nil {
			res = &mcp.CallToolResult{}
		}
		b, err := json.Marshal(out)
		if err != nil {
			return nil, fmt.Errorf("marshal %s result: %w", tool.Name, err)
		}
		res.StructuredContent = json.RawMessage(b)
		if res.Content == nil {
			res.Content = []mcp.Content{&mcp.TextContent{Text: string(b)}}
		}
		return res, nil
	})
}

// schemaFor returns T's JSON schema, marshalled, and resolved for validation.
// The types are this program's own: a failure is a build mistake.
func schemaFor[T any]() (json.RawMessage, *jsonschema.Resolved) {
	s, err := jsonschema.For[T](&jsonschema.ForOptions{})
	if err != nil {
		panic(fmt.Sprintf("schema of %T: %v", *new(T), err))
	}
	resolved, err := s.Resolve(&jsonschema.ResolveOptions{ValidateDefaults: true})
	if err != nil {
		panic(fmt.Sprintf("resolve schema of %T: %v", *new(T), err))
	}
	raw, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("marshal schema of %T: %v", *new(T), err))
	}
	return raw, resolved
}

// decodeArguments validates a call's arguments against the input schema
// (missing arguments count as {}) and decodes them into in.
func decodeArguments(data json.RawMessage, schema *jsonschema.Resolved, in any) error {
	v := map[string]any{}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &v); err != nil {
			return fmt.Errorf("unmarshaling arguments: %w", err)
		}
	}
	if err := schema.ApplyDefaults(&v); err != nil {
		return fmt.Errorf("applying schema defaults: %w", err)
	}
	if err := schema.Validate(&v); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, in)
}

func errorResult(err error) *mcp.CallToolResult {
	var res mcp.CallToolResult
	res.SetError(err)
	return &res
}
