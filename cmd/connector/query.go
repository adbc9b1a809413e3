package main

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/mcpserver"
)

// exampleID is a document of the bundled sample corpus, for examples in
// messages; TestExampleIDsExist keeps it, and every sample id the sources
// and README mention, real.
const exampleID = "sample/quick-start.md"

func (e env) search(ctx context.Context, args []string) int {
	c, code, ok := e.setup("search", "search [flags] QUERY", forQuery, args, nil)
	if !ok {
		return code
	}
	// A blank query is a mistake here: the tool would answer it with no
	// results, which reads as an empty index.
	query := strings.TrimSpace(strings.Join(c.args, " "))
	if query == "" {
		fmt.Fprintln(e.stderr, `connector search: give a query, e.g. connector search "how do I connect ChatGPT"`)
		return exitUsage
	}
	return e.callTool(ctx, c, "search", map[string]any{"query": query})
}

func (e env) fetch(ctx context.Context, args []string) int {
	c, code, ok := e.setup("fetch", "fetch [flags] ID", forQuery, args, nil)
	if !ok {
		return code
	}
	if len(c.args) != 1 || strings.TrimSpace(c.args[0]) == "" {
		fmt.Fprintln(e.stderr, "connector fetch: give exactly one document id (from connector search), e.g. connector fetch "+exampleID)
		return exitUsage
	}
	return e.callTool(ctx, c, "fetch", map[string]any{"id": c.args[0]})
}

// callTool runs one tool of the real MCP server over an in-memory transport
// and prints exactly the JSON text the tool returns; a tool error goes to
// stderr with a non-zero exit.
func (e env) callTool(ctx context.Context, c command, tool string, args map[string]any) int {
	st, err := c.openStore(ctx, false)
	if err != nil {
		fmt.Fprintf(e.stderr, "connector %s: %v\n", tool, err)
		return exitFailure
	}
	defer st.Close()
	addr, err := net.ResolveTCPAddr("tcp", c.cfg.Addr)
	if err != nil {
		addr = &net.TCPAddr{}
	}
	linker, err := c.linker(addr)
	if err != nil {
		fmt.Fprintf(e.stderr, "connector %s: %v\n", tool, err)
		return exitUsage
	}
	srv := mcpserver.New(st, mcpserver.Options{
		Version: buildVersion(), MaxResults: c.cfg.MaxResults, MaxQueryBytes: c.cfg.MaxQueryBytes,
		MaxFetchChars: c.cfg.MaxFetchChars, ToolTimeout: c.cfg.ToolTimeout, Linker: linker, Logger: c.logger,
	})
	serverT, clientT := mcp.NewInMemoryTransports()
	// The command reads the index as its operator does: every document.
	ss, err := srv.MCP.Connect(access.NewContext(ctx, access.Everyone()), serverT, nil)
	if err != nil {
		fmt.Fprintf(e.stderr, "connector %s: %v\n", tool, err)
		return exitFailure
	}
	defer ss.Close()
	client := mcp.NewClient(&mcp.Implementation{Name: "connector-cli", Version: buildVersion()}, nil)
	cs, err := client.Connect(ctx, clientT, nil)
	if err != nil {
		fmt.Fprintf(e.stderr, "connector %s: %v\n", tool, err)
		return exitFailure
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		fmt.Fprintf(e.stderr, "connector %s: %v\n", tool, err)
		return exitFailure
	}
	var text string
	for _, content := range res.Content {
		if t, ok := content.(*mcp.TextContent); ok {
			text += t.Text
		}
	}
	if res.IsError {
		fmt.Fprintf(e.stderr, "connector %s: %s\n", tool, text)
		if tool == "fetch" && strings.HasPrefix(text, "no document has id") {
			return exitNotFound
		}
		return exitFailure
	}
	fmt.Fprintln(e.stdout, text)
	return exitOK
}
