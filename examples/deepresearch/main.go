// Command deepresearch asks a deep research model a question over a running
// connector, through the OpenAI Responses API's mcp tool, and prints the
// searches and fetches the model made and its answer with citations.
//
//	OPENAI_API_KEY=sk-... go run ./examples/deepresearch -server https://<your-host>/mcp "question"
//
// The connector must be reachable from the internet (a tunnel works).
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
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "Usage: deepresearch -server URL QUESTION\n\nOPENAI_API_KEY must be set.")
		flag.PrintDefaults()
	}
	flag.Parse()
	question := strings.Join(flag.Args(), " ")
	key := os.Getenv("OPENAI_API_KEY")
	if *server == "" || question == "" || key == "" {
		flag.Usage()
		os.Exit(2)
	}
	client := openai.NewClient(option.WithAPIKey(key))
	if err := run(context.Background(), client, os.Stdout, *model, *server, question, *poll); err != nil {
		fmt.Fprintln(os.Stderr, "deepresearch:", err)
		os.Exit(1)
	}
}

// run starts the research in the background, waits for it, and prints the
// tool calls and the answer.
func run(ctx context.Context, client openai.Client, out io.Writer, model, server, question string, poll time.Duration) error {
	resp, err := client.Responses.New(ctx, responses.ResponseNewParams{
		Model:      model,
		Background: openai.Bool(true), // deep research takes minutes
		Input:      responses.ResponseNewParamsInputUnion{OfString: openai.String(question)},
		Tools: []responses.ToolUnionParam{{
			OfMcp: &responses.ToolMcpParam{
				ServerLabel:     "docs",
				ServerURL:       openai.String(server),
				AllowedTools:    responses.ToolMcpAllowedToolsUnionParam{OfMcpAllowedTools: []string{"search", "fetch"}},
				RequireApproval: responses.ToolMcpRequireApprovalUnionParam{OfMcpToolApprovalSetting: openai.String("never")},
			},
		}},
	})
	if err != nil {
		return fmt.Errorf("start the response: %w", err)
	}
	fmt.Fprintf(out, "response %s: %s\n", resp.ID, resp.Status)
	for resp.Status == responses.ResponseStatusQueued || resp.Status == responses.ResponseStatusInProgress {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
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
