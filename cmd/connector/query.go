package main

import (
	"context"
	"flag"
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

// asFlag adds --as, which runs a command as a caller proving the listed
// principals instead of as the operator, who reads every document.
func asFlag(as *string) func(*flag.FlagSet) {
	return func(fs *flag.FlagSet) {
		fs.StringVar(as, "as", "", "read as a caller proving this comma-separated `list` of principals (e.g. group:eng,user:ann@example.com), under DEFAULT_ACCESS, to check what they may see; unset, every document")
	}
}

// caller returns who a query command reads as: Everyone, or --as.
func (e env) caller(name, as string) (access.Caller, bool) {
	if as == "" {
		return access.Everyone(), true
	}
	l, err := access.ParseList(as)
	if err != nil {
		fmt.Fprintf(e.stderr, "connector %s: --as: %v\n", name, err)
		return access.Caller{}, false
	}
	return access.NewCaller("", "", nil, nil).With(l...), true
}

func (e env) search(ctx context.Context, args []string) int {
	var as string
	c, code, ok := e.setup("search", "search [flags] QUERY", forQuery, args, asFlag(&as))
	if !ok {
		return code
	}
	if c.caller, ok = e.caller("search", as); !ok {
		return exitUsage
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
	var as string
	c, code, ok := e.setup("fetch", "fetch [flags] ID", forQuery, args, asFlag(&as))
	if !ok {
		return code
	}
	if c.caller, ok = e.caller("fetch", as); !ok {
		return exitUsage
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
	c, closeEmbedder, err := c.withEmbedder()
	if err != nil {
		fmt.Fprintf(e.stderr, "connector %s: %v\n", tool, err)
		return exitUsage
	}
	defer closeEmbedder()
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
	ss, err := srv.MCP.Connect(access.NewContext(ctx, c.caller), serverT, nil)
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
