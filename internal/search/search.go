// Package search is the MCP search tool: a query in, the best matching
// documents out, each with the id that fetch takes and a URL to cite.
package search

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/connectorhq/connector/internal/access"
	"github.com/connectorhq/connector/internal/docurl"
	"github.com/connectorhq/connector/internal/store"
	"github.com/connectorhq/connector/internal/toolcall"
)

// Name is the tool name ChatGPT and deep research look for.
const Name = "search"

// Limits on the configuration (MAX_RESULTS).
const (
	DefaultMaxResults = 10
	MaxMaxResults     = 50
)

// snippetChars bounds the text of one result.
const snippetChars = 300

// Searcher is the part of a store the tool uses.
type Searcher interface {
	Search(ctx context.Context, who access.Caller, query string, limit int) ([]store.Hit, error)
}

// Options configure the tool.
type Options struct {
	MaxResults    int           // results per search, 1..MaxMaxResults
	MaxQueryBytes int           // longer queries are refused
	Timeout       time.Duration // per call; 0 means none beyond the client's
	Linker        docurl.Linker // turns a document's own URL (or none) into the citation URL
	Logger        *slog.Logger
}

// Input is exactly {"query": string}: ChatGPT checks the tool's input schema
// and accepts no other parameters. Result count is configuration.
type Input struct {
	Query string `json:"query" jsonschema:"What to look for: keywords or a natural-language question, e.g. 'how are citation URLs formed'"`
}

// Output is {"results": [...]}, best match first.
type Output struct {
	Results []Result `json:"results" jsonschema:"Matching documents, best first; empty when nothing matches"`
}

// outputSchema is Output's schema with "results" a plain array: jsonschema-go
// lets every slice be null (["null", "array"]), and the tool always sends [].
func outputSchema() *jsonschema.Schema {
	s, err := jsonschema.For[Output](nil)
	if err != nil {
		panic(fmt.Sprintf("schema of search.Output: %v", err)) // a build mistake
	}
	results := s.Properties["results"]
	results.Types, results.Type = nil, "array"
	return s
}

// Result is one matching document.
type Result struct {
	ID    string `json:"id" jsonschema:"Document id: pass it to fetch to read the full text"`
	Title string `json:"title" jsonschema:"Document title"`
	URL   string `json:"url" jsonschema:"Link to cite for this document, pointing at the matched passage (a #fragment), or empty when it has none"`
	Text  string `json:"text" jsonschema:"Short excerpt around the matched words"`
	// Metadata holds "url", the document's link without the fragment,
	// when url carries one.
	Metadata map[string]string `json:"metadata,omitempty" jsonschema:"Further facts as strings: url is the link without its #fragment, when the cited url has one"`
}

const description = `Search the connected private document collection and return the most relevant documents, best first.

Use it first for any question the documents may answer. Pass keywords or a natural-language question in "query". Each result has an "id", a "title", a "url" to cite (empty when the document has none; its #fragment leads a browser to the matched passage) and "text", a short excerpt around the matched words. To read a whole document, pass its "id" to the fetch tool; ids come only from this tool. When nothing matches the result is {"results": []}: try other words or a broader query.`

// Register adds the search tool to srv.
func Register(srv *mcp.Server, s Searcher, opts Options) {
	if opts.MaxResults <= 0 {
		opts.MaxResults = DefaultMaxResults
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	h := handler{store: s, opts: opts, logger: opts.Logger.With("tool", Name)}
	toolcall.AddTool(srv, &mcp.Tool{
		Name:         Name,
		Title:        "Search documents",
		Description:  description,
		Annotations:  toolcall.ReadOnly("Search documents"),
		OutputSchema: outputSchema(),
	}, toolcall.Options{
		About:   map[string]string{"query": "keywords or a question"},
		Example: `{"query": "refund policy for annual plans"}`,
		Logger:  h.logger,
	}, h.handle)
}

type handler struct {
	store  Searcher
	opts   Options
	logger *slog.Logger
}

func (h handler) handle(ctx context.Context, _ *mcp.CallToolRequest, in Input) (_ *mcp.CallToolResult, out Output, err error) {
	start := time.Now()
	query := strings.TrimSpace(in.Query)
	defer func() {
		toolcall.Log(ctx, h.logger, start, len(out.Results), err,
			append([]any{"query_len", len(query)}, toolcall.Debug(ctx, h.logger, "query", query)...)...)
	}()
	defer toolcall.Recover(&err)

	out.Results = []Result{} // never null: the output schema says array
	switch {
	case query == "":
		return nil, out, nil
	case len(query) > h.opts.MaxQueryBytes && h.opts.MaxQueryBytes > 0:
		return nil, out, toolcall.Invalid(`"query" is %d bytes long, over this server's limit of %d bytes: shorten it to the key words and search again`,
			len(query), h.opts.MaxQueryBytes)
	case !utf8.ValidString(query):
		return nil, out, toolcall.Invalid(`"query" is not valid UTF-8 text: send the query as plain text`)
	}
	if h.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.opts.Timeout)
		defer cancel()
	}
	hits, err := h.store.Search(ctx, access.FromContext(ctx), query, h.opts.MaxResults)
	if err != nil {
		return nil, Output{Results: []Result{}}, toolcall.FromStore("search", err)
	}
	seen := make(map[string]bool, len(hits))
	for _, hit := range hits {
		if seen[hit.ID] || len(out.Results) == h.opts.MaxResults {
			continue
		}
		seen[hit.ID] = true
		text := Shorten(hit.Snippet, snippetChars)
		r := Result{
			ID:    hit.ID,
			Title: titleOr(hit.Title, hit.ID),
			// The link leads to the passage that matched: the document
			// view's passage anchor, or a text fragment quoting the
			// excerpt; metadata and fetch keep the plain URL.
			URL:  h.opts.Linker.HitURL(hit.ID, hit.URL, hit.Passage, text),
			Text: text,
		}
		if plain, _, ok := strings.Cut(r.URL, "#"); ok {
			r.Metadata = map[string]string{"url": plain}
		}
		out.Results = append(out.Results, r)
	}
	return nil, out, nil
}

func titleOr(title, id string) string {
	if t := strings.TrimSpace(title); t != "" {
		return t
	}
	return id
}

// Shorten cuts s to at most n characters at a word boundary, marking the cut with "…".
func Shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	cut, count := len(s), 0
	for i := range s {
		if count == n-2 {
			cut = i
			break
		}
		count++
	}
	s = s[:cut]
	if i := strings.LastIndexByte(s, ' '); i > len(s)/2 {
		s = s[:i]
	}
	return fmt.Sprintf("%s …", strings.TrimRight(s, " "))
}
