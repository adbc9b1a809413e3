package toolcall

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Options are what AddTool needs beyond mcp.AddTool's arguments: how to
// explain the tool's arguments to a client that sends them wrong, and where
// to log.
type Options struct {
	// About says what each argument is, to follow "must be a string" in
	// the error about it: {"id": "the id of a search result"}.
	About map[string]string
	// Example is a valid arguments object, shown when an argument is
	// missing or the arguments are not an object: {"id": "<id>"}.
	Example string
	// Logger is the tool's (it names the tool). A call refused for its
	// arguments writes its log line here, and ignored arguments are logged
	// here by name at debug level. Nil logs nothing.
	Logger *slog.Logger
}

// AddTool adds a tool with typed input and output to srv, as mcp.AddTool
// does, with the same schemas, error results and result shape: the output
// JSON as one text item and as structuredContent.
//
// It differs in two ways. Arguments are read the way clients send them
// (see arguments.decode): a number for a string argument and arguments the
// schema does not list are accepted, and what cannot be used is refused
// with an error in JSON terms that says what to send, where the SDK's
// validator shows Go values ("<invalid reflect.Value>" for null).
//
// t.OutputSchema, when set, is used instead of Out's, as mcp.AddTool does.
//
// And the work happens elsewhere. mcp.AddTool keeps the schemas as
// structures that the SDK marshals again on every call (for its parameter
// header checks), and validates each result against the output schema by
// unmarshalling and re-marshalling it; for a search result that was a
// third of the server's time per call. Here the schemas are marshalled once,
// and results, which this package's tools build from typed values, are
// marshalled once and not re-validated (the tools' tests validate them).
func AddTool[In, Out any](srv *mcp.Server, t *mcp.Tool, opts Options, h mcp.ToolHandlerFor[In, Out]) {
	tool := *t
	inRaw, inSchema, inResolved := schemaFor[In]()
	tool.InputSchema = inRaw
	if t.OutputSchema == nil {
		tool.OutputSchema, _, _ = schemaFor[Out]()
	} else { // as mcp.AddTool: a schema the tool gives wins over Out's
		raw, err := json.Marshal(t.OutputSchema)
		if err != nil {
			panic(fmt.Sprintf("marshal output schema of %s: %v", t.Name, err))
		}
		tool.OutputSchema = json.RawMessage(raw)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	args := arguments{schema: inSchema, resolved: inResolved, opts: opts}
	srv.AddTool(&tool, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		start := time.Now()
		var in In
		ignored, err := args.decode(req.Params.Arguments, &in)
		if len(ignored) > 0 {
			opts.Logger.DebugContext(ctx, "ignored arguments", "arguments", loggable(ignored), "count", len(ignored))
		}
		if err != nil {
			Log(ctx, opts.Logger, start, 0, err)
			return errorResult(err), nil
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

// loggable bounds ignored argument names for the log: they are the
// client's text, of any number and length.
func loggable(names []string) []string {
	out := make([]string, 0, min(len(names), maxLoggedNames))
	for _, n := range names[:min(len(names), maxLoggedNames)] {
		if len(n) > maxLoggedNameBytes {
			n = strings.ToValidUTF8(n[:maxLoggedNameBytes], "") + "…"
		}
		out = append(out, n)
	}
	return out
}

// schemaFor returns T's JSON schema, marshalled, as a structure, and
// resolved for validation. The types are this program's own: a failure is
// a build mistake.
func schemaFor[T any]() (json.RawMessage, *jsonschema.Schema, *jsonschema.Resolved) {
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
	return raw, s, resolved
}

func errorResult(err error) *mcp.CallToolResult {
	var res mcp.CallToolResult
	res.SetError(err)
	return &res
}
