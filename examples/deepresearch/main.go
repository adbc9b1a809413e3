// Command deepresearch asks a deep research model a question over a running
// connector, through the OpenAI Responses API's mcp tool, and prints the
// searches and fetches the model made and its answer with citations.
//
//	OPENAI_API_KEY=sk-... go run ./examples/deepresearch -server https://<your-host>/mcp "question"
//
// The connector must be reachable from the internet (a tunnel works). When it
// runs with AUTH_MODE=apikey, put one of its API_KEYS in CONNECTOR_API_KEY: the
// key goes in the mcp tool's "authorization" field (sent as Authorization:
// Bearer), or with -key-header X-API-Key in its "headers". The key is read from
// the environment only, never from a flag, and is never printed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"
)

func main() {
	server := flag.String("server", "", "public URL of the connector's MCP endpoint, e.g. https://example.ngrok-free.app/mcp")
	model := flag.String("model", "o4-mini-deep-research", "deep research model")
	poll := flag.Duration("poll", 5*time.Second, "how often to check the background response")
	keyHeader := flag.String("key-header", "", "send CONNECTOR_API_KEY in this header (e.g. X-API-Key) instead of the mcp tool's authorization field")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "Usage: deepresearch -server URL QUESTION\n\n"+
			"OPENAI_API_KEY must be set. CONNECTOR_API_KEY, if set, is sent to the connector (AUTH_MODE=apikey).")
		flag.PrintDefaults()
	}
	flag.Parse()
	req := request{Model: *model, Server: *server, Question: strings.Join(flag.Args(), " "),
		ConnectorKey: os.Getenv("CONNECTOR_API_KEY"), KeyHeader: *keyHeader, Poll: *poll}
	openaiKey := os.Getenv("OPENAI_API_KEY")
	if req.Server == "" || req.Question == "" || openaiKey == "" {
		flag.Usage()
		os.Exit(2)
	}
	client := openai.NewClient(option.WithAPIKey(openaiKey))
	if err := run(context.Background(), client, os.Stdout, req); err != nil {
		fmt.Fprintln(os.Stderr, "deepresearch:", err)
		os.Exit(1)
	}
}

// request is what run asks for.
type request struct {
	Model, Server, Question string
	// ConnectorKey is one of the connector's API_KEYS, or "" when it runs
	// without authentication. It is a secret: run never prints it.
	ConnectorKey string
	// KeyHeader names the header that carries ConnectorKey; "" uses the mcp
	// tool's authorization field, which the API sends as a bearer token.
	KeyHeader string
	Poll      time.Duration
}

// mcpTool is the Responses API tool entry for the connector.
func (r request) mcpTool() *responses.ToolMcpParam {
	tool := &responses.ToolMcpParam{
		ServerLabel:     "docs",
		ServerURL:       openai.String(r.Server),
		AllowedTools:    responses.ToolMcpAllowedToolsUnionParam{OfMcpAllowedTools: []string{"search", "fetch"}},
		RequireApproval: responses.ToolMcpRequireApprovalUnionParam{OfMcpToolApprovalSetting: openai.String("never")},
	}
	switch {
	case r.ConnectorKey == "":
	case r.KeyHeader == "":
		tool.Authorization = openai.String(r.ConnectorKey)
	case strings.EqualFold(r.KeyHeader, "Authorization"):
		tool.Headers = map[string]string{r.KeyHeader: "Bearer " + r.ConnectorKey}
	default:
		tool.Headers = map[string]string{r.KeyHeader: r.ConnectorKey}
	}
	return tool
}

// run starts the research in the background, waits for it, and prints the
// tool calls and the answer. Whatever it prints or returns has the connector
// key masked, should the API ever echo it.
func run(ctx context.Context, client openai.Client, out io.Writer, req request) (err error) {
	if req.ConnectorKey != "" {
		mask := strings.NewReplacer(req.ConnectorKey, "[connector key]")
		out = maskWriter{w: out, mask: mask}
		defer func() {
			if err != nil {
				err = errors.New(mask.Replace(err.Error()))
			}
		}()
	}
	resp, err := client.Responses.New(ctx, responses.ResponseNewParams{
		Model:      req.Model,
		Background: openai.Bool(true), // deep research takes minutes
		Input:      responses.ResponseNewParamsInputUnion{OfString: openai.String(req.Question)},
		Tools:      []responses.ToolUnionParam{{OfMcp: req.mcpTool()}},
	})
	if err != nil {
		return fmt.Errorf("start the response: %w", err)
	}
	fmt.Fprintf(out, "response %s: %s\n", resp.ID, resp.Status)
	for resp.Status == responses.ResponseStatusQueued || resp.Status == responses.ResponseStatusInProgress {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(req.Poll):
		}
		if resp, err = client.Responses.Get(ctx, resp.ID, responses.ResponseGetParams{}); err != nil {
			return fmt.Errorf("poll the response: %w", err)
		}
	}
	for _, item := range resp.Output {
		switch item.Type {
		case "mcp_list_tools":
			fmt.Fprintf(out, "listed %d tools\n", len(item.AsMcpListTools().Tools))
		case "mcp_call":
			call := item.AsMcpCall()
			status := "ok"
			if call.Error.Message != "" {
				status = "error: " + call.Error.Message
			}
			fmt.Fprintf(out, "%s %s → %s\n", call.Name, call.Arguments, status)
		}
	}
	if resp.Status != responses.ResponseStatusCompleted {
		return errors.New("the response ended " + string(resp.Status) + ": " + resp.Error.Message)
	}
	fmt.Fprintf(out, "\n%s\n", resp.OutputText())
	return nil
}

// maskWriter hides a secret in everything written through it. Each Fprintf
// above is one Write, so a secret is never split across writes.
type maskWriter struct {
	w    io.Writer
	mask *strings.Replacer
}

func (m maskWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(m.w, m.mask.Replace(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
